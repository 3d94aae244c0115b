// The signaling core through its Peer seam: in-memory peers and a test clock, no sockets.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "signaling/signaling.hpp"

namespace turnpike {
namespace {

using nlohmann::json;

class TestClock final : public Clock {
 public:
  double monotonic_seconds() const override { return now; }
  std::int64_t wall_clock_ms() const override {
    return 1'800'000'000'000 + static_cast<std::int64_t>(now * 1000);
  }
  double now = 1000;
};

class MemoryPeer final : public Peer {
 public:
  explicit MemoryPeer(PeerId id) : id_(id), address_(*IpAddress::parse("192.0.2.7")) {}
  PeerId id() const override { return id_; }
  const IpAddress& address() const override { return address_; }
  void send(std::string_view message) override { received.push_back(json::parse(message)); }
  void close(std::uint16_t code, std::string_view reason) override {
    close_code = code;
    close_reason = std::string(reason);
  }

  // The messages received since the last call.
  std::vector<json> take() { return std::exchange(received, {}); }

  std::vector<json> received;
  std::uint16_t close_code = 0;
  std::string close_reason;

 private:
  PeerId id_;
  IpAddress address_;
};

class SignalingTest : public testing::Test {
 protected:
  SignalingTest() : signaling_(directory(), metrics_, clock_) {
    signaling_.set_settings({/*require_known_room=*/true, /*max_id_bytes=*/128, /*silence_timeout=*/60});
  }

  RoomDirectory directory() {
    return RoomDirectory{
        [this](const std::string& room) -> std::optional<RoomMembers> {
          auto it = rooms_.find(room);
          if (it == rooms_.end()) return std::nullopt;
          return it->second;
        },
        [](const std::string&) {},
        [this](const std::string&, int slot) -> std::optional<DeviceIceServers> {
          if (!issue_ice_) return std::nullopt;
          return DeviceIceServers{R"([{"urls":["turn:192.0.2.1:3478"],"username":"u)" + std::to_string(slot) +
                                      R"(","credential":"c"}])",
                                  1'700'000'000'000};
        },
        [](std::int64_t) { return false; },
        // Credentials issued with issue_ice_ wait for a commit that finish_commits() makes durable (or not).
        [this](std::function<void(bool)> then) {
          if (issue_ice_) return commit_waiters_.push_back(std::move(then));
          then(true);
        }};
  }

  void finish_commits(bool durable) {
    for (auto& then : std::exchange(commit_waiters_, {})) then(durable);
  }

  MemoryPeer& connect(PeerId id) {
    auto& peer = *peers_.emplace_back(std::make_unique<MemoryPeer>(id));
    signaling_.connect(peer);
    return peer;
  }

  void join(MemoryPeer& peer, const std::string& room, const std::string& device = "") {
    json message = {{"type", "join_room"}, {"roomId", room}};
    if (!device.empty()) message["deviceId"] = device;
    signaling_.handle_message(peer.id(), message.dump());
  }

  std::string client_id(MemoryPeer& peer) {
    // `connected` is the first message a peer gets.
    return peer.received.at(0).at("clientId").get<std::string>();
  }

  TestClock clock_;
  Metrics metrics_;
  std::map<std::string, RoomMembers> rooms_{{"room-a", {"device-1", "device-2"}}};
  std::vector<std::unique_ptr<MemoryPeer>> peers_;
  bool issue_ice_ = false;
  std::vector<std::function<void(bool)>> commit_waiters_;
  Signaling signaling_;
};

