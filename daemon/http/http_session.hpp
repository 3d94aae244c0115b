// The HTTP/1.1 side of a connection: parses requests (keep-alive, pipelining), enforces request and idle
// timeouts and the REST rate limit, hands each request to an HttpService and writes its answer, and hands
// Upgrade requests to the service as well.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "http/request_context.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "net/connection.hpp"
#include "net/listener.hpp"

namespace turnpike {

class Metrics;

// Delivers the answer to one request. `route` is a low-cardinality name for metrics ("POST /api/rooms").
using HttpReply = std::function<void(http::Response response, std::string route)>;

// What an Upgrade request turns into: the bytes that announce it (101 Switching Protocols) and, once they
// are queued, the handler that takes the connection over; or, without `take_over`, the refusal to send.
struct HttpUpgrade {
  std::string handshake;
  std::function<std::unique_ptr<ConnectionHandler>(Connection&)> take_over;
  http::Response refusal;
};

// The daemon's side of HTTP, as HttpSession sees it.
class HttpService {
 public:
  virtual ~HttpService() = default;
  // Answers `request` by calling `reply` exactly once, during this call or in a later turn of the loop
  // (after a commit, or from an asynchronous store). The session takes no further request meanwhile.
  virtual void handle(const http::Request& request, const RequestContext& ctx, HttpReply reply) = 0;
  // A request with "Upgrade: websocket"; `ctx.peer` is the client for the whole WebSocket session.
  virtual HttpUpgrade upgrade(const http::Request& request, const RequestContext& ctx) = 0;
  // A request whose head arrived but whose body went over its limit; the session answers it 413 itself.
  virtual void body_refused(const http::Request& /*head*/) {}
};

struct HttpSessionPorts {
  const Config& config;
  HttpService& service;
  AddressRateLimiter& rest_limiter;
  Metrics& metrics;
};

class HttpSession : public ConnectionHandler {
 public:
  HttpSession(Connection& connection, HttpSessionPorts ports);
  ~HttpSession() override;
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void on_input(evbuffer* input) override;
  void on_shutdown() override;

 private:
  static void on_timer(void* self);
  void arm_timer();
  void handle(http::Request request);
  // The service's answer to the request in flight.
  void answer(http::Response response, std::string_view route);
  void upgrade(const http::Request& request, const RequestContext& ctx, double started);
  // The request's context, with the client address resolved through server.trusted_proxies.
  RequestContext context_of(const http::Request& request, double started) const;
  void respond(const http::Request* request, http::Response response, std::string_view route, double started);

  Connection& connection_;
  HttpSessionPorts ports_;
  http::RequestParser parser_;
  Timer timer_;
  double request_started_ = 0;  // monotonic time of the first byte of the current request
  double idle_since_ = 0;
  // The request the service is answering, and when it arrived; `awaiting_` until its reply came.
  std::optional<http::Request> in_flight_;
  double in_flight_started_ = 0;
  bool awaiting_ = false;
  bool in_service_call_ = false;
  // Replies that arrive after the session is gone find this expired.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  bool sent_continue_ = false;
  bool upgraded_ = false;
};

// Starts every new connection as an HttpSession.
class HttpSessionFactory : public SessionFactory {
 public:
  explicit HttpSessionFactory(HttpSessionPorts ports) : ports_(ports) {}
  std::unique_ptr<ConnectionHandler> open_session(Connection& connection) override;
  std::string refusal() const override;

 private:
  HttpSessionPorts ports_;
};

}  // namespace turnpike
