// WebSocket opening handshake (RFC 6455 §4.2): Sec-WebSocket-Key validation, Sec-WebSocket-Accept, and the
// server's whole answer to an Upgrade request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

namespace turnpike::ws {

// The GUID that RFC 6455 appends to the client key before hashing.
inline constexpr std::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// True when the header value is the base64 encoding of exactly 16 bytes: 22 base64 characters followed by
// "==" (24 characters, no surrounding whitespace; the caller trims optional whitespace around header values).
bool is_valid_client_key(std::string_view sec_websocket_key);

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for a valid Sec-WebSocket-Key; nullopt for an
// invalid key or when the crypto library fails.
std::optional<std::string> accept_key(std::string_view sec_websocket_key);

// The answer to a request that asks for "Upgrade: websocket" on a WebSocket path: the 101 response when
// the handshake is valid and the Origin allowed, otherwise the HTTP error that refuses it (400
// bad_websocket_handshake, 426 with Sec-WebSocket-Version: 13, 403 forbidden_origin, 500 internal_error).
struct HandshakeAnswer {
  std::optional<std::string> switching_protocols;  // the 101 response bytes
  http::Response refusal;                          // when switching_protocols is empty
};
HandshakeAnswer answer_handshake(const http::Request& request, const Config& config);

}  // namespace turnpike::ws