TEST_F(SignalingTest, CredentialsAndEverythingAfterThemWaitUntilTheirCommitIsDurable) {
  issue_ice_ = true;
  auto& a = connect(1);
  auto& b = connect(2);
  a.take();
  b.take();
  join(a, "room-a", "device-1");
  EXPECT_TRUE(a.take().empty());  // room_joined carries credentials not yet on disk
  join(b, "room-a", "device-2");
  EXPECT_TRUE(a.take().empty());  // room_ready waits behind a's room_joined
  EXPECT_TRUE(b.take().empty());
  finish_commits(true);
  auto got_a = a.take();
  ASSERT_EQ(got_a.size(), 2u);
  EXPECT_EQ(got_a[0]["type"], "room_joined");
  EXPECT_EQ(got_a[0]["iceServers"][0]["username"], "u1");
  EXPECT_EQ(got_a[1]["type"], "room_ready");
  auto got_b = b.take();
  ASSERT_EQ(got_b.size(), 2u);
  EXPECT_EQ(got_b[0]["type"], "room_joined");
  EXPECT_EQ(got_b[0]["iceServers"][0]["username"], "u2");
  EXPECT_EQ(got_b[1]["type"], "room_ready");
  // Nothing is held any more: relayed messages go straight through.
  signaling_.handle_message(a.id(), R"({"type":"webrtc_offer","sdp":"v=0"})");
  EXPECT_EQ(b.take().size(), 1u);
}

TEST_F(SignalingTest, CredentialsWhoseCommitFailedEndTheConnection) {
  issue_ice_ = true;
  auto& a = connect(1);
  a.take();
  join(a, "room-a", "device-1");
  finish_commits(false);
  EXPECT_TRUE(a.take().empty());
  EXPECT_EQ(a.close_code, 1011);
}

TEST_F(SignalingTest, ConnectAssignsAClientId) {
  auto& a = connect(1);
  ASSERT_EQ(a.received.size(), 1u);
  EXPECT_EQ(a.received[0]["type"], "connected");
  EXPECT_EQ(a.received[0]["clientId"].get<std::string>().size(), 36u);
  EXPECT_EQ(a.received[0]["server"], "WebRTC P2P Signaling Server");
}

TEST_F(SignalingTest, FirstToJoinIsTheInitiator) {
  auto& a = connect(1);
  auto& b = connect(2);
  a.take();
  b.take();
  join(a, "room-a");
  auto joined_a = a.take();
  ASSERT_EQ(joined_a.size(), 1u);
  EXPECT_EQ(joined_a[0]["type"], "room_joined");
  EXPECT_EQ(joined_a[0]["isInitiator"], true);
  EXPECT_EQ(joined_a[0]["userCount"], 1);
  EXPECT_EQ(joined_a[0]["ready"], false);

  join(b, "room-a");
  auto seen_b = b.take();
  ASSERT_EQ(seen_b.size(), 2u);
  EXPECT_EQ(seen_b[0]["type"], "room_joined");
  EXPECT_EQ(seen_b[0]["isInitiator"], false);
  EXPECT_EQ(seen_b[0]["ready"], true);
  EXPECT_EQ(seen_b[1]["type"], "room_ready");
  EXPECT_EQ(seen_b[1]["isInitiator"], false);
  auto seen_a = a.take();
  ASSERT_EQ(seen_a.size(), 1u);
  EXPECT_EQ(seen_a[0]["type"], "room_ready");
  EXPECT_EQ(seen_a[0]["isInitiator"], true);
}

TEST_F(SignalingTest, AThirdPeerFindsTheRoomFull) {
  auto& a = connect(1);
  auto& b = connect(2);
  auto& c = connect(3);
  join(a, "room-a");
  join(b, "room-a");
  c.take();
  join(c, "room-a");
  auto seen = c.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["type"], "room_full");
  EXPECT_EQ(seen[0]["roomId"], "room-a");
  EXPECT_EQ(signaling_.rooms().members("room-a"), (std::vector<PeerId>{1, 2}));
}

TEST_F(SignalingTest, UnknownRoomsAreRefused) {
  auto& a = connect(1);
  a.take();
  join(a, "no-such-room");
  auto seen = a.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], json::parse(R"({"type":"error","error":"Unknown room"})"));
}

TEST_F(SignalingTest, RejoiningTheSameRoomRepeatsWhatThePeerSawAndTellsNobody) {
  auto& a = connect(1);
  auto& b = connect(2);
  join(a, "room-a");
  join(b, "room-a");
  a.take();
  b.take();
  join(a, "room-a");
  auto seen_a = a.take();
  ASSERT_EQ(seen_a.size(), 2u);
  EXPECT_EQ(seen_a[0]["type"], "room_joined");
  EXPECT_EQ(seen_a[0]["isInitiator"], true);
  EXPECT_EQ(seen_a[1]["type"], "room_ready");
  EXPECT_TRUE(b.take().empty());
}

