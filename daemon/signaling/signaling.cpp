// The signaling protocol: message parsing, room rules and relaying.
#include "signaling/signaling.hpp"

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "ops/metrics.hpp"

namespace turnpike {
namespace {

constexpr int kMaxNesting = 64;
constexpr std::string_view kNotInRoom = "Not in a valid room for WebRTC signaling";

// What JavaScript's String(value) prints, for "Unknown message type: X".
std::string js_string(const nlohmann::ordered_json* value) {
  if (value == nullptr) return "undefined";
  switch (value->type()) {
    case nlohmann::ordered_json::value_t::string:
      return value->get<std::string>();
    case nlohmann::ordered_json::value_t::object:
      return "[object Object]";
    case nlohmann::ordered_json::value_t::null:
      return "null";
    case nlohmann::ordered_json::value_t::array: {
      std::string out;
      bool first = true;
      for (const auto& item : *value) {
        if (!first) out += ',';
        first = false;
        if (!item.is_null()) out += js_string(&item);
      }
      return out;
    }
    default:
      return to_json_text(*value);
  }
}

std::string room_joined_text(const std::string& room, std::size_t count, bool initiator) {
  return R"({"type":"room_joined","roomId":)" + json_quote(room) + R"(,"userCount":)" +
         std::to_string(count) + R"(,"isInitiator":)" + (initiator ? "true" : "false") + R"(,"ready":)" +
         (count == RoomRegistry::kSeats ? "true" : "false") + "}";
}

std::string room_ready_text(const std::string& room, bool initiator) {
  return R"({"type":"room_ready","roomId":)" + json_quote(room) +
         R"(,"message":"Both users connected. Ready for WebRTC handshake.","userCount":2,"isInitiator":)" +
         (initiator ? "true" : "false") + "}";
}

constexpr std::string_view kPeerLeft = R"({"type":"peer_left","message":"Other user left the room"})";
constexpr std::string_view kPeerDisconnected =
    R"({"type":"peer_disconnected","message":"Other user disconnected"})";

}  // namespace

Signaling::Signaling(RoomDirectory directory, Metrics& metrics)
    : directory_(std::move(directory)), metrics_(metrics) {}

const std::string* Signaling::client_uuid(ClientId id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : &it->second.uuid;
}

void Signaling::connect(ClientId id, SignalingClient& client) {
  auto& state = clients_[id];
  state.sink = &client;
  state.uuid = random_uuid_v4();
  send(id,
       R"({"type":"connected","clientId":")" + state.uuid + R"(","server":"WebRTC P2P Signaling Server"})");
}

void Signaling::disconnect(ClientId id) {
  if (auto departure = registry_.remove(id)) {
    for (auto peer : departure->remaining) send(peer, kPeerDisconnected);
  }
  clients_.erase(id);
}

void Signaling::send(ClientId to, std::string_view text) {
  auto it = clients_.find(to);
  if (it != clients_.end()) it->second.sink->deliver(text);
}

void Signaling::send_error(ClientId to, std::string_view error) {
  send(to, R"({"type":"error","error":)" + json_quote(error) + "}");
}

void Signaling::handle_message(ClientId id, std::string_view text) {
  if (json_nesting_exceeds(text, kMaxNesting)) return send_error(id, "Invalid JSON format");
  auto message = parse_ordered_json(text);
  if (message.is_discarded() || message.is_null()) return send_error(id, "Invalid JSON format");

  const nlohmann::ordered_json* type = nullptr;
  if (message.is_object()) {
    auto it = message.find("type");
    if (it != message.end()) type = &*it;
  }
  if (type != nullptr && type->is_string()) {
    const auto& name = type->get_ref<const std::string&>();
    if (name == "join_room") return join_room(id, message);
    if (name == "leave_room") return leave_room(id);
    if (name == "webrtc_offer" || name == "webrtc_answer" || name == "ice_candidate") {
      return relay(id, name, message);
    }
    if (name == "ping") return send(id, R"({"type":"pong"})");
  }
  send_error(id, "Unknown message type: " + js_string(type));
}

void Signaling::join_room(ClientId id, const nlohmann::ordered_json& message) {
  auto it = message.find("roomId");
  if (it == message.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > settings_.max_id_bytes) {
    return send_error(id, "Invalid roomId");
  }
  const std::string room = it->get<std::string>();
  if (settings_.require_known_room && !directory_.exists(room)) return send_error(id, "Unknown room");

  const auto& members = registry_.members(room);
  const std::string* current = registry_.room_of(id);
  if (current != nullptr && *current == room) {
    // Idempotent rejoin: repeat what the client would have seen, tell nobody else.
    std::size_t index = std::find(members.begin(), members.end(), id) - members.begin();
    send(id, room_joined_text(room, members.size(), index == 0));
    if (members.size() == RoomRegistry::kSeats) announce_ready(room, {id});
    return;
  }
  if (members.size() >= RoomRegistry::kSeats) {
    return send(id, R"j({"type":"room_full","error":"Room is full (max 2 users)","roomId":)j" +
                        json_quote(room) + "}");
  }
  if (auto departure = registry_.remove(id)) {
    for (auto peer : departure->remaining) send(peer, kPeerLeft);
  }
  std::size_t index = registry_.add(room, id);
  directory_.touch(room);
  std::size_t count = registry_.members(room).size();
  log_debug("room_joined").kv("client", id).kv("users", static_cast<std::uint64_t>(count));
  send(id, room_joined_text(room, count, index == 0));
  if (count == RoomRegistry::kSeats) announce_ready(room, registry_.members(room));
}

void Signaling::announce_ready(const std::string& room, const std::vector<ClientId>& only) {
  const auto members = registry_.members(room);  // copy: sending may not change it, but stay safe
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (std::find(only.begin(), only.end(), members[i]) != only.end())
      send(members[i], room_ready_text(room, i == 0));
  }
}

