// Validation of pairing API fields exactly as PROTOCOL.md §Details specifies (join codes, expiry, ids).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace turnpike {

// Absent, null or "" (the reference server's notion of a missing field).
bool is_missing_field(const nlohmann::json& body, std::string_view name);
// A string of exactly `digits` ASCII digits, or a non-negative integral number with that many digits.
std::optional<std::string> normalize_joinid(const nlohmann::json& value, int digits);
// An integral number (300, 300.0) or a string of ASCII digits, within 1..max_seconds.
std::optional<std::int64_t> parse_expires_seconds(const nlohmann::json& value, std::int64_t max_seconds);
// A string of 1..max_bytes UTF-8 bytes without control characters (U+0000-U+001F, U+007F).
bool is_valid_id(const nlohmann::json& value, std::size_t max_bytes);
bool is_valid_id_text(std::string_view text, std::size_t max_bytes);

}  // namespace turnpike
