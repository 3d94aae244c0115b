// A validating JSON scanner that builds no tree.
#include "core/json_scan.hpp"

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include "core/utf8.hpp"

namespace turnpike {
namespace {

constexpr std::size_t kMaxCheckedKeys = 64;      // objects with more members are simply not canonical
constexpr std::size_t kMaxCanonicalDigits = 18;  // any such integer fits int64 and prints the same

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The escapes nlohmann's dump() writes for a control character.
bool is_short_escape_of_control(unsigned code) {
  return code == 0x08 || code == 0x09 || code == 0x0a || code == 0x0c || code == 0x0d;
}

}  // namespace

bool JsonScanner::scan(std::string_view text, int max_depth, JsonSpan& top,
                       std::vector<JsonMember>& members) {
  members.clear();
  keys_.clear();
  text_ = text;
  pos_ = 0;
  top_members_ = &members;
  if (text.starts_with("\xEF\xBB\xBF")) return false;
  skip_whitespace();
  if (!value(top, max_depth)) return false;
  skip_whitespace();
  return at_end();
}

bool JsonScanner::skip_whitespace() {
  std::size_t start = pos_;
  while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  return pos_ != start;
}

bool JsonScanner::value(JsonSpan& out, int depth_left) {
  if (at_end()) return false;
  switch (peek()) {
    case '{':
      return object(out, depth_left);
    case '[':
      return array(out, depth_left);
    case '"':
      return string(out);
    case 't':
      return literal("true", out);
    case 'f':
      return literal("false", out);
    case 'n':
      return literal("null", out);
    default:
      return number(out);
  }
}

bool JsonScanner::object(JsonSpan& out, int depth_left) {
  if (depth_left <= 0) return false;
  std::vector<JsonMember>* members = std::exchange(top_members_, nullptr);  // only the outermost object's
  const std::size_t start = pos_++;
  const std::size_t first_key = keys_.size();
  bool canonical = true;
  canonical &= !skip_whitespace();
  if (!at_end() && peek() == '}') {
    ++pos_;
  } else {
    for (;;) {
      if (at_end() || peek() != '"') return false;
      JsonSpan key;
      if (!string(key)) return false;
      std::string_view raw_key = key.text.substr(1, key.text.size() - 2);
      canonical &= key.canonical;
      if (canonical) {
        if (keys_.size() - first_key >= kMaxCheckedKeys) {
          canonical = false;
        } else {
          for (std::size_t i = first_key; i < keys_.size(); ++i) canonical &= keys_[i] != raw_key;
          keys_.push_back(raw_key);
        }
      }
      canonical &= !skip_whitespace();
      if (at_end() || peek() != ':') return false;
      ++pos_;
      canonical &= !skip_whitespace();
      JsonSpan member;
      if (!value(member, depth_left - 1)) return false;
      canonical &= member.canonical;
      if (members != nullptr) members->push_back({raw_key, key.has_escapes, member});
      canonical &= !skip_whitespace();
      if (at_end()) return false;
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (peek() != ',') return false;
      ++pos_;
      canonical &= !skip_whitespace();
    }
  }
  keys_.resize(first_key);
  out = {text_.substr(start, pos_ - start), JsonKind::object, canonical, false};
  return true;
}

bool JsonScanner::array(JsonSpan& out, int depth_left) {
  if (depth_left <= 0) return false;
  top_members_ = nullptr;  // only the outermost object's members are listed
  const std::size_t start = pos_++;
  bool canonical = !skip_whitespace();
  if (!at_end() && peek() == ']') {
    ++pos_;
  } else {
    for (;;) {
      JsonSpan item;
      if (!value(item, depth_left - 1)) return false;
      canonical &= item.canonical;
      canonical &= !skip_whitespace();
      if (at_end()) return false;
      if (peek() == ']') {
        ++pos_;
        break;
      }
      if (peek() != ',') return false;
      ++pos_;
      canonical &= !skip_whitespace();
    }
  }
  out = {text_.substr(start, pos_ - start), JsonKind::array, canonical, false};
  return true;
}

bool JsonScanner::hex4(unsigned& code) {
  if (text_.size() - pos_ < 4) return false;
  code = 0;
  for (int i = 0; i < 4; ++i) {
    int digit = hex_value(text_[pos_++]);
    if (digit < 0) return false;
    code = code * 16 + static_cast<unsigned>(digit);
  }
  return true;
}

bool JsonScanner::string(JsonSpan& out) {
  const std::size_t start = pos_++;
  bool canonical = true, escapes = false;
  for (;;) {
    if (at_end()) return false;
    const auto c = static_cast<unsigned char>(peek());
    if (c == '"') break;
    if (c < 0x20) return false;
    if (c >= 0x80) {
      // Every byte of a multi-byte sequence is >= 0x80, so the run of such bytes must be whole sequences.
      const std::size_t run_start = pos_;
      while (!at_end() && static_cast<unsigned char>(peek()) >= 0x80) ++pos_;
      if (!is_valid_utf8(text_.substr(run_start, pos_ - run_start))) return false;
      continue;
    }
    ++pos_;
    if (c != '\\') continue;
    escapes = true;
    if (at_end()) return false;
    const char e = text_[pos_++];
    switch (e) {
      case '"':
      case '\\':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        break;
      case '/':
        canonical = false;
        break;
      case 'u': {
        const std::size_t digits = pos_;
        unsigned code = 0;
        if (!hex4(code)) return false;
        if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate must follow a high one
        if (code >= 0xD800 && code <= 0xDBFF) {
          unsigned low = 0;
          if (text_.substr(pos_, 2) != "\\u") return false;
          pos_ += 2;
          if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          canonical = false;
          break;
        }
        // dump() writes \u00xx, lowercase, only for control characters without a short escape.
        bool lowercase = true;
        for (std::size_t i = digits; i < digits + 4; ++i) lowercase &= !(text_[i] >= 'A' && text_[i] <= 'F');
        canonical &= code < 0x20 && !is_short_escape_of_control(code) && lowercase;
        break;
      }
      default:
        return false;
    }
  }
  ++pos_;
  out = {text_.substr(start, pos_ - start), JsonKind::string, canonical, escapes};
  return true;
}

bool JsonScanner::number(JsonSpan& out) {
  const std::size_t start = pos_;
  if (!at_end() && peek() == '-') ++pos_;
  if (at_end() || !is_digit(peek())) return false;
  if (peek() == '0') {
    ++pos_;
  } else {
    while (!at_end() && is_digit(peek())) ++pos_;
  }
  bool integer = true;
  if (!at_end() && peek() == '.') {
    integer = false;
    ++pos_;
    if (at_end() || !is_digit(peek())) return false;
    while (!at_end() && is_digit(peek())) ++pos_;
  }
  if (!at_end() && (peek() == 'e' || peek() == 'E')) {
    integer = false;
    ++pos_;
    if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
    if (at_end() || !is_digit(peek())) return false;
    while (!at_end() && is_digit(peek())) ++pos_;
  }
  std::string_view text = text_.substr(start, pos_ - start);
  std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  bool canonical = integer && text != "-0" && digits.size() <= kMaxCanonicalDigits;
  // nlohmann reads anything that is not a 64-bit integer as a double and rejects it when that overflows
  // (1E400, 400-digit integers). The daemon never changes the C locale, so strtod reads '.' as nlohmann does.
  if (!canonical && !std::isfinite(std::strtod(std::string(text).c_str(), nullptr))) return false;
  out = {text, JsonKind::number, canonical, false};
  return true;
}

bool JsonScanner::literal(std::string_view word, JsonSpan& out) {
  if (text_.substr(pos_, word.size()) != word) return false;
  out = {text_.substr(pos_, word.size()), JsonKind::literal, true, false};
  pos_ += word.size();
  return true;
}

}  // namespace turnpike
