// Operations endpoints.
#include "ops/ops_api.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "net/server.hpp"
#include "ops/metrics.hpp"
#include "pairing/pairing_store.hpp"
#include "signaling/signaling.hpp"
#include "turn/turn_store.hpp"
#include "version.hpp"

namespace turnpike {

http::Response health_response(App& app, const RequestContext& ctx) {
  bool writable = app.store().probe_writable().ok();
  auto counts = app.store().counts(ctx.now_ms);
  nlohmann::ordered_json body = {
      {"status", writable ? "ok" : "unavailable"},
      {"rooms", counts ? counts->rooms : 0},
      {"connections", app.server().connection_count()},
      {"pendings", counts ? counts->pendings : 0},
      {"uptimeSeconds", static_cast<std::int64_t>(std::floor(app.uptime_seconds()))},
      {"version", kVersion},
      {"timestamp", format_iso8601_ms(ctx.now_ms)},
  };
  if (ctx.config.turn.enabled()) {
    auto pending = app.turn_store().pending_kill_count();
    body["turnKillsPending"] = pending ? *pending : -1;
    body["turnKillFailures"] = app.metrics().turn_kill_failures();
  }
  return http::Response::json(writable ? 200 : 503, to_json_text(body));
}

http::Response rooms_response(App& app) {
  auto list = nlohmann::ordered_json::array();
  auto rooms = app.signaling().rooms().list();
  for (const auto& [id, count] : rooms) {
    list.push_back({{"roomId", id}, {"userCount", count}, {"full", count >= RoomRegistry::kSeats}});
  }
  nlohmann::ordered_json body = {{"rooms", std::move(list)}, {"totalRooms", rooms.size()}};
  return http::Response::json(200, to_json_text(body));
}

http::Response metrics_response(App& app) {
  Gauges gauges;
  std::size_t ws = app.server().websocket_count();
  gauges.ws_connections = ws;
  gauges.http_connections = app.server().connection_count() - ws;
  gauges.signaling_rooms = app.signaling().rooms().room_count();
  if (auto counts = app.store().counts(wall_clock_ms())) {
    gauges.pairing_rooms = counts->rooms;
    gauges.pendings = counts->pendings;
  }
  gauges.uptime_seconds = app.uptime_seconds();
  if (app.config().turn.enabled()) {
    if (auto pending = app.turn_store().pending_kill_count()) gauges.turn_kills_pending = *pending;
  }
  return http::Response::text(200, app.metrics().render(gauges), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace turnpike
