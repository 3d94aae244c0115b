// Validation of pairing API fields.
#include "pairing/field_rules.hpp"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/utf8.hpp"

namespace turnpike {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The integral value of a JSON number, if it is one (300 and 300.0 alike).
std::optional<std::int64_t> integral_number(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9e15) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace

bool is_missing_field(const nlohmann::json& body, std::string_view name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty());
}

std::optional<std::string> normalize_joinid(const nlohmann::json& value, int digits) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (auto n = integral_number(value); n && *n >= 0) {
    text = std::to_string(*n);
  } else {
    return std::nullopt;
  }
  if (static_cast<int>(text.size()) != digits || !all_digits(text)) return std::nullopt;
  return text;
}

std::optional<std::int64_t> parse_expires_seconds(const nlohmann::json& value, std::int64_t max_seconds) {
  std::optional<std::int64_t> seconds;
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (all_digits(s) && ec == std::errc() && end == s.data() + s.size()) seconds = v;
  } else if (!value.is_boolean()) {
    seconds = integral_number(value);
  }
  if (!seconds || *seconds < 1 || *seconds > max_seconds) return std::nullopt;
  return seconds;
}

bool is_valid_id_text(std::string_view text, std::size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return is_valid_utf8(text);  // ids from a query string are percent-decoded bytes, not checked by a parser
}

bool is_valid_id(const nlohmann::json& value, std::size_t max_bytes) {
  return value.is_string() && is_valid_id_text(value.get_ref<const std::string&>(), max_bytes);
}

}  // namespace turnpike
