// Tells systemd (Type=notify) about start-up, reloads and shutdown, and pets the watchdog; does nothing when
// the daemon was not started by systemd.
#pragma once

#include <cstdint>
#include <string_view>

#include "net/event_handles.hpp"

namespace turnpike {

class ServiceNotifier {
 public:
  explicit ServiceNotifier(event_base* base);

  void ready(std::string_view status);
  void reloading();
  void stopping();

 private:
  static void on_watchdog(void* self);
  void notify(const char* state);

  Timer watchdog_;
  double watchdog_interval_seconds_ = 0;
};

}  // namespace turnpike
