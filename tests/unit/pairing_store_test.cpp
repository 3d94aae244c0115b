// Tests for PairingStore on a real SQLite file: pairing outcomes, expiry edges, purge, locking and
// persistence.
#include "pairing/pairing_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "db/sqlite_handles.hpp"
#include "temp_db_path.hpp"

namespace turnpike {
namespace {

using Accept = AcceptOutcome::Kind;
using Check = CheckOutcome::Kind;

// 48 lowercase hex characters, distinct for distinct n and ordered like n.
std::string rid(unsigned n) {
  char buffer[49];
  std::snprintf(buffer, sizeof buffer, "%048x", n);
  return buffer;
}

// A second, independent connection to the same file, as another process (coturn, an admin) would have.
SqliteDb second_connection(const std::string& path) {
  Result<SqliteDb> db = open_database(path, SQLITE_OPEN_READWRITE);
  EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
  return db.ok() ? std::move(db).value() : SqliteDb();
}

void exec(sqlite3* db, const char* sql) {
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
}

class PairingStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    reopen();
    ASSERT_NE(store_, nullptr);
  }

  // Closes the store and its database (if open), then opens both again on the same file.
  void reopen(DatabaseOptions options = {}) {
    store_.reset();
    database_.reset();
    options.path = file_.path();
    Result<std::unique_ptr<Database>> database = Database::open(options);
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(database).value();
    Result<std::unique_ptr<PairingStore>> store = PairingStore::open(*database_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }

  CreateOutcome create(std::string_view joinid, std::string_view client1, std::int64_t now,
                       std::int64_t exp) {
    Result<CreateOutcome> r = store_->create_pending(joinid, client1, now, exp);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : CreateOutcome::conflict;
  }

  AcceptOutcome accept(std::string_view joinid, std::string_view client2, std::int64_t now,
                       std::string_view roomid) {
    Result<AcceptOutcome> r = store_->accept(joinid, client2, now, roomid);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : AcceptOutcome{Accept::not_found, "error"};
  }

  CheckOutcome check(std::string_view joinid, std::string_view client1, std::int64_t now) {
    Result<CheckOutcome> r = store_->check(joinid, client1, now);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : CheckOutcome{Check::not_found, "error"};
  }

  std::optional<RoomRow> room(std::string_view roomid) {
    Result<std::optional<RoomRow>> r = store_->find_room(roomid);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : std::nullopt;
  }

  StoreCounts counts(std::int64_t now) {
    Result<StoreCounts> r = store_->counts(now);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : StoreCounts{-1, -1};
  }

  // Creates joinid for client1 at t=1000 (expiring at 100000) and accepts it for client2 at t=2000.
  void pair(std::string_view joinid, std::string_view client1, std::string_view client2,
            std::string_view roomid) {
    ASSERT_EQ(create(joinid, client1, 1000, 100000), CreateOutcome::created);
    ASSERT_EQ(accept(joinid, client2, 2000, roomid).kind, Accept::accepted);
  }

  TempDbPath file_;
  std::unique_ptr<Database> database_;  // before the store, which it outlives
  std::unique_ptr<PairingStore> store_;
};

// ---- create_pending
// ----------------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, LiveDuplicateJoinIdIsAConflictAndKeepsTheFirstPending) {
  EXPECT_EQ(create("123456", "alice", 1000, 5000), CreateOutcome::created);
  EXPECT_EQ(create("123456", "mallory", 1001, 9000), CreateOutcome::conflict);
  EXPECT_EQ(create("123456", "alice", 4999, 9000), CreateOutcome::conflict);

  EXPECT_EQ(check("123456", "mallory", 2000).kind, Check::not_found);
  EXPECT_EQ(check("123456", "alice", 2000).kind, Check::waiting);
  EXPECT_EQ(check("123456", "alice", 4999).kind, Check::waiting);  // still the first row's exp_ms
  EXPECT_EQ(check("123456", "alice", 5000).kind, Check::not_found);
}

