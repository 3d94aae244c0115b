// JoinBudget: the per-address and global budgets that bound how fast join codes can be guessed.
#pragma once

#include <optional>
#include <string_view>

#include "core/address.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"

namespace turnpike {

// One budget per client address (limits.failed_join_per_minute) is spent by every create and every failed
// accept/check, so an address that probes for live codes through create is refused on accept too. A global
// budget (limits.failed_join_global_per_minute) is spent by failed accepts/checks only, never by creates, so
// no address can keep the others from creating codes. Both are token buckets whose burst is one minute's
// worth.
class JoinBudget {
 public:
  struct Refusal {
    std::string_view scope;  // "address" or "global"
    double retry_after_seconds = 0;
  };

  // A create: takes one token of the address's budget, or says why it may not go ahead.
  std::optional<Refusal> spend_create(const Config& config, const IpAddress& address, double now);
  // Before an accept/check: may it go ahead (nothing is spent; a failure is counted by count_failed_join)?
  std::optional<Refusal> join_blocked(const Config& config, const IpAddress& address, double now);
  // An accept/check that named no live code: spends the address's budget and the global one.
  void count_failed_join(const Config& config, const IpAddress& address, double now);
  // Forgets addresses whose budget has refilled completely.
  void prune(const Config& config, double now);
  std::size_t tracked_addresses() const { return per_address_.size(); }

 private:
  AddressRateLimiter per_address_;
  TokenBucket global_;
};

}  // namespace turnpike
