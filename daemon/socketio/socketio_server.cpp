// Socket.IO v5 over Engine.IO.
#include "socketio/socketio_server.hpp"

#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "socketio/socketio_packet.hpp"

namespace turnpike::sio {
namespace {

constexpr std::size_t kSocketIdBytes = 15;  // 20 base64url characters

}  // namespace

void Socket::emit(std::string_view event, std::string_view json_arg) {
  session_.send_message(encode_event(nsp_, event, json_arg));
}

void Socket::ack(std::uint64_t ack_id, std::string_view json_args) {
  session_.send_message(encode(PacketType::ack, nsp_, ack_id, json_args));
}

// One Engine.IO session's namespaces. It must connect one within socketio.connect_timeout_seconds.
struct SocketIoServer::Client {
  Client(event_base* base, SocketIoServer& owner, eio::Session& engine)
      : server(owner), session(engine), connect_timer(base, &SocketIoServer::on_connect_timeout, this) {}
  SocketIoServer& server;
  eio::Session& session;
  std::unordered_map<std::string, std::unique_ptr<Socket>> sockets;  // by namespace
  Timer connect_timer;
};

SocketIoServer::SocketIoServer(event_base* base, const Config& config) : base_(base), config_(config) {}

SocketIoServer::~SocketIoServer() = default;

void SocketIoServer::add_namespace(std::string nsp, NamespaceHandler& handler) {
  namespaces_[std::move(nsp)] = &handler;
}

void SocketIoServer::on_open(eio::Session& session) {
  auto client = std::make_unique<Client>(base_, *this, session);
  client->connect_timer.start(config_.socketio.connect_timeout_seconds);
  clients_[&session] = std::move(client);
}

void SocketIoServer::on_connect_timeout(void* self) {
  auto* client = static_cast<Client*>(self);
  if (!client->sockets.empty()) return;
  log_info("socketio_connect_timeout").kv("session", client->session.log_id());
  client->session.close("connect timeout");
}

void SocketIoServer::on_message(eio::Session& session, std::string_view data) {
  auto it = clients_.find(&session);
  if (it == clients_.end()) return;
  Client& client = *it->second;
  auto decoded = decode(data);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    log_info("socketio_parse_error").kv("session", session.log_id()).kv("error", describe(*error));
    session.close("parse error");
    return;
  }
  Packet& packet = std::get<Packet>(decoded);
  switch (packet.type) {
    case PacketType::connect:
      return connect(client, packet.nsp, packet.has_data ? packet.data : nlohmann::ordered_json());
    case PacketType::disconnect:
      return disconnect(client, packet.nsp, "client namespace disconnect");
    case PacketType::event: {
      auto socket = client.sockets.find(packet.nsp);
      if (socket == client.sockets.end()) {
        // An event for a namespace the client is not connected to: Socket.IO ends the connection.
        log_info("socketio_invalid_state").kv("session", session.log_id());
        session.close("invalid state");
        return;
      }
      nlohmann::ordered_json& array = packet.data;
      std::string name = array.front().is_string() ? array.front().get<std::string>() : array.front().dump();
      array.erase(array.begin());
      namespaces_.at(packet.nsp)->on_event(*socket->second, name, array, packet.ack_id);
      return;
    }
    case PacketType::ack:
    case PacketType::connect_error:
    case PacketType::binary_event:
    case PacketType::binary_ack:
      return;  // the server asks for no acks; the rest is not for a server
  }
}

void SocketIoServer::connect(Client& client, const std::string& nsp, const nlohmann::ordered_json& auth) {
  auto handler = namespaces_.find(nsp);
  if (handler == namespaces_.end()) {
    client.session.send_message(encode_connect_error(nsp, "Invalid namespace"));
    return;
  }
  if (client.sockets.contains(nsp)) return;  // already connected there
  auto socket = std::make_unique<Socket>(client.session, random_base64url(kSocketIdBytes), nsp);
  if (auto refusal = handler->second->admit(*socket, auth)) {
    client.session.send_message(encode_connect_error(nsp, *refusal));
    return;
  }
  Socket& connected = *socket;
  client.sockets.emplace(nsp, std::move(socket));
  client.connect_timer.stop();
  client.session.send_message(encode_connect(nsp, connected.id()));
  handler->second->on_connect(connected, auth);
}

void SocketIoServer::disconnect(Client& client, const std::string& nsp, std::string_view reason) {
  auto it = client.sockets.find(nsp);
  if (it == client.sockets.end()) return;
  std::unique_ptr<Socket> socket = std::move(it->second);
  client.sockets.erase(it);
  namespaces_.at(nsp)->on_disconnect(*socket, reason);
}

void SocketIoServer::on_close(eio::Session& session, std::string_view reason) {
  auto it = clients_.find(&session);
  if (it == clients_.end()) return;
  std::unique_ptr<Client> client = std::move(it->second);
  clients_.erase(it);
  std::vector<std::string> connected;
  for (const auto& [nsp, socket] : client->sockets) connected.push_back(nsp);
  for (const auto& nsp : connected) disconnect(*client, nsp, reason);
}

}  // namespace turnpike::sio
