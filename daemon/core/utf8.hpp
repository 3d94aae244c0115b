// UTF-8 validation (RFC 3629 well-formedness) for WebSocket messages, JSON strings and pairing ids.
#pragma once

#include <cstdint>
#include <string_view>

namespace turnpike {

// Incremental validator: feed a message in pieces, split anywhere (even inside a code point).
// Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above U+10FFFF and stray
// continuation bytes. A sequence cut off at the end is only an error once complete() is asked.
class Utf8Validator {
 public:
  // Returns false as soon as the bytes seen so far cannot be the start of valid UTF-8; stays false after
  // that.
  bool feed(std::string_view bytes);
  // True when everything fed so far is valid and no multi-byte sequence is left open.
  bool complete() const { return valid_ && pending_ == 0; }
  bool valid() const { return valid_; }
  void reset() { *this = Utf8Validator{}; }

 private:
  std::uint8_t pending_ = 0;   // continuation bytes still expected
  std::uint8_t lower_ = 0x80;  // allowed range of the next continuation byte
  std::uint8_t upper_ = 0xBF;
  bool valid_ = true;
};

// Whole-string check: rejects overlongs, surrogates, > U+10FFFF and truncated sequences.
bool is_valid_utf8(std::string_view bytes);

}  // namespace turnpike
