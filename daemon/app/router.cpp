// The route table and request dispatch.
#include "app/router.hpp"

#include <array>
#include <optional>

#include "core/metrics.hpp"
#include "db/group_commit.hpp"
#include "http/admin_host.hpp"
#include "ops/ops_api.hpp"
#include "ops/static_assets.hpp"
#include "pairing/pairing_api.hpp"
#include "socketio/engine_server.hpp"
#include "socketio/sessions_dialect.hpp"
#include "ws/handshake.hpp"

namespace turnpike {
namespace {

using http::Respond;
using http::Response;

struct Handlers {
  PairingApi& pairing;
  OpsApi& ops;
  SessionsDialect& sessions;
};

enum class Access { anyone, admin };

bool is_admin(const RequestContext& ctx);
std::optional<Response> browser_refusal(const http::Request& request, const RequestContext& ctx);

// An admin caller as the admin routes accept one (allowed address, not a browser's request): /health shows it
// the live join-code count, which it hides from everyone else.
bool admin_view(const http::Request& request, const RequestContext& ctx) {
  return is_admin(ctx) && !browser_refusal(request, ctx);
}

// One route: a method on a path. GET routes answer HEAD too. A handler answers through `respond`, at once or
// in a later loop turn; the synchronous ones (ops, fixed answers) call it before returning.
struct Route {
  std::string_view path;
  std::string_view method;
  Access access;
  void (*handler)(const Handlers&, const http::Request&, const RequestContext&, Respond&&);
};

constexpr std::array<Route, 16> kRoutes = {{
    {"/", "GET", Access::anyone,
     [](const Handlers&, const http::Request&, const RequestContext&, Respond&& respond) {
       respond(Response::text(200, "WebRTC P2P Signaling Server Active - Ready for iOS clients"));
     }},
    {"/ws", "GET", Access::anyone,
     [](const Handlers&, const http::Request&, const RequestContext&, Respond&& respond) {
       respond(Response::error(426, "upgrade_required").with_header("Upgrade", "websocket"));
     }},
    {"/health", "GET", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       respond(h.ops.health(ctx, admin_view(r, ctx)));
     }},
    {"/rooms", "GET", Access::admin,
     [](const Handlers& h, const http::Request&, const RequestContext&, Respond&& respond) {
       respond(h.ops.rooms());
     }},
    {"/metrics", "GET", Access::admin,
     [](const Handlers& h, const http::Request&, const RequestContext& ctx, Respond&& respond) {
       respond(h.ops.metrics(ctx));
     }},
    {"/api/rooms", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.create(r, ctx, std::move(respond));
     }},
    {"/api/rooms", "GET", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.get_room(r, ctx, std::move(respond));
     }},
    {"/api/rooms", "DELETE", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.delete_room(r, ctx, std::move(respond));
     }},
    {"/api/rooms/accept", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.accept(r, ctx, std::move(respond));
     }},
    {"/api/rooms/check", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.check(r, ctx, std::move(respond));
     }},
    {"/api/user/purge", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.purge(r, ctx, std::move(respond));
     }},
    {"/api/rooms/turn", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext& ctx, Respond&& respond) {
       h.pairing.turn_credentials(r, ctx, std::move(respond));
     }},
    {"/turn/credentials", "POST", Access::anyone,
     [](const Handlers& h, const http::Request& r, const RequestContext&, Respond&& respond) {
       respond(h.sessions.turn_credentials(r));
     }},
    {"/admin/status", "GET", Access::admin,
     [](const Handlers& h, const http::Request&, const RequestContext& ctx, Respond&& respond) {
       respond(h.ops.admin_status(ctx));
     }},
    {"/admin/rooms", "GET", Access::admin,
     [](const Handlers& h, const http::Request&, const RequestContext&, Respond&& respond) {
       respond(h.ops.admin_rooms());
     }},
    {"/admin/reload", "POST", Access::admin,
     [](const Handlers& h, const http::Request&, const RequestContext&, Respond&& respond) {
       respond(h.ops.reload());
     }},
}};

bool matches_method(const Route& route, std::string_view method) {
  return route.method == method || (route.method == "GET" && method == "HEAD");
}

// The Allow header of a path's routes ("GET, HEAD, POST").
std::string allowed_methods(std::string_view path) {
  std::string allow;
  for (const auto& route : kRoutes) {
    if (route.path != path) continue;
    if (!allow.empty()) allow += ", ";
    allow += route.method;
    if (route.method == "GET") allow += ", HEAD";
  }
  return allow;
}

// /rooms, /metrics, /admin/*: the paths of admin routes, answered without CORS headers.
bool is_admin_path(std::string_view path) {
  for (const auto& route : kRoutes) {
    if (route.path == path && route.access == Access::admin) return true;
  }
  return false;
}

bool is_admin(const RequestContext& ctx) {
  if (ctx.admin_socket) return true;
  for (const auto& range : ctx.config.admin.allow_from) {
    if (range.contains(ctx.peer)) return true;
  }
  return false;
}

