// coturn-compatible credential math on OpenSSL's EVP and HMAC one-shot APIs.
#include "turn-auth/credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

namespace turnpike::turn_auth {
namespace {

constexpr std::size_t kMaxNameLength = 512;

std::string to_lower_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

bool is_safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

}  // namespace

std::string lt_hmackey(std::string_view user, std::string_view realm, std::string_view password) {
  std::string input;
  input.reserve(user.size() + realm.size() + password.size() + 2);
  input.append(user).append(":").append(realm).append(":").append(password);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_md5(), nullptr) != 1) return {};
  return to_lower_hex(digest, digest_len);
}

std::string rest_password(std::string_view secret, std::string_view username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  // HMAC() dereferences the key pointer even for an empty key; a string_view of "" may carry nullptr.
  static constexpr unsigned char kEmpty[1] = {0};
  const void* key =
      secret.empty() ? static_cast<const void*>(kEmpty) : static_cast<const void*>(secret.data());
  const auto* data = reinterpret_cast<const unsigned char*>(username.empty() ? "" : username.data());
  if (HMAC(EVP_sha1(), key, static_cast<int>(secret.size()), data, username.size(), mac, &mac_len) == nullptr)
    return {};

  // EVP_EncodeBlock writes 4 characters per started 3 bytes plus a terminating NUL.
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  if (written < 0) return {};
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool is_coturn_safe_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name)
    if (!is_safe_char(c)) return false;
  return true;
}

}  // namespace turnpike::turn_auth
