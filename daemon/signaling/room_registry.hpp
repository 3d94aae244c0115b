// In-memory signaling rooms: which client sits in which room, in join order, two seats per room.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "signaling/peer.hpp"

namespace turnpike {

class RoomRegistry {
 public:
  static constexpr std::size_t kSeats = 2;

  // The room a client is in, or nullptr.
  const std::string* room_of(PeerId client) const;
  // Members in join order (the first is the initiator in room_ready); empty if the room does not exist.
  const std::vector<PeerId>& members(const std::string& room) const;
  bool is_full(const std::string& room) const { return members(room).size() >= kSeats; }

  // Adds a client that is in no room. Returns its index in the room (0 = first).
  std::size_t add(const std::string& room, PeerId client);
  // Removes a client from its room. Returns the room it left and who is still there, or nullopt.
  struct Departure {
    std::string room;
    std::vector<PeerId> remaining;
  };
  std::optional<Departure> remove(PeerId client);
  // Empties a room; returns its former members in join order.
  std::vector<PeerId> close(const std::string& room);

  std::size_t room_count() const { return rooms_.size(); }
  // Rooms in creation order with their member count.
  std::vector<std::pair<std::string, std::size_t>> list() const;
  std::vector<std::string> room_ids() const;

 private:
  struct Room {
    std::uint64_t created_seq = 0;
    std::vector<PeerId> members;
  };
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<PeerId, std::string> room_of_client_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace turnpike
