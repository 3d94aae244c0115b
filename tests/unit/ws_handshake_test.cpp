// Unit tests for the WebSocket handshake helpers: Sec-WebSocket-Key validation and Sec-WebSocket-Accept.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/handshake.hpp"

namespace turnpike::ws {
namespace {

struct AcceptCase {
  std::string key;
  std::string accept;
};

TEST(WsHandshake, AcceptKeyMatchesKnownValues) {
  const std::vector<AcceptCase> cases = {
      {"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},  // RFC 6455 §1.3
      {"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
      {"AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI="},
      {"/////////////////////w==", "XXpj4jYzLM2yUE0C7TIgMwTQh2g="},
  };
  for (const AcceptCase& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(accept_key(c.key), c.accept);
  }
}

TEST(WsHandshake, AcceptKeyRefusesInvalidKeys) {
  // An invalid key has no accept value at all, so no handshake can carry an empty or made-up one.
  for (const std::string key : {"", "x", "not a valid key at all", "dGhlIHNhbXBsZSBub25jZQ= "}) {
    EXPECT_EQ(accept_key(key), std::nullopt) << key;
  }
}

struct KeyCase {
  std::string name;
  std::string key;
  bool valid;
};

TEST(WsHandshake, ValidatesClientKeys) {
  const std::vector<KeyCase> cases = {
      {"rfc example", "dGhlIHNhbXBsZSBub25jZQ==", true},
      {"all zero bytes", "AAAAAAAAAAAAAAAAAAAAAA==", true},
      {"plus and slash", "+/+/+/+/+/+/+/+/+/+/+w==", true},
      {"digits", "0123456789012345678901==", true},
      {"empty", "", false},
      {"too short", "dGhlIHNhbXBsZSBub25jZQ=", false},
      {"too long", "dGhlIHNhbXBsZSBub25jZQ===", false},
      {"no padding", "dGhlIHNhbXBsZSBub25jZQ", false},
      {"18 bytes, no padding", "AAAAAAAAAAAAAAAAAAAAAAAA", false},
      {"17 bytes", "AAAAAAAAAAAAAAAAAAAAAAA=", false},
      {"padding in the middle", "dGhlIHNhbXBsZ=Bub25jZQ==", false},
      {"base64url characters", "dGhlIHNhbXBsZSBub25jZ-_==", false},
      {"space inside", "dGhlIHNhbXBsZSBub25jZ Q==", false},
      {"leading space", " dGhlIHNhbXBsZSBub25jZQ==", false},
      {"trailing space", "dGhlIHNhbXBsZSBub25jZQ== ", false},
      {"nul byte", std::string("dGhlIHNhbXBsZSBub25jZ\0==", 24), false},
      {"non-ascii byte", "dGhlIHNhbXBsZSBub25jZ\xC3==", false},
      {"three padding characters", "dGhlIHNhbXBsZSBub25jZ===", false},
  };
  for (const KeyCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(is_valid_client_key(c.key), c.valid) << c.key;
  }
}

}  // namespace
}  // namespace turnpike::ws
