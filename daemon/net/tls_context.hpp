// The server's TLS settings and certificate: one OpenSSL SSL_CTX, loaded from PEM files and checked.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "core/result.hpp"

namespace turnpike {

struct SslCtxDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// What a loaded certificate says about itself, for the log.
struct CertificateSummary {
  std::string subject;
  std::string serial;     // hexadecimal, as `openssl x509 -serial` prints it
  std::string not_after;  // "Dec  7 15:37:51 2027 GMT"
};

// TLS 1.2 and 1.3 (1.3 preferred), Mozilla "intermediate" ciphers for 1.2, ALPN http/1.1, a server session
// cache and session tickets. Each new connection takes its SSL from the context current then; OpenSSL counts
// references, so replacing a context (a renewed certificate) leaves open connections on the old one.
class TlsContext {
 public:
  // Reads the certificate chain and private key (PEM). Errors read "<file>: <reason>": unreadable, not PEM,
  // expired or not yet valid, or a key that does not match the certificate.
  static Result<std::shared_ptr<TlsContext>> load(const std::string& certificate_path,
                                                  const std::string& private_key_path);

  SSL_CTX* get() const { return ctx_.get(); }
  const CertificateSummary& certificate() const { return certificate_; }

 private:
  TlsContext(SslCtxPtr ctx, CertificateSummary certificate)
      : ctx_(std::move(ctx)), certificate_(std::move(certificate)) {}
  SslCtxPtr ctx_;
  CertificateSummary certificate_;
};

}  // namespace turnpike
