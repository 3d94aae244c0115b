// Token buckets for REST, WebSocket and failed-join rate limits.
#include "core/rate_limiter.hpp"

#include <algorithm>
#include <iterator>

namespace turnpike {

void TokenBucket::refill(const RateSettings& rate, double now) {
  double capacity = std::max(rate.burst, 1.0);
  if (tokens_ < 0) {
    tokens_ = capacity;
  } else {
    tokens_ = std::min(capacity, tokens_ + (now - updated_) * rate.per_second);
  }
  updated_ = now;
}

bool TokenBucket::try_take(const RateSettings& rate, double now) {
  if (!rate.enabled()) return true;
  refill(rate, now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::has_token(const RateSettings& rate, double now) {
  if (!rate.enabled()) return true;
  refill(rate, now);
  return tokens_ >= 1;
}

double TokenBucket::seconds_until_token(const RateSettings& rate, double now) {
  if (!rate.enabled()) return 0;
  refill(rate, now);
  return tokens_ >= 1 ? 0 : (1 - tokens_) / rate.per_second;
}

bool TokenBucket::is_full(const RateSettings& rate, double now) {
  if (!rate.enabled()) return true;
  refill(rate, now);
  return tokens_ >= std::max(rate.burst, 1.0);
}

bool AddressRateLimiter::try_take(const IpAddress& address, const RateSettings& rate, double now) {
  return !rate.enabled() || buckets_[address].try_take(rate, now);
}

bool AddressRateLimiter::has_token(const IpAddress& address, const RateSettings& rate, double now) {
  if (!rate.enabled()) return true;
  auto it = buckets_.find(address);
  return it == buckets_.end() || it->second.has_token(rate, now);
}

double AddressRateLimiter::seconds_until_token(const IpAddress& address, const RateSettings& rate,
                                               double now) {
  auto it = buckets_.find(address);
  return it == buckets_.end() ? 0 : it->second.seconds_until_token(rate, now);
}

void AddressRateLimiter::prune(const RateSettings& rate, double now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = it->second.is_full(rate, now) ? buckets_.erase(it) : std::next(it);
  }
}

}  // namespace turnpike
