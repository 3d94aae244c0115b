// OutboundMemory: bytes queued for clients that have not read them yet, per client address and in total.
#pragma once

#include <cstddef>
#include <unordered_map>

#include "core/address.hpp"

namespace turnpike {

// A socket's own queue is capped by limits.max_outbound_bytes; this caps what all sockets of one address
// (limit_key) and all sockets together may hold, so that many slow readers cannot pin the host's memory.
// Sockets are attached to their address's entry; a socket from a trusted proxy, which carries many clients,
// is counted in the total only (entry null). Bytes are added when queued and released when the socket's
// queue has drained or is dropped. One thread owns it.
class OutboundMemory {
 public:
  struct Limits {
    std::size_t per_address = 0;  // 0: no limit
    std::size_t total = 0;        // 0: no limit
  };
  struct Entry {
    IpAddress key;
    std::size_t bytes = 0;
    std::size_t sockets = 0;
  };

  void set_limits(Limits limits) { limits_ = limits; }
  Entry* attach(const IpAddress& key);
  void detach(Entry* entry);  // entry may be null
  // Whether `more` bytes may be queued for a socket of `entry` (null: only the total is checked).
  bool admits(const Entry* entry, std::size_t more) const;
  void add(Entry* entry, std::size_t bytes);
  void release(Entry* entry, std::size_t bytes);
  std::size_t total() const { return total_; }
  std::size_t addresses() const { return entries_.size(); }

 private:
  Limits limits_;
  std::unordered_map<IpAddress, Entry, IpAddressHash> entries_;  // node-based: Entry pointers stay valid
  std::size_t total_ = 0;
};

}  // namespace turnpike
