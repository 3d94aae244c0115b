// The guard every libevent callback runs through: an exception stops at it and is reported.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/callback_guard.hpp"

namespace turnpike {
namespace {

TEST(CallbackGuard, RunsTheBody) {
  int runs = 0;
  EXPECT_TRUE(guarded("test", [&] { ++runs; }));
  EXPECT_EQ(runs, 1);
}

TEST(CallbackGuard, StopsExceptionsOfAnyType) {
  EXPECT_FALSE(guarded("test", [] { throw std::runtime_error("boom"); }));
  EXPECT_FALSE(guarded("test", [] { throw 42; }));
}

}  // namespace
}  // namespace turnpike
