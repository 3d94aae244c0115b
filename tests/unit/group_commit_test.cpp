// Tests for grouped commits on a real SQLite file: one COMMIT per event-loop turn, savepoints that fail
// alone, a commit that fails for the whole group, waiters, cancellation and follow-up groups.
#include "db/group_commit.hpp"

#include <gtest/gtest.h>

#include <string>
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

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = Database::open({db_.path(), true, 2000});
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(*database);
    auto opened = PairingStore::open(*database_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    commits_ = std::make_unique<GroupCommit>(base_.get(), database_->transactions(), grouping());
  }
  virtual bool grouping() const { return true; }

  // Runs `work` as one callback of the loop, then the loop until nothing is left to do.
  template <typename Work>
  void in_one_turn(Work work) {
    struct Call {
      Work* work;
      static void run(evutil_socket_t, short, void* self) { (*static_cast<Call*>(self)->work)(); }
    } call{&work};
    timeval now{0, 0};
    ASSERT_EQ(event_base_once(base_.get(), -1, EV_TIMEOUT, &Call::run, &call, &now), 0);
    ASSERT_EQ(event_base_dispatch(base_.get()), 1);  // 1: no events left
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

TEST_F(GroupCommitTest, WritesOfOneTurnShareOneCommitAndWaitersRunAfterIt) {
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

TEST_F(GroupCommitTest, AFailedStepRollsBackAloneAndTheRestCommits) {
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

TEST_F(GroupCommitTest, AFailedCommitLosesTheWholeGroupAndTellsTheWaiters) {
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

TEST_F(GroupCommitTest, CancelledWaitersDoNotRun) {
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

TEST_F(GroupCommitTest, AWaiterThatWritesStartsTheNextGroup) {
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

TEST_F(GroupCommitTest, WithoutAnOpenGroupWaitersAndActionsRunAtOnce) {
  bool waited = false, acted = false;
  EXPECT_EQ(commits_->wait([&](bool committed) { waited = committed; }), 0u);
  commits_->after_commit([&] { acted = true; });
  EXPECT_TRUE(waited);
  EXPECT_TRUE(acted);
}

TEST_F(GroupCommitTest, DestroyingCommitsWhatIsOpen) {
  create("600001");
  EXPECT_TRUE(commits_->pending());
  commits_.reset();
  EXPECT_EQ(pendings_on_disk(), 1);
}

class UngroupedCommitTest : public GroupCommitTest {
 protected:
  bool grouping() const override { return false; }
};

TEST_F(UngroupedCommitTest, EveryWriteCommitsByItself) {
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

}  // namespace
}  // namespace turnpike