// Why an admin request from an allowed address is still refused: a web page's request (it carries Origin)
// or a Host that does not name this server (DNS rebinding). Requests on the admin socket carry no browser's
// headers and are not checked.
std::optional<Response> browser_refusal(const http::Request& request, const RequestContext& ctx) {
  if (ctx.admin_socket) return std::nullopt;
  if (request.header("Origin") != nullptr) return Response::error(403, "cross_origin_refused");
  const std::string* host = request.header("Host");
  if (host == nullptr || !http::admin_host_allowed(ctx.config, *host)) {
    return Response::error(421, "host_not_allowed");
  }
  return std::nullopt;
}

// /api/rooms/<id> and /api/rooms/<id>/accept: the reference's retired routes.
bool is_legacy(std::string_view path, std::string_view method) {
  constexpr std::string_view prefix = "/api/rooms/";
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return false;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return method == "GET" || method == "HEAD";
  return method == "POST" && rest.substr(slash) == "/accept";
}

}  // namespace

void Router::handle(const http::Request& request, const RequestContext& ctx, HttpReply reply) {
  // A request that wrote (or read) data not committed yet is answered once the commit is durable; a
  // failed commit means whatever the handler answered did not happen (logged as commit_failed).
  dispatch(request, ctx,
           [&commits = ports_.commits, reply = std::move(reply)](Response response, std::string route) {
             if (!commits.pending()) return reply(std::move(response), std::move(route));
             (void)commits.wait(
                 [reply, response = std::move(response), route = std::move(route)](bool committed) mutable {
                   if (!committed) response = Response::error(500, "internal_error");
                   reply(std::move(response), std::move(route));
                 });
           });
}

void Router::dispatch(const http::Request& request, const RequestContext& ctx, HttpReply answer) {
  const std::string& method = request.method;
  if (ports_.socketio.serves(request.path)) {
    return ports_.socketio.handle(request, ctx, [answer = std::move(answer)](Response response) {
      answer(std::move(response), "socket.io");
    });
  }
  std::string path = http::normalize_path(request.path);
  if (is_admin_path(path)) {
    // Admin answers carry no CORS headers, so a web page can neither read them nor get a preflight through.
    answer = [answer = std::move(answer)](Response response, std::string route) {
      answer(std::move(response.without_cors()), std::move(route));
    };
    if (method == "OPTIONS") {
      return answer(Response::empty(204).with_header("Allow", allowed_methods(path)), "OPTIONS");
    }
  }
  if (method == "OPTIONS") {
    return answer(Response::empty(204), "OPTIONS");  // the CORS headers say what a preflight asks
  }
  if (is_legacy(path, method)) return answer(Response::error(410, "use_new_endpoints"), "legacy");
  if (method == "GET" || method == "HEAD") {
    if (auto demo = serve_demo(request.path, path)) return answer(std::move(*demo), "GET /demo");
  }
  bool known_path = false;
  for (const auto& candidate : kRoutes) {
    if (candidate.path != path) continue;
    known_path = true;
    if (!matches_method(candidate, method)) continue;
    std::string route = std::string(candidate.method) + " " + path;
    if (candidate.access == Access::admin && !is_admin(ctx)) {
      return answer(Response::error(403, "forbidden"), std::move(route));
    }
    if (candidate.access == Access::admin) {
      if (auto refusal = browser_refusal(request, ctx)) return answer(std::move(*refusal), std::move(route));
    }
    return candidate.handler(Handlers{ports_.pairing, ports_.ops, ports_.sessions}, request, ctx,
                             [answer = std::move(answer), route = std::move(route)](Response response) {
                               answer(std::move(response), route);
                             });
  }
  if (known_path) {
    return answer(Response::error(405, "method_not_allowed").with_header("Allow", allowed_methods(path)),
                  std::string(method_label(method == "HEAD" ? "GET" : method)) + " " + path);
  }
  answer(Response::error(404, "not_found"), "unmatched");
}

void Router::body_refused(const http::Request& head) {
  if (ports_.socketio.serves(head.path)) ports_.socketio.refused(head);
}

HttpUpgrade Router::upgrade(const http::Request& request, const RequestContext& ctx) {
  if (ports_.socketio.serves(request.path)) return ports_.socketio.upgrade(request, ctx);
  auto path = http::normalize_path(request.path);
  if (path != "/" && path != "/ws") return {{}, nullptr, Response::error(404, "not_found")};
  auto answer = ws::answer_handshake(request, ports_.websocket.config);
  if (!answer.switching_protocols) return {{}, nullptr, std::move(answer.refusal)};
  return {std::move(*answer.switching_protocols),
          [ports = ports_.websocket,
           client = ctx.peer](Connection& connection) -> std::unique_ptr<ConnectionHandler> {
            return std::make_unique<WsSession>(connection, ports, client);
          },
          {}};
}

}  // namespace turnpike
