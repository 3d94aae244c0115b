// Structured logging: one `key=value` line per event on stderr, filtered by level.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace turnpike {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

// Builds one line and writes it when destroyed: LogLine(LogLevel::info, "listening").kv("address", a);
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, std::int64_t value);
  LogLine& kv(std::string_view key, std::uint64_t value);
  LogLine& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
  LogLine& kv(std::string_view key, unsigned value) { return kv(key, static_cast<std::uint64_t>(value)); }
  LogLine& kv(std::string_view key, double value);
  LogLine& kv(std::string_view key, bool value) {
    return kv(key, std::string_view(value ? "true" : "false"));
  }

 private:
  bool enabled_;
  std::string line_;
};

inline LogLine log_debug(std::string_view event) {
  return LogLine(LogLevel::debug, event);
}
inline LogLine log_info(std::string_view event) {
  return LogLine(LogLevel::info, event);
}
inline LogLine log_warn(std::string_view event) {
  return LogLine(LogLevel::warn, event);
}
inline LogLine log_error(std::string_view event) {
  return LogLine(LogLevel::error, event);
}

}  // namespace turnpike
