// WebSocket opening-handshake helpers: client key check and the SHA-1/base64 accept value via OpenSSL EVP.
#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>

namespace turnpike::ws {

namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

bool is_valid_client_key(std::string_view key) {
  // 16 bytes -> 5 full 3-byte groups (20 characters) + 1 byte (2 characters and "==").
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

std::string accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kHandshakeGuid.size());
  input.append(key);
  input.append(kHandshakeGuid);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) != 1 ||
      digest_len != 20) {
    return {};
  }

  // base64 of 20 bytes is 28 characters; EVP_EncodeBlock also writes a terminating NUL.
  std::array<unsigned char, 29> encoded{};
  const int encoded_len = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_len));
  if (encoded_len != 28) return {};
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(encoded_len));
}

}  // namespace turnpike::ws
