// WalSyncer: makes commits durable off the event loop: a thread flushes the WAL file to disk and wakes the
// loop.
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.hpp"
#include "net/event_handles.hpp"

namespace turnpike {

// The writer connection commits with PRAGMA synchronous = NORMAL (its frames reach the WAL file but not the
// disk), numbers its commits, and calls request(n) after commit n. The thread runs fdatasync on the WAL file,
// which covers every frame written before it started, and then `durable(n)` runs on the event loop (commits
// are appended in order, so one flush covers all of them). A failed flush ends the process: the kernel may
// already have dropped the pages it could not write, so only a restart reads what is really on disk.
class WalSyncer {
 public:
  using Durable = std::function<void(std::uint64_t through)>;

  // `wal_path` must exist (SQLite creates it when the connection first reads in WAL mode).
  static Result<std::unique_ptr<WalSyncer>> start(event_base* base, const std::string& wal_path);
  ~WalSyncer();  // lets a running flush finish and joins; flush_now() first to make the last commits durable
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Called on the loop with the highest commit made durable so far.
  void on_durable(Durable durable) { durable_ = std::move(durable); }
  // Asks for a flush that covers commit `sequence` (increasing); returns at once.
  void request(std::uint64_t sequence);
  // Flushes on the calling thread (shutdown); ends the process like the thread when that fails.
  void flush_now() const;

 private:
  WalSyncer(event_base* base, int wal_fd, int wake_fd);
  void run();
  static void on_wake(evutil_socket_t fd, short, void* self);

  int wal_fd_;
  int wake_fd_;  // an eventfd: the thread writes to it after each flush, the loop reads it
  EventPtr wake_event_;
  Durable durable_;
  std::mutex mutex_;
  std::condition_variable wake_thread_;
  std::uint64_t requested_ = 0;
  std::uint64_t flushed_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started when everything above exists
};

}  // namespace turnpike
