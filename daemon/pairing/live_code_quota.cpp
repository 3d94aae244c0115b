// LiveCodeQuota: the join codes each client address created that are still live, to cap them per address.
#include "pairing/live_code_quota.hpp"

#include <iterator>

namespace turnpike {

void LiveCodeQuota::drop_expired(Expiries& expiries, std::int64_t now_ms) {
  while (!expiries.empty() && expiries.top() <= now_ms) expiries.pop();  // live iff exp_ms > now_ms
}

bool LiveCodeQuota::full(const IpAddress& address, std::int64_t now_ms, std::int64_t cap) {
  if (cap <= 0) return false;
  auto it = live_.find(address);
  if (it == live_.end()) return false;
  drop_expired(it->second, now_ms);
  return static_cast<std::int64_t>(it->second.size()) >= cap;
}

void LiveCodeQuota::add(const IpAddress& address, std::int64_t exp_ms) {
  live_[address].push(exp_ms);
}

void LiveCodeQuota::prune(std::int64_t now_ms) {
  for (auto it = live_.begin(); it != live_.end();) {
    drop_expired(it->second, now_ms);
    it = it->second.empty() ? live_.erase(it) : std::next(it);
  }
}

}  // namespace turnpike
