// Tests for Database on a real SQLite file: WAL, pragmas, open failures and the write probe.
#include "db/database.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "db/sqlite_handles.hpp"
#include "temp_db_path.hpp"

namespace turnpike {
namespace {

// A second, independent connection to the same file, as another process (coturn, an admin) would have.
SqliteDb second_connection(const std::string& path) {
  Result<SqliteDb> db = open_database(path, SQLITE_OPEN_READWRITE);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(db).value() : SqliteDb();
}

std::string query_text(sqlite3* db, const char* sql) {
  Result<Statement> stmt = Statement::prepare(db, sql);
  EXPECT_TRUE(stmt.ok()) << (stmt.ok() ? "" : stmt.error().message);
  if (!stmt.ok()) return {};
  Statement::Run run = stmt->run();
  Result<bool> row = run.step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return row.ok() && *row ? run.column_text(0) : std::string();
}

void exec(sqlite3* db, const char* sql) {
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
}

class DatabaseTest : public testing::Test {
 protected:
  void SetUp() override {
    database_ = open_database_file();
    ASSERT_NE(database_, nullptr);
  }

  std::unique_ptr<Database> open_database_file(DatabaseOptions options = {}) {
    options.path = file_.path();
    Result<std::unique_ptr<Database>> database = Database::open(options);
    EXPECT_TRUE(database.ok()) << (database.ok() ? "" : database.error().message);
    return database.ok() ? std::move(database).value() : nullptr;
  }

  TempDbPath file_;
  std::unique_ptr<Database> database_;
};

TEST_F(DatabaseTest, OpenPutsTheFileInWalModeAsSeenFromASecondConnection) {
  SqliteDb other = second_connection(file_.path());
  EXPECT_EQ(query_text(other.get(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(database_->handle(), "PRAGMA journal_mode"), "wal");
}

TEST_F(DatabaseTest, OpenEnablesForeignKeys) {
  EXPECT_EQ(query_text(database_->handle(), "PRAGMA foreign_keys"), "1");
}

TEST_F(DatabaseTest, OpenKeepsThePath) {
  EXPECT_EQ(database_->path(), file_.path());
}

TEST_F(DatabaseTest, OpenAppliesSynchronousAndBusyTimeoutOptions) {
  struct Case {
    bool synchronous_full;
    int busy_timeout_ms;
    const char* synchronous;
    const char* busy_timeout;
  };
  const Case cases[] = {{true, 2000, "2", "2000"}, {false, 50, "1", "50"}, {true, 0, "2", "0"}};
  database_.reset();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.synchronous);
    std::unique_ptr<Database> database =
        open_database_file(DatabaseOptions{"", c.synchronous_full, c.busy_timeout_ms});
    ASSERT_NE(database, nullptr);
    EXPECT_EQ(query_text(database->handle(), "PRAGMA synchronous"), c.synchronous);
    EXPECT_EQ(query_text(database->handle(), "PRAGMA busy_timeout"), c.busy_timeout);
  }
}

TEST(DatabaseOpen, FailsWithAMessageInsteadOfCrashing) {
  TempDbPath file;
  {
    std::ofstream garbage(file.path(), std::ios::binary);
    garbage << std::string(8192, 'x');
  }
  struct Case {
    const char* name;
    DatabaseOptions options;
  };
  const Case cases[] = {
      {"missing directory", DatabaseOptions{testing::TempDir() + "no/such/dir/turnpike.db"}},
      {"not a database", DatabaseOptions{file.path()}},
      {"empty path", DatabaseOptions{""}},
      {"in-memory database cannot use WAL", DatabaseOptions{":memory:"}},
      {"negative busy timeout", DatabaseOptions{testing::TempDir() + "unused.db", true, -1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<std::unique_ptr<Database>> database = Database::open(c.options);
    ASSERT_FALSE(database.ok());
    EXPECT_FALSE(database.error().message.empty());
  }
}

TEST_F(DatabaseTest, ProbeWritableFailsAtOnceWhileAnotherConnectionWritesAndSucceedsAfter) {
  database_.reset();
  database_ = open_database_file(DatabaseOptions{"", true, 3000});
  ASSERT_NE(database_, nullptr);
  ASSERT_TRUE(database_->probe_writable().ok());

  SqliteDb other = second_connection(file_.path());
  exec(other.get(), "BEGIN EXCLUSIVE");
  const auto start = std::chrono::steady_clock::now();
  Result<void> probed = database_->probe_writable();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(probed.ok());
  EXPECT_NE(probed.error().message.find("locked"), std::string::npos) << probed.error().message;
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000)) << "the probe waited for the busy timeout";
  EXPECT_EQ(query_text(database_->handle(), "PRAGMA busy_timeout"), "3000");  // restored after the probe

  exec(other.get(), "COMMIT");
  Result<void> after = database_->probe_writable();
  EXPECT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(sqlite3_get_autocommit(database_->handle()), 1);
}

}  // namespace
}  // namespace turnpike
