// The pairing API through its repository seam: a repository whose completions wait until the test runs them,
// as a PostgreSQL backend's answers would arrive in a later loop turn.
#include "pairing/pairing_api.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "pairing/pairing_repository.hpp"
#include "signaling/signaling.hpp"

namespace turnpike {
namespace {

using http::Response;
using nlohmann::json;

constexpr std::int64_t kNow = 1'800'000'000'000;

// Records each call and queues its completion with the outcome set beforehand; run_next() completes the
// oldest one. Actions after commit wait in `committed_actions` until the test commits.
class DeferredRepository final : public PairingRepository {
 public:
  void create_pending(std::string joinid, std::string client1, std::string creator, std::int64_t,
                      std::int64_t, std::int64_t max_live_per_creator, Done<CreateOutcome> done) override {
    later("create_pending " + joinid + " " + client1 + " from " + creator + " cap " +
              std::to_string(max_live_per_creator),
          create_result, std::move(done));
  }
  void accept(std::string joinid, std::string client2, std::int64_t, std::string, std::int64_t,
              Done<AcceptOutcome> done) override {
    later("accept " + joinid + " " + client2, accept_result, std::move(done));
  }
  void check(std::string joinid, std::string client1, std::int64_t, Done<CheckOutcome> done) override {
    later("check " + joinid + " " + client1, check_result, std::move(done));
  }
  void find_room(std::string roomid, Done<std::optional<RoomRow>> done) override {
    later("find_room " + roomid, room, std::move(done));
  }
  void touch_room(std::string roomid, std::int64_t, Done<void> done) override {
    later("touch_room " + roomid, Result<void>{}, std::move(done));
  }
  void touch_rooms(std::vector<std::string> roomids, std::int64_t, Done<void> done) override {
    later("touch_rooms " + std::to_string(roomids.size()), Result<void>{}, std::move(done));
  }
  void delete_room(std::string roomid, Done<bool> done) override {
    later("delete_room " + roomid, deleted, std::move(done));
  }
  void purge_devices(std::vector<std::string> device_ids, Done<PurgeOutcome> done) override {
    later("purge_devices " + std::to_string(device_ids.size()), purge_result, std::move(done));
  }
  void live_pending_count(std::int64_t, Done<std::int64_t> done) override {
    later("live_pending_count", live_pendings, std::move(done));
  }
  void delete_expired_pendings(std::int64_t, std::int64_t, Done<std::int64_t> done) override {
    later("delete_expired_pendings", expired_pendings, std::move(done));
  }
  void delete_idle_rooms(std::int64_t, std::int64_t, Done<std::vector<std::string>> done) override {
    later("delete_idle_rooms", idle_rooms, std::move(done));
  }
  void after_commit(std::function<void()> action) override { committed_actions.push_back(std::move(action)); }

  // Completes the oldest queued operation; false when none is queued.
  bool run_next() {
    if (queue_.empty()) return false;
    auto completion = std::move(queue_.front());
    queue_.pop_front();
    completion();
    return true;
  }
  void commit() {
    for (auto& action : std::exchange(committed_actions, {})) action();
  }
  std::vector<std::string> take_calls() { return std::exchange(calls_, {}); }

  Result<std::int64_t> live_pendings = std::int64_t{0};
  Result<CreateOutcome> create_result = CreateOutcome::created;
  Result<AcceptOutcome> accept_result = AcceptOutcome{AcceptOutcome::Kind::accepted, "room-1"};
  Result<CheckOutcome> check_result = CheckOutcome{CheckOutcome::Kind::waiting, ""};
  Result<std::optional<RoomRow>> room = std::optional<RoomRow>{};
  Result<bool> deleted = true;
  Result<PurgeOutcome> purge_result = PurgeOutcome{};
  Result<std::int64_t> expired_pendings = std::int64_t{0};
  Result<std::vector<std::string>> idle_rooms = std::vector<std::string>{};
  std::vector<std::function<void()>> committed_actions;

 private:
  template <class T>
  void later(std::string call, Result<T> outcome, Done<T> done) {
    calls_.push_back(std::move(call));
    queue_.push_back([outcome = std::move(outcome), done = std::move(done)] { done(outcome); });
  }

  std::vector<std::string> calls_;
  std::deque<std::function<void()>> queue_;
};

class PairingApiTest : public testing::Test {
 protected:
  PairingApiTest() : signaling_(no_rooms(), metrics_, clock_), api_(repository_, signaling_, metrics_) {}