TEST_F(PairingStoreTest, ExpiredJoinIdCanBeCreatedAgainAtExactlyItsExpiry) {
  ASSERT_EQ(create("123456", "alice", 1000, 5000), CreateOutcome::created);
  EXPECT_EQ(create("123456", "bob", 4999, 9000), CreateOutcome::conflict);
  EXPECT_EQ(create("123456", "bob", 5000, 9000), CreateOutcome::created);

  EXPECT_EQ(check("123456", "alice", 5000).kind, Check::not_found);
  EXPECT_EQ(check("123456", "bob", 5000).kind, Check::waiting);
  EXPECT_EQ(counts(5000).pendings, 1);
}

TEST_F(PairingStoreTest, ExpiredAcceptedJoinIdCanBeCreatedAgain) {
  pair("123456", "alice", "bob", rid(1));
  EXPECT_EQ(create("123456", "carol", 100000, 200000), CreateOutcome::created);
  EXPECT_EQ(check("123456", "carol", 100001).kind, Check::waiting);
  EXPECT_TRUE(room(rid(1)).has_value());  // rooms are not touched by pending expiry
}

TEST_F(PairingStoreTest, CreateRefusesAnExpiryNotAfterNow) {
  EXPECT_FALSE(store_->create_pending("123456", "alice", 1000, 1000).ok());
  EXPECT_FALSE(store_->create_pending("123456", "alice", 1000, 999).ok());
  EXPECT_EQ(counts(0).pendings, 0);
}

// ---- accept
// ------------------------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, AcceptIsExactToTheMillisecond) {
  struct Case {
    std::int64_t now;
    Accept expected;
  };
  const Case cases[] = {{1000, Accept::accepted},
                        {4999, Accept::accepted},
                        {5000, Accept::not_found},
                        {5001, Accept::not_found}};
  unsigned n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.now);
    const std::string joinid = "10000" + std::to_string(n);
    ASSERT_EQ(create(joinid, "alice", 1000, 5000), CreateOutcome::created);
    AcceptOutcome got = accept(joinid, "bob", c.now, rid(++n));
    EXPECT_EQ(got.kind, c.expected);
    if (c.expected == Accept::accepted) {
      EXPECT_EQ(got.roomid, rid(n));
    } else {
      EXPECT_FALSE(room(rid(n)).has_value());
    }
  }
}

TEST_F(PairingStoreTest, AcceptCreatesTheRoomWithBothDevicesAndTimes) {
  ASSERT_EQ(create("123456", "alice", 1000, 60000), CreateOutcome::created);
  AcceptOutcome got = accept("123456", "bob", 2500, rid(7));
  ASSERT_EQ(got.kind, Accept::accepted);
  EXPECT_EQ(got.roomid, rid(7));

  std::optional<RoomRow> row = room(rid(7));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->roomid, rid(7));
  EXPECT_EQ(row->client1, "alice");
  EXPECT_EQ(row->client2, "bob");
  EXPECT_EQ(row->created_ms, 2500);
  EXPECT_EQ(row->last_active_ms, 2500);
}

TEST_F(PairingStoreTest, AcceptOfUnknownJoinIdIsNotFound) {
  EXPECT_EQ(accept("999999", "bob", 1000, rid(1)).kind, Accept::not_found);
  EXPECT_FALSE(room(rid(1)).has_value());
}

TEST_F(PairingStoreTest, SecondAcceptIsAConflictAndChangesNothing) {
  pair("123456", "alice", "bob", rid(1));

  AcceptOutcome second = accept("123456", "mallory", 3000, rid(2));
  EXPECT_EQ(second.kind, Accept::conflict);
  AcceptOutcome same_device = accept("123456", "bob", 3000, rid(3));
  EXPECT_EQ(same_device.kind, Accept::conflict);

  std::optional<RoomRow> first = room(rid(1));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->client2, "bob");
  EXPECT_FALSE(room(rid(2)).has_value());
  EXPECT_FALSE(room(rid(3)).has_value());
  EXPECT_EQ(counts(3000).rooms, 1);

  CheckOutcome checked = check("123456", "alice", 3000);
  EXPECT_EQ(checked.kind, Check::ready);
  EXPECT_EQ(checked.roomid, rid(1));
}

