// Wall-clock time in Unix milliseconds and its ISO-8601 UTC form, monotonic time, and a Clock that tests
// can replace.
#pragma once

#include <cstdint>
#include <string>

namespace turnpike {

std::int64_t wall_clock_ms();
double monotonic_seconds();
// 2026-11-22T04:16:25.123Z
std::string format_iso8601_ms(std::int64_t unix_ms);

// The time as the parts that take one see it: the system's clocks, or a test's.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double monotonic_seconds() const = 0;
  virtual std::int64_t wall_clock_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  double monotonic_seconds() const override { return turnpike::monotonic_seconds(); }
  std::int64_t wall_clock_ms() const override { return turnpike::wall_clock_ms(); }
};

}  // namespace turnpike
