// RAII owners for libevent handles.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <memory>

#include "core/callback_guard.hpp"

namespace turnpike {

struct EventBaseDeleter {
  void operator()(event_base* p) const { event_base_free(p); }
};
struct EventDeleter {
  void operator()(event* p) const { event_free(p); }
};
struct BufferEventDeleter {
  void operator()(bufferevent* p) const { bufferevent_free(p); }
};
struct ListenerDeleter {
  void operator()(evconnlistener* p) const { evconnlistener_free(p); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventDeleter>;
using ListenerPtr = std::unique_ptr<evconnlistener, ListenerDeleter>;

inline timeval to_timeval(double seconds) {
  if (seconds < 0) seconds = 0;
  timeval tv;
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  return tv;
}

// A one-shot or repeating timer that calls a member-less callback; owns its event.
class Timer {
 public:
  using Callback = void (*)(void* owner);
  Timer(event_base* base, Callback callback, void* owner)
      : event_(evtimer_new(base, &Timer::fire, this)), callback_(callback), owner_(owner) {}
  // libevent holds `this` as the event's argument, so a Timer stays where it was built.
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  Timer(Timer&&) = delete;
  Timer& operator=(Timer&&) = delete;
  void start(double seconds) {
    timeval tv = to_timeval(seconds);
    evtimer_add(event_.get(), &tv);
  }
  void stop() { evtimer_del(event_.get()); }
  bool pending() const { return evtimer_pending(event_.get(), nullptr) != 0; }

 private:
  static void fire(evutil_socket_t, short, void* self) {
    auto* timer = static_cast<Timer*>(self);
    guarded("timer", [timer] { timer->callback_(timer->owner_); });
  }
  EventPtr event_;
  Callback callback_;
  void* owner_;
};

}  // namespace turnpike
