// Identifiers from OpenSSL's CSPRNG.
#include "core/random.hpp"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace turnpike {
namespace {

void fill_random(unsigned char* out, std::size_t n) {
  // RAND_bytes only fails when the CSPRNG cannot be seeded; ids without entropy must never be issued.
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

void append_hex(std::string& out, const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  fill_random(raw.data(), bytes);
  std::string out;
  out.reserve(bytes * 2);
  append_hex(out, raw.data(), bytes);
  return out;
}

std::string random_base64url(std::size_t bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::vector<unsigned char> raw(bytes);
  fill_random(raw.data(), bytes);
  std::string out;
  std::uint32_t bits = 0;
  int have = 0;
  for (unsigned char byte : raw) {
    bits = (bits << 8) | byte;
    have += 8;
    while (have >= 6) {
      have -= 6;
      out += kAlphabet[(bits >> have) & 0x3f];
    }
  }
  if (have > 0) out += kAlphabet[(bits << (6 - have)) & 0x3f];
  return out;
}

std::string random_uuid_v4() {
  unsigned char raw[16];
  fill_random(raw, sizeof raw);
  raw[6] = static_cast<unsigned char>((raw[6] & 0x0f) | 0x40);
  raw[8] = static_cast<unsigned char>((raw[8] & 0x3f) | 0x80);
  std::string out;
  out.reserve(36);
  append_hex(out, raw, 4);
  out += '-';
  append_hex(out, raw + 4, 2);
  out += '-';
  append_hex(out, raw + 6, 2);
  out += '-';
  append_hex(out, raw + 8, 2);
  out += '-';
  append_hex(out, raw + 10, 6);
  return out;
}

}  // namespace turnpike
