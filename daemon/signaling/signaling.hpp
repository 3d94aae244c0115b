// The signaling protocol: parses client messages, applies the room rules, and relays offers, answers and
// candidates between the two members of a room, with the reference server's exact messages.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json_fwd.hpp>

#include "signaling/room_registry.hpp"

namespace turnpike {

class Metrics;

// Where Signaling delivers the messages meant for one client (a WebSocket session).
class SignalingClient {
 public:
  virtual ~SignalingClient() = default;
  virtual void deliver(std::string_view json_text) = 0;
};

struct SignalingSettings {
  bool require_known_room = true;
  std::size_t max_id_bytes = 128;
};

// What Signaling needs from the pairing side.
struct RoomDirectory {
  std::function<bool(const std::string& room)> exists;  // a pairing-API room
  std::function<void(const std::string& room)> touch;   // note activity
};

class Signaling {
 public:
  Signaling(RoomDirectory directory, Metrics& metrics);

  void set_settings(const SignalingSettings& settings) { settings_ = settings; }

  // A new socket: assigns the clientId and sends `connected`.
  void connect(ClientId id, SignalingClient& client);
  // The socket is gone: leaves its room and tells the peer `peer_disconnected`.
  void disconnect(ClientId id);
  // One complete text or binary message from the client.
  void handle_message(ClientId id, std::string_view text);

  // A pairing-API room ended: members get room_closed and are out of the room.
  void close_room(const std::string& room, std::string_view reason);

  const RoomRegistry& rooms() const { return registry_; }
  std::size_t client_count() const { return clients_.size(); }
  const std::string* client_uuid(ClientId id) const;

 private:
  struct ClientState {
    SignalingClient* sink;
    std::string uuid;
  };

  void send(ClientId to, std::string_view text);
  void send_error(ClientId to, std::string_view error);
  void join_room(ClientId id, const nlohmann::ordered_json& message);
  void leave_room(ClientId id);
  void relay(ClientId id, std::string_view type, const nlohmann::ordered_json& message);
  void announce_ready(const std::string& room, const std::vector<ClientId>& only);

  RoomDirectory directory_;
  Metrics& metrics_;
  SignalingSettings settings_;
  RoomRegistry registry_;
  std::unordered_map<ClientId, ClientState> clients_;
};

}  // namespace turnpike
