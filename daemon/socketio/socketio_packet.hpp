// Socket.IO protocol v5 packets (the text inside Engine.IO message packets): decoding and encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace turnpike::sio {

enum class PacketType : std::uint8_t {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6
};

// Longest namespace accepted, in bytes, including the leading '/'.
inline constexpr std::size_t kMaxNamespaceBytes = 256;
// Longest ack id accepted, in decimal digits (so every id is exact as a JavaScript number).
inline constexpr std::size_t kMaxAckIdDigits = 15;
// Deepest nesting of arrays and objects accepted in a payload.
inline constexpr int kMaxPayloadDepth = 32;

struct Packet {
  PacketType type = PacketType::connect;
  std::string nsp = "/";                // "/" when the packet names no namespace
  std::optional<std::uint64_t> ack_id;  // the digits after the namespace
  bool has_data = false;                // false: no payload, and `data` is null
  nlohmann::ordered_json data;          // the parsed payload

  friend bool operator==(const Packet&, const Packet&) = default;
};

enum class DecodeError {
  empty,               // an empty text
  unknown_type,        // the first character is not '0'..'6'
  binary_unsupported,  // BINARY_EVENT or BINARY_ACK (attachments follow as binary frames): refused
  bad_namespace,       // longer than kMaxNamespaceBytes, or with control characters or invalid UTF-8
  bad_ack_id,          // more than kMaxAckIdDigits digits
  bad_json,            // the payload is not JSON (or nests deeper than kMaxPayloadDepth)
  invalid_payload      // JSON, but not what the packet type allows
};

// Decodes `<type>[/<namespace>,][<ack id>][<JSON payload>]` the way socket.io-parser 4.2's decoder does:
// a namespace starts with '/' right after the type and runs to the next ',' (consumed) or to the end; the
// ack id is the run of digits after it; everything after that is the JSON payload. The payload must be
// what socket.io-parser's isPacketValid allows for the type:
//   CONNECT: an object or absent           DISCONNECT: absent
//   EVENT: an array whose first element is a number or a string other than a reserved event name
//          ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
//   ACK: an array                          CONNECT_ERROR: a string or an object
// Stricter than socket.io-parser in a few places, all on input no socket.io client sends: the type and
// the ack id are ASCII digits only (JavaScript's Number() also takes whitespace), EVENT, ACK and
// CONNECT_ERROR without a payload are invalid_payload (the decoder there checks only payloads that are
// present), the namespace and ack id are bounded, and the JSON must be UTF-8 without lone surrogate
// escapes (JSON.parse takes those), like JSON.parse without a byte-order mark or NUL byte.
std::variant<Packet, DecodeError> decode(std::string_view text);

// Encodes like socket.io-parser's encoder: the type digit, then `nsp` and ',' unless `nsp` is "/" or empty,
// then the ack id, then `json_payload` (serialised JSON, written as is; empty for no payload).
std::string encode(PacketType type, std::string_view nsp, std::optional<std::uint64_t> ack_id,
                   std::string_view json_payload = {});

// Server-to-client packets. Strings given here are JSON-quoted and must be valid UTF-8; `json_*` arguments
// are serialised JSON written as is.
// `2<nsp>,["<event>",<json_arg>]`, or `2<nsp>,["<event>"]` when `json_arg` is empty.
std::string encode_event(std::string_view nsp, std::string_view event, std::string_view json_arg = {});
// `0<nsp>,{"sid":"<sid>"}`: the namespace accepted the connection.
std::string encode_connect(std::string_view nsp, std::string_view sid);
// `4<nsp>,{"message":"<message>"}`: the namespace refused the connection.
std::string encode_connect_error(std::string_view nsp, std::string_view message);
// `3<nsp>,<ack_id><json_array>`: the reply to an event that asked for an acknowledgement.
std::string encode_ack(std::string_view nsp, std::uint64_t ack_id, std::string_view json_array);
// `1<nsp>,`: the server disconnects the client from the namespace.
std::string encode_disconnect(std::string_view nsp);

// Short text for logs, e.g. "invalid payload".
std::string_view describe(DecodeError error);

}  // namespace turnpike::sio
