// Token bucket arithmetic with explicit time.
#include <gtest/gtest.h>

#include "core/rate_limiter.hpp"

namespace turnpike {
namespace {

TEST(TokenBucket, BurstThenRefill) {
  TokenBucket bucket;
  RateSettings rate{10, 3};
  EXPECT_TRUE(bucket.try_take(rate, 0));
  EXPECT_TRUE(bucket.try_take(rate, 0));
  EXPECT_TRUE(bucket.try_take(rate, 0));
  EXPECT_FALSE(bucket.try_take(rate, 0));
  EXPECT_NEAR(bucket.seconds_until_token(rate, 0), 0.1, 1e-9);
  EXPECT_FALSE(bucket.try_take(rate, 0.05));
  EXPECT_TRUE(bucket.try_take(rate, 0.1));
  EXPECT_FALSE(bucket.is_full(rate, 0.1));
  EXPECT_TRUE(bucket.is_full(rate, 10));
}

TEST(TokenBucket, ZeroRateIsOff) {
  TokenBucket bucket;
  RateSettings off{0, 0};
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(bucket.try_take(off, 0));
}

TEST(AddressRateLimiter, SeparateBucketsAndPrune) {
  AddressRateLimiter limiter;
  RateSettings rate{1, 1};
  auto a = *IpAddress::parse("10.0.0.1");
  auto b = *IpAddress::parse("::1");
  EXPECT_TRUE(limiter.try_take(a, rate, 0));
  EXPECT_FALSE(limiter.try_take(a, rate, 0));
  EXPECT_FALSE(limiter.has_token(a, rate, 0.5));
  EXPECT_TRUE(limiter.try_take(b, rate, 0));
  EXPECT_EQ(limiter.size(), 2u);
  limiter.prune(rate, 100);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(LimitKey, IPv6CountsPerNetworkAndIPv4PerAddress) {
  struct Case {
    const char* address;
    int prefix;
    const char* key;
  };
  const Case cases[] = {
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::"},
      {"2001:db8:1:2::1", 64, "2001:db8:1:2::"},
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 48, "2001:db8:1::"},
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 60, "2001:db8:1::"},
      {"2001:db8:1:1f:aaaa::", 60, "2001:db8:1:10::"},
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 128, "2001:db8:1:2:aaaa:bbbb:cccc:dddd"},
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 127, "2001:db8:1:2:aaaa:bbbb:cccc:dddc"},
      {"::1", 64, "::"},
      {"192.0.2.7", 64, "192.0.2.7"},  // IPv4 (stored as ::ffff:192.0.2.7) is never aggregated
      {"192.0.2.7", 16, "192.0.2.7"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.address) + "/" + std::to_string(c.prefix));
    EXPECT_EQ(limit_key(*IpAddress::parse(c.address), c.prefix).to_string(), c.key);
  }
  EXPECT_EQ(limit_key(*IpAddress::parse("2001:db8::1"), 64), limit_key(*IpAddress::parse("2001:db8::2"), 64));
  EXPECT_NE(limit_key(*IpAddress::parse("2001:db8::1"), 64),
            limit_key(*IpAddress::parse("2001:db8:0:1::1"), 64));
}

TEST(CidrRange, Matching) {
  auto loop = *CidrRange::parse("127.0.0.0/8");
  EXPECT_TRUE(loop.contains(*IpAddress::parse("127.1.2.3")));
  EXPECT_FALSE(loop.contains(*IpAddress::parse("128.0.0.1")));
  EXPECT_FALSE(loop.contains(*IpAddress::parse("::1")));
  auto v6 = *CidrRange::parse("::1");
  EXPECT_TRUE(v6.contains(*IpAddress::parse("::1")));
  auto host = *CidrRange::parse("10.0.0.1");
  EXPECT_TRUE(host.contains(*IpAddress::parse("10.0.0.1")));
  EXPECT_FALSE(host.contains(*IpAddress::parse("10.0.0.2")));
  EXPECT_TRUE(CidrRange::parse("fd00::/8").ok());
  EXPECT_FALSE(CidrRange::parse("10.0.0.0/40").ok());
  EXPECT_FALSE(CidrRange::parse("nonsense").ok());
}

}  // namespace
}  // namespace turnpike
