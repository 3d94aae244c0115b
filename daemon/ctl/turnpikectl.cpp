// turnpikectl: the admin's command-line tool. Talks to the running turnpiked over its admin unix socket
// (status, rooms, room delete, purge, reload) and works offline on the config (check-config, coturn-config).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.hpp"
#include "core/json_text.hpp"
#include "core/terminal_text.hpp"
#include "core/text.hpp"
#include "ctl/admin_client.hpp"
#include "turn/coturn_config.hpp"
#include "version.hpp"

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kDefaultConfig = "/etc/turnpike/turnpike.conf";
constexpr const char* kDefaultSocket = "/run/turnpike/admin.sock";

enum Exit {
  kOk = 0,
  kDaemonError = 1,
  kConfigError = 2,
  kTurnOff = 3,
  kUsage = 64,
  kNotRunning = 69,
  kDenied = 77
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: turnpikectl [--config FILE] [--socket PATH] [--json] COMMAND\n"
               "commands:\n"
               "  status              what the running daemon is doing\n"
               "  rooms               rooms created through the pairing API\n"
               "  room delete ID      end a room (members get room_closed, TURN access is revoked)\n"
               "  purge DEVICE...     delete every room and join code of these device ids\n"
               "  reload              re-read the config file (like systemctl reload turnpike)\n"
               "  check-config        validate the config file\n"
               "  coturn-config       print the turnserver.conf that matches the config file\n"
               "FILE defaults to %s; PATH to the config's admin.socket, else %s.\n",
               kDefaultConfig, kDefaultSocket);
}

struct Options {
  std::string config_path = kDefaultConfig;
  std::string socket_path;
  bool json_output = false;
  std::vector<std::string> words;
};

