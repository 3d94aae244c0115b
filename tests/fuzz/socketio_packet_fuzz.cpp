// Fuzzes the Socket.IO packet decoder: no crash, decoded packets are valid and survive encode/decode.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "socketio/socketio_packet.hpp"

namespace {

using turnpike::sio::DecodeError;
using turnpike::sio::Packet;
using turnpike::sio::PacketType;

// What the header promises about every decoded packet.
void check_invariants(const Packet& packet) {
  if (packet.type == PacketType::binary_event || packet.type == PacketType::binary_ack) std::abort();
  if (packet.nsp.empty() || packet.nsp.front() != '/' ||
      packet.nsp.size() > turnpike::sio::kMaxNamespaceBytes)
    std::abort();
  if (packet.nsp.find(',') != std::string::npos) std::abort();
  if (packet.ack_id && *packet.ack_id > 999'999'999'999'999ULL) std::abort();
  if (!packet.has_data && !packet.data.is_null()) std::abort();
  if (packet.has_data && packet.data.is_discarded()) std::abort();
  switch (packet.type) {
    case PacketType::connect:
      if (packet.has_data && !packet.data.is_object()) std::abort();
      break;
    case PacketType::disconnect:
      if (packet.has_data) std::abort();
      break;
    case PacketType::event:
      if (!packet.data.is_array() || packet.data.empty()) std::abort();
      if (!packet.data.front().is_string() && !packet.data.front().is_number()) std::abort();
      break;
    case PacketType::ack:
      if (!packet.data.is_array()) std::abort();
      break;
    case PacketType::connect_error:
      if (!packet.data.is_string() && !packet.data.is_object()) std::abort();
      break;
    default:
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto decoded = turnpike::sio::decode(text);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    if (turnpike::sio::describe(*error).empty()) std::abort();
    return 0;
  }
  const auto& packet = std::get<Packet>(decoded);
  check_invariants(packet);
  // Parsed JSON is valid UTF-8, so dump() cannot throw here.
  const std::string json_text = packet.has_data ? packet.data.dump() : std::string();
  const std::string encoded = turnpike::sio::encode(packet.type, packet.nsp, packet.ack_id, json_text);
  const auto again = turnpike::sio::decode(encoded);
  if (again != decoded) std::abort();
  // Encoding is canonical: a second round gives the same text.
  const auto& packet_again = std::get<Packet>(again);
  if (turnpike::sio::encode(packet_again.type, packet_again.nsp, packet_again.ack_id,
                            packet_again.has_data ? packet_again.data.dump() : std::string()) != encoded)
    std::abort();
  return 0;
}
