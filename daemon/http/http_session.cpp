// The HTTP/1.1 side of a connection.
#include "http/http_session.hpp"

#include <event2/buffer.h>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "http/cors.hpp"
#include "http/forwarded.hpp"

namespace turnpike {
namespace {

http::ParserLimits limits_of(const Config& config) {
  return {static_cast<std::size_t>(config.limits.max_header_bytes),
          static_cast<std::size_t>(config.limits.max_body_bytes)};
}

// A trusted proxy that sends no usable client header is a setup mistake: said once per process and kind, not
// per request (the requests are then treated as coming from the proxy itself).
void warn_proxy_once(http::ClientSource source, const IpAddress& proxy) {
  static bool missing_said = false;
  static bool unusable_said = false;
  if (source == http::ClientSource::proxy_without_header && !missing_said) {
    missing_said = true;
    log_warn("proxy_header_missing").kv("proxy", proxy.to_string());
  } else if (source == http::ClientSource::proxy_header_unusable && !unusable_said) {
    unusable_said = true;
    log_warn("proxy_header_unusable").kv("proxy", proxy.to_string());
  }
}

}  // namespace

HttpSession::HttpSession(Connection& connection, HttpSessionPorts ports)
    : connection_(connection),
      ports_(ports),
      parser_(limits_of(ports.config)),
      timer_(connection.base(), &HttpSession::on_timer, this),
      idle_since_(monotonic_seconds()) {
  arm_timer();
}

HttpSession::~HttpSession() = default;

void HttpSession::arm_timer() {
  const auto& server = ports_.config.server;
  double now = monotonic_seconds();
  if (parser_.in_progress()) {
    timer_.start(request_started_ + server.request_timeout_seconds - now);
  } else {
    timer_.start(idle_since_ + server.idle_timeout_seconds - now);
  }
}

void HttpSession::on_timer(void* self) {
  auto* session = static_cast<HttpSession*>(self);
  if (session->connection_.closing() || session->awaiting_) return;
  if (session->parser_.in_progress()) {
    log_info("request_timeout").kv("conn", session->connection_.id());
    session->respond(nullptr, http::Response::error(408, "request_timeout"), "timeout", monotonic_seconds());
  } else {
    log_debug("idle_timeout").kv("conn", session->connection_.id());
    session->connection_.close();
  }
}

void HttpSession::on_input(evbuffer* input) {
  parser_.set_limits(limits_of(ports_.config));
  parser_.set_long_body_rule({ports_.config.socketio.path + "/",
                              static_cast<std::size_t>(ports_.config.socketio.max_payload_bytes)});
  while (!connection_.closing() && !upgraded_ && !awaiting_ && evbuffer_get_length(input) > 0) {
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
      if (error == http::ParseError::body_too_large && parser_.headers_complete()) {
        ports_.service.body_refused(parser_.request());
      }
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
  if (!parser_.in_progress() && !awaiting_) connection_.close();
  // A request in progress is answered with Connection: close (see respond) or times out.
}

void HttpSession::handle(http::Request request) {
  double started = monotonic_seconds();
  const Config& config = ports_.config;
  RequestContext ctx = context_of(request, started);

  RateSettings rest_rate{config.limits.rest_rate_per_second, config.limits.rest_rate_burst};
  if (!ctx.admin_socket && !ports_.rest_limiter.try_take(ctx.limit_key, rest_rate, started)) {
    ports_.metrics.count_rate_limited("rest");
    respond(&request,
            http::rate_limited(ports_.rest_limiter.seconds_until_token(ctx.limit_key, rest_rate, started)),
            "rate_limited", started);
    idle_since_ = monotonic_seconds();
    return;
  }
  if (request.header_has_token("Upgrade", "websocket")) return upgrade(request, ctx, started);

  in_flight_ = std::move(request);
  in_flight_started_ = started;
  awaiting_ = true;
  in_service_call_ = true;
  ports_.service.handle(
      *in_flight_, ctx,
      [this, alive = std::weak_ptr<char>(alive_)](http::Response response, const std::string& route) {
        if (!alive.expired()) answer(std::move(response), route);
      });
  in_service_call_ = false;
}

void HttpSession::answer(http::Response response, std::string_view route) {
  if (!awaiting_) return;  // a service that replies twice: the first answer counts
  awaiting_ = false;
  respond(&*in_flight_, std::move(response), route, in_flight_started_);
  idle_since_ = monotonic_seconds();
  // An answer from a later turn: pipelined requests that waited behind it are read now.
  if (!in_service_call_) {
    connection_.resume_input();
    if (!connection_.closing() && !upgraded_ && !awaiting_) arm_timer();
  }
}

RequestContext HttpSession::context_of(const http::Request& request, double started) const {
  const Config& config = ports_.config;
  RequestContext ctx{config, connection_.peer(), {}, wall_clock_ms(), started, connection_.admin()};
  if (!ctx.admin_socket) {
    auto origin = http::resolve_client(connection_.peer(), config.server.trusted_proxies, request.headers);
    warn_proxy_once(origin.source, connection_.peer());
    ctx.peer = origin.address;
    ctx.forwarded_proto = std::move(origin.forwarded_proto);
  }
  ctx.limit_key = limit_key(ctx.peer, static_cast<int>(config.limits.ipv6_prefix_length));
  return ctx;
}

void HttpSession::upgrade(const http::Request& request, const RequestContext& ctx, double started) {
  HttpUpgrade upgrade = ports_.service.upgrade(request, ctx);
  if (!upgrade.take_over) {
    respond(&request, std::move(upgrade.refusal), "websocket", started);
    return;
  }
  (void)connection_.send(upgrade.handshake);
  ports_.metrics.count_request("websocket", 101, monotonic_seconds() - started);
  timer_.stop();
  upgraded_ = true;
  connection_.replace_handler(upgrade.take_over(connection_));
}

void HttpSession::respond(const http::Request* request, http::Response response, std::string_view route,
                          double started) {
  if (response.cors) http::add_cors_headers(ports_.config, request, response);
  bool keep_alive = request != nullptr && request->keep_alive() && !response.close &&
                    !connection_.listener().shutting_down();
  bool head = request != nullptr && request->method == "HEAD";
  ports_.metrics.count_request(route, response.status, monotonic_seconds() - started);
  if (!connection_.send(http::serialize(response, keep_alive, head))) {
    connection_.close();
    return;
  }
  if (!keep_alive) connection_.close_after_flush(2.0);
}

std::unique_ptr<ConnectionHandler> HttpSessionFactory::open_session(Connection& connection) {
  return std::make_unique<HttpSession>(connection, ports_);
}

std::string HttpSessionFactory::refusal() const {
  return http::refusal_bytes(ports_.config);
}

}  // namespace turnpike
