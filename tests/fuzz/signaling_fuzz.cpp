// Fuzzes the signaling core with messages from two or three in-memory peers: no crash or UB, and every
// message it sends is valid JSON with a type, and no peer gets anything after it was closed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/address.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "signaling/signaling.hpp"

namespace {

using turnpike::PeerId;

class FuzzClock final : public turnpike::Clock {
 public:
  double monotonic_seconds() const override { return now; }
  std::int64_t wall_clock_ms() const override {
    return 1'800'000'000'000 + static_cast<std::int64_t>(now * 1000);
  }
  double now = 1000;
};

class FuzzPeer final : public turnpike::Peer {
 public:
  explicit FuzzPeer(PeerId id) : id_(id), address_(*turnpike::IpAddress::parse("192.0.2.7")) {}
  PeerId id() const override { return id_; }
  const turnpike::IpAddress& address() const override { return address_; }
  void send(std::string_view message) override {
    if (closed) std::abort();
    const auto parsed = nlohmann::json::parse(message, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("type") ||
        !parsed["type"].is_string()) {
      std::abort();
    }
  }
  void close(std::uint16_t /*code*/, std::string_view /*reason*/) override {
    if (closed) std::abort();
    closed = true;
  }
  bool closed = false;

 private:
  PeerId id_;
  turnpike::IpAddress address_;
};

}  // namespace

// Input: one settings byte, then records "<control byte><message bytes>\n". The control byte's low bits pick
// the peer; its high bits pick the event: a message (most), a reconnect, a clock jump with the silence check,
// a room closed by the pairing API, or a TURN credential renewal.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t peer_count = (data[0] & 1) != 0 ? 3 : 2;
  const bool with_turn = (data[0] & 2) != 0;
  bool renewal_due = false;
  std::vector<std::function<void(bool)>> commit_waiters;

  FuzzClock clock;
  // One registry for every input: building its histograms took most of each run, and nothing here reads it.
  static turnpike::Metrics metrics;
  const std::map<std::string, turnpike::RoomMembers> rooms = {{"room-a", {"device-1", "device-2"}}};
  turnpike::RoomDirectory directory{
      [&rooms](const std::string& room) -> std::optional<turnpike::RoomMembers> {
        const auto it = rooms.find(room);
        if (it == rooms.end()) return std::nullopt;
        return it->second;
      },
      [](const std::string&) {},
      [with_turn](const std::string&, int slot) -> std::optional<turnpike::DeviceIceServers> {
        if (!with_turn) return std::nullopt;
        return turnpike::DeviceIceServers{R"([{"urls":["turn:192.0.2.1:3478"],"username":"u)" +
                                              std::to_string(slot) + R"(","credential":"c"}])",
                                          1'800'000'600'000};
      },
      [&renewal_due](std::int64_t) { return renewal_due; },
      // Credentials wait for a commit that record kind 5 makes durable (or fails, by its bit 2).
      [&commit_waiters](std::function<void(bool)> then) { commit_waiters.push_back(std::move(then)); }};
  turnpike::Signaling signaling(directory, metrics, clock);
  signaling.set_settings({/*require_known_room=*/(data[0] & 4) != 0,
                          /*max_id_bytes=*/(data[0] & 8) != 0 ? 16u : 128u,
                          /*silence_timeout_seconds=*/60});

  std::vector<std::unique_ptr<FuzzPeer>> peers;  // every peer ever made; they must outlive the core's use
  std::vector<FuzzPeer*> seats(peer_count);
  PeerId next_id = 1;
  auto reconnect = [&](std::size_t seat) {
    if (seats[seat] != nullptr && !seats[seat]->closed) signaling.disconnect(seats[seat]->id());
    seats[seat] = peers.emplace_back(std::make_unique<FuzzPeer>(next_id++)).get();
    signaling.connect(*seats[seat]);
  };
  for (std::size_t seat = 0; seat < peer_count; ++seat) reconnect(seat);

  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  for (std::size_t start = 0; start < input.size();) {
    const std::size_t end = std::min(input.find('\n', start), input.size());
    const std::string_view record = input.substr(start, end - start);
    start = end + 1;
    if (record.empty()) continue;
    const auto control = static_cast<std::uint8_t>(record[0]);
    const std::size_t seat = (control & 3) % peer_count;
    const std::string_view message = record.substr(1);
    switch (control >> 5) {
      case 1:
        reconnect(seat);
        break;
      case 2:
        clock.now += (control & 4) != 0 ? 61 : 30;
        for (auto* peer : seats) {
          if (!peer->closed && signaling.expire_if_silent(peer->id()) != peer->closed) std::abort();
        }
        break;
      case 3:
        signaling.close_room(std::string(message), "pairing deleted");
        break;
      case 4:
        renewal_due = true;
        signaling.renew_ice_servers();
        renewal_due = false;
        break;
      case 5:
        for (auto& then : std::exchange(commit_waiters, {})) then((control & 4) == 0);
        break;
      default:
        if (seats[seat]->closed) reconnect(seat);
        signaling.handle_message(seats[seat]->id(), message);
        break;
    }
  }
  for (auto* peer : seats) {
    if (!peer->closed) signaling.disconnect(peer->id());
  }
  return 0;
}
