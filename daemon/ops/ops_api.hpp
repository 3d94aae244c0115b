// Operations endpoints: GET /health, GET /rooms and GET /metrics.
#pragma once

#include "app/request_context.hpp"
#include "http/response.hpp"

namespace turnpike {

class App;

http::Response health_response(App& app, const RequestContext& ctx);
http::Response rooms_response(App& app);
http::Response metrics_response(App& app);
http::Response admin_status_response(App& app, const RequestContext& ctx);
http::Response admin_rooms_response(App& app);
http::Response reload_response(App& app);

}  // namespace turnpike
