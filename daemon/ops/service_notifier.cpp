// systemd notifications through libsystemd's sd_notify.
#include "ops/service_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace turnpike {

ServiceNotifier::ServiceNotifier(event_base* base) : watchdog_(base, &ServiceNotifier::on_watchdog, this) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0 && usec > 0) {
    // Pet twice per period, as sd_watchdog_enabled(3) recommends.
    watchdog_interval_seconds_ = static_cast<double>(usec) / 2e6;
    watchdog_.start(watchdog_interval_seconds_);
  }
}

void ServiceNotifier::notify(const char* state) {
  (void)sd_notify(/*unset_environment=*/0, state);
}

void ServiceNotifier::ready(std::string_view status) {
  std::string state = "READY=1\nSTATUS=" + std::string(status);
  notify(state.c_str());
}

void ServiceNotifier::reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  auto usec =
      static_cast<std::uint64_t>(now.tv_sec) * 1000000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
  std::string state = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
  notify(state.c_str());
}

void ServiceNotifier::stopping() {
  notify("STOPPING=1");
}

void ServiceNotifier::on_watchdog(void* self) {
  auto* notifier = static_cast<ServiceNotifier*>(self);
  notifier->notify("WATCHDOG=1");
  notifier->watchdog_.start(notifier->watchdog_interval_seconds_);
}

}  // namespace turnpike
