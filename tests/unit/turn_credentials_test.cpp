// TURN credentials in coturn's tables: issuance, reuse, renewal, revocation triggers and the kill queue,
// on a real SQLite file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/config.hpp"
#include "db/database.hpp"
#include "pairing/pairing_store.hpp"
#include "temp_db_path.hpp"
#include "turn-auth/credentials.hpp"
#include "turn/credential_issuer.hpp"
#include "turn/turn_store.hpp"

namespace turnpike {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
const std::string kRoom(48, 'a');
const std::string kOtherRoom(48, 'b');

class TurnCredentials : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto database = Database::open({path_.path(), true, 1000});
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(*database);
    auto store = PairingStore::open(*database_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    pairing_ = std::move(*store);
    auto turn = TurnStore::open(*database_);
    ASSERT_TRUE(turn.ok()) << turn.error().message;
    turn_ = std::move(*turn);
    issuer_ = std::make_unique<TurnCredentialIssuer>(*turn_);
    auto config =
        parse_config("[turn]\nmode = " + GetParam() +
                         "\nrealm = example.org\ncli_password = pw\nurls = stun:s.example.org, "
                         "turn:t.example.org?transport=udp, turns:t.example.org:5349?transport=tcp\n"
                         "ttl_seconds = 3600\n",
                     "test.conf");
    ASSERT_TRUE(config.ok()) << config.error().message;
    config_ = *config;
    for (const auto& room : {kRoom, kOtherRoom}) {
      std::string joinid = room == kRoom ? "111111" : "222222";
      ASSERT_TRUE(pairing_->create_pending(joinid, "dev1", kNow, kNow + 60000).ok());
      ASSERT_TRUE(pairing_->accept(joinid, "dev2", kNow, room).ok());
    }
  }
  void TearDown() override {
    issuer_.reset();
    turn_.reset();
    pairing_.reset();
    database_.reset();
  }

  std::int64_t count(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(database_->handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    std::int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  }
  void exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(database_->handle(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  }
  nlohmann::json issue(const std::string& room, int slot, std::int64_t now) {
    auto issued = issuer_->issue(config_, room, slot, now);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    if (!issued.ok() || !issued->has_value()) {
      ADD_FAILURE() << "no credential for a live room";
      return nlohmann::json::array({{}, {{"username", ""}, {"credential", ""}}});
    }
    last_expires_ms_ = (*issued)->expires_ms;
    return nlohmann::json::parse((*issued)->ice_servers_json);
  }
  // Credentials and coturn rows that would let someone relay for the room.
  std::int64_t credential_rows(const std::string& room) {
    return count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + room + "'") +
           count("SELECT count(*) FROM turn_room_secrets WHERE roomid = '" + room + "'");
  }
  std::int64_t coturn_rows() {
    return count("SELECT count(*) FROM turnusers_lt") + count("SELECT count(*) FROM turn_secret");
  }

  TempDbPath path_;
  std::unique_ptr<Database> database_;  // before the stores, which it outlives
  std::unique_ptr<PairingStore> pairing_;
  std::unique_ptr<TurnStore> turn_;
  std::unique_ptr<TurnCredentialIssuer> issuer_;
  Config config_;
  std::int64_t last_expires_ms_ = 0;
};

TEST_P(TurnCredentials, IceServersCarryTheConfiguredUrlsAndACredential) {
  auto servers = issue(kRoom, 1, kNow);
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0], nlohmann::json::parse(R"({"urls":["stun:s.example.org"]})"));
  EXPECT_EQ(servers[1]["urls"],
            nlohmann::json::parse(
                R"(["turn:t.example.org?transport=udp","turns:t.example.org:5349?transport=tcp"])"));
  std::string username = servers[1]["username"];
  std::string credential = servers[1]["credential"];
  EXPECT_EQ(last_expires_ms_ % 1000, 0);
  EXPECT_NEAR(static_cast<double>(last_expires_ms_ - kNow), 3600e3, 1000);
  // Opaque: a random id that only turn_credentials maps back to (room, slot).
  std::string userid = username.substr(username.find(':') + 1);
  EXPECT_EQ(userid.size(), 32u) << username;
  EXPECT_EQ(userid.find_first_not_of("0123456789abcdef"), std::string::npos) << username;
  EXPECT_EQ(username.find(kRoom.substr(0, 6)), std::string::npos) << username;
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE username = '" + username + "' AND roomid = '" +
                  kRoom + "' AND slot = 1"),
            1);
  if (GetParam() == "long-term") {
    EXPECT_EQ(username, userid);
    EXPECT_EQ(count("SELECT count(*) FROM turnusers_lt WHERE realm = 'example.org' AND name = '" + username +
                    "' AND hmackey = '" + turn_auth::lt_hmackey(username, "example.org", credential) + "'"),
              1);
  } else {
    EXPECT_EQ(username, std::to_string(last_expires_ms_ / 1000) + ":" + userid);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(database_->handle(), "SELECT value FROM turn_secret WHERE realm = 'example.org'", -1,
                       &stmt, nullptr);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    std::string secret = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    EXPECT_EQ(credential, turn_auth::rest_password(secret, username));
  }
}

