// Token buckets: one for a single connection, and a table of buckets keyed by client address.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "core/address.hpp"

namespace turnpike {

struct RateSettings {
  double per_second = 0;  // 0 = unlimited
  double burst = 0;
  bool enabled() const { return per_second > 0; }
};

class TokenBucket {
 public:
  // Takes one token if there is one. Always true when the rate is off.
  bool try_take(const RateSettings& rate, double now);
  // True if a token is available (without taking it).
  bool has_token(const RateSettings& rate, double now);
  // Seconds until a token is available.
  double seconds_until_token(const RateSettings& rate, double now);
  bool is_full(const RateSettings& rate, double now);

 private:
  void refill(const RateSettings& rate, double now);
  double tokens_ = -1;  // -1: not started (starts full)
  double updated_ = 0;
};

class AddressRateLimiter {
 public:
  bool try_take(const IpAddress& address, const RateSettings& rate, double now);
  bool has_token(const IpAddress& address, const RateSettings& rate, double now);
  double seconds_until_token(const IpAddress& address, const RateSettings& rate, double now);
  // Drops buckets that have refilled completely, so the table only holds active addresses.
  void prune(const RateSettings& rate, double now);
  std::size_t size() const { return buckets_.size(); }

 private:
  std::unordered_map<IpAddress, TokenBucket, IpAddressHash> buckets_;
};

}  // namespace turnpike
