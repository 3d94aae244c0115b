// The HTTP/1.1 side of a connection: parses requests (keep-alive, pipelining), enforces request and idle
// timeouts and the REST rate limit, answers through the router, and upgrades to WebSocket.
#pragma once

#include <optional>
#include <string>

#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "net/connection.hpp"

namespace turnpike {

class App;

class HttpSession : public ConnectionHandler {
 public:
  HttpSession(Connection& connection, App& app);
  ~HttpSession() override;
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void on_input(evbuffer* input) override;
  void on_shutdown() override;

 private:
  static void on_timer(void* self);
  void arm_timer();
  void handle(http::Request request);
  // A response whose request wrote (or read) data that is not committed yet waits for the commit; the
  // next pipelined request waits behind it.
  void hold(http::Request request, http::Response response, std::string route, double started);
  void release(bool committed);
  // Answers a WebSocket upgrade request; true if the connection now speaks WebSocket.
  bool try_upgrade(const http::Request& request);
  void respond(const http::Request* request, http::Response response, std::string_view route, double started);
  void add_cors_headers(const http::Request* request, http::Response& response) const;

  Connection& connection_;
  App& app_;
  http::RequestParser parser_;
  Timer timer_;
  double request_started_ = 0;  // monotonic time of the first byte of the current request
  double idle_since_ = 0;
  struct Held {
    http::Request request;
    http::Response response;
    std::string route;
    double started = 0;
    std::uint64_t ticket = 0;
  };
  std::optional<Held> held_;
  bool sent_continue_ = false;
  bool upgraded_ = false;
};

}  // namespace turnpike