TEST_F(SignalingTest, OffersReachTheOtherMemberFromTheSendersClientId) {
  auto& a = connect(1);
  auto& b = connect(2);
  join(a, "room-a");
  join(b, "room-a");
  b.take();
  signaling_.handle_message(1, R"({"type":"webrtc_offer","sdp":{"type":"offer","sdp":"v=0"}})");
  auto seen = b.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["type"], "webrtc_offer");
  EXPECT_EQ(seen[0]["from"], client_id(a));
  EXPECT_EQ(seen[0]["roomId"], "room-a");
  EXPECT_EQ(seen[0]["sdp"]["sdp"], "v=0");
}

TEST_F(SignalingTest, ClosingARoomTellsEveryMemberAndEmptiesIt) {
  auto& a = connect(1);
  auto& b = connect(2);
  join(a, "room-a");
  join(b, "room-a");
  a.take();
  b.take();
  signaling_.close_room("room-a", "deleted");
  for (auto* peer : {&a, &b}) {
    auto seen = peer->take();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], json::parse(R"({"type":"room_closed","roomId":"room-a","reason":"deleted"})"));
  }
  EXPECT_EQ(signaling_.rooms().room_count(), 0u);
  signaling_.handle_message(1, R"({"type":"ice_candidate","candidate":null})");
  auto seen = a.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["error"], "Not in a valid room for WebRTC signaling");
}

TEST_F(SignalingTest, ASilentPeerIsDroppedAfterTheTimeoutAndItsSeatFreed) {
  auto& a = connect(1);
  auto& b = connect(2);
  join(a, "room-a");
  join(b, "room-a");
  b.take();

  clock_.now += 59;
  EXPECT_FALSE(signaling_.expire_if_silent(1));
  signaling_.heard_from(1);  // a pong, say
  clock_.now += 59;
  EXPECT_FALSE(signaling_.expire_if_silent(1));
  EXPECT_EQ(a.close_code, 0);

  clock_.now += 1;
  EXPECT_TRUE(signaling_.expire_if_silent(1));
  EXPECT_EQ(a.close_code, 1001);
  EXPECT_EQ(a.close_reason, "pong timeout");
  auto seen = b.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["type"], "peer_disconnected");
  EXPECT_EQ(signaling_.rooms().members("room-a"), (std::vector<PeerId>{2}));
  EXPECT_EQ(signaling_.last_heard(1), std::nullopt);
  EXPECT_FALSE(signaling_.expire_if_silent(1));  // already gone
}

TEST_F(SignalingTest, AMessageCountsAsHearingFromThePeer) {
  auto& a = connect(1);
  clock_.now += 50;
  signaling_.handle_message(a.id(), R"({"type":"ping"})");
  EXPECT_EQ(signaling_.last_heard(1), clock_.now);
  clock_.now += 50;
  EXPECT_FALSE(signaling_.expire_if_silent(1));
}

TEST_F(SignalingTest, TheSameDeviceReconnectingTakesOverItsSeat) {
  auto& old_socket = connect(1);
  auto& other = connect(2);
  join(old_socket, "room-a", "device-1");
  join(other, "room-a", "device-2");
  other.take();
  auto& new_socket = connect(3);
  join(new_socket, "room-a", "device-1");
  EXPECT_EQ(old_socket.close_code, 1000);
  EXPECT_EQ(old_socket.close_reason, "replaced by a new connection of the same device");
  EXPECT_EQ(signaling_.rooms().members("room-a"), (std::vector<PeerId>{2, 3}));
  auto seen = other.take();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0]["type"], "peer_disconnected");
  EXPECT_EQ(seen.back()["type"], "room_ready");
}

TEST_F(SignalingTest, AStrangerDeviceIsNotAMember) {
  auto& a = connect(1);
  a.take();
  join(a, "room-a", "device-9");
  auto seen = a.take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["error"], "Not a member of this room");
}

}  // namespace
}  // namespace turnpike
