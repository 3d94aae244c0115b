// WebSocket opening handshake (RFC 6455 §4.2): Sec-WebSocket-Key validation and Sec-WebSocket-Accept.
#pragma once

#include <string>
#include <string_view>

namespace turnpike::ws {

// The GUID that RFC 6455 appends to the client key before hashing.
inline constexpr std::string_view kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// True when the header value is the base64 encoding of exactly 16 bytes: 22 base64 characters followed by
// "==" (24 characters, no surrounding whitespace; the caller trims optional whitespace around header values).
bool is_valid_client_key(std::string_view sec_websocket_key);

// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for the given Sec-WebSocket-Key.
// Returns an empty string only if the crypto library fails, which the caller treats as an internal error.
std::string accept_key(std::string_view sec_websocket_key);

}  // namespace turnpike::ws
