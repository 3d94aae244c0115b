// RAII wrappers for SQLite: the connection, prepared statements with scoped runs, and write transactions.
#include "pairing/sqlite_handles.hpp"

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

Statement::Run& Statement::Run::bind_null(int index) {
  record_bind_result(sqlite3_bind_null(stmt_, index), index);
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

bool Statement::Run::column_is_null(int column) const noexcept {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<TransactionStatements> TransactionStatements::prepare(sqlite3* db) {
  Result<Statement> begin = Statement::prepare(db, "BEGIN IMMEDIATE");
  if (!begin) return begin.error();
  Result<Statement> commit = Statement::prepare(db, "COMMIT");
  if (!commit) return commit.error();
  Result<Statement> rollback = Statement::prepare(db, "ROLLBACK");
  if (!rollback) return rollback.error();
  return TransactionStatements(std::move(begin).value(), std::move(commit).value(),
                               std::move(rollback).value());
}

Result<Transaction> Transaction::begin(TransactionStatements& statements) {
  Statement::Run run = statements.begin_.run();
  Result<void> done = run.run_to_completion();
  if (!done) return done.error();
  return Transaction(&statements);
}

Transaction::Transaction(Transaction&& other) noexcept : statements_(other.statements_) {
  other.statements_ = nullptr;
}

Transaction::~Transaction() {
  if (statements_ == nullptr) return;
  // A failed statement may already have rolled the transaction back; ROLLBACK would then be an error.
  sqlite3_stmt* rollback = statements_->rollback_.get();
  if (rollback == nullptr || sqlite3_get_autocommit(sqlite3_db_handle(rollback)) != 0) return;
  Statement::Run run = statements_->rollback_.run();
  (void)run.run_to_completion();  // nothing useful to do if even ROLLBACK fails
}

Result<void> Transaction::commit() {
  if (statements_ == nullptr) return make_error("transaction is not active");
  {
    Statement::Run run = statements_->commit_.run();
    Result<void> done = run.run_to_completion();
    if (!done) return done.error();  // still active: the destructor rolls back
  }
  statements_ = nullptr;
  return {};
}

}  // namespace turnpike
