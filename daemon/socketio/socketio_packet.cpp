// Socket.IO protocol v5 packets (the text inside Engine.IO message packets): decoding and encoding.
#include "socketio/socketio_packet.hpp"

#include <algorithm>
#include <array>

#include "core/json_text.hpp"
#include "core/utf8.hpp"

namespace turnpike::sio {

namespace {

constexpr std::array<std::string_view, 6> kReservedEventNames = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_valid_namespace(std::string_view nsp) {
  if (nsp.size() > kMaxNamespaceBytes) return false;
  const bool has_control = std::any_of(nsp.begin(), nsp.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  return !has_control && is_valid_utf8(nsp);
}

bool is_reserved_event_name(std::string_view name) {
  return std::find(kReservedEventNames.begin(), kReservedEventNames.end(), name) != kReservedEventNames.end();
}

// socket.io-parser's isPacketValid for the payload (`payload` is null when `has_payload` is false).
bool is_payload_valid(PacketType type, bool has_payload, const nlohmann::ordered_json& payload) {
  switch (type) {
    case PacketType::connect:
      return !has_payload || payload.is_object();
    case PacketType::disconnect:
      return !has_payload;
    case PacketType::event: {
      if (!has_payload || !payload.is_array() || payload.empty()) return false;
      const auto& first = payload.front();
      return first.is_number() ||
             (first.is_string() && !is_reserved_event_name(first.get_ref<const std::string&>()));
    }
    case PacketType::ack:
      return has_payload && payload.is_array();
    case PacketType::connect_error:
      return has_payload && (payload.is_string() || payload.is_object());
    case PacketType::binary_event:
    case PacketType::binary_ack:
      return false;
  }
  return false;
}

void append_namespace(std::string& out, std::string_view nsp) {
  if (nsp.empty() || nsp == "/") return;
  out += nsp;
  out += ',';
}

}  // namespace

std::variant<Packet, DecodeError> decode(std::string_view text) {
  if (text.empty()) return DecodeError::empty;
  const char type_char = text.front();
  if (type_char < '0' || type_char > '6') return DecodeError::unknown_type;
  Packet packet;
  packet.type = static_cast<PacketType>(type_char - '0');
  if (packet.type == PacketType::binary_event || packet.type == PacketType::binary_ack)
    return DecodeError::binary_unsupported;

  std::string_view rest = text.substr(1);
  if (rest.starts_with('/')) {
    const std::size_t comma = rest.find(',');
    const std::string_view nsp = rest.substr(0, comma);
    if (!is_valid_namespace(nsp)) return DecodeError::bad_namespace;
    packet.nsp = nsp;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }

  const std::size_t digits = std::find_if_not(rest.begin(), rest.end(), is_digit) - rest.begin();
  if (digits > 0) {
    if (digits > kMaxAckIdDigits) return DecodeError::bad_ack_id;
    std::uint64_t ack_id = 0;
    for (const char digit : rest.substr(0, digits))
      ack_id = ack_id * 10 + static_cast<std::uint64_t>(digit - '0');
    packet.ack_id = ack_id;
    rest = rest.substr(digits);
  }

  if (!rest.empty()) {
    // JSON.parse refuses a byte-order mark, which nlohmann::json skips, and a NUL byte, where nlohmann::json
    // stops reading (a NUL cannot be part of JSON text: inside strings it must be escaped).
    if (rest.starts_with("\xEF\xBB\xBF") || rest.find('\0') != std::string_view::npos ||
        json_nesting_exceeds(rest, kMaxPayloadDepth))
      return DecodeError::bad_json;
    packet.data = parse_ordered_json(rest);
    if (packet.data.is_discarded()) return DecodeError::bad_json;
    packet.has_data = true;
  }
  if (!is_payload_valid(packet.type, packet.has_data, packet.data)) return DecodeError::invalid_payload;
  return packet;
}

std::string encode(PacketType type, std::string_view nsp, std::optional<std::uint64_t> ack_id,
                   std::string_view json_payload) {
  std::string out;
  out.reserve(1 + nsp.size() + 1 + 20 + json_payload.size());
  out += static_cast<char>('0' + static_cast<int>(type));
  append_namespace(out, nsp);
  if (ack_id) out += std::to_string(*ack_id);
  out += json_payload;
  return out;
}

std::string encode_event(std::string_view nsp, std::string_view event, std::string_view json_arg) {
  std::string out = encode(PacketType::event, nsp, std::nullopt);
  out += '[';
  append_json_quoted(out, event);
  if (!json_arg.empty()) {
    out += ',';
    out += json_arg;
  }
  out += ']';
  return out;
}

std::string encode_connect(std::string_view nsp, std::string_view sid) {
  std::string out = encode(PacketType::connect, nsp, std::nullopt);
  out += "{\"sid\":";
  append_json_quoted(out, sid);
  out += '}';
  return out;
}

std::string encode_connect_error(std::string_view nsp, std::string_view message) {
  std::string out = encode(PacketType::connect_error, nsp, std::nullopt);
  out += "{\"message\":";
  append_json_quoted(out, message);
  out += '}';
  return out;
}

std::string encode_ack(std::string_view nsp, std::uint64_t ack_id, std::string_view json_array) {
  return encode(PacketType::ack, nsp, ack_id, json_array);
}

std::string encode_disconnect(std::string_view nsp) {
  return encode(PacketType::disconnect, nsp, std::nullopt);
}

std::string_view describe(DecodeError error) {
  switch (error) {
    case DecodeError::empty:
      return "empty packet";
    case DecodeError::unknown_type:
      return "unknown packet type";
    case DecodeError::binary_unsupported:
      return "binary packets are not supported";
    case DecodeError::bad_namespace:
      return "invalid namespace";
    case DecodeError::bad_ack_id:
      return "invalid ack id";
    case DecodeError::bad_json:
      return "payload is not valid JSON";
    case DecodeError::invalid_payload:
      return "invalid payload for packet type";
  }
  return "unknown error";
}

}  // namespace turnpike::sio
