// Tests for grouped commits on a real SQLite file: one COMMIT per event-loop turn, savepoints that fail
// alone, a commit that fails for the whole group, waiters, cancellation and follow-up groups; each with the
// WAL synced by the commit and with the WAL synced off the loop by a WalSyncer.
#include "db/group_commit.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "db/database.hpp"
#include "net/event_handles.hpp"
#include "pairing/pairing_store.hpp"
#include "temp_db_path.hpp"

namespace turnpike {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

std::int64_t count_rows(const std::string& path, const char* sql) {
  Result<SqliteDb> db = open_database(path, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok());
  if (!db) return -1;
  Result<Statement> stmt = Statement::prepare(db->get(), sql);
  EXPECT_TRUE(stmt.ok()) << (stmt.ok() ? "" : stmt.error().message);
  if (!stmt) return -1;
  Statement::Run run = stmt->run();
  Result<bool> row = run.step();
  return row.ok() && *row ? run.column_int64(0) : -1;
}

// The parameter: whether a WalSyncer makes commits durable (the daemon's set-up with group commit on).
class GroupCommitTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    DatabaseOptions options{db_.path(), true, 2000};
    options.sync_off_connection = synced();
    auto database = Database::open(options);
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(*database);
    auto opened = PairingStore::open(*database_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    std::unique_ptr<WalSyncer> syncer;
    if (synced()) {
      auto started = WalSyncer::start(base_.get(), database_->wal_path());
      ASSERT_TRUE(started.ok()) << started.error().message;
      syncer = std::move(*started);
    }
    commits_ =
        std::make_unique<GroupCommit>(base_.get(), database_->transactions(), grouping(), std::move(syncer));
  }
  virtual bool grouping() const { return true; }
  bool synced() const { return GetParam(); }

  // Runs `work` as one callback of the loop, then the loop until every commit is durable and its waiters
  // have run (bounded: 10 s).
  template <typename Work>
  void in_one_turn(Work work) {
    struct Call {
      Work* work;
      bool done = false;
      static void run(evutil_socket_t, short, void* self) {
        auto* call = static_cast<Call*>(self);
        (*call->work)();
        call->done = true;
      }
    } call{&work};
    timeval now{0, 0};
    ASSERT_EQ(event_base_once(base_.get(), -1, EV_TIMEOUT, &Call::run, &call, &now), 0);
    run_loop_until([&] { return call.done && !commits_->pending(); });
  }

  template <typename Done>
  void run_loop_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline);
      timeval tick{0, 10'000};
      event_base_loopexit(base_.get(), &tick);
      ASSERT_GE(event_base_loop(base_.get(), EVLOOP_ONCE), 0);
    }
  }

  void create(const std::string& joinid) {
    auto created = store_->create_pending(joinid, "device-" + joinid, kNow, kNow + 60'000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_EQ(*created, CreateOutcome::created);
  }

  std::int64_t pendings_on_disk() { return count_rows(db_.path(), "SELECT count(*) FROM pendings"); }
  const TransactionStatements::Counts& counts() { return database_->transactions().counts(); }

  TempDbPath db_;
  EventBasePtr base_{event_base_new()};
  std::unique_ptr<Database> database_;  // before the store, which it outlives
  std::unique_ptr<PairingStore> store_;
  std::unique_ptr<GroupCommit> commits_;
};

TEST_P(GroupCommitTest, WritesOfOneTurnShareOneCommitAndWaitersRunAfterIt) {
  const auto commits_before = counts().commits;
  std::vector<std::string> seen;
  in_one_turn([&] {
    for (const char* joinid : {"100001", "100002", "100003"}) {
      create(joinid);
      EXPECT_TRUE(commits_->pending());
      commits_->wait([&, joinid = std::string(joinid)](bool committed) {
        EXPECT_TRUE(committed);
        seen.push_back(joinid + "@" + std::to_string(pendings_on_disk()));
      });
    }
    // Not durable yet: another connection sees nothing.
    EXPECT_EQ(pendings_on_disk(), 0);
  });
  EXPECT_FALSE(commits_->pending());
  EXPECT_EQ(counts().commits - commits_before, 1u);
  EXPECT_EQ(counts().writes, 3u);
  EXPECT_EQ(seen, (std::vector<std::string>{"100001@3", "100002@3", "100003@3"}));
}