TEST_F(PairingStoreTest, AcceptThatFailsMidwayRollsBackThePendingUpdate) {
  ASSERT_EQ(create("123456", "alice", 1000, 60000), CreateOutcome::created);
  pair("222222", "carol", "dave", rid(5));

  // The pending is updated before the room insert fails (bad length / duplicate roomid): all of it must roll
  // back.
  EXPECT_FALSE(store_->accept("123456", "bob", 2000, "too-short").ok());
  EXPECT_FALSE(store_->accept("123456", "bob", 2000, rid(5)).ok());

  EXPECT_EQ(check("123456", "alice", 2000).kind, Check::waiting);
  EXPECT_EQ(room(rid(5))->client1, "carol");
  EXPECT_EQ(counts(2000).rooms, 1);
  EXPECT_EQ(accept("123456", "bob", 2000, rid(6)).kind, Accept::accepted);
  EXPECT_EQ(sqlite3_get_autocommit(database_->handle()), 1);
}

// ---- check
// -------------------------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, CheckGoesFromWaitingToReadyAndThenTheCodeIsGone) {
  ASSERT_EQ(create("123456", "alice", 1000, 60000), CreateOutcome::created);
  EXPECT_EQ(check("123456", "alice", 1500).kind, Check::waiting);
  EXPECT_EQ(check("123456", "alice", 1600).kind, Check::waiting);  // waiting does not consume the pending
  ASSERT_EQ(accept("123456", "bob", 2000, rid(1)).kind, Accept::accepted);

  CheckOutcome ready = check("123456", "alice", 2100);
  EXPECT_EQ(ready.kind, Check::ready);
  EXPECT_EQ(ready.roomid, rid(1));

  EXPECT_EQ(check("123456", "alice", 2200).kind, Check::not_found);
  EXPECT_EQ(counts(2200).pendings, 0);
  EXPECT_EQ(accept("123456", "mallory", 2300, rid(2)).kind, Accept::not_found);
  EXPECT_TRUE(room(rid(1)).has_value());
}

TEST_F(PairingStoreTest, CheckNeedsBothJoinIdAndClient1) {
  pair("123456", "alice", "bob", rid(1));
  EXPECT_EQ(check("999999", "alice", 3000).kind, Check::not_found);
  EXPECT_EQ(check("123456", "bob", 3000).kind, Check::not_found);
  EXPECT_EQ(check("123456", "Alice", 3000).kind, Check::not_found);
  EXPECT_EQ(check("123456", "alice", 3000).kind, Check::ready);  // the failed checks did not consume it
}

TEST_F(PairingStoreTest, CheckIsExactToTheMillisecond) {
  ASSERT_EQ(create("111111", "alice", 1000, 5000), CreateOutcome::created);
  ASSERT_EQ(create("222222", "alice", 1000, 5000), CreateOutcome::created);
  ASSERT_EQ(accept("222222", "bob", 2000, rid(1)).kind, Accept::accepted);
  ASSERT_EQ(create("333333", "alice", 1000, 5000), CreateOutcome::created);
  ASSERT_EQ(accept("333333", "bob", 2000, rid(2)).kind, Accept::accepted);

  EXPECT_EQ(check("111111", "alice", 4999).kind, Check::waiting);
  EXPECT_EQ(check("111111", "alice", 5000).kind, Check::not_found);
  EXPECT_EQ(check("222222", "alice", 5000).kind, Check::not_found);
  CheckOutcome last_ms = check("333333", "alice", 4999);
  EXPECT_EQ(last_ms.kind, Check::ready);
  EXPECT_EQ(last_ms.roomid, rid(2));
}

TEST_F(PairingStoreTest, CheckReturnsThisJoinCodesRoomNotAnOlderRoomOfTheSamePair) {
  pair("111111", "alice", "bob", rid(1));  // older room of the same two devices, never checked
  ASSERT_EQ(check("111111", "alice", 2100).kind, Check::ready);
  pair("222222", "alice", "bob", rid(2));

  CheckOutcome got = check("222222", "alice", 3000);
  EXPECT_EQ(got.kind, Check::ready);
  EXPECT_EQ(got.roomid, rid(2));
  EXPECT_EQ(counts(3000).rooms, 2);
}

TEST_F(PairingStoreTest, CheckIsStillReadyWithTheRoomIdAfterTheRoomWasDeleted) {
  pair("123456", "alice", "bob", rid(1));
  ASSERT_TRUE(*store_->delete_room(rid(1)));
  CheckOutcome got = check("123456", "alice", 3000);
  EXPECT_EQ(got.kind, Check::ready);
  EXPECT_EQ(got.roomid, rid(1));
}

