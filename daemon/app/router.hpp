// Maps method and path to a handler; answers 404/405/410 and OPTIONS preflights itself.
#pragma once

#include <string>
#include <string_view>

#include "app/request_context.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

namespace turnpike {

class App;

class Router {
 public:
  explicit Router(App& app) : app_(app) {}

  // `route` receives a low-cardinality name for metrics ("POST /api/rooms", "unmatched").
  http::Response handle(const http::Request& request, const RequestContext& ctx, std::string& route);
  // Lower-case path without one trailing slash (Express 5 matching rules).
  std::string normalize(std::string_view path) const;

 private:
  http::Response serve_ops(std::string_view path, const http::Request& request, const RequestContext& ctx);
  bool is_admin(const RequestContext& ctx) const;

  App& app_;
};

}  // namespace turnpike
