// The RAII event handles: a Timer stays where libevent can find it, fires on the loop, and an exception from
// its callback stops at the callback guard instead of unwinding through libevent.
#include <gtest/gtest.h>

#include <stdexcept>
#include <type_traits>

#include "net/event_handles.hpp"

namespace turnpike {
namespace {

static_assert(!std::is_copy_constructible_v<Timer> && !std::is_copy_assignable_v<Timer>);
static_assert(!std::is_move_constructible_v<Timer> && !std::is_move_assignable_v<Timer>);

struct Counter {
  int fired = 0;
  bool throw_on_fire = false;
};

void count(void* owner) {
  auto* counter = static_cast<Counter*>(owner);
  ++counter->fired;
  if (counter->throw_on_fire) throw std::runtime_error("callback failed");
}

TEST(Timer, FiresOnTheLoop) {
  EventBasePtr base(event_base_new());
  Counter counter;
  Timer timer(base.get(), &count, &counter);
  timer.start(0.001);
  EXPECT_TRUE(timer.pending());
  event_base_dispatch(base.get());
  EXPECT_EQ(counter.fired, 1);
  EXPECT_FALSE(timer.pending());
}

TEST(Timer, AThrowingCallbackDoesNotStopTheLoop) {
  EventBasePtr base(event_base_new());
  Counter failing{0, true};
  Counter healthy;
  Timer first(base.get(), &count, &failing);
  Timer second(base.get(), &count, &healthy);
  first.start(0.001);
  second.start(0.002);
  event_base_dispatch(base.get());  // would terminate the test binary if the exception escaped
  EXPECT_EQ(failing.fired, 1);
  EXPECT_EQ(healthy.fired, 1);
}

}  // namespace
}  // namespace turnpike
