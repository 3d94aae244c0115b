// The signaling core: message parsing, room rules, relaying and peer liveness.
#include "signaling/signaling.hpp"

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"

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

Signaling::Signaling(RoomDirectory directory, Metrics& metrics, const Clock& clock)
    : directory_(std::move(directory)), metrics_(metrics), clock_(clock) {}

void Signaling::connect(Peer& peer) {
  auto& state = clients_[peer.id()];
  state.peer = &peer;
  state.uuid = random_uuid_v4();
  state.last_heard = clock_.monotonic_seconds();
  send(peer.id(),
       R"({"type":"connected","clientId":")" + state.uuid + R"(","server":"WebRTC P2P Signaling Server"})");
}

void Signaling::vacate_seat(PeerId id) {
  if (auto departure = registry_.remove(id)) {
    for (auto other : departure->remaining) send(other, kPeerDisconnected);
  }
}

void Signaling::disconnect(PeerId id) {
  vacate_seat(id);
  clients_.erase(id);
}

void Signaling::heard_from(PeerId id) {
  auto it = clients_.find(id);
  if (it != clients_.end()) it->second.last_heard = clock_.monotonic_seconds();
}

std::optional<double> Signaling::last_heard(PeerId id) const {
  auto it = clients_.find(id);
  if (it == clients_.end()) return std::nullopt;
  return it->second.last_heard;
}

bool Signaling::expire_if_silent(PeerId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return false;
  if (clock_.monotonic_seconds() - it->second.last_heard < settings_.silence_timeout_seconds) return false;
  Peer* peer = it->second.peer;
  log_info("peer_silent").kv("conn", id);
  disconnect(id);
  peer->close(1001, "pong timeout");
  return true;
}

void Signaling::send(PeerId to, std::string_view text) {
  auto it = clients_.find(to);
  if (it == clients_.end()) return;
  if (it->second.holding != 0) {
    it->second.held.emplace_back(text);
  } else {
    it->second.peer->send(text);
  }
}

// Credentials must not reach a client before the commit that stores them is durable (coturn would refuse
// them, and a crash would lose them), and nothing may overtake them, so the peer's messages wait.
void Signaling::hold_until_durable(PeerId id) {
  if (!directory_.when_durable) return;
  const std::uint64_t token = ++next_hold_token_;
  clients_.at(id).holding = token;  // a later hold replaces an earlier one: its commit comes after
  directory_.when_durable([this, id, token](bool durable) { release_held(id, token, durable); });
}

void Signaling::release_held(PeerId id, std::uint64_t token, bool durable) {
  auto it = clients_.find(id);
  if (it == clients_.end() || it->second.holding != token) return;  // gone, or held again since
  it->second.holding = 0;
  if (!durable) {
    // The credentials it was about to get do not exist: end the connection; the client joins again.
    Peer* peer = it->second.peer;
    disconnect(id);
    return peer->close(1011, "internal error");
  }
  for (const auto& text : std::exchange(it->second.held, {})) it->second.peer->send(text);
}

void Signaling::send_error(PeerId to, std::string_view error) {
  send(to, R"({"type":"error","error":)" + json_quote(error) + "}");
}