  static RoomDirectory no_rooms() {
    return RoomDirectory{
        [](const std::string&) -> std::optional<RoomMembers> { return std::nullopt; },
        [](const std::string&) {},
        [](const std::string&, int) -> std::optional<DeviceIceServers> { return std::nullopt; },
        [](std::int64_t) { return false; }, nullptr};
  }

  // A request that is gone by the time the repository completes.
  static http::Request post(const std::string& path, const std::string& body) {
    http::Request request;
    request.method = "POST";
    request.target = request.path = path;
    request.body = body;
    return request;
  }
  RequestContext context() const {
    const IpAddress client = *IpAddress::parse("192.0.2.7");
    return RequestContext{config_, client, client, kNow, 1000};
  }

  // Where the handler's answer lands, once it comes.
  http::Respond keep_answer() {
    answer_.reset();
    return [this](Response response) {
      EXPECT_FALSE(answer_.has_value()) << "answered twice";
      answer_ = std::move(response);
    };
  }

  Config config_;
  SystemClock clock_;
  Metrics metrics_;
  DeferredRepository repository_;
  Signaling signaling_;
  PairingApi api_;
  std::optional<Response> answer_;
};

TEST_F(PairingApiTest, CreateAnswersOnlyOnceTheRepositoryHasCompleted) {
  api_.create(post("/api/rooms", R"({"joinid":"123456","client1":"device-1","expiresInSeconds":60})"),
              context(), keep_answer());
  EXPECT_FALSE(answer_.has_value());
  EXPECT_EQ(repository_.take_calls(), std::vector<std::string>{"live_pending_count"});

  ASSERT_TRUE(repository_.run_next());
  EXPECT_FALSE(answer_.has_value());
  EXPECT_EQ(repository_.take_calls(),
            std::vector<std::string>{"create_pending 123456 device-1 from 192.0.2.7 cap 1000"});

  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 201);
  EXPECT_EQ(json::parse(answer_->body), (json{{"ok", true}, {"exp", format_iso8601_ms(kNow + 60'000)}}));
  EXPECT_FALSE(repository_.run_next());
}

TEST_F(PairingApiTest, AStoreErrorAnswersInternalError) {
  repository_.create_result = make_error("disk I/O error");
  api_.create(post("/api/rooms", R"({"joinid":"123456","client1":"device-1","expiresInSeconds":60})"),
              context(), keep_answer());
  while (repository_.run_next()) {
  }
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 500);
  EXPECT_EQ(json::parse(answer_->body), (json{{"error", "internal_error"}}));
}

TEST_F(PairingApiTest, TooManyPendingCodesAnswersBeforeCreating) {
  repository_.live_pendings = config_.limits.max_pending_codes;
  api_.create(post("/api/rooms", R"({"joinid":"123456","client1":"device-1","expiresInSeconds":60})"),
              context(), keep_answer());
  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 503);
  EXPECT_EQ(repository_.take_calls(), std::vector<std::string>{"live_pending_count"});
}

TEST_F(PairingApiTest, ABadRequestIsAnsweredAtOnceWithoutTheRepository) {
  api_.create(post("/api/rooms", "not json"), context(), keep_answer());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 400);
  EXPECT_EQ(json::parse(answer_->body), (json{{"error", "invalid_json"}}));
  EXPECT_TRUE(repository_.take_calls().empty());
}

TEST_F(PairingApiTest, AFailedJoinCountsWhenTheRepositoryAnswersNotFound) {
  config_.limits.failed_join_per_minute = 1;
  repository_.accept_result = AcceptOutcome{AcceptOutcome::Kind::not_found, ""};
  api_.accept(post("/api/rooms/accept", R"({"joinid":"123456","client2":"device-2"})"), context(),
              keep_answer());
  EXPECT_FALSE(answer_.has_value());
  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 404);
  EXPECT_EQ(json::parse(answer_->body), (json{{"error", "not_found_or_expired"}}));

  // The budget is spent: the next join is refused without asking the repository.
  repository_.take_calls();
  api_.accept(post("/api/rooms/accept", R"({"joinid":"123456","client2":"device-2"})"), context(),
              keep_answer());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 429);
  EXPECT_TRUE(repository_.take_calls().empty());
}

TEST_F(PairingApiTest, ACreateSpendsTheJoinBudgetOfItsAddress) {
  config_.limits.failed_join_per_minute = 1;
  api_.create(post("/api/rooms", R"({"joinid":"123456","client1":"device-1","expiresInSeconds":1})"),
              context(), keep_answer());
  while (repository_.run_next()) {
  }
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 201);

