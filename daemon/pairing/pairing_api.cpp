// The pairing REST API handlers (PROTOCOL.md §HTTP and REST).
#include "pairing/pairing_api.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/random.hpp"
#include "pairing/field_rules.hpp"
#include "pairing/pairing_repository.hpp"
#include "signaling/signaling.hpp"
#include "turn/credential_issuer.hpp"

namespace turnpike {
namespace {

using http::Respond;
using http::Response;
using nlohmann::json;

constexpr std::size_t kRoomIdBytes = 24;  // 48 hex characters

// Checks one id field: missing_<name> or invalid_<name>, or its value.
std::optional<Response> id_field_error(const json& body, std::string_view name, const Config& config) {
  if (is_missing_field(body, name)) return Response::error(400, "missing_" + std::string(name));
  if (!is_valid_id(body[std::string(name)], config.limits.max_id_bytes)) {
    return Response::error(400, "invalid_" + std::string(name));
  }
  return std::nullopt;
}

std::optional<Response> joinid_error(const json& body, const Config& config, std::string& joinid) {
  if (is_missing_field(body, "joinid")) return Response::error(400, "missing_joinid");
  auto normalized = normalize_joinid(body["joinid"], static_cast<int>(config.pairing.joinid_digits));
  if (!normalized) return Response::error(400, "invalid_joinid");
  joinid = std::move(*normalized);
  return std::nullopt;
}

std::string expires_details(std::int64_t max_seconds) {
  if (max_seconds == 86400) return "must be 1-86400 seconds (1 sec to 24 hours)";
  return "must be 1-" + std::to_string(max_seconds) + " seconds";
}

// roomid from the query string, else from the body (as the reference reads it for GET).
std::optional<Response> roomid_field(const http::Request& request, const json& body, const Config& config,
                                     std::string& roomid) {
  if (auto from_query = request.query_param("roomid"); from_query && !from_query->empty()) {
    if (!is_valid_id_text(*from_query, config.limits.max_id_bytes))
      return Response::error(400, "invalid_roomid");
    roomid = std::move(*from_query);
    return std::nullopt;
  }
  if (auto error = id_field_error(body, "roomid", config)) return error;
  roomid = body["roomid"].get<std::string>();
  return std::nullopt;
}

}  // namespace

std::optional<json> parse_body(const http::Request& request) {
  if (request.body.empty()) return json::object();
  auto value = parse_json(request.body);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

Response internal_error(std::string_view operation, const std::string& why) {
  log_error("internal_error").kv("operation", operation).kv("reason", why);
  return Response::error(500, "internal_error");
}

PairingApi::PairingApi(PairingRepository& repository, Signaling& signaling, Metrics& metrics)
    : repository_(repository), signaling_(signaling), metrics_(metrics) {}

// Both budgets are counted under one metrics kind ("failed_join"); the log line tells which one refused.
static http::Response budget_refusal(Metrics& metrics, const RequestContext& ctx,
                                     const JoinBudget::Refusal& refusal) {
  metrics.count_rate_limited("failed_join");
  log_warn("failed_join_limited").kv("peer", ctx.peer.to_string()).kv("budget", refusal.scope);
  return http::rate_limited(refusal.retry_after_seconds);
}

std::optional<Response> PairingApi::join_refused(const RequestContext& ctx) {
  auto refusal = join_budget_.join_blocked(ctx.config, ctx.limit_key, ctx.now);
  if (!refusal) return std::nullopt;
  return budget_refusal(metrics_, ctx, *refusal);
}

void PairingApi::count_failed_join(const RequestContext& ctx) {
  join_budget_.count_failed_join(ctx.config, ctx.limit_key, ctx.now);
}

// A successful read counts as activity: the answer goes out once the room is marked active (a failed touch
// does not change the answer).
void PairingApi::touch_then_respond(std::string roomid, std::int64_t now_ms, Response answer,
                                    Respond respond) {
  repository_.touch_room(
      std::move(roomid), now_ms,
      [answer = std::move(answer), respond = std::move(respond)](const Result<void>&) { respond(answer); });
}

void PairingApi::create(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  std::string joinid;
  if (auto error = joinid_error(*body, ctx.config, joinid)) return respond(std::move(*error));
  if (auto error = id_field_error(*body, "client1", ctx.config)) return respond(std::move(*error));
  if (is_missing_field(*body, "expiresInSeconds"))
    return respond(Response::error(400, "missing_expiresInSeconds"));
  auto seconds = parse_expires_seconds((*body)["expiresInSeconds"], ctx.config.pairing.max_expires_seconds);
  if (!seconds) {
    nlohmann::ordered_json error = {{"error", "invalid_expiresInSeconds"},
                                    {"details", expires_details(ctx.config.pairing.max_expires_seconds)}};
    return respond(Response::json(400, to_json_text(error)));
  }
  // Every create spends the address's join-code budget, whatever its outcome: a 409 tells whether a code is
  // live, so creates are guesses too.
  if (auto refusal = join_budget_.spend_create(ctx.config, ctx.limit_key, ctx.now)) {
    return respond(budget_refusal(metrics_, ctx, *refusal));
  }
  std::int64_t exp_ms = ctx.now_ms + *seconds * 1000;
  auto client1 = (*body)["client1"].get<std::string>();

  repository_.live_pending_count(
      ctx.now_ms, [this, ctx, joinid = std::move(joinid), client1 = std::move(client1), exp_ms,
                   respond = std::move(respond)](Result<std::int64_t> live) mutable {
        if (!live) return respond(internal_error("create", live.error().message));
        if (*live >= ctx.config.limits.max_pending_codes)
          return respond(Response::error(503, "too_many_pending_codes"));
        repository_.create_pending(
            std::move(joinid), std::move(client1), ctx.limit_key.to_string(), ctx.now_ms, exp_ms,
            ctx.config.limits.max_pending_codes_per_address,
            [exp_ms, respond = std::move(respond)](Result<CreateOutcome> outcome) {
              if (!outcome) return respond(internal_error("create", outcome.error().message));
              switch (*outcome) {
                case CreateOutcome::created:
                  break;
                case CreateOutcome::conflict:
                  return respond(Response::error(409, "conflict"));
                case CreateOutcome::too_many_for_creator:
                  return respond(Response::error(429, "too_many_pending_codes_for_address"));
              }
              respond(Response::json(201, R"({"ok":true,"exp":")" + format_iso8601_ms(exp_ms) + "\"}"));
            });
      });
}

void PairingApi::accept(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  std::string joinid;
  if (auto error = joinid_error(*body, ctx.config, joinid)) return respond(std::move(*error));
  if (auto error = id_field_error(*body, "client2", ctx.config)) return respond(std::move(*error));
  if (auto blocked = join_refused(ctx)) return respond(std::move(*blocked));

  repository_.accept(std::move(joinid), (*body)["client2"].get<std::string>(), ctx.now_ms,
                     random_hex(kRoomIdBytes), ctx.config.limits.max_rooms_per_client,
                     [this, ctx, respond = std::move(respond)](Result<AcceptOutcome> outcome) {
                       if (!outcome) return respond(internal_error("accept", outcome.error().message));
                       switch (outcome->kind) {
                         case AcceptOutcome::Kind::accepted:
                           return respond(Response::json(200, R"({"roomid":")" + outcome->roomid + "\"}"));
                         case AcceptOutcome::Kind::conflict:
                           return respond(Response::error(409, "conflict"));
                         case AcceptOutcome::Kind::too_many_rooms:
                           return respond(Response::error(403, "too_many_rooms"));
                         case AcceptOutcome::Kind::not_found:
                           break;
                       }
                       count_failed_join(ctx);
                       respond(Response::error(404, "not_found_or_expired"));
                     });
}

