// WebSocket opening handshake: client key check, the SHA-1/base64 accept value via OpenSSL EVP, and the
// answer to an Upgrade request.
#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstddef>

#include "http/cors.hpp"

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

std::optional<std::string> accept_key(std::string_view key) {
  if (!is_valid_client_key(key)) return std::nullopt;
  std::string input;
  input.reserve(key.size() + kHandshakeGuid.size());
  input.append(key);
  input.append(kHandshakeGuid);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr) != 1 ||
      digest_len != 20) {
    return std::nullopt;
  }

  // base64 of 20 bytes is 28 characters; EVP_EncodeBlock also writes a terminating NUL.
  std::array<unsigned char, 29> encoded{};
  const int encoded_len = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_len));
  if (encoded_len != 28) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(encoded_len));
}

HandshakeAnswer answer_handshake(const http::Request& request, const Config& config) {
  const std::string* version = request.header("Sec-WebSocket-Version");
  const std::string* key = request.header("Sec-WebSocket-Key");
  if (request.method != "GET" || request.version_minor < 1 || key == nullptr || !is_valid_client_key(*key) ||
      !request.header_has_token("Connection", "upgrade")) {
    return {std::nullopt, http::Response::error(400, "bad_websocket_handshake")};
  }
  if (version == nullptr || *version != "13") {
    return {std::nullopt,
            http::Response::error(426, "upgrade_required").with_header("Sec-WebSocket-Version", "13")};
  }
  const std::string* origin = request.header("Origin");
  if (origin != nullptr && !http::origin_allowed(config, *origin)) {
    return {std::nullopt, http::Response::error(403, "forbidden_origin")};
  }
  auto accept = accept_key(*key);
  if (!accept) return {std::nullopt, http::Response::error(500, "internal_error")};
  return {
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Accept: " +
          *accept + "\r\n\r\n",
      {}};
}

}  // namespace turnpike::ws
