// In-memory signaling rooms.
#include "signaling/room_registry.hpp"

#include <algorithm>

namespace turnpike {

const std::string* RoomRegistry::room_of(PeerId client) const {
  auto it = room_of_client_.find(client);
  return it == room_of_client_.end() ? nullptr : &it->second;
}

const std::vector<PeerId>& RoomRegistry::members(const std::string& room) const {
  static const std::vector<PeerId> kNone;
  auto it = rooms_.find(room);
  return it == rooms_.end() ? kNone : it->second.members;
}

std::size_t RoomRegistry::add(const std::string& room, PeerId client) {
  auto [it, created] = rooms_.try_emplace(room);
  if (created) it->second.created_seq = next_seq_++;
  it->second.members.push_back(client);
  room_of_client_[client] = room;
  return it->second.members.size() - 1;
}

std::optional<RoomRegistry::Departure> RoomRegistry::remove(PeerId client) {
  auto where = room_of_client_.find(client);
  if (where == room_of_client_.end()) return std::nullopt;
  Departure departure{std::move(where->second), {}};
  room_of_client_.erase(where);
  auto room = rooms_.find(departure.room);
  if (room != rooms_.end()) {
    auto& members = room->second.members;
    members.erase(std::remove(members.begin(), members.end(), client), members.end());
    departure.remaining = members;
    if (members.empty()) rooms_.erase(room);
  }
  return departure;
}

std::vector<PeerId> RoomRegistry::close(const std::string& room) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return {};
  auto members = std::move(it->second.members);
  rooms_.erase(it);
  for (auto client : members) room_of_client_.erase(client);
  return members;
}

std::vector<std::pair<std::string, std::size_t>> RoomRegistry::list() const {
  std::vector<std::pair<std::uint64_t, const std::string*>> order;
  order.reserve(rooms_.size());
  for (const auto& [id, room] : rooms_) order.emplace_back(room.created_seq, &id);
  std::sort(order.begin(), order.end());
  std::vector<std::pair<std::string, std::size_t>> out;
  out.reserve(order.size());
  for (const auto& [seq, id] : order) out.emplace_back(*id, rooms_.at(*id).members.size());
  return out;
}

std::vector<std::string> RoomRegistry::room_ids() const {
  std::vector<std::string> out;
  out.reserve(rooms_.size());
  for (const auto& [id, room] : rooms_) out.push_back(id);
  return out;
}

}  // namespace turnpike
