// Engine.IO protocol v4 text packets and polling payloads: decoding into views, encoding into strings.
#include "socketio/engineio_packet.hpp"

namespace turnpike::eio {

std::variant<Packet, DecodeError> decode_packet(std::string_view text) {
  if (text.empty()) return DecodeError::empty;
  const char type = text.front();
  if (type == 'b') return DecodeError::binary_unsupported;
  if (type < static_cast<char>(PacketType::open) || type > static_cast<char>(PacketType::noop))
    return DecodeError::unknown_type;
  return Packet{static_cast<PacketType>(type), text.substr(1)};
}

std::optional<DecodeError> decode_payload(std::string_view body, std::size_t max_packets,
                                          std::vector<Packet>& out) {
  std::size_t decoded = 0;
  std::size_t element_start = 0;
  while (true) {
    if (decoded == max_packets) return DecodeError::too_many_packets;
    const std::size_t separator = body.find(kRecordSeparator, element_start);
    const std::size_t element_end = separator == std::string_view::npos ? body.size() : separator;
    auto result = decode_packet(body.substr(element_start, element_end - element_start));
    if (const auto* error = std::get_if<DecodeError>(&result)) return *error;
    out.push_back(std::get<Packet>(result));
    ++decoded;
    if (separator == std::string_view::npos) return std::nullopt;
    element_start = separator + 1;
  }
}

std::string encode_packet(PacketType type, std::string_view data) {
  std::string packet;
  packet.reserve(1 + data.size());
  packet += static_cast<char>(type);
  packet += data;
  return packet;
}

void append_to_payload(std::string& payload, PacketType type, std::string_view data) {
  if (!payload.empty()) payload += kRecordSeparator;
  payload += static_cast<char>(type);
  payload += data;
}

std::string_view describe(DecodeError error) {
  switch (error) {
    case DecodeError::empty:
      return "empty packet";
    case DecodeError::unknown_type:
      return "unknown packet type";
    case DecodeError::binary_unsupported:
      return "binary packets are not supported";
    case DecodeError::too_many_packets:
      return "too many packets in payload";
  }
  return "unknown error";
}

}  // namespace turnpike::eio