TEST_P(GroupCommitTest, AFailedStepRollsBackAloneAndTheRestCommits) {
  in_one_turn([&] {
    create("200001");
    create("200002");
    auto first = store_->accept("200001", "other-1", kNow, std::string(48, 'a'));
    ASSERT_TRUE(first.ok());
    // The same room id again: inserting the room fails after the pending was marked accepted.
    auto second = store_->accept("200002", "other-2", kNow, std::string(48, 'a'));
    EXPECT_FALSE(second.ok());
  });
  EXPECT_EQ(pendings_on_disk(), 2);
  EXPECT_EQ(count_rows(db_.path(), "SELECT count(*) FROM rooms"), 1);
  EXPECT_EQ(
      count_rows(db_.path(), "SELECT count(*) FROM pendings WHERE joinid = '200002' AND client2 IS NULL"), 1);
}

TEST_P(GroupCommitTest, AFailedCommitLosesTheWholeGroupAndTellsTheWaiters) {
  // A deferred foreign key is only checked at COMMIT, which then fails.
  ASSERT_EQ(
      sqlite3_exec(database_->handle(),
                   "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
                   "CREATE TABLE child(pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  auto orphan = Statement::prepare(database_->handle(), "INSERT INTO child(pid) VALUES (42)");
  ASSERT_TRUE(orphan.ok());
  const auto failed_before = counts().failed_commits;
  std::vector<bool> outcomes;
  bool action_ran = false;
  in_one_turn([&] {
    create("300001");
    commits_->wait([&](bool committed) { outcomes.push_back(committed); });
    commits_->after_commit([&] { action_ran = true; });
    auto tx = Transaction::begin(database_->transactions());
    ASSERT_TRUE(tx.ok());
    {
      auto run = orphan->run();
      ASSERT_TRUE(run.run_to_completion().ok());
    }
    ASSERT_TRUE(tx->commit().ok());  // released into the group; the violation shows at COMMIT
  });
  EXPECT_EQ(outcomes, std::vector<bool>{false});
  EXPECT_FALSE(action_ran);
  EXPECT_EQ(counts().failed_commits - failed_before, 1u);
  EXPECT_EQ(pendings_on_disk(), 0);

  // The next turn starts clean.
  in_one_turn([&] { create("300002"); });
  EXPECT_EQ(pendings_on_disk(), 1);
}

TEST_P(GroupCommitTest, CancelledWaitersDoNotRun) {
  bool ran = false;
  in_one_turn([&] {
    create("400001");
    auto ticket = commits_->wait([&](bool) { ran = true; });
    EXPECT_NE(ticket, 0u);
    commits_->cancel(ticket);
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(pendings_on_disk(), 1);
}

TEST_P(GroupCommitTest, AWaiterThatWritesStartsTheNextGroup) {
  const auto commits_before = counts().commits;
  bool second_done = false;
  in_one_turn([&] {
    create("500001");
    commits_->wait([&](bool committed) {
      ASSERT_TRUE(committed);
      create("500002");
      EXPECT_TRUE(commits_->pending());
      commits_->wait([&](bool again) { second_done = again; });
    });
  });
  EXPECT_TRUE(second_done);
  EXPECT_EQ(counts().commits - commits_before, 2u);
  EXPECT_EQ(pendings_on_disk(), 2);
}

TEST_P(GroupCommitTest, WithoutAnOpenGroupWaitersAndActionsRunAtOnce) {
  bool waited = false, acted = false;
  EXPECT_EQ(commits_->wait([&](bool committed) { waited = committed; }), 0u);
  commits_->after_commit([&] { acted = true; });
  EXPECT_TRUE(waited);
  EXPECT_TRUE(acted);
}

TEST_P(GroupCommitTest, DestroyingCommitsWhatIsOpen) {
  create("600001");
  EXPECT_TRUE(commits_->pending());
  commits_.reset();
  EXPECT_EQ(pendings_on_disk(), 1);
}

class UngroupedCommitTest : public GroupCommitTest {
 protected:
  bool grouping() const override { return false; }
};

TEST_P(UngroupedCommitTest, EveryWriteCommitsByItself) {
  const auto commits_before = counts().commits;
  in_one_turn([&] {
    create("700001");
    EXPECT_FALSE(commits_->pending());
    EXPECT_EQ(pendings_on_disk(), 1);
    create("700002");
  });
  EXPECT_EQ(counts().commits - commits_before, 2u);
  EXPECT_EQ(counts().writes, 2u);
}

TEST_P(GroupCommitTest, WaitersRunOnceTheCommitIsDurableAndLaterReadsWaitForIt) {
  std::vector<std::string> order;
  in_one_turn([&] {
    create("800001");
    commits_->wait([&](bool committed) { order.push_back(committed ? "write" : "lost"); });
    commits_->commit_now();
    // Committed: other connections see it; durable only once the syncer says so.
    EXPECT_EQ(pendings_on_disk(), 1);
    EXPECT_EQ(order.empty(), synced());
    EXPECT_EQ(commits_->pending(), synced());
    // A read of that data, answered after it: no group is open, yet it waits for the same commit.
    commits_->wait([&](bool committed) { order.push_back(committed ? "read" : "lost"); });
  });
  EXPECT_EQ(order, (std::vector<std::string>{"write", "read"}));
}

TEST_P(GroupCommitTest, DestroyingMakesTheLastCommitsDurableAndRunsTheirWaiters) {
  bool ran = false;
  create("900001");
  commits_->wait([&](bool committed) { ran = committed; });
  commits_.reset();
  EXPECT_TRUE(ran);
  EXPECT_EQ(pendings_on_disk(), 1);
}

TEST_P(GroupCommitTest, TheWriterSyncsItsCommitsOnlyWhenNoSyncerDoes) {
  auto sync = Statement::prepare(database_->handle(), "PRAGMA synchronous");
  ASSERT_TRUE(sync.ok());
  auto run = sync->run();
  ASSERT_TRUE(run.step().ok());
  EXPECT_EQ(run.column_int64(0), synced() ? 1 : 2);  // NORMAL : FULL
  struct stat st {};
  EXPECT_EQ(::stat(database_->wal_path().c_str(), &st), 0) << database_->wal_path();
}

INSTANTIATE_TEST_SUITE_P(Wal, GroupCommitTest, ::testing::Values(false, true), [](const auto& param) {
  return param.param ? "SyncedOffTheLoop" : "SyncedByTheCommit";
});
INSTANTIATE_TEST_SUITE_P(Wal, UngroupedCommitTest, ::testing::Values(false));

TEST(WalSyncerDeathTest, AFailedFlushEndsTheProcessWithTheReason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDbPath dir;
  const std::string fifo = dir.path() + ".fifo";  // fdatasync refuses a FIFO (EINVAL)
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EXIT(
      {
        EventBasePtr base(event_base_new());
        auto syncer = WalSyncer::start(base.get(), fifo);
        if (!syncer) std::_Exit(2);
        (*syncer)->request(1);
        std::this_thread::sleep_for(std::chrono::seconds(10));
        std::_Exit(3);
      },
      ::testing::ExitedWithCode(EXIT_FAILURE), "event=wal_sync_failed .*reason=\"?Invalid argument");
  ::unlink(fifo.c_str());
}

TEST(WalSyncer, StartFailsWhenTheWalFileIsMissing) {
  EventBasePtr base(event_base_new());
  auto syncer = WalSyncer::start(base.get(), "/nonexistent/turnpike.db-wal");
  ASSERT_FALSE(syncer.ok());
  EXPECT_NE(syncer.error().message.find("/nonexistent/turnpike.db-wal"), std::string::npos);
}

}  // namespace
}  // namespace turnpike
