// JSON text helpers that never throw: quoting strings, serialising values, and a nesting-depth guard.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace turnpike {

// Serialises without throwing (invalid UTF-8 is replaced, which cannot happen for parsed input).
std::string to_json_text(const nlohmann::json& value);
std::string to_json_text(const nlohmann::ordered_json& value);
// "text" with JSON escapes, exactly as nlohmann::json's dump() writes a string (`text` must be valid UTF-8).
std::string json_quote(std::string_view text);
// The same, appended to `out` (no allocation beyond growing `out`).
void append_json_quoted(std::string& out, std::string_view text);
// True if arrays/objects nest deeper than `max_depth` (strings are skipped). Guards recursive code.
bool json_nesting_exceeds(std::string_view text, int max_depth);
// Parses without throwing; a discarded value means the text is not JSON.
nlohmann::json parse_json(std::string_view text);
// The same, keeping object keys in their original order (for values relayed to another client).
nlohmann::ordered_json parse_ordered_json(std::string_view text);

}  // namespace turnpike