// ---- rooms
// -------------------------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, FindRoomOfUnknownIdIsEmpty) {
  EXPECT_FALSE(room(rid(42)).has_value());
}

TEST_F(PairingStoreTest, TouchRoomMovesLastActiveAndIgnoresUnknownRooms) {
  pair("123456", "alice", "bob", rid(1));
  ASSERT_TRUE(store_->touch_room(rid(1), 9000).ok());
  EXPECT_EQ(room(rid(1))->last_active_ms, 9000);
  EXPECT_EQ(room(rid(1))->created_ms, 2000);
  EXPECT_TRUE(store_->touch_room(rid(2), 9000).ok());
  EXPECT_FALSE(room(rid(2)).has_value());
}

TEST_F(PairingStoreTest, DeleteRoomReportsWhetherARowWentAway) {
  pair("123456", "alice", "bob", rid(1));
  Result<bool> first = store_->delete_room(rid(1));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  Result<bool> second = store_->delete_room(rid(1));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  EXPECT_FALSE(room(rid(1)).has_value());
}

TEST_F(PairingStoreTest, DeleteIdleRoomsUsesStrictlyBeforeAndReturnsTheirIds) {
  pair("111111", "a", "b", rid(1));
  pair("222222", "c", "d", rid(2));
  pair("333333", "e", "f", rid(3));
  ASSERT_TRUE(store_->touch_room(rid(1), 100).ok());
  ASSERT_TRUE(store_->touch_room(rid(2), 200).ok());
  ASSERT_TRUE(store_->touch_room(rid(3), 300).ok());

  Result<std::vector<std::string>> none = store_->delete_idle_rooms(100, 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  Result<std::vector<std::string>> idle = store_->delete_idle_rooms(201, 1000);
  ASSERT_TRUE(idle.ok()) << idle.error().message;
  EXPECT_EQ(*idle, (std::vector<std::string>{rid(1), rid(2)}));
  EXPECT_FALSE(room(rid(1)).has_value());
  EXPECT_FALSE(room(rid(2)).has_value());
  EXPECT_TRUE(room(rid(3)).has_value());

  ASSERT_TRUE(store_->touch_room(rid(3), 1000).ok());  // activity keeps it
  Result<std::vector<std::string>> after_touch = store_->delete_idle_rooms(301, 1000);
  ASSERT_TRUE(after_touch.ok());
  EXPECT_TRUE(after_touch->empty());
}

TEST_F(PairingStoreTest, RoomCountFollowsEveryWayARoomRowComesAndGoes) {
  SqliteDb other = second_connection(file_.path());
  auto real_count = [&] {
    Result<Statement> stmt = Statement::prepare(other.get(), "SELECT count(*) FROM rooms");
    EXPECT_TRUE(stmt.ok());
    Statement::Run run = stmt->run();
    EXPECT_TRUE(*run.step());
    return run.column_int64(0);
  };
  for (unsigned n = 1; n <= 6; ++n) {
    pair(std::to_string(100000 + n), "a" + std::to_string(n), "b" + std::to_string(n), rid(n));
  }
  EXPECT_EQ(counts(3000).rooms, 6);
  ASSERT_TRUE(store_->delete_room(rid(1)).ok());
  ASSERT_TRUE(store_->delete_room(rid(1)).ok());  // already gone: no change
  EXPECT_EQ(counts(3000).rooms, 5);
  ASSERT_TRUE(store_->purge_devices({"a2"}).ok());
  EXPECT_EQ(counts(3000).rooms, 4);
  ASSERT_TRUE(store_->touch_room(rid(3), 100).ok());
  ASSERT_TRUE(store_->delete_idle_rooms(101, 1000).ok());
  EXPECT_EQ(counts(3000).rooms, 3);
  // By hand, as an admin would with the sqlite3 shell, and a write that fails midway and rolls back.
  exec(other.get(), ("DELETE FROM rooms WHERE roomid = '" + rid(4) + "'").c_str());
  exec(other.get(), ("INSERT INTO rooms VALUES ('" + rid(9) + "', 'x', 'y', 1, 1)").c_str());
  EXPECT_NE(
      sqlite3_exec(
          other.get(),
          ("INSERT INTO rooms VALUES ('" + rid(10) + "', 'x', 'y', 1, 1), ('short', 'x', 'y', 1, 1)").c_str(),
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_EQ(counts(3000).rooms, 3);
  EXPECT_EQ(counts(3000).rooms, real_count());
}

// ---- pendings housekeeping and counts
// ----------------------------------------------------------------------------

TEST_F(PairingStoreTest, DeleteExpiredPendingsRemovesThoseAtOrBeforeNow) {
  ASSERT_EQ(create("111111", "a", 0, 100), CreateOutcome::created);
  ASSERT_EQ(create("222222", "b", 0, 200), CreateOutcome::created);
  ASSERT_EQ(create("333333", "c", 0, 300), CreateOutcome::created);

  Result<std::int64_t> deleted = store_->delete_expired_pendings(200, 1000);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 2);
  EXPECT_EQ(check("333333", "c", 250).kind, Check::waiting);
  EXPECT_EQ(*store_->delete_expired_pendings(200, 1000), 0);
  EXPECT_EQ(*store_->delete_expired_pendings(300, 1000), 1);
}

TEST_F(PairingStoreTest, CountsSeeOnlyLivePendings) {
  ASSERT_EQ(create("111111", "a", 0, 100), CreateOutcome::created);
  ASSERT_EQ(create("222222", "b", 0, 200), CreateOutcome::created);
  pair("333333", "c", "d", rid(1));  // accepted, live until 100000

  struct Case {
    std::int64_t now;
    std::int64_t live;
  };
  for (const Case& c : {Case{99, 3}, Case{100, 2}, Case{199, 2}, Case{200, 1}, Case{100000, 0}}) {
    SCOPED_TRACE(c.now);
    EXPECT_EQ(counts(c.now).pendings, c.live);
    EXPECT_EQ(counts(c.now).rooms, 1);
    Result<std::int64_t> live = store_->live_pending_count(c.now);
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*live, c.live);
  }
}

// ---- purge
// -------------------------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, PurgeDeletesRoomsAndPendingsOfTheDevicesWithDuplicateIdsCountedOnce) {
  pair("111111", "A", "B", rid(1));                                        // A is client1
  pair("222222", "C", "A", rid(2));                                        // A is client2
  pair("333333", "C", "D", rid(3));                                        // unrelated
  ASSERT_EQ(create("444444", "A", 1000, 100000), CreateOutcome::created);  // pending of A, waiting
  ASSERT_EQ(create("555555", "E", 1000, 100000), CreateOutcome::created);  // unrelated pending
  // Live pendings now: 111111, 222222, 333333 (accepted, unchecked), 444444, 555555.

  Result<PurgeOutcome> purged = store_->purge_devices({"A", "A", "nobody"});
  ASSERT_TRUE(purged.ok()) << purged.error().message;
  EXPECT_EQ(purged->rooms_deleted, 2);
  EXPECT_EQ(purged->pendings_deleted, 3);  // 111111 (client1 A), 222222 (client2 A), 444444
  std::vector<std::string> ids = purged->deleted_roomids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{rid(1), rid(2)}));

  EXPECT_TRUE(room(rid(3)).has_value());
  EXPECT_EQ(counts(5000).rooms, 1);
  EXPECT_EQ(counts(5000).pendings, 2);
  EXPECT_EQ(check("555555", "E", 5000).kind, Check::waiting);
  EXPECT_EQ(check("333333", "C", 5000).kind, Check::ready);

  Result<PurgeOutcome> again = store_->purge_devices({"A"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rooms_deleted, 0);
  EXPECT_EQ(again->pendings_deleted, 0);
  EXPECT_TRUE(again->deleted_roomids.empty());
}

