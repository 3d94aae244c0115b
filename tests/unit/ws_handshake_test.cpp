// Unit tests for the WebSocket handshake helpers: Sec-WebSocket-Key validation and Sec-WebSocket-Accept.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.hpp"
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

http::Request upgrade_request(std::string key, std::string version = "13") {
  http::Request request;
  request.method = "GET";
  request.target = request.path = "/ws";
  request.headers = {{"Host", "example.org"},
                     {"Upgrade", "websocket"},
                     {"Connection", "keep-alive, Upgrade"},
                     {"Sec-WebSocket-Key", std::move(key)},
                     {"Sec-WebSocket-Version", std::move(version)}};
  return request;
}

TEST(WsHandshake, AnswersAValidRequestWithSwitchingProtocols) {
  auto answer = answer_handshake(upgrade_request("dGhlIHNhbXBsZSBub25jZQ=="), Config{});
  ASSERT_TRUE(answer.switching_protocols);
  EXPECT_EQ(*answer.switching_protocols,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

struct RefusalCase {
  std::string name;
  http::Request request;
  int status;
  std::string body;
};

TEST(WsHandshake, RefusesBadHandshakesWithAnHttpError) {
  Config only_b;
  only_b.server.allowed_origins = {"https://b.example"};
  only_b.any_origin = false;
  auto with_origin = upgrade_request("dGhlIHNhbXBsZSBub25jZQ==");
  with_origin.headers.push_back({"Origin", "https://evil.example"});
  auto post = upgrade_request("dGhlIHNhbXBsZSBub25jZQ==");
  post.method = "POST";
  auto http10 = upgrade_request("dGhlIHNhbXBsZSBub25jZQ==");
  http10.version_minor = 0;
  const std::vector<RefusalCase> cases = {
      {"invalid key", upgrade_request("not-a-key"), 400, R"({"error":"bad_websocket_handshake"})"},
      {"empty key", upgrade_request(""), 400, R"({"error":"bad_websocket_handshake"})"},
      {"POST", post, 400, R"({"error":"bad_websocket_handshake"})"},
      {"HTTP/1.0", http10, 400, R"({"error":"bad_websocket_handshake"})"},
      {"version 8", upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "8"), 426, R"({"error":"upgrade_required"})"},
      {"foreign origin", with_origin, 403, R"({"error":"forbidden_origin"})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto answer = answer_handshake(c.request, only_b);
    EXPECT_FALSE(answer.switching_protocols);
    EXPECT_EQ(answer.refusal.status, c.status);
    EXPECT_EQ(answer.refusal.body, c.body);
  }
}

}  // namespace
}  // namespace turnpike::ws
