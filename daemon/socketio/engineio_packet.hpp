// Engine.IO protocol v4 text packets and polling payloads: decoding into views, encoding into strings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace turnpike::eio {

// The first character of a text packet.
enum class PacketType : char {
  open = '0',
  close = '1',
  ping = '2',
  pong = '3',
  message = '4',
  upgrade = '5',
  noop = '6'
};

// Joins the packets of a polling payload (HTTP long-polling request and response bodies).
inline constexpr char kRecordSeparator = '\x1e';

// One decoded packet. `data` is the text after the type character (empty for "2", "probe" for "2probe"),
// a view into the decoded text.
struct Packet {
  PacketType type;
  std::string_view data;

  friend bool operator==(const Packet&, const Packet&) = default;
};

enum class DecodeError {
  empty,               // an empty packet: an empty text, an empty body, or an empty element of a payload
  unknown_type,        // the first character is not one of '0'..'6' (nor 'b')
  binary_unsupported,  // "b<base64>": a binary message in a polling payload, which this server refuses
  too_many_packets     // a payload with more packets than the caller allows
};

// Decodes one packet: a WebSocket text frame, or one element of a polling payload. The data is not examined
// (it may be anything, including a record separator when it came from a WebSocket frame).
std::variant<Packet, DecodeError> decode_packet(std::string_view text);

// Decodes a polling POST body: elements split on kRecordSeparator, each decoded by decode_packet and
// appended to `out` (views into `body`). Strict, like engine.io's decodePayload, which turns an element
// it cannot decode into an error packet: an empty element (an empty body, two separators in a row, a
// leading or trailing separator) is DecodeError::empty. The first error stops decoding and is returned;
// packets decoded before it stay in `out` (the session must be closed either way). A body with more than
// `max_packets` elements is DecodeError::too_many_packets, returned before the extra element is decoded.
std::optional<DecodeError> decode_payload(std::string_view body, std::size_t max_packets,
                                          std::vector<Packet>& out);

// "<type><data>". For a polling payload `data` must not contain kRecordSeparator.
std::string encode_packet(PacketType type, std::string_view data = {});

// Appends one packet to a polling payload being built, with a separator before it unless it is the first.
void append_to_payload(std::string& payload, PacketType type, std::string_view data = {});

// Short text for logs, e.g. "unknown packet type".
std::string_view describe(DecodeError error);

}  // namespace turnpike::eio
