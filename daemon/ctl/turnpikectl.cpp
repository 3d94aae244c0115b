// turnpikectl: the admin's command-line tool; `coturn-config` renders turnserver.conf from turnpike.conf.
#include <cstdio>
#include <string>

#include "core/config.hpp"
#include "turn/coturn_config.hpp"
#include "version.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/turnpike/turnpike.conf";

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: turnpikectl [--config FILE] coturn-config   print the turnserver.conf matching FILE\n"
               "       turnpikectl [--config FILE] check-config    validate FILE\n"
               "       turnpikectl --version\n"
               "FILE defaults to %s.\n",
               kDefaultConfig);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--version") {
      std::printf("turnpikectl %s\n", turnpike::kVersion);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    } else if (command.empty() && !arg.starts_with("-")) {
      command = arg;
    } else {
      usage(stderr);
      return 64;
    }
  }
  if (command != "coturn-config" && command != "check-config") {
    usage(stderr);
    return 64;
  }
  auto config = turnpike::load_config_file(config_path);
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 2;
  }
  if (command == "check-config") {
    std::printf("config ok\n");
    return 0;
  }
  if (!config->turn.enabled()) {
    std::fprintf(stderr, "%s: turn.urls is empty, so per-room TURN is off and coturn is not needed\n",
                 config_path.c_str());
    return 3;
  }
  std::fputs(turnpike::render_coturn_config(*config, config_path).c_str(), stdout);
  return 0;
}
