// The HTTP/1.1 side of a connection.
#include "http/http_session.hpp"

#include <event2/buffer.h>

#include "app/app.hpp"
#include "app/router.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "db/group_commit.hpp"
#include "pairing/pairing_api.hpp"
#include "ws/handshake.hpp"
#include "ws/ws_session.hpp"

namespace turnpike {
namespace {

http::ParserLimits limits_of(const Config& config) {
  return {static_cast<std::size_t>(config.limits.max_header_bytes),
          static_cast<std::size_t>(config.limits.max_body_bytes)};
}

bool origin_allowed(const Config& config, const std::string& origin) {
  if (config.any_origin) return true;
  for (const auto& allowed : config.server.allowed_origins) {
    if (allowed == origin) return true;
  }
  return false;
}

}  // namespace

HttpSession::HttpSession(Connection& connection, App& app)
    : connection_(connection),
      app_(app),
      parser_(limits_of(app.config())),
      timer_(connection.base(), &HttpSession::on_timer, this),
      idle_since_(monotonic_seconds()) {
  arm_timer();
}

HttpSession::~HttpSession() {
  if (held_) app_.commits().cancel(held_->ticket);
}

void HttpSession::arm_timer() {
  const auto& server = app_.config().server;
  double now = monotonic_seconds();
  if (parser_.in_progress()) {
    timer_.start(request_started_ + server.request_timeout_seconds - now);
  } else {
    timer_.start(idle_since_ + server.idle_timeout_seconds - now);
  }
}

void HttpSession::on_timer(void* self) {
  auto* session = static_cast<HttpSession*>(self);
  if (session->connection_.closing() || session->held_) return;
  if (session->parser_.in_progress()) {
    log_info("request_timeout").kv("conn", session->connection_.id());
    session->respond(nullptr, http::Response::error(408, "request_timeout"), "timeout", monotonic_seconds());
  } else {
    log_debug("idle_timeout").kv("conn", session->connection_.id());
    session->connection_.close();
  }
}

void HttpSession::on_input(evbuffer* input) {
  parser_.set_limits(limits_of(app_.config()));
  while (!connection_.closing() && !upgraded_ && !held_ && evbuffer_get_length(input) > 0) {
    if (!parser_.in_progress()) {
      request_started_ = monotonic_seconds();
      sent_continue_ = false;
    }
    // Feed the first contiguous chunk of the input; the loop comes back for the rest.
    evbuffer_iovec chunk;
    if (evbuffer_peek(input, -1, nullptr, &chunk, 1) < 1) break;
    auto progress = parser_.feed({static_cast<const char*>(chunk.iov_base), chunk.iov_len});
    evbuffer_drain(input, progress.consumed);

    if (progress.status == http::RequestParser::Status::error) {
      auto error = parser_.error();
      log_info("bad_request").kv("conn", connection_.id()).kv("error", http::error_code_for(error));
      auto response = http::Response::error(http::status_for(error), http::error_code_for(error));
      response.close = true;
      respond(nullptr, std::move(response), "malformed", request_started_);
      return;
    }
    if (progress.status == http::RequestParser::Status::complete) {
      auto request = parser_.take_request();
      parser_.reset();
      handle(std::move(request));
      idle_since_ = monotonic_seconds();
      continue;
    }
    if (parser_.headers_complete() && !sent_continue_ && parser_.request().expects_continue()) {
      sent_continue_ = true;
      (void)connection_.send("HTTP/1.1 100 Continue\r\n\r\n");
    }
  }
  if (!connection_.closing() && !upgraded_) arm_timer();
}

void HttpSession::on_shutdown() {
  if (!parser_.in_progress() && !held_) connection_.close();
  // A request in progress is answered with Connection: close (see respond) or times out.
}

void HttpSession::handle(http::Request request) {
  double started = monotonic_seconds();
  const Config& config = app_.config();
  RequestContext ctx{config, connection_.peer(), wall_clock_ms(), started, connection_.admin()};

  RateSettings rest_rate{config.limits.rest_rate_per_second, config.limits.rest_rate_burst};
  if (!ctx.admin_socket && !app_.rest_limiter().try_take(ctx.peer, rest_rate, started)) {
    app_.metrics().count_rate_limited("rest");
    return respond(
        &request,
        rate_limited_response(app_.rest_limiter().seconds_until_token(ctx.peer, rest_rate, started)),
        "rate_limited", started);
  }
  if (request.header_has_token("Upgrade", "websocket") && try_upgrade(request)) return;

  std::string route;
  auto response = app_.router().handle(request, ctx, route);
  if (app_.commits().pending())
    return hold(std::move(request), std::move(response), std::move(route), started);
  respond(&request, std::move(response), route, started);
}

void HttpSession::hold(http::Request request, http::Response response, std::string route, double started) {
  held_.emplace(Held{std::move(request), std::move(response), std::move(route), started, 0});
  held_->ticket = app_.commits().wait([this](bool committed) { release(committed); });
}

void HttpSession::release(bool committed) {
  Held held = std::move(*held_);
  held_.reset();
  // The commit failed: whatever the handler answered did not happen (the error is logged as commit_failed).
  if (!committed) held.response = http::Response::error(500, "internal_error");
  respond(&held.request, std::move(held.response), held.route, held.started);
  idle_since_ = monotonic_seconds();
  connection_.resume_input();
}

bool HttpSession::try_upgrade(const http::Request& request) {
  double started = monotonic_seconds();
  auto path = app_.router().normalize(request.path);
  if (path != "/" && path != "/ws") {
    respond(&request, http::Response::error(404, "not_found"), "websocket", started);
    return true;
  }
  const std::string* version = request.header("Sec-WebSocket-Version");
  const std::string* key = request.header("Sec-WebSocket-Key");
  if (request.method != "GET" || request.version_minor < 1 || key == nullptr ||
      !ws::is_valid_client_key(*key) || !request.header_has_token("Connection", "upgrade")) {
    respond(&request, http::Response::error(400, "bad_websocket_handshake"), "websocket", started);
    return true;
  }
  if (version == nullptr || *version != "13") {
    respond(&request,
            http::Response::error(426, "upgrade_required").with_header("Sec-WebSocket-Version", "13"),
            "websocket", started);
    return true;
  }
  const std::string* origin = request.header("Origin");
  if (origin != nullptr && !origin_allowed(app_.config(), *origin)) {
    log_info("websocket_refused").kv("conn", connection_.id()).kv("reason", "forbidden_origin");
    respond(&request, http::Response::error(403, "forbidden_origin"), "websocket", started);
    return true;
  }
  std::string handshake =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Accept: " +
      ws::accept_key(*key) + "\r\n\r\n";
  (void)connection_.send(handshake);
  app_.metrics().count_request("websocket", 101, monotonic_seconds() - started);
  timer_.stop();
  upgraded_ = true;
  connection_.replace_handler(std::make_unique<WsSession>(connection_, app_));
  return true;
}

void HttpSession::add_cors_headers(const http::Request* request, http::Response& response) const {
  const Config& config = app_.config();
  const std::string* origin = request ? request->header("Origin") : nullptr;
  if (config.any_origin) {
    response.with_header("Access-Control-Allow-Origin", "*");
  } else {
    bool listed = origin != nullptr && origin_allowed(config, *origin);
    response.with_header("Access-Control-Allow-Origin",
                         listed ? *origin : config.server.allowed_origins.front());
    response.with_header("Vary", "Origin");
  }
  response.with_header("Access-Control-Expose-Headers", "Retry-After");
}

void HttpSession::respond(const http::Request* request, http::Response response, std::string_view route,
                          double started) {
  add_cors_headers(request, response);
  bool keep_alive = request != nullptr && request->keep_alive() && !response.close && !app_.shutting_down();
  bool head = request != nullptr && request->method == "HEAD";
  app_.metrics().count_request(route, response.status, monotonic_seconds() - started);
  if (!connection_.send(http::serialize(response, keep_alive, head))) {
    connection_.close();
    return;
  }
  if (!keep_alive) connection_.close_after_flush(2.0);
}

}  // namespace turnpike