TEST_P(TurnCredentials, StableUntilAThirdOfTheLifetimeIsLeftThenRenewed) {
  auto first = issue(kRoom, 2, kNow);
  auto first_expiry = last_expires_ms_;
  EXPECT_EQ(issue(kRoom, 2, kNow + 2000 * 1000), first);       // 1600 s left of 3600: more than a third
  auto renewed = issue(kRoom, 2, first_expiry - 1200 * 1000);  // exactly a third left
  EXPECT_NE(renewed, first);
  EXPECT_GT(last_expires_ms_, first_expiry);
  // The old credential stays valid until its own expiry.
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + kRoom + "'"), 2);
  EXPECT_TRUE(TurnCredentialIssuer::due_for_renewal(config_, first_expiry, first_expiry - 1200 * 1000));
  EXPECT_FALSE(TurnCredentialIssuer::due_for_renewal(config_, first_expiry, first_expiry - 1201 * 1000));
}

TEST_P(TurnCredentials, ANewRealmOrModeGetsANewCredentialUnderIt) {
  // coturn refuses a credential of the realm or mode before a change, so it must not be handed out again.
  auto before = issue(kRoom, 1, kNow);
  config_.turn.realm = "other.example.org";
  auto after_realm = issue(kRoom, 1, kNow + 1000);
  EXPECT_NE(after_realm[1]["username"], before[1]["username"]);
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + kRoom +
                  "' AND realm = 'other.example.org'"),
            1);
  if (GetParam() == "rest") {
    // The room's secret is made again under the new realm; coturn keeps no secret of the old one.
    EXPECT_EQ(count("SELECT count(*) FROM turn_room_secrets WHERE roomid = '" + kRoom +
                    "' AND realm = 'other.example.org'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM turn_secret WHERE realm = 'example.org'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM turn_secret WHERE realm = 'other.example.org'"), 1);
  } else {
    EXPECT_EQ(count("SELECT count(*) FROM turnusers_lt WHERE realm = 'other.example.org'"), 1);
  }
  EXPECT_EQ(issue(kRoom, 1, kNow + 2000), after_realm);  // and that one is stable again

  config_.turn.mode = GetParam() == "rest" ? TurnMode::long_term : TurnMode::rest;
  auto after_mode = issue(kRoom, 1, kNow + 3000);
  EXPECT_NE(after_mode[1]["username"], after_realm[1]["username"]);
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + kRoom + "' AND mode = '" +
                  std::string(to_string(config_.turn.mode)) + "'"),
            1);
}

TEST_P(TurnCredentials, DevicesOfARoomGetDifferentCredentials) {
  auto one = issue(kRoom, 1, kNow);
  auto two = issue(kRoom, 2, kNow);
  EXPECT_NE(one[1]["username"], two[1]["username"]);
  EXPECT_NE(one[1]["credential"], two[1]["credential"]);
}

TEST_P(TurnCredentials, DeletingTheRoomRowRevokesItsCoturnRowsAndQueuesAKillPerUsername) {
  std::string one = issue(kRoom, 1, kNow)[1]["username"];
  std::string two = issue(kRoom, 2, kNow)[1]["username"];
  issue(kOtherRoom, 1, kNow);
  std::int64_t before = coturn_rows();
  ASSERT_GT(before, 0);
  // As an admin would with the sqlite3 shell: no foreign keys, just the row.
  exec("DELETE FROM rooms WHERE roomid = '" + kRoom + "'");
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + kRoom + "'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials WHERE roomid = '" + kOtherRoom + "'"), 1);
  EXPECT_EQ(coturn_rows(), 1);
  auto kills = turn_->pending_kills(100);
  ASSERT_TRUE(kills.ok());
  ASSERT_EQ(kills->size(), 2u);
  std::set<std::string> patterns{(*kills)[0].pattern, (*kills)[1].pattern};
  EXPECT_EQ(patterns, (std::set<std::string>{one, two}));
  EXPECT_TRUE((*kills)[0].exact);
  EXPECT_TRUE((*kills)[1].exact);
  ASSERT_TRUE(turn_->kill_failed(one, "coturn down").ok());
  auto after = turn_->pending_kills(100);
  for (const auto& kill : *after) EXPECT_EQ(kill.attempts, kill.pattern == one ? 1 : 0);
  ASSERT_TRUE(turn_->kill_done(one).ok());
  ASSERT_TRUE(turn_->kill_done(two).ok());
  EXPECT_EQ(*turn_->pending_kill_count(), 0);
}