  // Neither a create nor an accept from this address goes ahead until the budget refills.
  repository_.take_calls();
  api_.create(post("/api/rooms", R"({"joinid":"123457","client1":"device-1","expiresInSeconds":1})"),
              context(), keep_answer());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 429);
  api_.accept(post("/api/rooms/accept", R"({"joinid":"123456","client2":"device-2"})"), context(),
              keep_answer());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 429);
  EXPECT_TRUE(repository_.take_calls().empty());
}

TEST_F(PairingApiTest, TooManyLiveCodesForTheAddressAnswers429) {
  config_.limits.max_pending_codes_per_address = 2;
  repository_.create_result = CreateOutcome::too_many_for_creator;
  api_.create(post("/api/rooms", R"({"joinid":"100003","client1":"device-1","expiresInSeconds":60})"),
              context(), keep_answer());
  while (repository_.run_next()) {
  }
  EXPECT_EQ(repository_.take_calls(),
            (std::vector<std::string>{"live_pending_count",
                                      "create_pending 100003 device-1 from 192.0.2.7 cap 2"}));
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 429);
  EXPECT_EQ(json::parse(answer_->body), (json{{"error", "too_many_pending_codes_for_address"}}));
}

TEST_F(PairingApiTest, TooManyRoomsAnswers403) {
  repository_.accept_result = AcceptOutcome{AcceptOutcome::Kind::too_many_rooms, ""};
  api_.accept(post("/api/rooms/accept", R"({"joinid":"123456","client2":"device-2"})"), context(),
              keep_answer());
  while (repository_.run_next()) {
  }
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 403);
  EXPECT_EQ(json::parse(answer_->body), (json{{"error", "too_many_rooms"}}));
}

TEST_F(PairingApiTest, CheckAnswersTheRoomAfterTouchingIt) {
  repository_.check_result = CheckOutcome{CheckOutcome::Kind::ready, "room-1"};
  api_.check(post("/api/rooms/check", R"({"joinid":"123456","client1":"device-1"})"), context(),
             keep_answer());
  ASSERT_TRUE(repository_.run_next());
  EXPECT_FALSE(answer_.has_value());
  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 200);
  EXPECT_EQ(json::parse(answer_->body), (json{{"roomid", "room-1"}}));
  EXPECT_EQ(repository_.take_calls(),
            (std::vector<std::string>{"check 123456 device-1", "touch_room room-1"}));
}

TEST_F(PairingApiTest, ADeletedRoomEndsOnlyOnceTheDeleteIsCommitted) {
  int rooms_ended = 0;
  api_.on_rooms_ended([&] { ++rooms_ended; });
  http::Request request = post("/api/rooms", R"({"roomid":"room-1"})");
  request.method = "DELETE";
  api_.delete_room(request, context(), keep_answer());
  EXPECT_FALSE(answer_.has_value());
  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(answer_.has_value());
  EXPECT_EQ(answer_->status, 200);
  EXPECT_EQ(rooms_ended, 0);
  repository_.commit();
  EXPECT_EQ(rooms_ended, 1);
}

TEST_F(PairingApiTest, SweepLooksForIdleRoomsOnlyAfterTheRefreshes) {
  int rooms_ended = 0;
  api_.on_rooms_ended([&] { ++rooms_ended; });
  repository_.idle_rooms = std::vector<std::string>{"room-1"};
  std::optional<bool> more;
  api_.sweep(config_, kNow, 1000, [&](bool m) { more = m; });
  EXPECT_EQ(repository_.take_calls(), (std::vector<std::string>{"delete_expired_pendings", "touch_rooms 0"}));
  ASSERT_TRUE(repository_.run_next());
  ASSERT_TRUE(repository_.run_next());
  EXPECT_EQ(repository_.take_calls(), std::vector<std::string>{"delete_idle_rooms"});
  ASSERT_TRUE(repository_.run_next());
  EXPECT_EQ(more, false);  // neither step filled its batch
  EXPECT_EQ(rooms_ended, 0);
  repository_.commit();
  EXPECT_EQ(rooms_ended, 1);
}

TEST_F(PairingApiTest, AFullSweepStepAsksForAnotherStep) {
  repository_.idle_rooms = std::vector<std::string>{"room-1", "room-2"};
  std::optional<bool> more;
  api_.sweep(config_, kNow, 2, [&](bool m) { more = m; });
  while (repository_.run_next()) {
  }
  EXPECT_EQ(more, true);
}

}  // namespace
}  // namespace turnpike
