// Tests for the session dialect's bookkeeping: sessions in join order, the member bound, leaving, and the
// per-user connect windows counted as seed 002 counts them.
#include <gtest/gtest.h>

#include "sessions/connect_attempt_limiter.hpp"
#include "sessions/session_registry.hpp"

namespace turnpike {
namespace {

std::vector<std::string> socket_ids(const SessionRegistry& registry, const std::string& session) {
  std::vector<std::string> ids;
  for (const auto& member : registry.members(session)) ids.push_back(member.socket_id);
  return ids;
}

TEST(SessionRegistry, MembersInJoinOrderUpToTheBound) {
  SessionRegistry registry;
  EXPECT_TRUE(registry.join("s1", {"a", "alice"}, 3));
  EXPECT_TRUE(registry.join("s1", {"b", "bob"}, 3));
  EXPECT_TRUE(registry.join("s2", {"c", "carol"}, 3));
  EXPECT_TRUE(registry.join("s1", {"d", "alice"}, 3));   // the same user twice, as the seed allows
  EXPECT_FALSE(registry.join("s1", {"e", "eve"}, 3));    // full
  EXPECT_FALSE(registry.join("s2", {"a", "alice"}, 3));  // already in a session
  EXPECT_EQ(socket_ids(registry, "s1"), (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ(registry.members("s1")[2].user_id, "alice");
  EXPECT_EQ(*registry.session_of("c"), "s2");
  EXPECT_EQ(registry.session_of("e"), nullptr);
  EXPECT_EQ(registry.member_count(), 4u);
  EXPECT_EQ(registry.session_count(), 2u);
}

TEST(SessionRegistry, LeavingKeepsTheOrderAndForgetsEmptySessions) {
  SessionRegistry registry;
  ASSERT_TRUE(registry.join("s1", {"a", "alice"}, 8));
  ASSERT_TRUE(registry.join("s1", {"b", "bob"}, 8));
  ASSERT_TRUE(registry.join("s1", {"c", "carol"}, 8));
  EXPECT_EQ(registry.leave("b"), "s1");
  EXPECT_EQ(socket_ids(registry, "s1"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(registry.leave("b"), std::nullopt);
  EXPECT_EQ(registry.leave("a"), "s1");
  EXPECT_EQ(registry.leave("c"), "s1");
  EXPECT_EQ(registry.session_count(), 0u);
  EXPECT_TRUE(registry.members("s1").empty());
  EXPECT_TRUE(registry.join("s1", {"b", "bob"}, 1));  // a fresh session
}

TEST(SessionRegistry, AFullSessionThatDoesNotExistIsNotCreated) {
  SessionRegistry registry;
  EXPECT_FALSE(registry.join("s1", {"a", "alice"}, 0));
  EXPECT_EQ(registry.session_count(), 0u);
}

TEST(ConnectAttemptLimiter, TenPerFixedWindowRefusedAttemptsDoNotCount) {
  ConnectAttemptLimiter limiter;
  int accepted = 0;
  for (int i = 0; i < 12; ++i) accepted += limiter.try_attempt("u", 100.0 + i * 0.01, 10) ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  EXPECT_TRUE(limiter.try_attempt("other", 100.5, 10));  // per user
  EXPECT_FALSE(limiter.try_attempt("u", 100.99, 10));    // the window opened at 100.0 lasts one second
  EXPECT_TRUE(limiter.try_attempt("u", 101.0, 10));      // a new window
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(limiter.try_attempt("u", 101.5, 10));
  EXPECT_FALSE(limiter.try_attempt("u", 101.5, 10));
}

TEST(ConnectAttemptLimiter, ZeroIsOffAndPruneForgetsEndedWindows) {
  ConnectAttemptLimiter limiter;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.try_attempt("u", 1.0, 0));
  EXPECT_EQ(limiter.size(), 0u);
  EXPECT_TRUE(limiter.try_attempt("a", 1.0, 3));
  EXPECT_TRUE(limiter.try_attempt("b", 1.5, 3));
  limiter.prune(2.2);
  EXPECT_EQ(limiter.size(), 1u);
  limiter.prune(2.5);
  EXPECT_EQ(limiter.size(), 0u);
}

}  // namespace
}  // namespace turnpike