TEST_F(PairingStoreTest, PurgeMatchesIdsWithQuotesAndBracketsExactly) {
  // Each id below must match only itself; none may widen the match to "A".
  const std::vector<std::string> tricky = {R"(x","A)",
                                           R"(a"b)",
                                           R"(back\slash)",
                                           "'); DELETE FROM rooms; --",
                                           "]",
                                           "ünï cødé 🙂",
                                           "tab\there",
                                           "%",
                                           "A "};
  for (unsigned i = 1; i <= tricky.size(); ++i) {
    pair(std::to_string(100000 + i), tricky[i - 1], "peer" + std::to_string(i), rid(i));
  }
  pair("999999", "A", "B", rid(100));

  Result<PurgeOutcome> purged = store_->purge_devices(tricky);
  ASSERT_TRUE(purged.ok()) << purged.error().message;
  EXPECT_EQ(purged->rooms_deleted, static_cast<std::int64_t>(tricky.size()));
  EXPECT_EQ(purged->pendings_deleted, static_cast<std::int64_t>(tricky.size()));
  EXPECT_TRUE(room(rid(100)).has_value());
  EXPECT_EQ(counts(5000).rooms, 1);
  for (unsigned i = 1; i <= tricky.size(); ++i) EXPECT_FALSE(room(rid(i)).has_value()) << tricky[i - 1];
}

