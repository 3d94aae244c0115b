// Connection attempts per user in fixed windows, exactly as seed 002's RateLimiter counts them: the first
// accepted attempt opens a one-second window, at most `limit` attempts are accepted in it, refused attempts
// are not counted, and the next attempt after the window opens a new one.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>

namespace turnpike {

class ConnectAttemptLimiter {
 public:
  // True when `user` may connect at `now` (monotonic seconds); `limit` <= 0: always.
  bool try_attempt(const std::string& user, double now, double limit, double window_seconds = 1.0);
  // Forgets windows that ended before `now`.
  void prune(double now);
  std::size_t size() const { return windows_.size(); }

 private:
  struct Window {
    double ends = 0;
    double count = 0;
  };
  std::unordered_map<std::string, Window> windows_;
  std::size_t prune_at_ = 1024;  // the table size at which expired windows are dropped next
};

}  // namespace turnpike
