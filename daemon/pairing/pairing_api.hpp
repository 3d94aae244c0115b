// The pairing REST API: join codes, accept, check, room lookup, deletion and device purge.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/rate_limiter.hpp"
#include "http/request.hpp"
#include "http/request_context.hpp"
#include "http/response.hpp"

namespace turnpike {

class GroupCommit;
class PairingStore;
class Signaling;
class Metrics;
class TurnCredentialIssuer;

class PairingApi {
 public:
  PairingApi(PairingStore& store, GroupCommit& commits, Signaling& signaling, Metrics& metrics);

  http::Response create(const http::Request& request, const RequestContext& ctx);
  http::Response accept(const http::Request& request, const RequestContext& ctx);
  http::Response check(const http::Request& request, const RequestContext& ctx);
  http::Response get_room(const http::Request& request, const RequestContext& ctx);
  http::Response delete_room(const http::Request& request, const RequestContext& ctx);
  http::Response purge(const http::Request& request, const RequestContext& ctx);
  http::Response turn_credentials(const http::Request& request, const RequestContext& ctx);

  // Called after rooms were deleted, purged or expired (their TURN sessions are queued for ending).
  void on_rooms_ended(std::function<void()> hook) { rooms_ended_ = std::move(hook); }
  // Issues TURN credentials (nullptr: TURN is not available in this process).
  void set_turn_issuer(TurnCredentialIssuer* issuer) { turn_issuer_ = issuer; }

  // Removes expired join codes and idle rooms; members of expired rooms get room_closed.
  void sweep(const Config& config, std::int64_t now_ms);
  void prune_limits(const Config& config, double now);

 private:
  std::optional<http::Response> failed_join_blocked(const RequestContext& ctx);
  void count_failed_join(const RequestContext& ctx);
  // Members of these rooms get room_closed with `reason`; their TURN sessions are queued for ending.
  void end_rooms(const std::vector<std::string>& roomids, std::string_view reason);

  PairingStore& store_;
  GroupCommit& commits_;
  Signaling& signaling_;
  Metrics& metrics_;
  AddressRateLimiter failed_joins_;
  std::unordered_map<std::string, std::int64_t> occupied_touched_ms_;
  std::function<void()> rooms_ended_ = [] {};
  TurnCredentialIssuer* turn_issuer_ = nullptr;  // rooms kept alive by members
};

// Parses a request body: empty is {}, anything but a JSON object is nullopt (400 invalid_json).
std::optional<nlohmann::json> parse_body(const http::Request& request);
http::Response internal_error(std::string_view operation, const std::string& why);

}  // namespace turnpike
