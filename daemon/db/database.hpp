// Database: the daemon's one SQLite connection (WAL, pragmas, migrations) and its shared write transactions.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "db/sqlite_handles.hpp"
#include "db/wal_checkpointer.hpp"

namespace turnpike {

struct DatabaseOptions {
  std::string path;
  bool synchronous_full = true;  // PRAGMA synchronous = FULL, else NORMAL
  int busy_timeout_ms = 2000;
  // Checkpoints run on a thread of their own (WalCheckpointer) instead of inside the commit that crosses
  // SQLite's auto-checkpoint size, which would hold the event loop for it.
  bool background_checkpoints = false;
  // With synchronous_full: commits on this connection use synchronous = NORMAL and a WalSyncer, given
  // wal_path(), makes them durable on its own thread (migrations at open are still synced here).
  bool sync_off_connection = false;
};

// The stores prepare their statements on handle() and write through transactions(), which everything that
// writes on the connection must share (so grouped commits cover all of it). The stores must be destroyed
// before the Database. One thread owns it.
class Database {
 public:
  // Opens or creates the file, switches it to WAL (fails if SQLite does not confirm), sets busy_timeout,
  // synchronous and foreign_keys, applies the embedded migrations and prepares the transaction statements.
  static Result<std::unique_ptr<Database>> open(const DatabaseOptions& options);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database(Database&&) = delete;
  Database& operator=(Database&&) = delete;
  ~Database();

  sqlite3* handle() noexcept { return db_.get(); }
  TransactionStatements& transactions() noexcept { return transactions_; }
  const std::string& path() const noexcept { return options_.path; }
  // The WAL file SQLite writes beside the database (it exists while the connection is open).
  std::string wal_path() const;

  // Takes and releases the write lock without waiting (BEGIN IMMEDIATE; ROLLBACK with busy_timeout 0 for this
  // call): fails while another connection writes, or when the file is read-only. It does not detect a full
  // disk.
  Result<void> probe_writable();

  // True while the checkpoint thread copies the last frames of a long WAL so that SQLite can start it over:
  // writers that can wait a little (the sweeper's backlog) should hold their next write.
  bool wal_catch_up_running() const;

  // The background checkpointer, or null when options.background_checkpoints is off.
  const WalCheckpointer* checkpointer() const noexcept { return checkpointer_.get(); }

 private:
  Database(DatabaseOptions options, SqliteDb db, TransactionStatements transactions);
  // The WAL hook (after each commit, with the WAL's size in pages), which replaces SQLite's auto-checkpoint.
  static int on_wal_commit(void* self, sqlite3*, const char*, int wal_pages);
  void checkpoint_after_commit();

  DatabaseOptions options_;
  SqliteDb db_;  // declared before the statements so that it is closed after they are finalized
  TransactionStatements transactions_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // destroyed (joined) before the connection closes
  int wal_pages_ = 0;                              // the WAL's size after the last commit
  int passes_this_wal_ = 0;                        // passes asked for since SQLite last started the WAL over
  std::uint64_t awaited_pass_ = 0;                 // checkpointer()->completed() once the last pass is done
};

}  // namespace turnpike
