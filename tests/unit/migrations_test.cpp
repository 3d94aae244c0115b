// Tests for the schema migrations: embedding, user_version tracking, atomicity and refusal of newer schemas.
#include "db/migrations.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "db/sqlite_handles.hpp"
#include "temp_db_path.hpp"

namespace turnpike {
namespace {

SqliteDb open_raw(const std::string& path) {
  Result<SqliteDb> db = open_database(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(db).value() : SqliteDb();
}

int user_version(sqlite3* db) {
  Result<int> version = read_user_version(db);
  EXPECT_TRUE(version.ok()) << (version.ok() ? "" : version.error().message);
  return version.ok() ? *version : -1;
}

std::vector<std::string> table_names(sqlite3* db) {
  std::vector<std::string> names;
  Result<Statement> stmt =
      Statement::prepare(db,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                         "ORDER BY name");
  EXPECT_TRUE(stmt.ok());
  if (!stmt.ok()) return names;
  Statement::Run run = stmt->run();
  for (;;) {
    Result<bool> row = run.step();
    EXPECT_TRUE(row.ok());
    if (!row.ok() || !*row) break;
    names.push_back(run.column_text(0));
  }
  return names;
}

void exec(sqlite3* db, const char* sql) {
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
}

std::int64_t count_rows(sqlite3* db, const std::string& table) {
  Result<Statement> stmt = Statement::prepare(db, "SELECT count(*) FROM " + table);
  EXPECT_TRUE(stmt.ok()) << (stmt.ok() ? "" : stmt.error().message);
  if (!stmt.ok()) return -1;
  Statement::Run run = stmt->run();
  Result<bool> row = run.step();
  EXPECT_TRUE(row.ok() && *row);
  return run.column_int64(0);
}

TEST(EmbeddedMigrations, AreNumberedFromOneInOrderAndCarryTheSqlFiles) {
  std::span<const Migration> migrations = embedded_migrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(migrations[i].sql.empty());
  }
  EXPECT_EQ(migrations[0].name, "001_pairing");
  EXPECT_NE(migrations[0].sql.find("CREATE TABLE pendings"), std::string_view::npos);
  EXPECT_NE(migrations[0].sql.find("CREATE TABLE rooms"), std::string_view::npos);
  // The runner owns the transaction; trigger bodies (BEGIN ... END) are fine.
  for (const Migration& m : migrations) {
    for (std::string_view statement :
         {"BEGIN;", "BEGIN TRANSACTION", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT"}) {
      EXPECT_EQ(m.sql.find(statement), std::string_view::npos) << m.name << " contains " << statement;
    }
  }
}

TEST(ApplyMigrations, FreshFileGetsSchemaAndLatestUserVersion) {
  TempDbPath file;
  SqliteDb db = open_raw(file.path());
  ASSERT_EQ(user_version(db.get()), 0);

  Result<void> applied = apply_migrations(db.get(), embedded_migrations());
  ASSERT_TRUE(applied.ok()) << applied.error().message;

  EXPECT_EQ(user_version(db.get()), static_cast<int>(embedded_migrations().size()));
  EXPECT_EQ(table_names(db.get()),
            (std::vector<std::string>{"admin_user", "allowed_peer_ip", "denied_peer_ip", "oauth_key",
                                      "pendings", "rooms", "turn_credentials", "turn_expired_credentials",
                                      "turn_origin_to_realm", "turn_owners", "turn_pending_kills",
                                      "turn_realm_option", "turn_room_secrets", "turn_secret",
                                      "turnpike_row_counts", "turnusers_lt"}));
}

// coturn creates lax tables of its own when it opens the file first; the migration makes them strict and
// keeps only the rows coturn can use safely.
TEST(ApplyMigrations, TightensTablesCoturnCreatedFirst) {
  TempDbPath file;
  SqliteDb db = open_raw(file.path());
  ASSERT_EQ(
      sqlite3_exec(db.get(),
                   "CREATE TABLE turnusers_lt (realm varchar(127) default '', name varchar(512), hmackey "
                   "char(128), PRIMARY KEY (realm,name));"
                   "CREATE TABLE turn_secret (realm varchar(127) default '', value varchar(256), PRIMARY KEY "
                   "(realm,value));"
                   "CREATE TABLE admin_user (name varchar(32), realm varchar(127), password varchar(127), "
                   "primary key (name));"
                   "INSERT INTO turnusers_lt VALUES ('r', 'kept', 'BC807EE29DF3C9FFA736523FB2C4E8EE');"
                   "INSERT INTO turnusers_lt VALUES ('r', 'null_key', NULL);"
                   "INSERT INTO turnusers_lt VALUES ('r', 'short_key', 'abc');"
                   "INSERT INTO turn_secret VALUES ('r', 'secret');"
                   "INSERT INTO turn_secret VALUES ('r', '');",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  Result<void> applied = apply_migrations(db.get(), embedded_migrations());
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  auto rows = [&](const char* sql) {
    std::vector<std::string> out;
    sqlite3_exec(
        db.get(), sql,
        [](void* target, int, char** values, char**) {
          static_cast<std::vector<std::string>*>(target)->push_back(values[0] ? values[0] : "NULL");
          return 0;
        },
        &out, nullptr);
    return out;
  };
  EXPECT_EQ(rows("SELECT name || ':' || hmackey FROM turnusers_lt"),
            (std::vector<std::string>{"kept:bc807ee29df3c9ffa736523fb2c4e8ee"}));
  EXPECT_EQ(rows("SELECT value FROM turn_secret"), (std::vector<std::string>{"secret"}));
  EXPECT_NE(
      sqlite3_exec(db.get(), "INSERT INTO turnusers_lt VALUES ('r', 'x', NULL)", nullptr, nullptr, nullptr),
      SQLITE_OK);
}

TEST(ApplyMigrations, IsIdempotentOnTheSameConnectionAndAfterReopen) {
  TempDbPath file;
  const int latest = static_cast<int>(embedded_migrations().size());
  {
    SqliteDb db = open_raw(file.path());
    ASSERT_TRUE(apply_migrations(db.get(), embedded_migrations()).ok());
    exec(db.get(),
         "INSERT INTO rooms VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'c1', 'c2', 1, 2)");
    Result<void> again = apply_migrations(db.get(), embedded_migrations());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(user_version(db.get()), latest);
  }
  SqliteDb reopened = open_raw(file.path());
  Result<void> applied = apply_migrations(reopened.get(), embedded_migrations());
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(user_version(reopened.get()), latest);
  EXPECT_EQ(count_rows(reopened.get(), "rooms"), 1);
}

TEST(ApplyMigrations, RefusesDatabaseFromANewerRelease) {
  TempDbPath file;
  const int newer = static_cast<int>(embedded_migrations().size()) + 1;
  {
    SqliteDb db = open_raw(file.path());
    exec(db.get(), ("PRAGMA user_version = " + std::to_string(newer)).c_str());
  }
  SqliteDb db = open_raw(file.path());
  Result<void> applied = apply_migrations(db.get(), embedded_migrations());
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("newer"), std::string::npos) << applied.error().message;
  EXPECT_EQ(user_version(db.get()), newer);
  EXPECT_TRUE(table_names(db.get()).empty());
}

TEST(ApplyMigrations, DatabaseOpenRefusesDatabaseFromANewerRelease) {
  TempDbPath file;
  {
    SqliteDb db = open_raw(file.path());
    exec(db.get(), ("PRAGMA user_version = " + std::to_string(embedded_migrations().size() + 5)).c_str());
  }
  Result<std::unique_ptr<Database>> database = Database::open(DatabaseOptions{file.path()});
  ASSERT_FALSE(database.ok());
  EXPECT_NE(database.error().message.find("newer"), std::string::npos) << database.error().message;
}

TEST(ApplyMigrations, AppliesOnlyTheMigrationsNewerThanUserVersion) {
  TempDbPath file;
  const std::vector<Migration> first = {{1, "001_a", "CREATE TABLE a(x INTEGER);"}};
  const std::vector<Migration> both = {{1, "001_a", "CREATE TABLE a(x INTEGER);"},
                                       {2, "002_b", "CREATE TABLE b(y TEXT); INSERT INTO a VALUES (7);"}};
  SqliteDb db = open_raw(file.path());
  ASSERT_TRUE(apply_migrations(db.get(), first).ok());
  EXPECT_EQ(user_version(db.get()), 1);
  exec(db.get(), "INSERT INTO a VALUES (1)");

  Result<void> applied = apply_migrations(db.get(), both);  // re-running 001 would fail: table a exists
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(user_version(db.get()), 2);
  EXPECT_EQ(table_names(db.get()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(count_rows(db.get(), "a"), 2);
}

TEST(ApplyMigrations, RowCountsStartFromTheRowsAlreadyThere) {
  TempDbPath file;
  std::span<const Migration> all = embedded_migrations();
  ASSERT_GE(all.size(), 4u);
  SqliteDb db = open_raw(file.path());
  ASSERT_TRUE(apply_migrations(db.get(), all.first(3)).ok());
  for (char c : std::string("abc")) {
    exec(db.get(), ("INSERT INTO rooms VALUES ('" + std::string(48, c) + "', 'x', 'y', 1, 1)").c_str());
  }
  exec(db.get(),
       "INSERT INTO turn_pending_kills (pattern, exact, reason, created_ms) VALUES ('p', 1, 'test', 1)");
  ASSERT_TRUE(apply_migrations(db.get(), all).ok());
  Result<Statement> stmt =
      Statement::prepare(db.get(), "SELECT name, value FROM turnpike_row_counts ORDER BY name");
  ASSERT_TRUE(stmt.ok());
  Statement::Run run = stmt->run();
  std::vector<std::pair<std::string, std::int64_t>> rows;
  while (*run.step()) rows.emplace_back(run.column_text(0), run.column_int64(1));
  EXPECT_EQ(rows,
            (std::vector<std::pair<std::string, std::int64_t>>{{"rooms", 3}, {"turn_pending_kills", 1}}));
}

TEST(ApplyMigrations, OpaqueUsernamesRevokeRoomNamedCredentialsAndKillPerUsername) {
  TempDbPath file;
  std::span<const Migration> all = embedded_migrations();
  ASSERT_GE(all.size(), 5u);
  SqliteDb db = open_raw(file.path());
  ASSERT_TRUE(apply_migrations(db.get(), all.first(4)).ok());
  const std::string room(48, 'a');
  const std::string old_user = room + ".1.1800000000";
  exec(db.get(), ("INSERT INTO rooms VALUES ('" + room + "', 'x', 'y', 1, 1)").c_str());
  exec(db.get(), ("INSERT INTO turn_credentials VALUES ('" + old_user + "', '" + room +
                  "', 1, 'r', 'long-term', 'c', 1, 1800000000000)")
                     .c_str());
  exec(db.get(),
       ("INSERT INTO turnusers_lt VALUES ('r', '" + old_user + "', '" + std::string(32, '0') + "')").c_str());
  exec(db.get(), ("INSERT INTO turn_room_secrets VALUES ('" + room + "', 'r', 's')").c_str());
  exec(db.get(), "INSERT INTO turn_secret VALUES ('r', 's')");
  ASSERT_TRUE(apply_migrations(db.get(), all).ok());
  // The room-named credential is revoked everywhere and its live sessions are queued by exact username.
  EXPECT_EQ(count_rows(db.get(), "turn_credentials"), 0);
  EXPECT_EQ(count_rows(db.get(), "turnusers_lt"), 0);
  EXPECT_EQ(count_rows(db.get(), "turn_room_secrets"), 0);
  EXPECT_EQ(count_rows(db.get(), "turn_secret"), 0);
  EXPECT_EQ(count_rows(db.get(), "rooms"), 1);
  exec(db.get(), "DELETE FROM turn_pending_kills");
  // Deleting a room now queues one exact kill per username of the room, not a pattern naming the room.
  exec(db.get(), ("INSERT INTO turn_credentials VALUES ('u1', '" + room +
                  "', 1, 'r', 'long-term', 'c', 1, 2), "
                  "('u2', '" +
                  room + "', 2, 'r', 'long-term', 'c', 1, 2)")
                     .c_str());
  exec(db.get(), ("DELETE FROM rooms WHERE roomid = '" + room + "'").c_str());
  Result<Statement> stmt =
      Statement::prepare(db.get(), "SELECT pattern, exact FROM turn_pending_kills ORDER BY 1");
  ASSERT_TRUE(stmt.ok());
  Statement::Run run = stmt->run();
  std::vector<std::pair<std::string, std::int64_t>> kills;
  while (*run.step()) kills.emplace_back(run.column_text(0), run.column_int64(1));
  EXPECT_EQ(kills, (std::vector<std::pair<std::string, std::int64_t>>{{"u1", 1}, {"u2", 1}}));
}

TEST(ApplyMigrations, FailureLeavesTheDatabaseExactlyAsBefore) {
  TempDbPath file;
  const std::vector<Migration> migrations = {
      {1, "001_ok", "CREATE TABLE a(x INTEGER);"},
      {2, "002_broken", "CREATE TABLE b(y TEXT); INSERT INTO nowhere VALUES (1);"}};
  SqliteDb db = open_raw(file.path());
  Result<void> applied = apply_migrations(db.get(), migrations);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("002_broken"), std::string::npos) << applied.error().message;
  EXPECT_NE(applied.error().message.find("nowhere"), std::string::npos) << applied.error().message;
  EXPECT_EQ(user_version(db.get()), 0);
  EXPECT_TRUE(table_names(db.get()).empty());
  EXPECT_NE(sqlite3_get_autocommit(db.get()), 0) << "transaction left open";
}

TEST(ApplyMigrations, TransactionStatementsInsideAMigrationAreRejected) {
  struct Case {
    const char* name;
    const char* sql;
  };
  const Case cases[] = {
      {"commit", "CREATE TABLE a(x INTEGER); COMMIT;"},
      {"begin", "BEGIN; CREATE TABLE a(x INTEGER);"},
      {"rollback", "CREATE TABLE a(x INTEGER); ROLLBACK;"},
      {"end", "CREATE TABLE a(x INTEGER); END;"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDbPath file;
    SqliteDb db = open_raw(file.path());
    const std::vector<Migration> migrations = {{1, "001_tx", c.sql}};
    Result<void> applied = apply_migrations(db.get(), migrations);
    ASSERT_FALSE(applied.ok());
    EXPECT_EQ(user_version(db.get()), 0);
    EXPECT_TRUE(table_names(db.get()).empty());
    EXPECT_NE(sqlite3_get_autocommit(db.get()), 0);
  }
}

TEST(ApplyMigrations, SavepointsInsideAMigrationAreAllowed) {
  TempDbPath file;
  SqliteDb db = open_raw(file.path());
  const std::vector<Migration> migrations = {
      {1, "001_sp", "SAVEPOINT s; CREATE TABLE a(x INTEGER); RELEASE s; CREATE TABLE b(y INTEGER);"}};
  Result<void> applied = apply_migrations(db.get(), migrations);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(table_names(db.get()), (std::vector<std::string>{"a", "b"}));
}

TEST(ApplyMigrations, RejectsListsNotNumberedOneTwoThree) {
  const std::vector<std::vector<Migration>> bad_lists = {
      {{2, "002_x", "CREATE TABLE x(a);"}},
      {{1, "001_x", "CREATE TABLE x(a);"}, {3, "003_y", "CREATE TABLE y(a);"}},
      {{1, "001_x", "CREATE TABLE x(a);"}, {1, "001_y", "CREATE TABLE y(a);"}},
      {{0, "000_x", "CREATE TABLE x(a);"}},
  };
  for (const auto& list : bad_lists) {
    TempDbPath file;
    SqliteDb db = open_raw(file.path());
    Result<void> applied = apply_migrations(db.get(), list);
    EXPECT_FALSE(applied.ok()) << list.back().name;
    EXPECT_TRUE(table_names(db.get()).empty());
  }
}

TEST(ApplyMigrations, EmptyListAcceptsOnlyAnEmptySchemaVersion) {
  TempDbPath file;
  SqliteDb db = open_raw(file.path());
  EXPECT_TRUE(apply_migrations(db.get(), {}).ok());
  exec(db.get(), "PRAGMA user_version = 1");
  EXPECT_FALSE(apply_migrations(db.get(), {}).ok());
}

}  // namespace
}  // namespace turnpike

namespace turnpike {
namespace {

// Credentials that an old renewal wrote for rooms already gone are revoked (coturn rows too) and their relays
// queued for a kill; those of live rooms stay, now tied to rooms by a foreign key.
TEST(ApplyMigrations, CredentialsOfRoomsThatAreGoneAreRevokedAndTheRestTiedToRooms) {
  TempDbPath file;
  std::span<const Migration> all = embedded_migrations();
  ASSERT_GE(all.size(), 6u);
  SqliteDb db = open_raw(file.path());
  ASSERT_TRUE(apply_migrations(db.get(), all.first(5)).ok());
  const std::string live(48, 'a');
  const std::string gone(48, 'b');
  const std::string key(32, '0');
  exec(db.get(), ("INSERT INTO rooms VALUES ('" + live + "', 'x', 'y', 1, 1)").c_str());
  exec(db.get(),
       ("INSERT INTO turn_credentials VALUES ('kept', '" + live +
        "', 1, 'r', 'long-term', 'c', 1, 2), ('orphan', '" + gone + "', 1, 'r', 'long-term', 'c', 1, 2)")
           .c_str());
  exec(db.get(),
       ("INSERT INTO turnusers_lt VALUES ('r', 'kept', '" + key + "'), ('r', 'orphan', '" + key + "')")
           .c_str());
  exec(db.get(), ("INSERT INTO turn_room_secrets VALUES ('" + gone + "', 'r', 'gone-secret')").c_str());
  exec(db.get(), "INSERT INTO turn_secret VALUES ('r', 'gone-secret')");
  ASSERT_TRUE(apply_migrations(db.get(), all).ok());
  EXPECT_EQ(count_rows(db.get(), "turn_credentials"), 1);
  EXPECT_EQ(count_rows(db.get(), "turnusers_lt"), 1);
  EXPECT_EQ(count_rows(db.get(), "turn_room_secrets"), 0);
  EXPECT_EQ(count_rows(db.get(), "turn_secret"), 0);
  Result<Statement> stmt = Statement::prepare(db.get(), "SELECT pattern, reason FROM turn_pending_kills");
  ASSERT_TRUE(stmt.ok());
  Statement::Run run = stmt->run();
  std::vector<std::pair<std::string, std::string>> kills;
  while (*run.step()) kills.emplace_back(run.column_text(0), run.column_text(1));
  EXPECT_EQ(kills, (std::vector<std::pair<std::string, std::string>>{{"orphan", "room_ended"}}));
  // With foreign keys on (as turnpiked runs), a credential for a room that is gone is refused.
  exec(db.get(), "PRAGMA foreign_keys = ON");
  EXPECT_NE(sqlite3_exec(db.get(),
                         ("INSERT INTO turn_credentials VALUES ('new', '" + gone +
                          "', 1, 'r', 'long-term', 'c', 1, 2)")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  // The kept row and its coturn row still go with their room (the triggers were rebuilt with the table).
  exec(db.get(), ("DELETE FROM rooms WHERE roomid = '" + live + "'").c_str());
  EXPECT_EQ(count_rows(db.get(), "turn_credentials"), 0);
  EXPECT_EQ(count_rows(db.get(), "turnusers_lt"), 0);
}

}  // namespace
}  // namespace turnpike
