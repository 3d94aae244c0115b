// The pairing REST API: join codes, accept, check, room lookup, deletion and device purge.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "http/request.hpp"
#include "http/request_context.hpp"
#include "http/response.hpp"
#include "pairing/join_budget.hpp"

namespace turnpike {

class PairingRepository;
class Signaling;
class Metrics;
class TurnCredentialIssuer;

// Each handler reads and checks the whole request before its first repository call and answers through
// `respond` exactly once, during the call or, when the repository completes later, in a later loop turn; the
// request may be gone by then. The completions call back into the API, so it must outlive the repository's
// operations in flight.
class PairingApi {
 public:
  PairingApi(PairingRepository& repository, Signaling& signaling, Metrics& metrics);

  void create(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void accept(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void check(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void get_room(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void delete_room(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void purge(const http::Request& request, const RequestContext& ctx, http::Respond respond);
  void turn_credentials(const http::Request& request, const RequestContext& ctx, http::Respond respond);

  // Called after rooms were deleted, purged or expired (their TURN sessions are queued for ending).
  void on_rooms_ended(std::function<void()> hook) { rooms_ended_ = std::move(hook); }
  // Issues TURN credentials (nullptr: TURN is not available in this process).
  void set_turn_issuer(TurnCredentialIssuer* issuer) { turn_issuer_ = issuer; }

  // One bounded step of expiry: at most batch_rows expired join codes and batch_rows idle rooms (members of
  // expired rooms get room_closed once that is durable). `done(more)` runs once both are complete; `more`
  // when either step was full, so the caller runs the next step soon instead of a sweep interval later.
  void sweep(const Config& config, std::int64_t now_ms, std::int64_t batch_rows,
             std::function<void(bool more)> done);
  // Forgets the budgets that no longer limit anyone (now: monotonic seconds).
  void prune_limits(const Config& config, double now);

 private:
  // 429 when the address's join-code budget or the global failed-join budget is spent.
  std::optional<http::Response> join_refused(const RequestContext& ctx);
  void count_failed_join(const RequestContext& ctx);
  // Members of these rooms get room_closed with `reason`; their TURN sessions are queued for ending.
  void end_rooms(const std::vector<std::string>& roomids, std::string_view reason);
  void touch_then_respond(std::string roomid, std::int64_t now_ms, http::Response answer,
                          http::Respond respond);

  PairingRepository& repository_;
  Signaling& signaling_;
  Metrics& metrics_;
  JoinBudget join_budget_;
  std::unordered_map<std::string, std::int64_t> occupied_touched_ms_;
  std::function<void()> rooms_ended_ = [] {};
  TurnCredentialIssuer* turn_issuer_ = nullptr;  // rooms kept alive by members
};

// Parses a request body: empty is {}, anything but a JSON object is nullopt (400 invalid_json).
std::optional<nlohmann::json> parse_body(const http::Request& request);
http::Response internal_error(std::string_view operation, const std::string& why);

}  // namespace turnpike
