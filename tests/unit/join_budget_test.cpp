// The join-code budgets: creates and failed joins share one budget per address; failed joins alone spend the
// global one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pairing/join_budget.hpp"

namespace turnpike {
namespace {

enum class Op { create, join, fail };

struct Step {
  Op op;
  const char* address;
  double now;
  const char* expect;  // "ok", "address" or "global": the verdict of create / join (fail expects "ok")
};

struct Case {
  const char* name;
  double per_address;  // limits.failed_join_per_minute
  double global;       // limits.failed_join_global_per_minute
  std::vector<Step> steps;
};

std::string verdict(const std::optional<JoinBudget::Refusal>& refusal) {
  return refusal ? std::string(refusal->scope) : "ok";
}

TEST(JoinBudget, Table) {
  const std::vector<Case> cases = {
      {"creates spend the address budget",
       3,
       100,
       {{Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "address"}}},
      {"an address that probed through create is refused on accept",
       3,
       100,
       {{Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::join, "10.0.0.1", 0, "address"},
        {Op::join, "10.0.0.2", 0, "ok"}}},
      {"failed joins and creates share one budget",
       3,
       100,
       {{Op::fail, "10.0.0.1", 0, "ok"},
        {Op::fail, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "address"},
        {Op::join, "10.0.0.1", 0, "address"}}},
      {"the budget refills at its rate per minute",
       3,
       100,
       {{Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 19, "address"},
        {Op::create, "10.0.0.1", 21, "ok"},
        {Op::create, "10.0.0.1", 21, "address"}}},
      {"the global budget counts failed joins from all addresses",
       100,
       3,
       {{Op::fail, "10.0.0.1", 0, "ok"},
        {Op::fail, "10.0.0.2", 0, "ok"},
        {Op::fail, "10.0.0.3", 0, "ok"},
        {Op::join, "10.0.0.4", 0, "global"},
        {Op::join, "10.0.0.4", 21, "ok"}}},
      {"creates never spend the global budget",
       100,
       2,
       {{Op::create, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.2", 0, "ok"},
        {Op::create, "10.0.0.3", 0, "ok"},
        {Op::join, "10.0.0.4", 0, "ok"},
        {Op::fail, "10.0.0.4", 0, "ok"},
        {Op::fail, "10.0.0.4", 0, "ok"},
        {Op::join, "10.0.0.5", 0, "global"},
        {Op::create, "10.0.0.5", 0, "ok"}}},
      {"the address budget is checked before the global one",
       1,
       1,
       {{Op::fail, "10.0.0.1", 0, "ok"},
        {Op::join, "10.0.0.1", 0, "address"},
        {Op::join, "10.0.0.2", 0, "global"}}},
      {"zero turns a budget off",
       0,
       0,
       {{Op::fail, "10.0.0.1", 0, "ok"},
        {Op::fail, "10.0.0.1", 0, "ok"},
        {Op::create, "10.0.0.1", 0, "ok"},
        {Op::join, "10.0.0.1", 0, "ok"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Config config;
    config.limits.failed_join_per_minute = c.per_address;
    config.limits.failed_join_global_per_minute = c.global;
    JoinBudget budget;
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      const auto& step = c.steps[i];
      SCOPED_TRACE("step " + std::to_string(i));
      auto address = *IpAddress::parse(step.address);
      std::string got = "ok";
      switch (step.op) {
        case Op::create:
          got = verdict(budget.spend_create(config, address, step.now));
          break;
        case Op::join:
          got = verdict(budget.join_blocked(config, address, step.now));
          break;
        case Op::fail:
          budget.count_failed_join(config, address, step.now);
          break;
      }
      EXPECT_EQ(got, step.expect);
    }
  }
}

TEST(JoinBudget, RefusalSaysWhenToRetry) {
  Config config;
  config.limits.failed_join_per_minute = 6;  // one token every 10 s
  JoinBudget budget;
  auto address = *IpAddress::parse("192.0.2.7");
  for (int i = 0; i < 6; ++i) ASSERT_FALSE(budget.spend_create(config, address, 0));
  auto refusal = budget.spend_create(config, address, 4);
  ASSERT_TRUE(refusal);
  EXPECT_NEAR(refusal->retry_after_seconds, 6, 1e-9);
}

TEST(JoinBudget, PruneForgetsRefilledAddresses) {
  Config config;
  config.limits.failed_join_per_minute = 60;
  JoinBudget budget;
  budget.count_failed_join(config, *IpAddress::parse("10.0.0.1"), 0);
  (void)budget.spend_create(config, *IpAddress::parse("10.0.0.2"), 0);
  EXPECT_EQ(budget.tracked_addresses(), 2u);
  budget.prune(config, 0.5);
  EXPECT_EQ(budget.tracked_addresses(), 2u);
  budget.prune(config, 2);
  EXPECT_EQ(budget.tracked_addresses(), 0u);
}

}  // namespace
}  // namespace turnpike
