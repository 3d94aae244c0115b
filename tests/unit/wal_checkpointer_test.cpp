// Tests for background WAL checkpoints: the commit that crosses the checkpoint size only asks, and the
// checkpoint thread copies the WAL into the database file.
#include "db/wal_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

#include "db/database.hpp"
#include "temp_db_path.hpp"

namespace turnpike {
namespace {

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

void exec(Database& db, const std::string& sql) {
  ASSERT_EQ(sqlite3_exec(db.handle(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db.handle());
}

// Writes about `megabytes` MB in one transaction (so one commit and one WAL hook call).
void write_megabytes(Database& db, int megabytes) {
  exec(db, "CREATE TABLE IF NOT EXISTS filler (data BLOB)");
  exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(megabytes * 1024) + ") INSERT INTO filler SELECT randomblob(1024) FROM n");
}

std::unique_ptr<Database> open_database_at(const std::string& path, bool background) {
  DatabaseOptions options;
  options.path = path;
  options.background_checkpoints = background;
  Result<std::unique_ptr<Database>> db = Database::open(options);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(db).value() : nullptr;
}

// Waits (at most 20 s) for `done`; true if it came.
template <class Done>
bool eventually(Done done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(WalCheckpointer, ABigCommitIsCopiedIntoTheFileByTheThread) {
  TempDbPath file;
  auto db = open_database_at(file.path(), true);
  ASSERT_NE(db, nullptr);
  ASSERT_NE(db->checkpointer(), nullptr);
  const std::int64_t before = file_size(file.path());
  write_megabytes(*db, 8);  // ~2,000 pages of 4 KiB: past the 1,000-page checkpoint size
  ASSERT_TRUE(eventually([&] { return db->checkpointer()->completed() >= 1; }));
  // The rows are in the database file now, not only in the WAL.
  EXPECT_GE(file_size(file.path()) - before, 8 * 1024 * 1024);
}

TEST(WalCheckpointer, ASmallCommitRequestsNoCheckpoint) {
  TempDbPath file;
  auto db = open_database_at(file.path(), true);
  ASSERT_NE(db, nullptr);
  const std::int64_t before = file_size(file.path());
  write_megabytes(*db, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(db->checkpointer()->completed(), 0u);
  EXPECT_LT(file_size(file.path()) - before, 1024 * 1024);  // still in the WAL
}

TEST(WalCheckpointer, TheCommitItselfNoLongerCheckpoints) {
  // SQLite's auto-checkpoint (what a commit runs itself) is replaced by the hook that only asks the thread;
  // PRAGMA wal_autocheckpoint reads 0 once another WAL hook is installed.
  for (bool background : {false, true}) {
    SCOPED_TRACE(background);
    TempDbPath file;
    auto db = open_database_at(file.path(), background);
    ASSERT_NE(db, nullptr);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db->handle(), "PRAGMA wal_autocheckpoint", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(stmt, 0), background ? 0 : 1000);
    sqlite3_finalize(stmt);
  }
}

TEST(WalCheckpointer, ReadersAndWritersGoOnWhileItRuns) {
  TempDbPath file;
  auto db = open_database_at(file.path(), true);
  ASSERT_NE(db, nullptr);
  for (int round = 0; round < 5; ++round) write_megabytes(*db, 5);
  ASSERT_TRUE(eventually([&] { return db->checkpointer()->completed() >= 1; }));
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db->handle(), "SELECT count(*) FROM filler", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 5 * 5 * 1024);
  sqlite3_finalize(stmt);
}

TEST(WalCheckpointer, TheWalStartsOverUnderASteadyStreamOfCommits) {
  // A passive checkpoint running beside the writer never catches up with its last commit, and SQLite starts
  // the WAL over only after one that did: without the writer's catch-up the file would grow with every
  // commit. 300 commits of 64 KiB write ~19 MiB of WAL frames; started over, the file stays far smaller.
  TempDbPath file;
  auto db = open_database_at(file.path(), true);
  ASSERT_NE(db, nullptr);
  exec(*db, "CREATE TABLE filler (data BLOB)");
  for (int i = 0; i < 300; ++i) exec(*db, "INSERT INTO filler SELECT randomblob(65536)");
  EXPECT_GE(db->checkpointer()->completed(), 1u);
  EXPECT_LT(file_size(file.path() + "-wal"), 12 * 1024 * 1024);
}

// Frames in the WAL right now, read on a connection of its own (a passive checkpoint reports them).
int wal_frames(const std::string& path) {
  Result<SqliteDb> other = open_database(path, SQLITE_OPEN_READWRITE);
  EXPECT_TRUE(other.ok());
  if (!other) return -1;
  // A connection learns that the file is in WAL mode when it first reads it.
  EXPECT_EQ(sqlite3_exec(other->get(), "SELECT 1 FROM sqlite_master", nullptr, nullptr, nullptr), SQLITE_OK);
  int frames = -1;
  int copied = -1;
  sqlite3_wal_checkpoint_v2(other->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
  return frames;
}

TEST(WalCheckpointer, ASecondPassCatchesUpAndTheNextWriteStartsTheWalOver) {
  // A reader's snapshot keeps the first pass from copying everything; a commit after it asks for a second
  // pass (bulk writers are told to hold meanwhile); once that is done, the next write starts the WAL over,
  // without the writer copying anything itself.
  TempDbPath file;
  auto db = open_database_at(file.path(), true);
  ASSERT_NE(db, nullptr);
  exec(*db, "CREATE TABLE filler (data BLOB)");
  Result<SqliteDb> reader = open_database(file.path(), SQLITE_OPEN_READONLY);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(sqlite3_exec(reader->get(), "BEGIN; SELECT count(*) FROM filler", nullptr, nullptr, nullptr),
            SQLITE_OK);
  write_megabytes(*db, 8);
  ASSERT_TRUE(eventually([&] { return db->checkpointer()->completed() >= 1; }));
  EXPECT_FALSE(db->wal_catch_up_running());  // no second pass asked for yet
  ASSERT_EQ(sqlite3_exec(reader->get(), "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);

  exec(*db, "INSERT INTO filler VALUES (x'00')");  // the WAL is still long: asks for the second pass
  ASSERT_TRUE(eventually([&] { return db->checkpointer()->completed() >= 2; }));
  EXPECT_FALSE(db->wal_catch_up_running());
  exec(*db, "INSERT INTO filler VALUES (x'01')");
  EXPECT_LT(wal_frames(file.path()), 10);
  EXPECT_EQ(db->checkpointer()->completed(), 2u);
}

}  // namespace
}  // namespace turnpike
