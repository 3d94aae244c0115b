// Database: opening the SQLite connection, its pragmas and migrations, and the write probe.
#include "db/database.hpp"

#include <cctype>
#include <string_view>
#include <utility>

#include "db/migrations.hpp"

namespace turnpike {
namespace {

// First column of the first row of a constant statement ("" when it returns no row).
Result<std::string> query_text(sqlite3* db, std::string_view sql) {
  Result<Statement> stmt = Statement::prepare(db, sql);
  if (!stmt) return stmt.error();
  Statement::Run run = stmt->run();
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return std::string();
  return run.column_text(0);
}

Result<void> set_and_verify_pragma(sqlite3* db, std::string_view set_sql, std::string_view get_sql,
                                   std::string_view expected) {
  Result<std::string> set = query_text(db, set_sql);
  if (!set) return set.error();
  Result<std::string> got = query_text(db, get_sql);
  if (!got) return got.error();
  if (*got != expected) {
    return make_error(std::string(get_sql) + " is \"" + *got + "\" after \"" + std::string(set_sql) +
                      "\", expected \"" + std::string(expected) + "\"");
  }
  return {};
}

Result<void> configure_connection(sqlite3* db, const DatabaseOptions& options) {
  if (sqlite3_busy_timeout(db, options.busy_timeout_ms) != SQLITE_OK) return sqlite_error(db, "busy_timeout");

  // journal_mode answers with the mode actually in effect; anything but "wal" (e.g. "memory", or the old mode
  // when the switch was impossible) is refused.
  Result<std::string> mode = query_text(db, "PRAGMA journal_mode = WAL");
  if (!mode) return mode.error();
  std::string lowered = *mode;
  for (char& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lowered != "wal") return make_error("cannot switch to WAL: journal_mode is " + *mode);

  // PRAGMA synchronous reads back 2 for FULL and 1 for NORMAL.
  Result<void> sync =
      options.synchronous_full
          ? set_and_verify_pragma(db, "PRAGMA synchronous = FULL", "PRAGMA synchronous", "2")
          : set_and_verify_pragma(db, "PRAGMA synchronous = NORMAL", "PRAGMA synchronous", "1");
  if (!sync) return sync;
  return set_and_verify_pragma(db, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1");
}

// SQLite's own auto-checkpoint size, in WAL pages.
constexpr int kCheckpointPages = 1000;

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
  if (options.path.empty()) return make_error("database path is empty");
  if (options.busy_timeout_ms < 0) return make_error("busy timeout must not be negative");

  Result<SqliteDb> db =
      open_database(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.error();
  sqlite3* raw = db->get();
  if (sqlite3_db_readonly(raw, "main") == 1) return make_error("database " + options.path + " is read-only");

  if (Result<void> configured = configure_connection(raw, options); !configured) {
    return make_error(options.path + ": " + configured.error().message);
  }
  if (Result<void> migrated = apply_migrations(raw, embedded_migrations()); !migrated) {
    return make_error(options.path + ": " + migrated.error().message);
  }
  if (options.synchronous_full && options.sync_off_connection) {
    if (Result<void> sync =
            set_and_verify_pragma(raw, "PRAGMA synchronous = NORMAL", "PRAGMA synchronous", "1");
        !sync) {
      return make_error(options.path + ": " + sync.error().message);
    }
  }
  Result<TransactionStatements> transactions = TransactionStatements::prepare(raw);
  if (!transactions) return transactions.error();

  std::unique_ptr<Database> database(
      new Database(options, std::move(db).value(), std::move(transactions).value()));
  if (options.background_checkpoints) {
    Result<std::unique_ptr<WalCheckpointer>> checkpointer = WalCheckpointer::start(options.path);
    if (!checkpointer) return checkpointer.error();
    database->checkpointer_ = std::move(checkpointer).value();
    sqlite3_wal_hook(raw, &Database::on_wal_commit, database.get());
  }
  return database;
}

Database::Database(DatabaseOptions options, SqliteDb db, TransactionStatements transactions)
    : options_(std::move(options)), db_(std::move(db)), transactions_(std::move(transactions)) {}

int Database::on_wal_commit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* database = static_cast<Database*>(self);
  if (wal_pages < database->wal_pages_) database->passes_this_wal_ = 0;  // SQLite started the WAL over
  database->wal_pages_ = wal_pages;
  if (wal_pages >= kCheckpointPages) database->checkpoint_after_commit();
  return SQLITE_OK;
}

// The thread copies the bulk of the WAL, while commits go on; SQLite starts the WAL over only after a
// checkpoint that copied everything, at the first write that begins after it. So once the first pass is
// done, a second pass copies the few frames committed meanwhile while bulk writers (the sweeper) hold their
// next step (wal_catch_up_running()), and the next write starts the WAL over. If writes that cannot wait
// (requests) kept that pass from catching up, the writer copies the rest itself right after its commit (a
// small copy and two syncs on the loop), so the WAL cannot grow without end.
void Database::checkpoint_after_commit() {
  const std::uint64_t passes = checkpointer_->completed();
  if (passes < awaited_pass_) return;  // the thread is still copying
  if (passes_this_wal_ >= 2) {
    passes_this_wal_ = 0;
    if (sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
        SQLITE_OK) {
      return;
    }
    // Another connection is checkpointing right now: the thread tries again.
  }
  checkpointer_->request();
  awaited_pass_ = passes + 1;
  ++passes_this_wal_;
}

bool Database::wal_catch_up_running() const {
  return checkpointer_ && passes_this_wal_ >= 2 && checkpointer_->completed() < awaited_pass_;
}

std::string Database::wal_path() const {
  return sqlite3_filename_wal(sqlite3_db_filename(db_.get(), "main"));
}

Database::~Database() {
  if (checkpointer_) sqlite3_wal_hook(db_.get(), nullptr, nullptr);
}

Result<void> Database::probe_writable() {
  sqlite3* db = db_.get();
  if (sqlite3_busy_timeout(db, 0) != SQLITE_OK) return sqlite_error(db, "busy_timeout");
  Result<void> probed = [this]() -> Result<void> {
    Result<Transaction> tx = Transaction::begin(transactions_);
    if (!tx) return make_error("database is not writable: " + tx.error().message);
    return {};  // the Transaction rolls back here
  }();
  if (sqlite3_busy_timeout(db, options_.busy_timeout_ms) != SQLITE_OK) {
    return sqlite_error(db, "busy_timeout");
  }
  return probed;
}

}  // namespace turnpike
