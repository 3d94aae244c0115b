// Loading and checking the certificate and key, and the TLS settings every connection gets.
#include "net/tls_context.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace turnpike {
namespace {

// Mozilla's "intermediate" profile for TLS 1.2 (forward secrecy and AEAD only); TLS 1.3 keeps OpenSSL's
// suites, which are the same as that profile's.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionIdContext[] = {'t', 'u', 'r', 'n', 'p', 'i', 'k', 'e'};
constexpr long kSessionCacheSize = 20000;

// Owners for the C handles used while loading: unique_ptr with the handle's own free function.
template <auto Free>
struct FreeWith {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FreeWith<[](std::FILE* f) { std::fclose(f); }>>;
using X509Ptr = std::unique_ptr<X509, FreeWith<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, FreeWith<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, FreeWith<BIO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, FreeWith<BN_free>>;
using OpensslString = std::unique_ptr<char, FreeWith<[](char* p) { OPENSSL_free(p); }>>;

// The oldest error OpenSSL queued, as text; the queue is emptied.
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Error file_error(const std::string& path, const std::string& reason) {
  ERR_clear_error();
  return make_error(path + ": " + reason);
}

Result<FilePtr> open_file(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) return file_error(path, std::string("cannot open: ") + std::strerror(errno));
  return file;
}

std::string time_text(const ASN1_TIME* time) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), time) != 1) return "?";
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

CertificateSummary summarize(X509* certificate) {
  CertificateSummary summary;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio && X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    summary.subject.assign(data, static_cast<std::size_t>(length));
  }
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
  if (serial) {
    OpensslString hex(BN_bn2hex(serial.get()));
    if (hex) summary.serial = hex.get();
  }
  summary.not_after = time_text(X509_get0_notAfter(certificate));
  return summary;
}

// The first certificate of the chain file: the server's own, which must be valid now.
Result<X509Ptr> read_leaf_certificate(const std::string& path) {
  auto file = open_file(path);
  if (!file) return file.error();
  X509Ptr certificate(PEM_read_X509(file->get(), nullptr, nullptr, nullptr));
  if (!certificate) return file_error(path, "no PEM certificate found");
  if (X509_cmp_current_time(X509_get0_notAfter(certificate.get())) < 0) {
    return file_error(path, "certificate expired on " + time_text(X509_get0_notAfter(certificate.get())));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(certificate.get())) > 0) {
    return file_error(path,
                      "certificate is not valid before " + time_text(X509_get0_notBefore(certificate.get())));
  }
  return certificate;
}

// An encrypted key would make OpenSSL ask on the terminal; the daemon has no one to ask.
int refuse_passphrase(char*, int, int, void*) {
  return -1;
}

Result<PkeyPtr> read_private_key(const std::string& path) {
  auto file = open_file(path);
  if (!file) return file.error();
  PkeyPtr key(PEM_read_PrivateKey(file->get(), nullptr, &refuse_passphrase, nullptr));
  if (!key) return file_error(path, "no unencrypted PEM private key found");
  return key;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kAlpnHttp11, sizeof kAlpnHttp11, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no http/1.1 among the offers: go on without ALPN
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

Result<void> apply_settings(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set1_groups_list(ctx, kGroups) != 1 ||
      SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext) != 1) {
    return make_error("TLS settings: " + openssl_reason());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Idle WebSockets hold no read/write buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheSize);
  SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
  return {};
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::load(const std::string& certificate_path,
                                                     const std::string& private_key_path) {
  ERR_clear_error();
  auto certificate = read_leaf_certificate(certificate_path);
  if (!certificate) return certificate.error();
  auto key = read_private_key(private_key_path);
  if (!key) return key.error();
  if (X509_check_private_key(certificate->get(), key->get()) != 1) {
    return file_error(private_key_path, "private key does not match the certificate " + certificate_path);
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return make_error("TLS: " + openssl_reason());
  if (auto ok = apply_settings(ctx.get()); !ok) return ok.error();
  // The whole chain (the server's certificate, then intermediates) as the file holds it.
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate_path.c_str()) != 1) {
    return file_error(certificate_path, openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    return file_error(private_key_path, openssl_reason());
  }
  return std::shared_ptr<TlsContext>(new TlsContext(std::move(ctx), summarize(certificate->get())));
}

}  // namespace turnpike
