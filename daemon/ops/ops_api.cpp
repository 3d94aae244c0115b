// Operations endpoints.
#include "ops/ops_api.hpp"

#include <cmath>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/metrics.hpp"
#include "db/database.hpp"
#include "db/sqlite_handles.hpp"
#include "pairing/pairing_store.hpp"
#include "signaling/signaling.hpp"
#include "turn/turn_store.hpp"
#include "version.hpp"

namespace turnpike {

http::Response OpsApi::health(const RequestContext& ctx, bool admin) {
  bool writable = ports_.database.probe_writable().ok();
  auto rooms = ports_.store.room_count();
  nlohmann::ordered_json body = {
      {"status", writable ? "ok" : "unavailable"},
      {"rooms", rooms ? *rooms : 0},
      {"connections", ports_.host.connection_count()},
  };
  if (admin) {
    // Live codes are counted over the exp_ms index: bounded by limits.max_pending_codes, and admins only.
    auto live = ports_.store.live_pending_count(ctx.now_ms);
    body["pendings"] = live ? *live : 0;
  }
  body["uptimeSeconds"] = static_cast<std::int64_t>(std::floor(ports_.host.uptime_seconds()));
  body["version"] = kVersion;
  body["timestamp"] = format_iso8601_ms(ctx.now_ms);
  if (ctx.config.turn.enabled()) {
    auto pending = ports_.turn_store.pending_kill_count();
    body["turnKillsPending"] = pending ? *pending : -1;
    body["turnKillFailures"] = ports_.metrics.turn_kill_failures();
  }
  return http::Response::json(writable ? 200 : 503, to_json_text(body));
}

http::Response OpsApi::rooms() {
  auto list = nlohmann::ordered_json::array();
  auto rooms = ports_.signaling.rooms().list();
  for (const auto& [id, count] : rooms) {
    list.push_back({{"roomId", id}, {"userCount", count}, {"full", count >= RoomRegistry::kSeats}});
  }
  nlohmann::ordered_json body = {{"rooms", std::move(list)}, {"totalRooms", rooms.size()}};
  return http::Response::json(200, to_json_text(body));
}

http::Response OpsApi::metrics(const RequestContext& ctx) {
  Gauges gauges;
  std::size_t ws = ports_.host.websocket_count();
  gauges.ws_connections = ws;
  gauges.http_connections = ports_.host.connection_count() - ws;
  gauges.signaling_rooms = ports_.signaling.rooms().room_count();
  if (auto counts = ports_.store.counts(ctx.now_ms)) {
    gauges.pairing_rooms = counts->rooms;
    gauges.pendings = counts->pendings;
  }
  gauges.uptime_seconds = ports_.host.uptime_seconds();
  const auto& db = ports_.database.transactions().counts();
  gauges.db_commits = db.commits;
  gauges.db_failed_commits = db.failed_commits;
  gauges.db_writes = db.writes;
  if (ctx.config.turn.enabled()) {
    if (auto pending = ports_.turn_store.pending_kill_count()) gauges.turn_kills_pending = *pending;
  }
  return http::Response::text(200, ports_.metrics.render(gauges), "text/plain; version=0.0.4; charset=utf-8");
}

http::Response OpsApi::admin_status(const RequestContext& ctx) {
  auto counts = ports_.store.counts(ctx.now_ms);
  auto pending_kills = ports_.turn_store.pending_kill_count();
  nlohmann::ordered_json body = {
      {"status", ports_.database.probe_writable().ok() ? "ok" : "unavailable"},
      {"version", kVersion},
      {"uptimeSeconds", static_cast<std::int64_t>(std::floor(ports_.host.uptime_seconds()))},
      {"connections", ports_.host.connection_count()},
      {"websockets", ports_.host.websocket_count()},
      {"rooms", counts ? counts->rooms : -1},
      {"pendings", counts ? counts->pendings : -1},
      {"signalingRooms", ports_.signaling.rooms().room_count()},
      {"turn",
       {{"enabled", ctx.config.turn.enabled()},
        {"mode", std::string(to_string(ctx.config.turn.mode))},
        {"killsPending", pending_kills ? *pending_kills : -1}}},
      {"config", ports_.host.config_path()},
  };
  return http::Response::json(200, to_json_text(body));
}

http::Response OpsApi::admin_rooms() {
  constexpr std::int64_t kMaxListed = 10000;
  auto rooms = ports_.store.list_rooms(kMaxListed);
  if (!rooms) return http::Response::error(500, "internal_error");
  std::unordered_map<std::string, std::size_t> members;
  for (const auto& [id, count] : ports_.signaling.rooms().list()) members.emplace(id, count);
  auto list = nlohmann::ordered_json::array();
  for (const auto& room : *rooms) {
    auto live = members.find(room.roomid);
    list.push_back({{"roomid", room.roomid},
                    {"client1", room.client1},
                    {"client2", room.client2},
                    {"createdAt", format_iso8601_ms(room.created_ms)},
                    {"lastActiveAt", format_iso8601_ms(room.last_active_ms)},
                    {"members", live == members.end() ? 0 : live->second}});
  }
  nlohmann::ordered_json body = {{"rooms", std::move(list)}};
  return http::Response::json(200, to_json_text(body));
}

http::Response OpsApi::reload() {
  auto changed = ports_.host.reload();
  if (!changed) {
    nlohmann::ordered_json body = {{"error", "invalid_config"}, {"details", changed.error().message}};
    return http::Response::json(400, to_json_text(body));
  }
  nlohmann::ordered_json body = {{"ok", true}, {"changed", *changed}};
  return http::Response::json(200, to_json_text(body));
}

}  // namespace turnpike
