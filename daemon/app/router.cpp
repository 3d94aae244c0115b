// Request routing.
#include "app/router.hpp"

#include <array>

#include "app/app.hpp"
#include "core/text.hpp"
#include "ops/ops_api.hpp"
#include "ops/static_assets.hpp"
#include "pairing/pairing_api.hpp"

namespace turnpike {
namespace {

using http::Response;

struct Route {
  std::string_view path;
  std::string_view allow;  // methods, for 405
};

constexpr std::array<Route, 13> kRoutes = {{
    {"/", "GET, HEAD"},
    {"/ws", "GET"},
    {"/health", "GET, HEAD"},
    {"/rooms", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
    {"/api/rooms", "GET, HEAD, POST, DELETE"},
    {"/api/rooms/accept", "POST"},
    {"/api/rooms/check", "POST"},
    {"/api/user/purge", "POST"},
    {"/api/rooms/turn", "POST"},
    {"/admin/status", "GET, HEAD"},
    {"/admin/rooms", "GET, HEAD"},
    {"/admin/reload", "POST"},
}};

bool is_get(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

// /api/rooms/<id> and /api/rooms/<id>/accept: the reference's retired routes.
bool is_legacy(std::string_view path, std::string_view method) {
  constexpr std::string_view prefix = "/api/rooms/";
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return false;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return is_get(method);
  return method == "POST" && rest.substr(slash) == "/accept";
}

}  // namespace

std::string Router::normalize(std::string_view path) const {
  std::string out = to_lower(path);
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool Router::is_admin(const RequestContext& ctx) const {
  if (ctx.admin_socket) return true;
  for (const auto& range : ctx.config.admin.allow_from) {
    if (range.contains(ctx.peer)) return true;
  }
  return false;
}

Response Router::handle(const http::Request& request, const RequestContext& ctx, std::string& route) {
  const std::string& method = request.method;
  if (method == "OPTIONS") {
    route = "OPTIONS";
    return Response::empty(204)
        .with_header("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept")
        .with_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
  }
  std::string path = normalize(request.path);
  if (is_legacy(path, method)) {
    route = "legacy";
    return Response::error(410, "use_new_endpoints");
  }
  auto& pairing = app_.pairing();
  route = std::string(is_get(method) ? "GET" : method) + " " + path;
  if (path == "/api/rooms") {
    if (method == "POST") return pairing.create(request, ctx);
    if (is_get(method)) return pairing.get_room(request, ctx);
    if (method == "DELETE") return pairing.delete_room(request, ctx);
  } else if (method == "POST") {
    if (path == "/api/rooms/accept") return pairing.accept(request, ctx);
    if (path == "/api/rooms/check") return pairing.check(request, ctx);
    if (path == "/api/user/purge") return pairing.purge(request, ctx);
    if (path == "/api/rooms/turn") return pairing.turn_credentials(request, ctx);
    if (path == "/admin/reload") {
      if (!is_admin(ctx)) return Response::error(403, "forbidden");
      return reload_response(app_);
    }
  } else if (is_get(method)) {
    if (path == "/") return Response::text(200, "WebRTC P2P Signaling Server Active - Ready for iOS clients");
    if (path == "/ws") return Response::error(426, "upgrade_required").with_header("Upgrade", "websocket");
    if (path == "/health") return health_response(app_, ctx);
    if (auto demo = serve_demo(request.path, path)) {
      route = "GET /demo";
      return std::move(*demo);
    }
    if (path == "/rooms" || path == "/metrics" || path == "/admin/status" || path == "/admin/rooms") {
      if (!is_admin(ctx)) return Response::error(403, "forbidden");
      if (path == "/rooms") return rooms_response(app_);
      if (path == "/metrics") return metrics_response(app_);
      if (path == "/admin/status") return admin_status_response(app_, ctx);
      return admin_rooms_response(app_);
    }
  }
  for (const auto& known : kRoutes) {
    if (!known.path.empty() && known.path == path) {
      return Response::error(405, "method_not_allowed").with_header("Allow", std::string(known.allow));
    }
  }
  route = "unmatched";
  return Response::error(404, "not_found");
}

}  // namespace turnpike
