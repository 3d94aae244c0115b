// LiveCodeQuota: the join codes each client address created that are still live, to cap them per address.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

#include "core/address.hpp"

namespace turnpike {

// Kept in memory beside the rate limits: a code counts from its create until its expiry, also when it was
// used up or purged before (so the count errs towards refusing), and codes created before a restart do not
// count. It holds at most one entry per live code, so at most limits.max_pending_codes entries.
class LiveCodeQuota {
 public:
  // True when `address` created at least `cap` codes that are live at now_ms (cap <= 0: never).
  bool full(const IpAddress& address, std::int64_t now_ms, std::int64_t cap);
  // `address` created a code that is live until exp_ms.
  void add(const IpAddress& address, std::int64_t exp_ms);
  // Forgets expired codes, and addresses left without live codes.
  void prune(std::int64_t now_ms);
  std::size_t addresses() const { return live_.size(); }

 private:
  using Expiries = std::priority_queue<std::int64_t, std::vector<std::int64_t>, std::greater<>>;
  static void drop_expired(Expiries& expiries, std::int64_t now_ms);

  std::unordered_map<IpAddress, Expiries, IpAddressHash> live_;
};

}  // namespace turnpike