TEST_F(PairingStoreTest, PurgeOfNoIdsDeletesNothing) {
  pair("123456", "A", "B", rid(1));
  Result<PurgeOutcome> purged = store_->purge_devices({});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(purged->rooms_deleted, 0);
  EXPECT_EQ(purged->pendings_deleted, 0);
  EXPECT_EQ(counts(3000).rooms, 1);
}

TEST_F(PairingStoreTest, PurgeIsOneTransaction) {
  pair("111111", "A", "B", rid(1));
  ASSERT_EQ(create("222222", "A", 1000, 100000), CreateOutcome::created);
  // Make the pendings half of the purge fail after the rooms half has run.
  exec(database_->handle(),
       "CREATE TEMP TRIGGER refuse_pending_delete BEFORE DELETE ON main.pendings "
       "BEGIN SELECT RAISE(ABORT, 'pending delete refused'); END");

  Result<PurgeOutcome> purged = store_->purge_devices({"A"});
  ASSERT_FALSE(purged.ok());
  EXPECT_NE(purged.error().message.find("pending delete refused"), std::string::npos)
      << purged.error().message;
  EXPECT_TRUE(room(rid(1)).has_value());
  EXPECT_EQ(counts(5000).pendings, 2);
  EXPECT_EQ(sqlite3_get_autocommit(database_->handle()), 1);

  exec(database_->handle(), "DROP TRIGGER temp.refuse_pending_delete");
  Result<PurgeOutcome> retried = store_->purge_devices({"A"});
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->rooms_deleted, 1);
  EXPECT_EQ(retried->pendings_deleted, 2);
}

// ---- locking and persistence
// -------------------------------------------------------------------------------------

TEST_F(PairingStoreTest, WriteBlockedPastTheBusyTimeoutIsAnErrorAndTheStoreRecovers) {
  reopen(DatabaseOptions{"", true, 100});
  ASSERT_NE(store_, nullptr);

  SqliteDb other = second_connection(file_.path());
  exec(other.get(), "BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  Result<CreateOutcome> blocked = store_->create_pending("123456", "alice", 1000, 5000);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(80));
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.error().message.find("locked"), std::string::npos) << blocked.error().message;
  EXPECT_FALSE(store_->purge_devices({"alice"}).ok());

  exec(other.get(), "COMMIT");
  EXPECT_EQ(create("123456", "alice", 1000, 5000), CreateOutcome::created);
}

TEST_F(PairingStoreTest, LivePendingsPerCreatorAreCapped) {
  auto create_from = [this](const char* joinid, const char* creator, std::int64_t now, std::int64_t exp) {
    Result<CreateOutcome> r = store_->create_pending(joinid, "alice", now, exp, creator, 2);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : CreateOutcome::conflict;
  };
  EXPECT_EQ(create_from("100001", "192.0.2.1", 1000, 5000), CreateOutcome::created);
  EXPECT_EQ(create_from("100002", "192.0.2.1", 1000, 9000), CreateOutcome::created);
  EXPECT_EQ(create_from("100003", "192.0.2.1", 1000, 9000), CreateOutcome::too_many_for_creator);
  EXPECT_EQ(create_from("100001", "192.0.2.1", 1000, 9000),
            CreateOutcome::too_many_for_creator);  // before 409
  EXPECT_EQ(counts(1000).pendings, 2);             // the refused create wrote nothing
  EXPECT_EQ(create_from("100003", "2001:db8::", 1000, 9000), CreateOutcome::created);  // another creator
  EXPECT_EQ(create("100004", "alice", 1000, 9000), CreateOutcome::created);  // none recorded: no cap
  EXPECT_EQ(create_from("100005", "192.0.2.1", 4999, 9000), CreateOutcome::too_many_for_creator);
  EXPECT_EQ(create_from("100005", "192.0.2.1", 5000, 9000),
            CreateOutcome::created);  // 100001 expired at 5000
  // A code that was used up no longer counts.
  ASSERT_EQ(accept("100002", "bob", 5000, rid(1)).kind, AcceptOutcome::Kind::accepted);
  ASSERT_EQ(check("100002", "alice", 5000).kind, Check::ready);
  EXPECT_EQ(create_from("100006", "192.0.2.1", 5000, 9000), CreateOutcome::created);
  EXPECT_EQ(create_from("100007", "192.0.2.1", 5000, 9000), CreateOutcome::too_many_for_creator);
}

