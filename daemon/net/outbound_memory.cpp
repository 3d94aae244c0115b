// OutboundMemory: per-address and total accounting of bytes queued for clients.
#include "net/outbound_memory.hpp"

#include <algorithm>

namespace turnpike {

OutboundMemory::Entry* OutboundMemory::attach(const IpAddress& key) {
  Entry& entry = entries_.try_emplace(key, Entry{key}).first->second;
  ++entry.sockets;
  return &entry;
}

void OutboundMemory::detach(Entry* entry) {
  if (entry == nullptr || --entry->sockets > 0) return;
  entries_.erase(entry->key);  // its sockets have released their bytes
}

bool OutboundMemory::admits(const Entry* entry, std::size_t more) const {
  if (limits_.total != 0 && total_ + more > limits_.total) return false;
  return entry == nullptr || limits_.per_address == 0 || entry->bytes + more <= limits_.per_address;
}

void OutboundMemory::add(Entry* entry, std::size_t bytes) {
  total_ += bytes;
  if (entry != nullptr) entry->bytes += bytes;
}

void OutboundMemory::release(Entry* entry, std::size_t bytes) {
  total_ -= std::min(total_, bytes);
  if (entry != nullptr) entry->bytes -= std::min(entry->bytes, bytes);
}

}  // namespace turnpike
