// WalSyncer: fdatasync of the WAL file on a thread of its own, reported back to the event loop.
#include "db/wal_syncer.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/callback_guard.hpp"
#include "core/log.hpp"

namespace turnpike {
namespace {

void flush_or_exit(int fd) {
  if (::fdatasync(fd) == 0) return;
  log_error("wal_sync_failed").kv("reason", std::strerror(errno)).kv("action", "exit");
  std::_Exit(EXIT_FAILURE);
}

}  // namespace

Result<std::unique_ptr<WalSyncer>> WalSyncer::start(event_base* base, const std::string& wal_path) {
  const int wal_fd = ::open(wal_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (wal_fd < 0) return make_error("cannot open " + wal_path + ": " + std::strerror(errno));
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int saved = errno;
    ::close(wal_fd);
    return make_error(std::string("eventfd: ") + std::strerror(saved));
  }
  return std::unique_ptr<WalSyncer>(new WalSyncer(base, wal_fd, wake_fd));
}

WalSyncer::WalSyncer(event_base* base, int wal_fd, int wake_fd)
    : wal_fd_(wal_fd),
      wake_fd_(wake_fd),
      wake_event_(event_new(base, wake_fd, EV_READ | EV_PERSIST, &WalSyncer::on_wake, this)),
      thread_([this] { run(); }) {
  event_add(wake_event_.get(), nullptr);
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_thread_.notify_one();
  thread_.join();
  wake_event_.reset();
  ::close(wake_fd_);
  ::close(wal_fd_);
}

void WalSyncer::request(std::uint64_t sequence) {
  {
    std::lock_guard lock(mutex_);
    if (sequence <= requested_) return;
    requested_ = sequence;
  }
  wake_thread_.notify_one();
}

void WalSyncer::flush_now() const {
  flush_or_exit(wal_fd_);
}

void WalSyncer::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_thread_.wait(lock, [this] { return requested_ > flushed_ || stopping_; });
    if (stopping_) return;
    const std::uint64_t target = requested_;
    lock.unlock();
    flush_or_exit(wal_fd_);
    lock.lock();
    flushed_ = target;
    const std::uint64_t one = 1;
    // Cannot fail short of a full counter: the loop reads it after every flush.
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void WalSyncer::on_wake(evutil_socket_t fd, short, void* self) {
  guarded("wal_syncer", [fd, self] {
    std::uint64_t count = 0;
    (void)!::read(fd, &count, sizeof count);
    auto* syncer = static_cast<WalSyncer*>(self);
    std::uint64_t flushed = 0;
    {
      std::lock_guard lock(syncer->mutex_);
      flushed = syncer->flushed_;
    }
    if (syncer->durable_) syncer->durable_(flushed);
  });
}

}  // namespace turnpike