TEST_P(TurnCredentials, ARoomWithoutCredentialsQueuesNoKill) {
  exec("DELETE FROM rooms WHERE roomid = '" + kRoom + "'");
  EXPECT_EQ(*turn_->pending_kill_count(), 0);
}

TEST_P(TurnCredentials, KillQueueCountFollowsTheQueueRows) {
  auto real_count = [this] { return count("SELECT count(*) FROM turn_pending_kills"); };
  std::string user = issue(kRoom, 1, kNow)[1]["username"];
  issue(kOtherRoom, 1, kNow);
  exec("DELETE FROM rooms WHERE roomid = '" + kRoom + "'");
  EXPECT_EQ(*turn_->pending_kill_count(), 1);
  // The same pattern queued again is ignored, and so is its count.
  exec("INSERT OR IGNORE INTO turn_pending_kills (pattern, exact, reason, created_ms) VALUES ('" + user +
       "', 1, 'again', 1)");
  EXPECT_EQ(*turn_->pending_kill_count(), 1);
  exec("DELETE FROM rooms");
  EXPECT_EQ(*turn_->pending_kill_count(), 2);
  EXPECT_EQ(*turn_->pending_kill_count(), real_count());
  ASSERT_TRUE(turn_->kill_done(user).ok());
  ASSERT_TRUE(turn_->kill_done(user).ok());  // already gone: no change
  EXPECT_EQ(*turn_->pending_kill_count(), 1);
  EXPECT_EQ(*turn_->pending_kill_count(), real_count());
}

