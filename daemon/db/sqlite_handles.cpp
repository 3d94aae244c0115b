// RAII wrappers for SQLite: the connection, prepared statements with scoped runs, and write transactions.
#include "db/sqlite_handles.hpp"

#include <limits>

namespace turnpike {

Result<SqliteDb> open_database(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db(raw);  // sqlite3_open_v2 may hand back a handle even on failure; it must be closed
  if (rc != SQLITE_OK) {
    if (!db) return make_error("cannot open database " + path + ": " + sqlite3_errstr(rc));
    return sqlite_error(db.get(), "cannot open database " + path);
  }
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

Error sqlite_error(sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : "no database handle";
  message += " (code ";
  message += std::to_string(db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_MISUSE);
  message += ")";
  return make_error(std::move(message));
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return make_error("statement too long");
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                              &tail);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return sqlite_error(db, "cannot prepare \"" + std::string(sql) + "\"");
  if (!stmt) return make_error("cannot prepare \"" + std::string(sql) + "\": no statement in text");
  if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    return make_error("cannot prepare \"" + std::string(sql) + "\": more than one statement");
  }
  return Statement(std::move(stmt));
}

Statement::Run Statement::run() {
  return Run(stmt_.get());
}

Statement::Run::~Run() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Run::record_bind_result(int rc, int index) {
  if (rc == SQLITE_OK || bind_error_ || stmt_ == nullptr) return;
  bind_error_ = make_error("cannot bind parameter " + std::to_string(index) + " of \"" + sqlite3_sql(stmt_) +
                           "\": " + sqlite3_errstr(rc));
}

Statement::Run& Statement::Run::bind_text(int index, std::string_view value) {
  record_bind_result(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Statement::Run& Statement::Run::bind_int64(int index, std::int64_t value) {
  record_bind_result(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Result<bool> Statement::Run::step() {
  if (stmt_ == nullptr) return make_error("statement was not prepared");
  if (bind_error_) return *bind_error_;
  if (done_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  done_ = true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(sqlite3_db_handle(stmt_), "\"" + std::string(sqlite3_sql(stmt_)) + "\" failed");
}

Result<void> Statement::Run::run_to_completion() {
  for (;;) {
    Result<bool> row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

std::int64_t Statement::Run::changes() const noexcept {
  return stmt_ == nullptr ? 0 : sqlite3_changes(sqlite3_db_handle(stmt_));
}

std::string Statement::Run::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Statement::Run::column_int64(int column) const noexcept {
  return sqlite3_column_int64(stmt_, column);
}

Result<TransactionStatements> TransactionStatements::prepare(sqlite3* db) {
  TransactionStatements out;
  const std::pair<Statement*, const char*> table[] = {
      {&out.begin_, "BEGIN IMMEDIATE"},      {&out.commit_, "COMMIT"},
      {&out.rollback_, "ROLLBACK"},          {&out.savepoint_, "SAVEPOINT write_step"},
      {&out.release_, "RELEASE write_step"}, {&out.rollback_to_, "ROLLBACK TO write_step"},
  };
  for (const auto& [target, sql] : table) {
    Result<Statement> stmt = Statement::prepare(db, sql);
    if (!stmt) return stmt.error();
    *target = std::move(stmt).value();
  }
  return out;
}

void TransactionStatements::enable_grouping(std::function<void()> on_group_opened) {
  on_group_opened_ = std::move(on_group_opened);
}

namespace {

Result<void> run_once(Statement& statement) {
  Statement::Run run = statement.run();
  return run.run_to_completion();
}

bool in_transaction(const Statement& any) {
  return any.get() != nullptr && sqlite3_get_autocommit(sqlite3_db_handle(any.get())) == 0;
}

}  // namespace

Result<void> TransactionStatements::open_group() {
  if (group_open_) {
    // SQLite ends the whole transaction on some errors (a full disk, I/O errors); the group's earlier steps
    // are gone with it, and commit_group() reports that. Until then nothing may write outside the group.
    if (!in_transaction(begin_)) return make_error("the grouped transaction was rolled back");
    return {};
  }
  if (Result<void> begun = run_once(begin_); !begun) return begun;
  group_open_ = true;
  on_group_opened_();
  return {};
}

Result<void> TransactionStatements::commit_group() {
  if (!group_open_) return {};
  group_open_ = false;
  Result<void> committed = in_transaction(begin_)
                               ? run_once(commit_)
                               : make_error("the grouped transaction was rolled back before its commit");
  if (committed) {
    ++counts_.commits;
  } else {
    ++counts_.failed_commits;
    if (in_transaction(begin_)) (void)run_once(rollback_);
  }
  return committed;
}

Result<Transaction> Transaction::begin(TransactionStatements& statements) {
  if (!statements.grouping()) {
    if (Result<void> begun = run_once(statements.begin_); !begun) return begun.error();
    return Transaction(&statements, false);
  }
  if (Result<void> opened = statements.open_group(); !opened) return opened.error();
  if (Result<void> saved = run_once(statements.savepoint_); !saved) return saved.error();
  return Transaction(&statements, true);
}

Transaction::Transaction(Transaction&& other) noexcept
    : statements_(other.statements_), savepoint_(other.savepoint_) {
  other.statements_ = nullptr;
}

Transaction::~Transaction() {
  // A failed statement may already have rolled the transaction back; ROLLBACK would then be an error.
  if (statements_ == nullptr || !in_transaction(statements_->rollback_)) return;
  // Nothing useful to do if even the rollback fails (or cannot allocate its error message): SQLite rolls
  // back whatever is still open when the connection closes.
  try {
    if (savepoint_) {
      (void)run_once(statements_->rollback_to_);
      (void)run_once(statements_->release_);
    } else {
      (void)run_once(statements_->rollback_);
    }
  } catch (...) {
  }
}

Result<void> Transaction::commit() {
  if (statements_ == nullptr) return make_error("transaction is not active");
  // Still active on failure: the destructor rolls back.
  if (Result<void> done = run_once(savepoint_ ? statements_->release_ : statements_->commit_); !done)
    return done;
  ++statements_->counts_.writes;
  if (!savepoint_) ++statements_->counts_.commits;
  statements_ = nullptr;
  return {};
}

}  // namespace turnpike