void PairingApi::check(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  std::string joinid;
  if (auto error = joinid_error(*body, ctx.config, joinid)) return respond(std::move(*error));
  if (auto error = id_field_error(*body, "client1", ctx.config)) return respond(std::move(*error));
  if (auto blocked = join_refused(ctx)) return respond(std::move(*blocked));

  repository_.check(std::move(joinid), (*body)["client1"].get<std::string>(), ctx.now_ms,
                    [this, ctx, respond = std::move(respond)](Result<CheckOutcome> outcome) mutable {
                      if (!outcome) return respond(internal_error("check", outcome.error().message));
                      switch (outcome->kind) {
                        case CheckOutcome::Kind::ready: {
                          auto answer = Response::json(200, R"({"roomid":")" + outcome->roomid + "\"}");
                          return touch_then_respond(std::move(outcome->roomid), ctx.now_ms, std::move(answer),
                                                    std::move(respond));
                        }
                        case CheckOutcome::Kind::waiting:
                          return respond(Response::empty(204));
                        case CheckOutcome::Kind::not_found:
                          break;
                      }
                      count_failed_join(ctx);
                      respond(Response::error(404, "not_found_or_expired"));
                    });
}

void PairingApi::get_room(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) body = json::object();  // a GET body is optional; a bad one is ignored like a missing one
  std::string roomid;
  if (auto error = roomid_field(request, *body, ctx.config, roomid)) return respond(std::move(*error));

  repository_.find_room(roomid, [this, roomid, now_ms = ctx.now_ms,
                                 respond = std::move(respond)](Result<std::optional<RoomRow>> room) mutable {
    if (!room) return respond(internal_error("get_room", room.error().message));
    if (!*room) return respond(Response::error(404, "not_found"));
    nlohmann::ordered_json out = {
        {"roomid", (*room)->roomid}, {"client1", (*room)->client1}, {"client2", (*room)->client2}};
    touch_then_respond(std::move(roomid), now_ms, Response::json(200, to_json_text(out)), std::move(respond));
  });
}

