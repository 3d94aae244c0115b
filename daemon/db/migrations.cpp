// Numbered schema migrations (sql/NNN_name.sql, embedded at build time), tracked by PRAGMA user_version.
#include "db/migrations.hpp"

#include <memory>
#include <string>

#include "db/sqlite_handles.hpp"

namespace turnpike {
namespace {

Result<void> check_numbering(std::span<const Migration> migrations) {
  int expected = 1;
  for (const Migration& m : migrations) {
    if (m.version != expected) {
      return make_error("migration " + std::string(m.name) + " has version " + std::to_string(m.version) +
                        ", expected " + std::to_string(expected));
    }
    ++expected;
  }
  return {};
}

// While alive, statements that begin, commit or roll back a transaction cannot be prepared on the connection,
// so a migration text cannot end the surrounding transaction (savepoints stay allowed).
class DenyTransactionStatements {
 public:
  explicit DenyTransactionStatements(sqlite3* db) : db_(db) {
    sqlite3_set_authorizer(db_, &authorize, nullptr);
  }
  ~DenyTransactionStatements() { sqlite3_set_authorizer(db_, nullptr, nullptr); }
  DenyTransactionStatements(const DenyTransactionStatements&) = delete;
  DenyTransactionStatements& operator=(const DenyTransactionStatements&) = delete;

 private:
  static int authorize(void*, int action, const char*, const char*, const char*, const char*) {
    return action == SQLITE_TRANSACTION ? SQLITE_DENY : SQLITE_OK;
  }
  sqlite3* db_;
};

struct ExecErrorFree {
  void operator()(char* message) const noexcept { sqlite3_free(message); }
};

Result<void> run_script(sqlite3* db, const Migration& migration) {
  // sqlite3_exec needs a NUL-terminated string; the embedded text is a string_view.
  const std::string sql(migration.sql);
  char* raw_message = nullptr;
  int rc = SQLITE_OK;
  {
    DenyTransactionStatements guard(db);
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &raw_message);
  }
  std::unique_ptr<char, ExecErrorFree> message(raw_message);
  if (rc != SQLITE_OK) {
    std::string why = message ? message.get() : sqlite3_errstr(rc);
    if (rc == SQLITE_AUTH) why += " (BEGIN, COMMIT and ROLLBACK are not allowed in a migration)";
    return make_error("migration " + std::string(migration.name) + " failed: " + why + " (code " +
                      std::to_string(rc) + ")");
  }
  return {};
}

Result<void> set_user_version(sqlite3* db, int version) {
  // PRAGMA takes no bound parameters; the value is a migration number from this binary, never outside input.
  const std::string sql = "PRAGMA user_version = " + std::to_string(version);
  Result<Statement> stmt = Statement::prepare(db, sql);
  if (!stmt) return stmt.error();
  Statement::Run run = stmt->run();
  return run.run_to_completion();
}

}  // namespace

Result<int> read_user_version(sqlite3* db) {
  Result<Statement> stmt = Statement::prepare(db, "PRAGMA user_version");
  if (!stmt) return stmt.error();
  Statement::Run run = stmt->run();
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return make_error("PRAGMA user_version returned no row");
  return static_cast<int>(run.column_int64(0));
}

Result<void> apply_migrations(sqlite3* db, std::span<const Migration> migrations) {
  if (Result<void> numbered = check_numbering(migrations); !numbered) return numbered;
  const int latest = static_cast<int>(migrations.size());

  auto check_version = [latest](int current) -> Result<void> {
    if (current > latest) {
      return make_error("database schema version " + std::to_string(current) +
                        " is newer than this program supports (" + std::to_string(latest) +
                        "); refusing to use it");
    }
    if (current < 0) return make_error("database has invalid schema version " + std::to_string(current));
    return {};
  };

  // Fast path without the write lock: already current (the usual restart).
  Result<int> before = read_user_version(db);
  if (!before) return before.error();
  if (Result<void> ok = check_version(*before); !ok) return ok;
  if (*before == latest) return {};

  Result<TransactionStatements> statements = TransactionStatements::prepare(db);
  if (!statements) return statements.error();
  Result<Transaction> tx = Transaction::begin(*statements);
  if (!tx) return tx.error();

  // Read again under the write lock: another process may have migrated in between.
  Result<int> current = read_user_version(db);
  if (!current) return current.error();
  if (Result<void> ok = check_version(*current); !ok) return ok;

  for (const Migration& migration : migrations.subspan(static_cast<std::size_t>(*current))) {
    if (Result<void> ran = run_script(db, migration); !ran) return ran;
    if (Result<void> set = set_user_version(db, migration.version); !set) return set;
  }
  return tx->commit();
}

}  // namespace turnpike
