// Wall-clock time in Unix milliseconds and its ISO-8601 UTC form, as the API reports expiry times.
#pragma once

#include <cstdint>
#include <string>

namespace turnpike {

std::int64_t wall_clock_ms();
double monotonic_seconds();
// 2026-11-22T04:16:25.123Z
std::string format_iso8601_ms(std::int64_t unix_ms);

}  // namespace turnpike
