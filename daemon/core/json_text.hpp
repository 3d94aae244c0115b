// JSON text helpers that never throw: quoting strings, serialising values, and a nesting-depth guard.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace turnpike {

// Serialises without throwing (invalid UTF-8 is replaced, which cannot happen for parsed input).
std::string to_json_text(const nlohmann::json& value);
std::string to_json_text(const nlohmann::ordered_json& value);
// "text" with JSON escapes.
std::string json_quote(std::string_view text);
// True if arrays/objects nest deeper than `max_depth` (strings are skipped). Guards recursive code.
bool json_nesting_exceeds(std::string_view text, int max_depth);
// Parses without throwing; a discarded value means the text is not JSON.
nlohmann::json parse_json(std::string_view text);
// The same, keeping object keys in their original order (for values relayed to another client).
nlohmann::ordered_json parse_ordered_json(std::string_view text);

}  // namespace turnpike
