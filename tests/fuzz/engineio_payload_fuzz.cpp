// Fuzzes the Engine.IO payload and packet decoders: no crash, packets re-encode to the exact input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "socketio/engineio_packet.hpp"

namespace {

using turnpike::eio::DecodeError;
using turnpike::eio::Packet;

bool is_view_into(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// One packet (a WebSocket text frame): on success, encode_packet gives the text back.
void check_packet(std::string_view text) {
  const auto decoded = turnpike::eio::decode_packet(text);
  if (const auto* packet = std::get_if<Packet>(&decoded)) {
    if (!is_view_into(packet->data, text)) std::abort();
    if (turnpike::eio::encode_packet(packet->type, packet->data) != text) std::abort();
    if (turnpike::eio::decode_packet(turnpike::eio::encode_packet(packet->type, packet->data)) != decoded)
      std::abort();
  } else if (turnpike::eio::describe(std::get<DecodeError>(decoded)).empty()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t max_packets = data[0] % 32;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  check_packet(body);

  std::vector<Packet> packets;
  const std::optional<DecodeError> error = turnpike::eio::decode_payload(body, max_packets, packets);
  if (packets.size() > max_packets) std::abort();
  std::string rebuilt;
  for (const auto& packet : packets) {
    if (!is_view_into(packet.data, body)) std::abort();
    if (packet.data.find(turnpike::eio::kRecordSeparator) != std::string_view::npos) std::abort();
    turnpike::eio::append_to_payload(rebuilt, packet.type, packet.data);
  }
  if (!error) {
    // Everything decoded: the packets joined again are the body.
    if (rebuilt != body) std::abort();
    std::vector<Packet> again;
    if (turnpike::eio::decode_payload(rebuilt, max_packets, again) || again != packets) std::abort();
    return 0;
  }
  // An error: the packets before it are a prefix of the body, ending at a separator (or nothing decoded).
  if (!body.starts_with(rebuilt)) std::abort();
  if (!packets.empty() &&
      (body.size() == rebuilt.size() || body[rebuilt.size()] != turnpike::eio::kRecordSeparator))
    std::abort();
  if (*error == DecodeError::too_many_packets && packets.size() != max_packets) std::abort();
  return 0;
}
