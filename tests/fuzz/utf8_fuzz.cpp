// Fuzzes the UTF-8 validators against a straightforward RFC 3629 decoder, whole and fed in pieces.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/utf8.hpp"

namespace {

// One sequence by decoding: its code point needs exactly its length, is no surrogate and is at most U+10FFFF.
bool sequence_valid(std::string_view sequence) {
  const auto lead = static_cast<unsigned char>(sequence[0]);
  std::uint32_t code = 0;
  std::size_t length = 0;
  if (lead < 0x80) return sequence.size() == 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code = lead & 0x07;
  } else {
    return false;
  }
  if (sequence.size() != length) return false;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(sequence[k]);
    if ((next & 0xC0) != 0x80) return false;
    code = (code << 6) | (next & 0x3F);
  }
  const std::uint32_t minimum = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
  return code >= minimum && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
}

std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

// RFC 3629 well-formedness. `complete` false: the text may end inside a sequence that some continuation
// bytes can still make valid (only the first two bytes of a sequence decide that, so the tail is completed
// with 0x80 and, when only the lead byte is there, every possible second byte is tried).
bool reference_valid(std::string_view text, bool complete) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = sequence_length(static_cast<unsigned char>(text[i]));
    if (length == 0) return false;
    if (i + length <= text.size()) {
      if (!sequence_valid(text.substr(i, length))) return false;
      i += length;
      continue;
    }
    if (complete) return false;
    std::string sequence(text.substr(i));
    for (std::size_t k = 1; k < sequence.size(); ++k) {
      if ((static_cast<unsigned char>(sequence[k]) & 0xC0) != 0x80) return false;
    }
    const bool second_missing = sequence.size() == 1;
    sequence.resize(length, '\x80');
    if (!second_missing) return sequence_valid(sequence);
    for (unsigned second = 0x80; second <= 0xBF; ++second) {
      sequence[1] = static_cast<char>(second);
      if (sequence_valid(sequence)) return true;
    }
    return false;
  }
  return true;
}

// The longest prefix that some continuation can still make valid. Once a prefix cannot be completed, no
// longer one can, so a binary search over prefixes finds it (keeping each run O(n log n) rather than O(n^2)).
std::size_t completable_length(std::string_view text) {
  std::size_t good = 0;
  std::size_t bad = text.size() + 1;
  while (bad - good > 1) {
    const std::size_t middle = good + (bad - good) / 2;
    if (reference_valid(text.substr(0, middle), false)) {
      good = middle;
    } else {
      bad = middle;
    }
  }
  return good;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + (data[0] & 0x07);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool expected = reference_valid(text, true);
  if (turnpike::is_valid_utf8(text) != expected) std::abort();
  const std::size_t completable = completable_length(text);
  turnpike::Utf8Validator validator;
  for (std::size_t pos = 0; pos < text.size(); pos += piece) {
    const bool ok = validator.feed(text.substr(pos, piece));
    const std::size_t seen = std::min(text.size(), pos + piece);
    if (ok != (seen <= completable) || ok != validator.valid()) std::abort();
  }
  if (validator.complete() != expected) std::abort();
  return 0;
}