void Signaling::handle_message(PeerId id, std::string_view text) {
  heard_from(id);
  if (try_relay_as_is(id, text)) return;
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

std::variant<int, std::string_view> Signaling::device_slot(const nlohmann::ordered_json& message,
                                                           const std::string& room) {
  auto device = message.find("deviceId");
  if (device == message.end()) return 0;
  auto members = directory_.find(room);
  if (!members) return 0;  // not a pairing-API room: deviceId means nothing here
  if (device->is_string()) {
    const auto& id = device->get_ref<const std::string&>();
    if (id == members->client1) return 1;
    if (id == members->client2) return 2;
  }
  return std::string_view("Not a member of this room");
}

void Signaling::join_room(PeerId id, const nlohmann::ordered_json& message) {
  auto it = message.find("roomId");
  if (it == message.end() || !it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > settings_.max_id_bytes) {
    return send_error(id, "Invalid roomId");
  }
  const std::string room = it->get<std::string>();
  if (settings_.require_known_room && !directory_.find(room)) return send_error(id, "Unknown room");
  auto slot_or_error = device_slot(message, room);
  if (auto* error = std::get_if<std::string_view>(&slot_or_error)) return send_error(id, *error);
  const int slot = std::get<int>(slot_or_error);
  ClientState& state = clients_.at(id);
  const std::string device = slot != 0 ? message["deviceId"].get<std::string>() : std::string();

  const std::string* current = registry_.room_of(id);
  if (current != nullptr && *current == room) {
    // Idempotent rejoin: repeat what the client would have seen, tell nobody else.
    if (slot != 0) {
      state.device = device;
      state.slot = slot;
    }
    const auto& members = registry_.members(room);
    std::size_t index = std::find(members.begin(), members.end(), id) - members.begin();
    send_room_joined(id, room, index == 0);
    if (members.size() == RoomRegistry::kSeats) announce_ready(room, {id});
    return;
  }
  if (slot != 0) {
    // The same device reconnecting takes over its old socket's seat.
    for (PeerId member : registry_.members(room)) {
      auto other = clients_.find(member);
      if (other == clients_.end() || other->second.slot != slot || other->second.device != device) continue;
      Peer* old_socket = other->second.peer;
      disconnect(member);
      old_socket->close(1000, "replaced by a new connection of the same device");
      break;
    }
  }
  if (registry_.members(room).size() >= RoomRegistry::kSeats) {
    return send(id, R"j({"type":"room_full","error":"Room is full (max 2 users)","roomId":)j" +
                        json_quote(room) + "}");
  }
  if (auto departure = registry_.remove(id)) {
    for (auto peer : departure->remaining) send(peer, kPeerLeft);
  }
  std::size_t index = registry_.add(room, id);
  directory_.touch(room);
  state.device = device;
  state.slot = slot;
  state.ice_expires_ms = 0;
  std::size_t count = registry_.members(room).size();
  log_debug("room_joined")
      .kv("client", id)
      .kv("users", static_cast<std::uint64_t>(count))
      .kv("bound", slot != 0);
  send_room_joined(id, room, index == 0);
  if (count == RoomRegistry::kSeats) announce_ready(room, registry_.members(room));
}

void Signaling::send_room_joined(PeerId id, const std::string& room, bool initiator) {
  ClientState& state = clients_.at(id);
  std::string text = room_joined_text(room, registry_.members(room).size(), initiator);
  if (state.slot != 0) {
    if (auto ice = directory_.ice_servers(room, state.slot)) {
      text.pop_back();  // the closing brace
      text += R"(,"iceServers":)" + ice->ice_servers_json + R"(,"expiresAt":")" +
              format_iso8601_ms(ice->expires_ms) + "\"}";
      state.ice_expires_ms = ice->expires_ms;
      hold_until_durable(id);
    }
  }
  send(id, text);
}

void Signaling::renew_ice_servers() {
  for (auto& [id, state] : clients_) {
    if (state.slot == 0 || state.ice_expires_ms == 0 || !directory_.renewal_due(state.ice_expires_ms))
      continue;
    const std::string* room = registry_.room_of(id);
    if (room == nullptr) continue;
    auto ice = directory_.ice_servers(*room, state.slot);
    if (!ice || ice->expires_ms == state.ice_expires_ms) continue;
    state.ice_expires_ms = ice->expires_ms;
    hold_until_durable(id);
    send(id, R"({"type":"ice_servers","iceServers":)" + ice->ice_servers_json + R"(,"expiresAt":")" +
                 format_iso8601_ms(ice->expires_ms) + "\"}");
  }
}

