// Socket.IO v5 over Engine.IO: namespaces, CONNECT with its auth payload, events and acks, disconnects; each
// namespace is served by a dialect through NamespaceHandler.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "net/event_handles.hpp"
#include "socketio/engine_session.hpp"

namespace turnpike {
struct Config;
}

namespace turnpike::sio {

// One client's connection to one namespace, as a dialect sees it.
class Socket {
 public:
  Socket(eio::Session& session, std::string id, std::string nsp)
      : session_(session), id_(std::move(id)), nsp_(std::move(nsp)) {}

  // The socket id (socket.id on the client), unique among the sockets connected now.
  const std::string& id() const { return id_; }
  const std::string& nsp() const { return nsp_; }
  const IpAddress& client() const { return session_.client(); }

  // An event with one argument (`json_arg`: serialized JSON).
  void emit(std::string_view event, std::string_view json_arg);
  // The answer to an event that asked for an ack (`json_args`: a serialized JSON array).
  void ack(std::uint64_t ack_id, std::string_view json_args);
  // Ends the client's whole connection (every namespace gets on_disconnect with `reason`).
  void end(std::string_view reason) { session_.close(reason); }

 private:
  eio::Session& session_;
  std::string id_;
  std::string nsp_;
};

class NamespaceHandler {
 public:
  virtual ~NamespaceHandler() = default;
  // A CONNECT with `auth` (null when the client sent none): nullopt admits it, a text refuses it with
  // CONNECT_ERROR {"message": text}. Nothing may be sent to the socket yet.
  virtual std::optional<std::string> admit(const Socket& socket, const nlohmann::ordered_json& auth) = 0;
  // The client has its CONNECT answer; `auth` as admitted.
  virtual void on_connect(Socket& socket, const nlohmann::ordered_json& auth) = 0;
  // An event; `args` is the array of arguments after the name.
  virtual void on_event(Socket& socket, std::string_view event, nlohmann::ordered_json& args,
                        std::optional<std::uint64_t> ack_id) = 0;
  // The socket is gone (`reason` as Socket.IO names it: "transport close", "ping timeout", "client namespace
  // disconnect", ...); it must not be used after this returns.
  virtual void on_disconnect(Socket& socket, std::string_view reason) = 0;
};

class SocketIoServer : public eio::SessionListener {
 public:
  SocketIoServer(event_base* base, const Config& config);
  ~SocketIoServer() override;
  SocketIoServer(const SocketIoServer&) = delete;
  SocketIoServer& operator=(const SocketIoServer&) = delete;

  // Serves namespace `nsp` ("/sessions", "/") with `handler`, which must outlive the server.
  void add_namespace(std::string nsp, NamespaceHandler& handler);

  void on_open(eio::Session& session) override;
  void on_message(eio::Session& session, std::string_view data) override;
  void on_close(eio::Session& session, std::string_view reason) override;

 private:
  struct Client;
  static void on_connect_timeout(void* client);
  void connect(Client& client, const std::string& nsp, const nlohmann::ordered_json& auth);
  void disconnect(Client& client, const std::string& nsp, std::string_view reason);

  event_base* base_;
  const Config& config_;
  std::unordered_map<std::string, NamespaceHandler*> namespaces_;
  std::unordered_map<const eio::Session*, std::unique_ptr<Client>> clients_;
};

}  // namespace turnpike::sio