TEST_P(TurnCredentials, ExpiryRefusesNewAllocationsButLiveRelaysEndOnlyWithTheRoom) {
  auto servers = issue(kRoom, 1, kNow);
  std::string username = servers[1]["username"];
  auto expired = turn_->expire(last_expires_ms_ - 1, 1000);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 0);
  expired = turn_->expire(last_expires_ms_, 1000);
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_EQ(*expired, 1);
  // No longer handed out, and coturn's row is gone: a new allocation with it gets 401 (in rest mode the
  // username's own timestamp has passed).
  EXPECT_EQ(count("SELECT count(*) FROM turn_credentials"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM turnusers_lt"), 0);
  // But its live relay is not ended: the room lives, and the call through it goes on.
  EXPECT_EQ(*turn_->pending_kill_count(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM turn_expired_credentials WHERE username = '" + username + "'"), 1);
  expired = turn_->expire(last_expires_ms_ + 1000, 1000);
  EXPECT_EQ(*expired, 0);
  EXPECT_EQ(*turn_->pending_kill_count(), 0);
  // The room ends: now the relay is killed, by its exact username.
  ASSERT_TRUE(pairing_->delete_room(kRoom).ok());
  auto kills = turn_->pending_kills(100);
  ASSERT_TRUE(kills.ok());
  ASSERT_EQ(kills->size(), 1u);
  EXPECT_EQ((*kills)[0].pattern, username);
  EXPECT_TRUE((*kills)[0].exact);
  EXPECT_EQ((*kills)[0].reason, "room_ended");
  EXPECT_EQ(count("SELECT count(*) FROM turn_expired_credentials"), 0);
}

// The renewal path (signaling's renew_ice_servers, or a POST /api/rooms/turn answered from a room found
// earlier) runs in the same loop turn as a DELETE or the sweep, inside the same group commit: it must not
// leave a valid credential for the room behind.
TEST_P(TurnCredentials, ADeleteThenARenewalInOneGroupCommitIssuesNothing) {
  std::string first = issue(kRoom, 1, kNow)[1]["username"];
  const std::int64_t renewal_at = last_expires_ms_ - 1200 * 1000;  // a third of the lifetime left
  ASSERT_TRUE(TurnCredentialIssuer::due_for_renewal(config_, last_expires_ms_, renewal_at));
  issue(kOtherRoom, 1, kNow);
  const std::int64_t before = coturn_rows();  // one row per room in both modes
  database_->transactions().enable_grouping([] {});
  auto deleted = pairing_->delete_room(kRoom);
  ASSERT_TRUE(deleted.ok() && *deleted);
  ASSERT_TRUE(database_->transactions().group_open());
  auto renewed = issuer_->issue(config_, kRoom, 1, renewal_at);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_FALSE(renewed->has_value()) << "renewed for a deleted room";
  auto other_slot = issuer_->issue(config_, kRoom, 2, renewal_at);
  ASSERT_TRUE(other_slot.ok()) << other_slot.error().message;
  EXPECT_FALSE(other_slot->has_value()) << "issued for a deleted room";
  ASSERT_TRUE(database_->transactions().commit_group().ok());
  EXPECT_EQ(credential_rows(kRoom), 0);
  EXPECT_EQ(coturn_rows(), before - 1);
  auto kills = turn_->pending_kills(100);
  ASSERT_TRUE(kills.ok());
  ASSERT_EQ(kills->size(), 1u);
  EXPECT_EQ((*kills)[0].pattern, first);
}

TEST_P(TurnCredentials, ASweepThenAnIssueInOneGroupCommitIssuesNothing) {
  issue(kOtherRoom, 1, kNow);
  ASSERT_TRUE(pairing_->touch_room(kOtherRoom, kNow + 10'000).ok());
  database_->transactions().enable_grouping([] {});
  // kRoom has been idle since kNow: the sweep removes it, kOtherRoom stays.
  auto swept = pairing_->delete_idle_rooms(kNow + 5'000, 100);
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  ASSERT_EQ(*swept, std::vector<std::string>{kRoom});
  for (int slot : {1, 2}) {
    auto issued = issuer_->issue(config_, kRoom, slot, kNow + 6'000);
    ASSERT_TRUE(issued.ok()) << issued.error().message;
    EXPECT_FALSE(issued->has_value()) << "issued for a swept room, slot " << slot;
  }
  ASSERT_TRUE(database_->transactions().commit_group().ok());
  EXPECT_EQ(credential_rows(kRoom), 0);
  EXPECT_EQ(coturn_rows(), 1);  // kOtherRoom's turnusers_lt row, or its secret
  // The live room still gets its credential.
  auto live = issuer_->issue(config_, kOtherRoom, 2, kNow + 6'000);
  ASSERT_TRUE(live.ok() && live->has_value());
  ASSERT_TRUE(database_->transactions().commit_group().ok());
}

TEST_P(TurnCredentials, TheSchemaTiesCredentialsToLiveRooms) {
  const std::string gone(48, 'c');
  EXPECT_NE(sqlite3_exec(database_->handle(),
                         ("INSERT INTO turn_credentials VALUES ('u', '" + gone +
                          "', 1, 'example.org', 'long-term', 'pw', 1, 2)")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(
      sqlite3_exec(database_->handle(),
                   ("INSERT INTO turn_room_secrets VALUES ('" + gone + "', 'example.org', 's')").c_str(),
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  EXPECT_NE(sqlite3_exec(database_->handle(),
                         ("INSERT INTO turn_expired_credentials VALUES ('u', '" + gone + "', 1)").c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
}

TEST_P(TurnCredentials, SchemaRefusesRowsThatWouldCrashCoturn) {
  EXPECT_NE(sqlite3_exec(database_->handle(),
                         "INSERT INTO turnusers_lt (realm, name, hmackey) VALUES ('r', 'u', NULL)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(database_->handle(),
                         "INSERT INTO turnusers_lt (realm, name, hmackey) VALUES ('r', 'u', 'abc')", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(database_->handle(),
                         "INSERT INTO turnusers_lt (realm, name, hmackey) VALUES ('r', 'u', "
                         "'ZZ807ee29df3c9ffa736523fb2c4e8ee')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  exec(
      "INSERT INTO turnusers_lt (realm, name, hmackey) VALUES ('r', 'u', "
      "'bc807ee29df3c9ffa736523fb2c4e8ee')");
}

INSTANTIATE_TEST_SUITE_P(Modes, TurnCredentials, ::testing::Values("long-term", "rest"),
                         [](const auto& param_info) {
                           return param_info.param == "long-term" ? "LongTerm" : "Rest";
                         });

}  // namespace
}  // namespace turnpike
