// RAII wrappers for SQLite: the connection, prepared statements with scoped runs, and write transactions.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace turnpike {

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Opens (or creates, with SQLITE_OPEN_CREATE in flags) a database file with extended result codes on.
Result<SqliteDb> open_database(const std::string& path, int flags);

// "<what>: <sqlite message> (code N)" for the connection's most recent error.
Error sqlite_error(sqlite3* db, std::string_view what);

// A statement prepared once and run many times. Each execution goes through a Run, which resets the
// statement and clears its bindings when it goes out of scope, so the next Run starts clean.
class Statement {
 public:
  class Run;

  Statement() = default;  // empty until a prepared one is moved in; running it gives an error
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);

  [[nodiscard]] Run run();
  sqlite3_stmt* get() const noexcept { return stmt_.get(); }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }

 private:
  explicit Statement(StatementPtr stmt) : stmt_(std::move(stmt)) {}
  StatementPtr stmt_;
};

// One execution of a Statement. Bind errors are remembered and reported by the next step(), so a call site
// can bind all parameters and check once. Column accessors are valid only after step() returned true.
class Statement::Run {
 public:
  explicit Run(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  Run(Run&&) = delete;
  Run& operator=(Run&&) = delete;

  // Parameter indexes are 1-based, as in SQLite (?1, ?2, ...). Text is copied by SQLite.
  Run& bind_text(int index, std::string_view value);
  Run& bind_int64(int index, std::int64_t value);

  // true: a row is available; false: the statement has finished (further calls keep returning false).
  Result<bool> step();
  // Steps to completion, ignoring any rows.
  Result<void> run_to_completion();

  // Rows inserted/updated/deleted by this statement, excluding trigger changes (valid after it finished).
  std::int64_t changes() const noexcept;

  // Column indexes are 0-based. A NULL column reads as "" / 0.
  std::string column_text(int column) const;
  std::int64_t column_int64(int column) const noexcept;

 private:
  void record_bind_result(int rc, int index);

  sqlite3_stmt* stmt_;
  std::optional<Error> bind_error_;
  bool done_ = false;
};

// The transaction statements of one connection, prepared once, and whether its writes are grouped.
// Ungrouped, every Transaction is its own BEGIN IMMEDIATE ... COMMIT. Grouped (enable_grouping), the first
// Transaction opens one BEGIN IMMEDIATE for the whole group and each Transaction is a SAVEPOINT inside it;
// commit_group() then makes all of them durable with one COMMIT (one WAL sync). Share one instance between
// everything that writes on the connection.
class TransactionStatements {
 public:
  TransactionStatements() = default;  // empty until a prepared set is moved in
  static Result<TransactionStatements> prepare(sqlite3* db);

  // From now on Transactions join a group; `on_group_opened` runs when one opens and must arrange for
  // commit_group() to be called (soon, and outside of any Transaction).
  void enable_grouping(std::function<void()> on_group_opened);
  bool grouping() const noexcept { return static_cast<bool>(on_group_opened_); }
  bool group_open() const noexcept { return group_open_; }
  // Commits the open group, or rolls it back when that fails or SQLite already rolled it back (a failed
  // statement can end the whole transaction). Without an open group: nothing to do.
  Result<void> commit_group();

  // Totals since the connection opened: durable commits, commits that failed, and write transactions
  // (grouped ones count once each, though they share a commit).
  struct Counts {
    std::uint64_t commits = 0, failed_commits = 0, writes = 0;
  };
  const Counts& counts() const noexcept { return counts_; }

 private:
  friend class Transaction;
  Result<void> open_group();

  Statement begin_;
  Statement commit_;
  Statement rollback_;
  Statement savepoint_;
  Statement release_;
  Statement rollback_to_;
  std::function<void()> on_group_opened_;
  bool group_open_ = false;
  Counts counts_;
};

// A write transaction that rolls back on scope exit unless commit() succeeded: BEGIN IMMEDIATE ... COMMIT,
// or, while the connection's writes are grouped, a savepoint that commit() releases into the group.
// Declare it before any Statement::Run used inside it, so those runs are reset before the rollback.
class Transaction {
 public:
  static Result<Transaction> begin(TransactionStatements& statements);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> commit();

 private:
  Transaction(TransactionStatements* statements, bool savepoint) noexcept
      : statements_(statements), savepoint_(savepoint) {}

  TransactionStatements* statements_;  // null once committed or moved from
  bool savepoint_;
};

}  // namespace turnpike