void PairingApi::delete_room(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  std::string roomid;
  if (auto error = roomid_field(request, *body, ctx.config, roomid)) return respond(std::move(*error));

  repository_.delete_room(roomid, [this, roomid, respond = std::move(respond)](Result<bool> deleted) {
    if (!deleted) return respond(internal_error("delete_room", deleted.error().message));
    if (*deleted) log_info("room_deleted").kv("reason", "deleted");
    // Once the delete is durable: members are told, and coturn ends the room's relays.
    repository_.after_commit([this, roomid, deleted = *deleted] {
      signaling_.close_room(roomid, "deleted");
      occupied_touched_ms_.erase(roomid);
      if (deleted) rooms_ended_();
    });
    respond(Response::json(200, R"({"ok":true})"));
  });
}

void PairingApi::purge(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  std::vector<std::string> ids;
  std::size_t count = 0;
  auto list = body->find("deviceIds");
  auto single = body->find("deviceId");
  if (list != body->end() && list->is_array()) {
    if (list->empty()) return respond(Response::error(400, "empty_deviceIds_array"));
    if (list->size() > static_cast<std::size_t>(ctx.config.limits.max_purge_ids)) {
      return respond(Response::error(400, "too_many_device_ids"));
    }
    std::size_t invalid = 0;
    for (const auto& item : *list) {
      bool blank = !item.is_string() ||
                   item.get_ref<const std::string&>().find_first_not_of(" \t\r\n\f\v") == std::string::npos;
      if (blank || !is_valid_id(item, ctx.config.limits.max_id_bytes)) {
        ++invalid;
      } else {
        ids.push_back(item.get<std::string>());
      }
    }
    if (invalid > 0) {
      nlohmann::ordered_json out = {{"error", "invalid_device_ids"}, {"count", invalid}};
      return respond(Response::json(400, to_json_text(out)));
    }
    count = list->size();
  } else if (single != body->end() && single->is_string() && !single->get_ref<const std::string&>().empty()) {
    const auto& id = single->get_ref<const std::string&>();
    if (id.find_first_not_of(" \t\r\n\f\v") == std::string::npos ||
        !is_valid_id(*single, ctx.config.limits.max_id_bytes)) {
      return respond(Response::json(400, R"({"error":"invalid_device_ids","count":1})"));
    }
    ids.push_back(id);
    count = 1;
  } else {
    return respond(Response::error(400, "missing_deviceIds_or_deviceId"));
  }

  repository_.purge_devices(std::move(ids), [this, count,
                                             respond = std::move(respond)](Result<PurgeOutcome> outcome) {
    if (!outcome) return respond(internal_error("purge", outcome.error().message));
    repository_.after_commit([this, roomids = outcome->deleted_roomids] { end_rooms(roomids, "purged"); });
    log_info("devices_purged")
        .kv("devices", static_cast<std::uint64_t>(count))
        .kv("rooms", outcome->rooms_deleted)
        .kv("pendings", outcome->pendings_deleted);
    nlohmann::ordered_json out = {{"success", true},
                                  {"deviceIdCount", count},
                                  {"roomsDeleted", outcome->rooms_deleted},
                                  {"pendingsDeleted", outcome->pendings_deleted}};
    respond(Response::json(200, to_json_text(out)));
  });
}

