// WalCheckpointer: passive WAL checkpoints on a thread of their own.
#include "db/wal_checkpointer.hpp"

#include <utility>

#include "core/log.hpp"

namespace turnpike {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path) {
  Result<SqliteDb> db = open_database(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!db) return make_error("checkpoint connection: " + db.error().message);
  // A connection learns that the file is in WAL mode when it first reads it; until then a checkpoint on it
  // does nothing.
  if (sqlite3_exec(db->get(), "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return sqlite_error(db->get(), "checkpoint connection");
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db).value()));
}

WalCheckpointer::WalCheckpointer(SqliteDb db) : db_(std::move(db)), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WalCheckpointer::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

std::uint64_t WalCheckpointer::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    int wal_frames = 0;
    int copied_frames = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied_frames);
    // BUSY: another connection is checkpointing right now; the next request tries again.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      log_warn("wal_checkpoint_failed").kv("reason", sqlite3_errmsg(db_.get()));
    }
    lock.lock();
    ++completed_;
  }
}

}  // namespace turnpike