void Signaling::leave_room(ClientId id) {
  auto departure = registry_.remove(id);
  if (!departure) return send(id, R"({"type":"left_room","roomId":null})");
  for (auto peer : departure->remaining) send(peer, kPeerLeft);
  send(id, R"({"type":"left_room","roomId":)" + json_quote(departure->room) + "}");
}

void Signaling::relay(ClientId id, std::string_view type, const nlohmann::ordered_json& message) {
  const std::string* room = registry_.room_of(id);
  if (room == nullptr) return send_error(id, kNotInRoom);
  const auto& members = registry_.members(*room);
  if (members.size() != RoomRegistry::kSeats)
    return send_error(id, "Room must have exactly 2 users for WebRTC");

  const bool is_candidate = type == "ice_candidate";
  const char* field = is_candidate ? "candidate" : "sdp";
  auto payload = message.find(field);
  bool valid = false;
  if (payload != message.end()) {
    if (is_candidate) {
      valid = payload->is_null() ||
              (payload->is_object() && payload->contains("candidate") && (*payload)["candidate"].is_string());
    } else {
      valid = payload->is_string() ||
              (payload->is_object() && payload->contains("sdp") && (*payload)["sdp"].is_string());
    }
  }
  if (!valid) return send_error(id, is_candidate ? "Invalid candidate" : "Invalid sdp");

  ClientId peer = members[0] == id ? members[1] : members[0];
  std::string out;
  out.reserve(64 + room->size() + 256);
  out += R"({"type":")";
  out += type;
  out += R"(","from":")";
  out += clients_.at(id).uuid;
  out += R"(","roomId":)";
  out += json_quote(*room);
  out += is_candidate ? R"(,"candidate":)" : R"(,"sdp":)";
  out += to_json_text(*payload);
  out += '}';
  metrics_.count_relayed(type);
  send(peer, out);
}

void Signaling::close_room(const std::string& room, std::string_view reason) {
  std::string text =
      R"({"type":"room_closed","roomId":)" + json_quote(room) + R"(,"reason":)" + json_quote(reason) + "}";
  for (auto member : registry_.close(room)) send(member, text);
}

}  // namespace turnpike