void Signaling::announce_ready(const std::string& room, const std::vector<PeerId>& only) {
  const auto members = registry_.members(room);  // copy: sending may not change it, but stay safe
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (std::find(only.begin(), only.end(), members[i]) != only.end())
      send(members[i], room_ready_text(room, i == 0));
  }
}

void Signaling::leave_room(PeerId id) {
  auto departure = registry_.remove(id);
  clients_.at(id).slot = 0;
  if (!departure) return send(id, R"({"type":"left_room","roomId":null})");
  for (auto peer : departure->remaining) send(peer, kPeerLeft);
  send(id, R"({"type":"left_room","roomId":)" + json_quote(departure->room) + "}");
}

bool Signaling::try_relay_as_is(PeerId id, std::string_view text) {
  JsonSpan top;
  if (!scanner_.scan(text, kMaxNesting, top, members_) || top.kind != JsonKind::object) return false;
  // JSON parsers keep the last of duplicate members; so does this.
  const JsonSpan* type = nullptr;
  for (const auto& member : members_) {
    if (member.key_has_escapes) return false;
    if (member.raw_key == "type") type = &member.value;
  }
  std::string_view name;
  if (type == nullptr || !json_plain_string(*type, name)) return false;
  const bool is_candidate = name == "ice_candidate";
  if (!is_candidate && name != "webrtc_offer" && name != "webrtc_answer") return false;
  const std::string_view field = is_candidate ? "candidate" : "sdp";
  const JsonSpan* payload = nullptr;
  for (const auto& member : members_) {
    if (member.raw_key == field) payload = &member.value;
  }
  if (payload == nullptr || !payload->canonical) return false;

  // The shape rules of PROTOCOL.md: sdp is a string or has a string "sdp"; candidate is null or has a string
  // "candidate". A canonical object has no duplicate or escaped keys, so raw keys compare exactly.
  bool valid = is_candidate ? payload->text == "null" : payload->kind == JsonKind::string;
  if (payload->kind == JsonKind::object) {
    JsonSpan object;
    if (!scanner_.scan(payload->text, kMaxNesting, object, payload_members_)) return false;
    for (const auto& member : payload_members_) {
      if (member.raw_key == field) valid = member.value.kind == JsonKind::string;
    }
  }
  if (!valid) return false;  // the full parser words the error
  forward(id, name, is_candidate, payload->text);
  return true;
}

void Signaling::relay(PeerId id, std::string_view type, const nlohmann::ordered_json& message) {
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
  if (!valid) return forward(id, type, is_candidate, std::nullopt);
  forward(id, type, is_candidate, to_json_text(*payload));
}

void Signaling::forward(PeerId id, std::string_view type, bool is_candidate,
                        std::optional<std::string_view> payload) {
  const std::string* room = registry_.room_of(id);
  if (room == nullptr) return send_error(id, kNotInRoom);
  const auto& members = registry_.members(*room);
  if (members.size() != RoomRegistry::kSeats)
    return send_error(id, "Room must have exactly 2 users for WebRTC");
  if (!payload) return send_error(id, is_candidate ? "Invalid candidate" : "Invalid sdp");

  PeerId peer = members[0] == id ? members[1] : members[0];
  relay_text_.clear();
  relay_text_ += R"({"type":")";
  relay_text_ += type;
  relay_text_ += R"(","from":")";
  relay_text_ += clients_.at(id).uuid;
  relay_text_ += R"(","roomId":)";
  append_json_quoted(relay_text_, *room);
  relay_text_ += is_candidate ? R"(,"candidate":)" : R"(,"sdp":)";
  relay_text_ += *payload;
  relay_text_ += '}';
  metrics_.count_relayed(type);
  send(peer, relay_text_);
}

void Signaling::close_room(const std::string& room, std::string_view reason) {
  std::string text =
      R"({"type":"room_closed","roomId":)" + json_quote(room) + R"(,"reason":)" + json_quote(reason) + "}";
  for (auto member : registry_.close(room)) {
    clients_.at(member).slot = 0;
    send(member, text);
  }
}

}  // namespace turnpike
