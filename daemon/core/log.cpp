// Structured logging: formats and writes `key=value` lines.
#include "core/log.hpp"

#include <atomic>
#include <cstdio>

#include "core/clock.hpp"

namespace turnpike {
namespace {

// Read by the checkpoint thread too.
std::atomic<LogLevel> g_level{LogLevel::info};

constexpr std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void append_value(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level.store(level, std::memory_order_relaxed);
}
bool log_enabled(LogLevel level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

LogLine::LogLine(LogLevel level, std::string_view event) : enabled_(log_enabled(level)) {
  if (!enabled_) return;
  line_.reserve(160);
  line_ += "ts=";
  line_ += format_iso8601_ms(wall_clock_ms());
  line_ += " level=";
  line_ += level_name(level);
  line_ += " event=";
  append_value(line_, event);
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), stderr);
}

LogLine& LogLine::kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  line_ += ' ';
  line_ += key;
  line_ += '=';
  append_value(line_, value);
  return *this;
}

LogLine& LogLine::kv(std::string_view key, std::int64_t value) {
  return enabled_ ? kv(key, std::string_view(std::to_string(value))) : *this;
}

LogLine& LogLine::kv(std::string_view key, std::uint64_t value) {
  return enabled_ ? kv(key, std::string_view(std::to_string(value))) : *this;
}

LogLine& LogLine::kv(std::string_view key, double value) {
  if (!enabled_) return *this;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return kv(key, std::string_view(buf));
}

}  // namespace turnpike
