// The signaling core: parses client messages, applies the room rules, and relays offers, answers and
// candidates between the two members of a room, with the reference server's exact messages. It talks to
// members only through Peer, so any transport can carry them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/json_scan.hpp"
#include "signaling/room_registry.hpp"

namespace turnpike {

class Clock;
class Metrics;

struct SignalingSettings {
  bool require_known_room = true;
  std::size_t max_id_bytes = 128;
  // A peer not heard from for this long is dropped (expire_if_silent).
  double silence_timeout_seconds = 60;
};

struct RoomMembers {
  std::string client1, client2;
};

// A device's TURN credentials for a room, as sent in room_joined and ice_servers.
struct DeviceIceServers {
  std::string ice_servers_json;
  std::int64_t expires_ms = 0;
};

// What Signaling needs from the pairing and TURN side.
struct RoomDirectory {
  std::function<std::optional<RoomMembers>(const std::string& room)> find;  // a pairing-API room
  std::function<void(const std::string& room)> touch;                       // note activity
  // The device's credentials for the room (slot 1 = client1, 2 = client2); nullopt when TURN is off.
  std::function<std::optional<DeviceIceServers>(const std::string& room, int slot)> ice_servers;
  // True when credentials expiring at expires_ms should be replaced now.
  std::function<bool(std::int64_t expires_ms)> renewal_due;
  // Runs `then` once the writes made so far (credentials just issued) are durable, with false if their
  // commit failed; at once when nothing waits. Empty: writes are durable when made.
  std::function<void(std::function<void(bool durable)> then)> when_durable;
};

class Signaling {
 public:
  Signaling(RoomDirectory directory, Metrics& metrics, const Clock& clock);

  void set_settings(const SignalingSettings& settings) { settings_ = settings; }

  // A new peer: assigns its clientId and sends `connected`. The peer must outlive its membership (until
  // disconnect, or until the core closes it).
  void connect(Peer& peer);
  // The peer is gone: leaves its room and tells the other member `peer_disconnected`.
  void disconnect(PeerId id);
  // One complete text or binary message from the peer (it also counts as hearing from it).
  void handle_message(PeerId id, std::string_view text);

  // The transport heard from the peer (any frame, a pong included).
  void heard_from(PeerId id);
  // When the peer was last heard from (monotonic seconds); nullopt for an unknown peer.
  std::optional<double> last_heard(PeerId id) const;
  // Drops a peer that has been silent for silence_timeout_seconds: its room is told peer_disconnected and
  // the peer is closed with 1001. True if it was dropped.
  bool expire_if_silent(PeerId id);

  // A pairing-API room ended: members get room_closed and are out of the room.
  void close_room(const std::string& room, std::string_view reason);
  // Device-bound sockets whose TURN credentials are due for renewal get `ice_servers` with fresh ones.
  void renew_ice_servers();

  const RoomRegistry& rooms() const { return registry_; }

 private:
  struct ClientState {
    Peer* peer;
    std::string uuid;
    double last_heard = 0;
    // Set when the socket joined a pairing-API room with its deviceId.
    std::string device;
    int slot = 0;
    std::int64_t ice_expires_ms = 0;
    // While credentials sent to this peer wait for their commit, everything for it waits too, in order.
    std::uint64_t holding = 0;  // the hold's token; 0: none
    std::vector<std::string> held;
  };

  void send(PeerId to, std::string_view text);
  // Holds what is sent to `id` until the writes made so far are durable (see RoomDirectory::when_durable).
  void hold_until_durable(PeerId id);
  void release_held(PeerId id, std::uint64_t token, bool durable);
  // Removes the peer from its room and tells who is left `peer_disconnected`.
  void vacate_seat(PeerId id);
  void send_error(PeerId to, std::string_view error);
  void join_room(PeerId id, const nlohmann::ordered_json& message);
  void leave_room(PeerId id);
  // An offer, answer or candidate whose payload is canonical JSON is relayed from its original bytes, with
  // one scan and no parse; false: it needs the full parser (any other message, or an unusual payload).
  bool try_relay_as_is(PeerId id, std::string_view text);
  void relay(PeerId id, std::string_view type, const nlohmann::ordered_json& message);
  // Sends {type, from, roomId, sdp|candidate: payload} to the other member; nullopt: the payload is invalid.
  void forward(PeerId id, std::string_view type, bool is_candidate, std::optional<std::string_view> payload);
  void announce_ready(const std::string& room, const std::vector<PeerId>& only);
  void send_room_joined(PeerId id, const std::string& room, bool initiator);
  // Checks the deviceId of a join; returns the slot (0: unbound) or an error text.
  std::variant<int, std::string_view> device_slot(const nlohmann::ordered_json& message,
                                                  const std::string& room);

  RoomDirectory directory_;
  Metrics& metrics_;
  const Clock& clock_;
  std::uint64_t next_hold_token_ = 0;
  SignalingSettings settings_;
  RoomRegistry registry_;
  std::unordered_map<PeerId, ClientState> clients_;
  // Reused across messages, so the relay path allocates nothing in the steady state.
  JsonScanner scanner_;
  std::vector<JsonMember> members_;
  std::vector<JsonMember> payload_members_;
  std::string relay_text_;
};

}  // namespace turnpike
