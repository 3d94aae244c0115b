// A validating JSON scanner that builds no tree: the exact bytes of each top-level member, for hot paths.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace turnpike {

enum class JsonKind : unsigned char { object, array, string, number, literal };  // literal: true/false/null

struct JsonSpan {
  std::string_view text;  // the value's exact bytes
  JsonKind kind = JsonKind::literal;
  // The bytes are exactly what nlohmann::json's dump() prints for the parsed value: no whitespace, the
  // shortest escapes, integers only, no duplicate keys. Relaying them is then the same as re-serialising.
  bool canonical = false;
  bool has_escapes = false;  // strings: compare decoded text, not `text`, when set
};

struct JsonMember {
  std::string_view raw_key;  // between the quotes, escapes not decoded
  bool key_has_escapes = false;
  JsonSpan value;
};

// Scans `text` as one JSON value (RFC 8259; UTF-8 checked inside strings; at most `max_depth` nested arrays
// and objects). Returns false for anything nlohmann::json would reject, and also for a leading byte-order
// mark, which nlohmann skips, and for a NUL byte, where nlohmann stops reading: callers fall back to the full
// parser then. On success `top` describes the
// value and, for an object, `members` lists its members in order, duplicates included (JSON parsers keep
// the last). `members` is cleared first; pass the same vector again to reuse its memory.
class JsonScanner {
 public:
  bool scan(std::string_view text, int max_depth, JsonSpan& top, std::vector<JsonMember>& members);

 private:
  bool value(JsonSpan& out, int depth_left);
  bool object(JsonSpan& out, int depth_left);
  bool array(JsonSpan& out, int depth_left);
  bool string(JsonSpan& out);
  bool number(JsonSpan& out);
  bool literal(std::string_view word, JsonSpan& out);
  bool hex4(unsigned& code);
  bool skip_whitespace();  // true if it skipped any
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<JsonMember>* top_members_ = nullptr;
  std::vector<std::string_view> keys_;  // raw keys of the objects being scanned, for the duplicate check
};

// The text between the quotes of a string span that has no escapes; false for anything else.
inline bool json_plain_string(const JsonSpan& span, std::string_view& out) {
  if (span.kind != JsonKind::string || span.has_escapes) return false;
  out = span.text.substr(1, span.text.size() - 2);
  return true;
}

}  // namespace turnpike
