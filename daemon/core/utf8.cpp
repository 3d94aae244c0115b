// UTF-8 validation: a byte-wise state machine over the ranges of Unicode Table 3-7, with an ASCII fast path.
#include "core/utf8.hpp"

#include <cstddef>
#include <cstring>

namespace turnpike {

namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) {
  if (!valid_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    if (pending_ == 0) {
      // ASCII fast path: eight bytes at a time while none has its high bit set.
      while (i + 8 <= n) {
        std::uint64_t word;
        std::memcpy(&word, p + i, sizeof word);
        if ((word & kHighBits) != 0) break;
        i += 8;
      }
      if (i >= n) break;
      const unsigned char b = p[i++];
      if (b < 0x80) continue;
      if (b >= 0xC2 && b <= 0xDF) {
        pending_ = 1;
        lower_ = 0x80;
        upper_ = 0xBF;
      } else if (b == 0xE0) {  // excludes overlong three-byte forms
        pending_ = 2;
        lower_ = 0xA0;
        upper_ = 0xBF;
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        pending_ = 2;
        lower_ = 0x80;
        upper_ = 0xBF;
      } else if (b == 0xED) {  // excludes surrogates U+D800..U+DFFF
        pending_ = 2;
        lower_ = 0x80;
        upper_ = 0x9F;
      } else if (b == 0xF0) {  // excludes overlong four-byte forms
        pending_ = 3;
        lower_ = 0x90;
        upper_ = 0xBF;
      } else if (b >= 0xF1 && b <= 0xF3) {
        pending_ = 3;
        lower_ = 0x80;
        upper_ = 0xBF;
      } else if (b == 0xF4) {  // excludes code points above U+10FFFF
        pending_ = 3;
        lower_ = 0x80;
        upper_ = 0x8F;
      } else {  // stray continuation byte, C0/C1 (overlong two-byte) or F5..FF
        valid_ = false;
        return false;
      }
    } else {
      const unsigned char b = p[i++];
      if (b < lower_ || b > upper_) {
        valid_ = false;
        return false;
      }
      --pending_;
      lower_ = 0x80;
      upper_ = 0xBF;
    }
  }
  return true;
}

bool is_valid_utf8(std::string_view bytes) {
  Utf8Validator validator;
  return validator.feed(bytes) && validator.complete();
}

}  // namespace turnpike