std::string duration_text(std::int64_t seconds) {
  char buf[64];
  if (seconds >= 86400) {
    std::snprintf(buf, sizeof buf, "%lldd %lldh", static_cast<long long>(seconds / 86400),
                  static_cast<long long>(seconds % 86400 / 3600));
  } else if (seconds >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh %lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm %llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return buf;
}

// Runs one admin request; prints the error and returns an exit code on failure.
int call(const Options& options, const char* method, const char* path, const std::string& body, json& reply) {
  turnpike::AdminError error;
  auto answer = turnpike::admin_request(options.socket_path, method, path, body, error);
  if (!answer) {
    std::fprintf(stderr, "turnpikectl: %s\n", error.message.c_str());
    switch (error.kind) {
      case turnpike::AdminFailure::not_running:
        return kNotRunning;
      case turnpike::AdminFailure::permission_denied:
        return kDenied;
      case turnpike::AdminFailure::protocol:
        return kDaemonError;
    }
  }
  reply = turnpike::parse_ordered_json(answer->body);
  if (reply.is_discarded()) reply = json::object();
  if (answer->status >= 400) {
    std::string code = reply.value("error", "error " + std::to_string(answer->status));
    std::string details = reply.value("details", "");
    std::fprintf(stderr, "turnpikectl: turnpiked answered %s%s%s\n", code.c_str(),
                 details.empty() ? "" : ": ", details.c_str());
    return code == "invalid_config" ? kConfigError : kDaemonError;
  }
  return kOk;
}

void print_status(const json& s) {
  std::printf("turnpiked %s: %s, up %s\n", s.value("version", "?").c_str(), s.value("status", "?").c_str(),
              duration_text(s.value("uptimeSeconds", 0)).c_str());
  std::printf("connections  %lld (%lld WebSocket)\n", s.value("connections", 0LL),
              s.value("websockets", 0LL));
  std::printf("rooms        %lld (%lld with members online), %lld pending join codes\n",
              s.value("rooms", 0LL), s.value("signalingRooms", 0LL), s.value("pendings", 0LL));
  const json turn = s.value("turn", json::object());
  if (turn.value("enabled", false)) {
    std::printf("turn         %s, %lld session kills pending\n", turn.value("mode", "?").c_str(),
                turn.value("killsPending", 0LL));
  } else {
    std::printf("turn         off (turn.urls is empty)\n");
  }
  std::printf("config       %s\n", s.value("config", "?").c_str());
}

void print_rooms(const json& reply) {
  const json rooms = reply.value("rooms", json::array());
  if (rooms.empty()) {
    std::printf("no rooms\n");
    return;
  }
  std::printf("%-48s  %-20s  %-20s  %-24s  %-24s  %s\n", "ROOM", "CLIENT1", "CLIENT2", "CREATED",
              "LAST ACTIVE", "ONLINE");
  for (const auto& room : rooms) {
    // Device ids come from clients (and rows may have been written by hand): print them escaped.
    auto field = [&room](const char* key) { return turnpike::terminal_safe(room.value(key, "")); };
    std::printf("%-48s  %-20s  %-20s  %-24s  %-24s  %lld\n", field("roomid").c_str(),
                field("client1").c_str(), field("client2").c_str(), field("createdAt").c_str(),
                field("lastActiveAt").c_str(), room.value("members", 0LL));
  }
}

// admin.socket from the config file. Read leniently: `reload` must reach the daemon even when the file has
// just been broken; an unreadable file (not root, not in group turnpike) means the default socket.
std::string admin_socket_of(const std::string& config_path) {
  std::ifstream file(config_path);
  std::string section;
  std::string socket = kDefaultSocket;
  for (std::string raw; std::getline(file, raw);) {
    auto line = turnpike::trim(raw);
    if (line.starts_with("[") && line.ends_with("]")) {
      section = std::string(turnpike::trim(line.substr(1, line.size() - 2)));
    } else if (section == "admin" && line.starts_with("socket")) {
      auto eq = line.find('=');
      if (eq != std::string_view::npos && turnpike::trim(line.substr(0, eq)) == "socket") {
        socket = std::string(turnpike::trim(line.substr(eq + 1)));
      }
    }
  }
  return socket;
}

int run_daemon_command(const Options& options) {
  const auto& w = options.words;
  json reply;
  int code = kUsage;
  if (w[0] == "status" && w.size() == 1) {
    code = call(options, "GET", "/admin/status", "", reply);
    if (code == kOk && !options.json_output) print_status(reply);
  } else if (w[0] == "rooms" && w.size() == 1) {
    code = call(options, "GET", "/admin/rooms", "", reply);
    if (code == kOk && !options.json_output) print_rooms(reply);
  } else if (w[0] == "room" && w.size() == 3 && w[1] == "delete") {
    code = call(options, "DELETE", "/api/rooms", turnpike::to_json_text(json{{"roomid", w[2]}}), reply);
    if (code == kOk && !options.json_output) {
      std::printf("room %s deleted\n", turnpike::terminal_safe(w[2]).c_str());
    }
  } else if (w[0] == "purge" && w.size() >= 2) {
    json ids(std::vector<std::string>(w.begin() + 1, w.end()));
    code = call(options, "POST", "/api/user/purge", turnpike::to_json_text(json{{"deviceIds", ids}}), reply);
    if (code == kOk && !options.json_output) {
      std::printf("purged %lld rooms and %lld pending join codes of %zu device ids\n",
                  reply.value("roomsDeleted", 0LL), reply.value("pendingsDeleted", 0LL), w.size() - 1);
    }
  } else if (w[0] == "reload" && w.size() == 1) {
    code = call(options, "POST", "/admin/reload", "", reply);
    if (code == kOk && !options.json_output) {
      std::string changed;
      for (const auto& key : reply.value("changed", json::array())) {
        changed += (changed.empty() ? "" : ", ") + key.get<std::string>();
      }
      std::printf("reloaded; changed: %s\n", changed.empty() ? "nothing" : changed.c_str());
    }
  } else {
    usage(stderr);
    return kUsage;
  }
  if (code == kOk && options.json_output) std::printf("%s\n", turnpike::to_json_text(reply).c_str());
  return code;
}

int run(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      options.config_path = argv[++i];
    } else if (arg == "--socket" && i + 1 < argc) {
      options.socket_path = argv[++i];
    } else if (arg == "--json") {
      options.json_output = true;
    } else if (arg == "--version") {
      std::printf("turnpikectl %s\n", turnpike::kVersion);
      return kOk;
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return kOk;
    } else if (arg.starts_with("--")) {
      usage(stderr);
      return kUsage;
    } else {
      options.words.push_back(arg);
    }
  }
  if (options.words.empty()) {
    usage(stderr);
    return kUsage;
  }
  const std::string& command = options.words[0];
  if (command == "check-config" || command == "coturn-config") {
    auto config = turnpike::load_config_file(options.config_path);
    if (!config) {
      std::fprintf(stderr, "%s\n", config.error().message.c_str());
      return kConfigError;
    }
    if (command == "check-config") {
      std::printf(options.json_output ? "{\"ok\":true}\n" : "config ok\n");
      return kOk;
    }
    if (!config->turn.enabled()) {
      std::fprintf(stderr, "%s: turn.urls is empty, so per-room TURN is off and coturn is not needed\n",
                   options.config_path.c_str());
      return kTurnOff;
    }
    // The output holds coturn's CLI password: `coturn-config > file` (as the docs show it) must not leave it
    // readable by everyone, whatever the umask, so a file gets at most rw-r----- before anything is written.
    struct stat out {};
    if (::fstat(STDOUT_FILENO, &out) == 0 && S_ISREG(out.st_mode) && (out.st_mode & 0137) != 0 &&
        ::fchmod(STDOUT_FILENO, out.st_mode & 0640) != 0) {
      std::fprintf(stderr, "cannot make the output file private (it would hold the CLI password): %s\n",
                   std::strerror(errno));
      return kDaemonError;
    }
    std::fputs(turnpike::render_coturn_config(*config, options.config_path).c_str(), stdout);
    return kOk;
  }
  if (options.socket_path.empty()) options.socket_path = admin_socket_of(options.config_path);
  return run_daemon_command(options);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "turnpikectl: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "turnpikectl: unexpected failure\n");
  }
  return 1;
}
