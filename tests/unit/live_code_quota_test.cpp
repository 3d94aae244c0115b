// Live join codes per creating address: counted until they expire, capped, pruned.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pairing/live_code_quota.hpp"

namespace turnpike {
namespace {

struct Step {
  const char* address;
  std::int64_t now_ms;
  std::int64_t exp_ms;  // 0: only ask whether the address is full
  bool full;            // the expected answer before the code is added
};

TEST(LiveCodeQuota, Table) {
  constexpr std::int64_t kCap = 2;
  const std::vector<Step> steps = {
      {"10.0.0.1", 1000, 5000, false},
      {"10.0.0.1", 1000, 9000, false},
      {"10.0.0.1", 1000, 0, true},      // two live codes: full
      {"10.0.0.2", 1000, 9000, false},  // another address has its own count
      {"10.0.0.1", 4999, 0, true},
      {"10.0.0.1", 5000, 9000, false},  // the first code expired at 5000 (live iff exp > now)
      {"10.0.0.1", 5000, 0, true},
      {"10.0.0.1", 9000, 0, false},  // all expired
  };
  LiveCodeQuota quota;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    auto address = *IpAddress::parse(step.address);
    EXPECT_EQ(quota.full(address, step.now_ms, kCap), step.full);
    if (step.exp_ms != 0) quota.add(address, step.exp_ms);
  }
}

TEST(LiveCodeQuota, ZeroCapIsNeverFull) {
  LiveCodeQuota quota;
  auto address = *IpAddress::parse("::1");
  for (int i = 0; i < 10; ++i) quota.add(address, 9000);
  EXPECT_FALSE(quota.full(address, 1000, 0));
  EXPECT_TRUE(quota.full(address, 1000, 10));
}

TEST(LiveCodeQuota, PruneForgetsAddressesWithoutLiveCodes) {
  LiveCodeQuota quota;
  quota.add(*IpAddress::parse("10.0.0.1"), 5000);
  quota.add(*IpAddress::parse("10.0.0.2"), 9000);
  quota.prune(4000);
  EXPECT_EQ(quota.addresses(), 2u);
  quota.prune(5000);
  EXPECT_EQ(quota.addresses(), 1u);
  quota.prune(9000);
  EXPECT_EQ(quota.addresses(), 0u);
}

}  // namespace
}  // namespace turnpike