TEST_F(PairingStoreTest, TheCapOnLivePendingsPerCreatorHoldsAcrossReopen) {
  for (const char* joinid : {"100001", "100002"}) {
    ASSERT_EQ(*store_->create_pending(joinid, "alice", 1000, 9000, "192.0.2.1", 2), CreateOutcome::created);
  }
  store_.reset();
  database_.reset();
  reopen();
  ASSERT_NE(store_, nullptr);
  Result<CreateOutcome> refused = store_->create_pending("100003", "alice", 2000, 9000, "192.0.2.1", 2);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_EQ(*refused, CreateOutcome::too_many_for_creator);
}

TEST_F(PairingStoreTest, DataSurvivesCloseAndReopen) {
  pair("111111", "alice", "bob", rid(1));
  ASSERT_EQ(create("222222", "carol", 1000, 100000), CreateOutcome::created);
  ASSERT_TRUE(store_->touch_room(rid(1), 7000).ok());
  store_.reset();
  database_.reset();

  reopen();
  ASSERT_NE(store_, nullptr);
  std::optional<RoomRow> row = room(rid(1));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->client1, "alice");
  EXPECT_EQ(row->client2, "bob");
  EXPECT_EQ(row->created_ms, 2000);
  EXPECT_EQ(row->last_active_ms, 7000);
  CheckOutcome ready = check("111111", "alice", 8000);
  EXPECT_EQ(ready.kind, Check::ready);
  EXPECT_EQ(ready.roomid, rid(1));
  EXPECT_EQ(check("222222", "carol", 8000).kind, Check::waiting);
}

// ---- per-client caps

TEST_F(PairingStoreTest, RoomsPerClientAreCappedOnBothSides) {
  auto accept_capped = [this](const char* joinid, const char* client1, const char* client2, unsigned n) {
    EXPECT_EQ(create(joinid, client1, 1000, 100000), CreateOutcome::created);
    Result<AcceptOutcome> r = store_->accept(joinid, client2, 2000, rid(n), 2);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->kind : Accept::not_found;
  };
  EXPECT_EQ(accept_capped("200001", "alice", "bob", 1), Accept::accepted);
  EXPECT_EQ(accept_capped("200002", "carol", "alice", 2), Accept::accepted);
  EXPECT_EQ(accept_capped("200003", "alice", "dave", 3), Accept::too_many_rooms);  // client1 is full
  EXPECT_EQ(accept_capped("200004", "erin", "alice", 4), Accept::too_many_rooms);  // client2 is full
  EXPECT_EQ(accept_capped("200005", "bob", "erin", 5), Accept::accepted);
  EXPECT_FALSE(room(rid(3)).has_value());
  EXPECT_EQ(check("200003", "alice", 3000).kind, Check::waiting);  // the refused accept changed nothing
  ASSERT_TRUE(store_->delete_room(rid(1)).ok());
  Result<AcceptOutcome> again = store_->accept("200003", "dave", 4000, rid(6), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, Accept::accepted);
}

TEST_F(PairingStoreTest, RoomCountReadsTheCountTable) {
  pair("300001", "alice", "bob", rid(1));
  pair("300002", "alice", "carol", rid(2));
  Result<std::int64_t> rooms = store_->room_count();
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(*rooms, 2);
}

}  // namespace
}  // namespace turnpike