void PairingApi::turn_credentials(const http::Request& request, const RequestContext& ctx, Respond respond) {
  auto body = parse_body(request);
  if (!body) return respond(Response::error(400, "invalid_json"));
  if (auto error = id_field_error(*body, "roomid", ctx.config)) return respond(std::move(*error));
  if (auto error = id_field_error(*body, "deviceId", ctx.config)) return respond(std::move(*error));
  if (turn_issuer_ == nullptr || !ctx.config.turn.enabled())
    return respond(Response::error(503, "turn_not_configured"));
  auto roomid = (*body)["roomid"].get<std::string>();
  auto device = (*body)["deviceId"].get<std::string>();

  repository_.find_room(roomid, [this, ctx, roomid, device = std::move(device),
                                 respond = std::move(respond)](Result<std::optional<RoomRow>> room) mutable {
    if (!room) return respond(internal_error("turn_credentials", room.error().message));
    if (!*room) return respond(Response::error(404, "not_found"));
    int slot = device == (*room)->client1 ? 1 : device == (*room)->client2 ? 2 : 0;
    if (slot == 0) return respond(Response::error(403, "not_a_member"));
    auto issued = turn_issuer_->issue(ctx.config, roomid, slot, ctx.now_ms);
    if (!issued) return respond(internal_error("turn_credentials", issued.error().message));
    // The room was found, then deleted (by a DELETE or the sweep) before the credential was written.
    if (!*issued) return respond(Response::error(404, "not_found"));
    const IceCredentials& ice = **issued;
    std::int64_t ttl = std::max<std::int64_t>(0, (ice.expires_ms - ctx.now_ms) / 1000);
    auto answer =
        Response::json(200, R"({"iceServers":)" + ice.ice_servers_json + R"(,"ttl":)" + std::to_string(ttl) +
                                R"(,"expiresAt":")" + format_iso8601_ms(ice.expires_ms) + "\"}");
    touch_then_respond(std::move(roomid), ctx.now_ms, std::move(answer), std::move(respond));
  });
}

void PairingApi::sweep(const Config& config, std::int64_t now_ms, std::int64_t batch_rows,
                       std::function<void(bool more)> done) {
  // Two steps (pendings, rooms) report here; the last one to finish tells the caller.
  struct Round {
    int outstanding = 2;
    bool more = false;
    std::function<void(bool)> done;
  };
  auto round = std::make_shared<Round>(Round{2, false, std::move(done)});
  auto step_done = [round](bool full) {
    round->more |= full;
    if (--round->outstanding == 0) round->done(round->more);
  };

  repository_.delete_expired_pendings(now_ms, batch_rows,
                                      [this, step_done, batch_rows](Result<std::int64_t> removed) {
                                        if (!removed) {
                                          log_error("sweep_failed").kv("reason", removed.error().message);
                                        } else if (*removed > 0) {
                                          log_info("pendings_expired").kv("count", *removed);
                                          metrics_.count_expired("pendings", *removed);
                                        }
                                        step_done(removed && *removed >= batch_rows);
                                      });

  // A room with a connected member is active: refresh it well before it could expire.
  auto ttl_ms = static_cast<std::int64_t>(config.pairing.room_ttl_seconds * 1000);
  auto refresh_every_ms = std::min<std::int64_t>(ttl_ms / 2, 60000);
  std::vector<std::string> to_refresh;
  std::unordered_map<std::string, std::int64_t> still_occupied;
  for (auto& room : signaling_.rooms().room_ids()) {
    auto it = occupied_touched_ms_.find(room);
    std::int64_t touched = it == occupied_touched_ms_.end() ? 0 : it->second;
    if (now_ms - touched >= refresh_every_ms) {
      to_refresh.push_back(room);
      touched = now_ms;
    }
    still_occupied.emplace(std::move(room), touched);
  }
  occupied_touched_ms_ = std::move(still_occupied);

  // Idle rooms are looked for once the refreshes are done, so an occupied room is never among them.
  repository_.touch_rooms(
      std::move(to_refresh), now_ms,
      [this, step_done, batch_rows, idle_before_ms = now_ms - ttl_ms](const Result<void>&) {
        repository_.delete_idle_rooms(
            idle_before_ms, batch_rows,
            [this, step_done, batch_rows](Result<std::vector<std::string>> expired) {
              if (!expired) {
                log_error("sweep_failed").kv("reason", expired.error().message);
                return step_done(false);
              }
              bool full = static_cast<std::int64_t>(expired->size()) >= batch_rows;
              if (!expired->empty()) {
                log_info("rooms_expired").kv("count", static_cast<std::uint64_t>(expired->size()));
                metrics_.count_expired("rooms", static_cast<std::int64_t>(expired->size()));
                repository_.after_commit(
                    [this, roomids = std::move(*expired)] { end_rooms(roomids, "expired"); });
              }
              step_done(full);
            });
      });
}

void PairingApi::end_rooms(const std::vector<std::string>& roomids, std::string_view reason) {
  for (const auto& roomid : roomids) {
    signaling_.close_room(roomid, reason);
    occupied_touched_ms_.erase(roomid);
  }
  if (!roomids.empty()) rooms_ended_();
}

void PairingApi::prune_limits(const Config& config, double now) {
  join_budget_.prune(config, now);
}

}  // namespace turnpike
