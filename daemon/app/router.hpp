// The daemon's HTTP service: one route table maps method and path to a handler (404/405/410 and OPTIONS
// preflights answered here), answers wait for the commit of what they wrote, and WebSocket upgrades become
// WsSessions; everything under socketio.path goes to Engine.IO.
#pragma once

#include <string>

#include "http/http_session.hpp"
#include "ws/ws_session.hpp"

namespace turnpike {

class GroupCommit;
class SessionsDialect;
namespace eio {
class EngineServer;
}
class OpsApi;
class PairingApi;

struct RouterPorts {
  PairingApi& pairing;
  OpsApi& ops;
  GroupCommit& commits;
  WsSessionPorts websocket;
  // Engine.IO under socketio.path: long-polling requests and its WebSocket upgrades.
  eio::EngineServer& socketio;
  // The session dialect's REST route (POST /turn/credentials).
  SessionsDialect& sessions;
};

class Router : public HttpService {
 public:
  explicit Router(RouterPorts ports) : ports_(ports) {}

  void handle(const http::Request& request, const RequestContext& ctx, HttpReply reply) override;
  HttpUpgrade upgrade(const http::Request& request, const RequestContext& ctx) override;
  void body_refused(const http::Request& head) override;

 private:
  // Finds the route and has it answer through `answer`, with the route's metrics name ("POST /api/rooms",
  // "unmatched"), during this call or in a later loop turn.
  void dispatch(const http::Request& request, const RequestContext& ctx, HttpReply answer);

  RouterPorts ports_;
};

}  // namespace turnpike
