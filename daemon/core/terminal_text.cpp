// terminal_safe: escapes control, bidi and invalid UTF-8 sequences in client-supplied text.
#include "core/terminal_text.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>

namespace turnpike {
namespace {

struct Decoded {
  char32_t code_point;
  std::size_t length;
};

// The UTF-8 sequence at the start of `text` (non-empty, first byte >= 0x80), or nothing if it is not one:
// truncated, a stray continuation byte, overlong, a surrogate or above U+10FFFF.
std::optional<Decoded> decode_multibyte(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, code_point = lead & 0x1f, minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, code_point = lead & 0x0f, minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, code_point = lead & 0x07, minimum = 0x10000;
  } else {
    return std::nullopt;
  }
  if (text.size() < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xc0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (byte & 0x3f);
  }
  if (code_point < minimum || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return std::nullopt;
  }
  return Decoded{code_point, length};
}

bool acts_on_terminal(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) ||                   // C1 controls
         c == 0x061c || c == 0x200e || c == 0x200f ||  // arabic letter mark, LRM, RLM
         (c >= 0x202a && c <= 0x202e) ||               // LRE, RLE, PDF, LRO, RLO
         (c >= 0x2066 && c <= 0x2069) ||               // LRI, RLI, FSI, PDI
         c == 0x2028 || c == 0x2029;                   // line and paragraph separators
}

void append_hex(std::string& out, const char* format, unsigned value) {
  char buffer[16];
  const int written = std::snprintf(buffer, sizeof buffer, format, value);
  out.append(buffer, static_cast<std::size_t>(written));
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto byte = static_cast<unsigned char>(text[0]);
    std::size_t consumed = 1;
    const auto decoded = byte >= 0x80 ? decode_multibyte(text) : std::nullopt;
    if (byte == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += static_cast<char>(byte);
    } else if (!decoded) {  // C0, DEL, or not UTF-8
      append_hex(out, "\\x%02x", byte);
    } else {
      consumed = decoded->length;
      if (acts_on_terminal(decoded->code_point)) {
        append_hex(out, "\\u{%04x}", static_cast<unsigned>(decoded->code_point));
      } else {
        out.append(text.substr(0, consumed));
      }
    }
    text.remove_prefix(consumed);
  }
  return out;
}

}  // namespace turnpike
