// Connection attempts per user in fixed windows.
#include "sessions/connect_attempt_limiter.hpp"

#include <algorithm>
#include <iterator>

namespace turnpike {

bool ConnectAttemptLimiter::try_attempt(const std::string& user, double now, double limit,
                                        double window_seconds) {
  if (limit <= 0) return true;
  if (windows_.size() >= prune_at_) {
    prune(now);
    prune_at_ = std::max<std::size_t>(1024, windows_.size() * 2);
  }
  Window& window = windows_[user];
  if (now >= window.ends) {
    window = {now + window_seconds, 1};
    return true;
  }
  if (window.count >= limit) return false;
  ++window.count;
  return true;
}

void ConnectAttemptLimiter::prune(double now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    it = now >= it->second.ends ? windows_.erase(it) : std::next(it);
  }
}

}  // namespace turnpike
