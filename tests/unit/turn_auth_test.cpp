// Unit tests for turn-auth: credential math, ICE server lists, and the coturn CLI dialog fed with transcripts
// captured from coturn 4.6.1, each fed whole, byte by byte and in random splits.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "turn-auth/coturn_cli.hpp"
#include "turn-auth/credentials.hpp"
#include "turn-auth/ice_servers.hpp"

namespace turnpike::turn_auth {
namespace {

// ----------------------------------------------------------------------------------------------------------
// lt_hmackey: MD5("user:realm:password") as lowercase hex. The first two vectors were also checked with
// `turnadmin -k` (which prints them with a 0x prefix); the rest with Python's hashlib.

struct HmackeyCase {
  std::string user, realm, password, expected;
};

TEST(LtHmackey, MatchesCoturnAndIndependentVectors) {
  const std::vector<HmackeyCase> cases = {
      {"ninefingers", "north.gov", "youhavetoberealistic", "bc807ee29df3c9ffa736523fb2c4e8ee"},
      {"room7.1.1700000000", "turn.example.com", "0123456789abcdef0123456789abcdef",
       "8c4563d90cbb65f08b95f5f2477bca62"},
      {"", "", "", "4501c091b0366d76ea3218b6cfdd8097"},  // MD5("::")
      {"a:b", "c", "d:e", "8bfc63ea92f8ad55310a260d9de1fc6a"},
      {"\xc3\xbcser",
       "r\xc3\xa9"
       "alm",
       "p\xc3\xa4ss", "bdd86fe988dc9d19e6d13b5aa8a9cecc"},  // UTF-8 bytes
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.user + ":" + c.realm + ":" + c.password);
    EXPECT_EQ(lt_hmackey(c.user, c.realm, c.password), c.expected);
  }
}

// ----------------------------------------------------------------------------------------------------------
// rest_password: base64(HMAC-SHA1(secret, username)), vectors from Python's hmac/hashlib/base64. The first
// one's formula was accepted by turnserver 4.6.1 (--use-auth-secret --static-auth-secret) for a live
// allocation with turnutils_uclient -u <username> -w <password>.

struct RestCase {
  std::string secret, username, expected;
};

TEST(RestPassword, MatchesIndependentVectors) {
  const std::vector<RestCase> cases = {
      {"north", "1700000000:room7.1", "sIFbFLFevQziaTgOm935snlwigg="},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "1733000000:f2d0c3a1.2",
       "G9/BAAeOIPKDy602QoOWcn/KVIM="},
      {"", "", "+9sdGxiqbAgyS31ktx+3Y3BpDh0="},
      {"key", "The quick brown fox jumps over the lazy dog",
       "3nybhbi3iqa8ino29wqQcBydtNk="},                                       // RFC 2104 demo
      {std::string(100, 'x'), "1700000000", "E6LlOPMfcwyk53T4Hgw7+jV8k54="},  // key longer than a block
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.secret + " / " + c.username);
    EXPECT_EQ(rest_password(c.secret, c.username), c.expected);
  }
}

// ----------------------------------------------------------------------------------------------------------
// is_coturn_safe_name

struct NameCase {
  std::string name;
  bool safe;
};

TEST(IsCoturnSafeName, AcceptsOnlyPlainNamesUpTo512) {
  const std::vector<NameCase> cases = {
      {"room7.1.1700000000", true},
      {"1700000000:room7.1", true},
      {"ABCXYZabcxyz0189._:-", true},
      {"a", true},
      {std::string(512, 'a'), true},
      {"", false},
      {std::string(513, 'a'), false},
      {"room 7", false},
      {"room'7", false},
      {"a\"b", false},
      {"a\\b", false},
      {"a*", false},
      {"*", false},
      {"a;b", false},
      {"a/b", false},
      {"a@b", false},
      {"a%", false},
      {"a\tb", false},
      {"a\r", false},
      {"a\n", false},
      {std::string("a\0b", 3), false},
      {"\xc3\xbc", false},
      {"x union select y", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("name \"" + c.name + "\" (" + std::to_string(c.name.size()) + " bytes)");
    EXPECT_EQ(is_coturn_safe_name(c.name), c.safe);
  }
}

// ----------------------------------------------------------------------------------------------------------
// parse_turn_urls

struct UrlsCase {
  std::string input;
  std::vector<std::string> stun, turn;
};

TEST(ParseTurnUrls, SortsByKindAndKeepsOrder) {
  const std::vector<UrlsCase> cases = {
      {"stun:t.example.com:3478,turn:t.example.com:3478?transport=udp,turns:t.example.com:5349?transport=tcp",
       {"stun:t.example.com:3478"},
       {"turn:t.example.com:3478?transport=udp", "turns:t.example.com:5349?transport=tcp"}},
      {"  turn:a , stun:b\t,\n turns:c  \r\n", {"stun:b"}, {"turn:a", "turns:c"}},
      {",,turn:a,, ,stun:b,", {"stun:b"}, {"turn:a"}},
      {"turns:x,turn:y,stun:1,stun:2", {"stun:1", "stun:2"}, {"turns:x", "turn:y"}},
      {"stun:only", {"stun:only"}, {}},
      {"turn:[2001:db8::1]:3478", {}, {"turn:[2001:db8::1]:3478"}},
      {"", {}, {}},
      {" , ,\t,", {}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("input \"" + c.input + "\"");
    auto parsed = parse_turn_urls(c.input);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->stun, c.stun);
    EXPECT_EQ(parsed->turn, c.turn);
  }
}

struct BadUrlsCase {
  std::string input;
  std::string entry;  // the entry the error must quote
};

TEST(ParseTurnUrls, RejectsBadEntriesNamingThem) {
  const std::vector<BadUrlsCase> cases = {
      {"turn:a,http://b", "http://b"},
      {"stuns:a", "stuns:a"},
      {"TURN:a", "TURN:a"},
      {"a", "a"},
      {" turn: ", "turn:"},
      {"stun:", "stun:"},
      {"turn:a b", "turn:a b"},
      {"turn:a\x01", "turn:a\x01"},
      {"stun:a, turn:b ,  x:y  ,turn:c", "x:y"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("input \"" + c.input + "\"");
    auto parsed = parse_turn_urls(c.input);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("\"" + c.entry + "\""), std::string::npos)
        << parsed.error().message;
  }
}

// ----------------------------------------------------------------------------------------------------------
// ice_servers_json

struct JsonCase {
  IceServerUrls urls;
  std::string username, credential, expected;
};

TEST(IceServersJson, ExactText) {
  const std::vector<JsonCase> cases = {
      {{{"stun:t.example.com:3478"},
        {"turn:t.example.com:3478?transport=udp", "turns:t.example.com:5349?transport=tcp"}},
       "room7.1.1700000000",
       "0123456789abcdef0123456789abcdef",
       R"([{"urls":["stun:t.example.com:3478"]},)"
       R"({"urls":["turn:t.example.com:3478?transport=udp","turns:t.example.com:5349?transport=tcp"],)"
       R"("username":"room7.1.1700000000","credential":"0123456789abcdef0123456789abcdef"}])"},
      {{{}, {"turn:a:3478"}},
       "1700000000:room7.2",
       "G9/BAAeOIPKDy602QoOWcn/KVIM=",
       R"([{"urls":["turn:a:3478"],"username":"1700000000:room7.2","credential":"G9/BAAeOIPKDy602QoOWcn/KVIM="}])"},
      {{{"stun:a", "stun:b"}, {"turn:c"}},
       "u",
       "c",
       R"([{"urls":["stun:a","stun:b"]},{"urls":["turn:c"],"username":"u","credential":"c"}])"},
      {{{"stun:a"}, {}}, "u", "c", R"([{"urls":["stun:a"]}])"},
      {{{}, {}}, "u", "c", "[]"},
      {{{}, {"turn:a"}},
       "q\"uote",
       "back\\slash\n",
       R"([{"urls":["turn:a"],"username":"q\"uote","credential":"back\\slash\n"}])"},
      {{{}, {"turn:a"}},
       "u",
       "bad\xff",
       "[{\"urls\":[\"turn:a\"],\"username\":\"u\",\"credential\":\"bad\xef\xbf\xbd\"}]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expected);
    EXPECT_EQ(ice_servers_json(c.urls, c.username, c.credential), c.expected);
  }
}

// ----------------------------------------------------------------------------------------------------------
// CoturnCliDialog. Transcripts captured byte for byte from turnserver 4.6.1 (Debian 4.6.1-1) started with
// --cli-password=secretpw --cli-max-output-sessions=4 --realm=test, sessions made with turnutils_uclient.

// On connect.
constexpr std::string_view kGreeting =
    "TURN Server\r\n"
    "Coturn-4.6.1 'Gorst'\r\n"
    "\r\n"
    "Type '?' for help\r\n"
    "Enter password: \r\n";

// Reply to a wrong password.
constexpr std::string_view kPasswordPromptAgain = "Enter password: \r\n";

// Reply to the right password, and to every cs.
constexpr std::string_view kPrompt = "> ";

// Reply to `ps u3` with no session of u3.
constexpr std::string_view kListingNone =
    "\r\n"
    "  Total sessions: 0\r\n"
    "\r\n"
    "> ";

// Reply to `ps u3`: one session.
constexpr std::string_view kListingOne =
    "\r\n"
    "    1) id=000000000000000001, user <u3>:\r\n"
    "      realm: test\r\n"
    "      started 30 secs ago\r\n"
    "      expiring in 747 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:36934, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40066\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "  Total sessions: 1\r\n"
    "\r\n"
    "> ";

// Reply to `psp room7.`: three sessions of two users, one with peers (being deallocated).
constexpr std::string_view kListingRoomThree =
    "\r\n"
    "    1) id=000000000000000006, user <room7.1.1700000000>:\r\n"
    "      realm: test\r\n"
    "      started 9 secs ago\r\n"
    "      expiring in 768 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38807, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40048\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=308, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    2) id=000000000000000007, user <room7.2.1700000000>:\r\n"
    "      realm: test\r\n"
    "      started 3 secs ago\r\n"
    "      expiring in 774 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:55553, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40056\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=300, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    3) id=001000000000000009, user <room7.2.1700000000>:\r\n"
    "      realm: test\r\n"
    "      started 3 secs ago\r\n"
    "      expiring in 0 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:44266, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40045\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=12, rb=1364, sp=11, sb=936\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "      peers:\r\n"
    "          127.0.0.1:34801\r\n"
    "          127.0.0.1:34800\r\n"
    "\r\n"
    "  Total sessions: 3\r\n"
    "\r\n"
    "> ";

// Reply to `ps u1`: three sessions.
constexpr std::string_view kListingSeveral =
    "\r\n"
    "    1) id=000000000000000002, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 26 secs ago\r\n"
    "      expiring in 751 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:50508, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40039\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    2) id=000000000000000003, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 20 secs ago\r\n"
    "      expiring in 757 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38729, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40046\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    3) id=001000000000000002, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 28 secs ago\r\n"
    "      expiring in 749 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38980, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40004\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "  Total sessions: 3\r\n"
    "\r\n"
    "> ";

// Reply to `psp room7.`: two sessions.
constexpr std::string_view kListingRoomTwo =
    "\r\n"
    "    1) id=000000000000000006, user <room7.1.1700000000>:\r\n"
    "      realm: test\r\n"
    "      started 10 secs ago\r\n"
    "      expiring in 767 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38807, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40048\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=308, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    2) id=000000000000000007, user <room7.2.1700000000>:\r\n"
    "      realm: test\r\n"
    "      started 4 secs ago\r\n"
    "      expiring in 773 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:55553, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40056\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=300, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "  Total sessions: 2\r\n"
    "\r\n"
    "> ";

// Reply to `psp u` with cli-max-output-sessions=4: four of six sessions listed.
constexpr std::string_view kListingTruncated =
    "\r\n"
    "    1) id=000000000000000001, user <u3>:\r\n"
    "      realm: test\r\n"
    "      started 34 secs ago\r\n"
    "      expiring in 743 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:36934, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40066\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    2) id=000000000000000002, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 29 secs ago\r\n"
    "      expiring in 748 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:50508, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40039\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    3) id=000000000000000003, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 23 secs ago\r\n"
    "      expiring in 754 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38729, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40046\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    4) id=001000000000000002, user <u1>:\r\n"
    "      realm: test\r\n"
    "      started 31 secs ago\r\n"
    "      expiring in 746 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:38980, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40004\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=268, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "...\r\n"
    "\r\n"
    "  Total sessions: 6\r\n"
    "\r\n"
    "  Warning: too many output sessions, more than the\r\n"
    "  current value of cli-max-output-sessions CLI parameter.\r\n"
    "  Refine your request or increase cli-max-output-sessions value.\r\n"
    "\r\n"
    "> ";

// Reply to `psp u` after the four listed sessions were cancelled.
constexpr std::string_view kListingRemainder =
    "\r\n"
    "    1) id=001000000000000006, user <u2>:\r\n"
    "      realm: test\r\n"
    "      started 23 secs ago\r\n"
    "      expiring in 754 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:52740, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40082\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=260, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "    2) id=000000000000000004, user <u2>:\r\n"
    "      realm: test\r\n"
    "      started 20 secs ago\r\n"
    "      expiring in 757 secs\r\n"
    "      client protocol UDP, relay protocol UDP\r\n"
    "      client addr 127.0.0.1:57535, server addr 127.0.0.1:34780\r\n"
    "      relay addr 127.0.0.1:40054\r\n"
    "      fingerprints enforced: ON\r\n"
    "      mobile: OFF\r\n"
    "      usage: rp=3, rb=276, sp=2, sb=208\r\n"
    "       rate: r=0, s=0, total=0 (bytes per sec)\r\n"
    "\r\n"
    "  Total sessions: 2\r\n"
    "\r\n"
    "> ";

// Reply to a command coturn does not know (captured from the same server).
constexpr std::string_view kUnknownCommand = "Unknown command\r\n\r\n> ";
// Not captured; built after coturn's print_sessions(): with cli-max-output-sessions=0 the total says 3 but no
// session is shown.
constexpr std::string_view kListingNoneShown =
    "\r\n"
    "...\r\n"
    "\r\n"
    "  Total sessions: 3\r\n"
    "\r\n"
    "  Warning: too many output sessions, more than the\r\n"
    "  current value of cli-max-output-sessions CLI parameter.\r\n"
    "  Refine your request or increase cli-max-output-sessions value.\r\n"
    "\r\n"
    "> ";

constexpr std::string_view kPassword = "secretpw";
const std::string kPasswordLine = "secretpw\r\n";
const std::string kQuit = "quit\r\n";

std::string cs(std::string_view id) {
  return "cs " + std::string(id) + "\r\n";
}

// Telnet: IAC WILL ECHO, IAC DO NAWS, IAC SB TTYPE SEND IAC SE, IAC NOP.
const std::string kWillEcho = "\xff\xfb\x01";
const std::string kDoNaws = "\xff\xfd\x1f";
const std::string kSubnegotiation = "\xff\xfa\x18\x01\xff\xf0";
const std::string kNop = "\xff\xf1";

// Inserts `bytes` before the first occurrence of `marker`.
std::string insert_before(std::string_view text, std::string_view marker, std::string_view bytes) {
  std::string out(text);
  out.insert(out.find(marker), bytes);
  return out;
}

struct Exchange {
  std::string from_coturn;
  std::string reply;  // everything the dialog must answer once all of from_coturn has arrived
};

struct DialogCase {
  std::string name;
  std::string list_command;
  std::vector<Exchange> exchanges;
  CoturnCliDialog::State state;
  std::string error;
  std::vector<std::string> killed;
};

enum class Split { whole, byte_by_byte, random };

std::vector<std::string_view> split(std::string_view s, Split how, std::mt19937& rng) {
  std::vector<std::string_view> chunks;
  if (how == Split::whole) {
    chunks.push_back(s);
    return chunks;
  }
  std::uniform_int_distribution<std::size_t> size(1, 40);
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t n = how == Split::byte_by_byte ? 1 : size(rng);
    chunks.push_back(s.substr(pos, n));
    pos += chunks.back().size();
  }
  return chunks;
}

void run_dialog(const DialogCase& c, Split how, unsigned seed) {
  std::mt19937 rng(seed);
  CoturnCliDialog dialog(std::string(kPassword), c.list_command);
  for (std::size_t i = 0; i < c.exchanges.size(); ++i) {
    SCOPED_TRACE("exchange " + std::to_string(i));
    ASSERT_EQ(dialog.state(), CoturnCliDialog::State::running) << dialog.error();
    const auto chunks = split(c.exchanges[i].from_coturn, how, rng);
    std::string reply;
    for (std::size_t j = 0; j < chunks.size(); ++j) {
      std::string out = dialog.on_receive(chunks[j]);
      if (j + 1 < chunks.size()) {
        EXPECT_EQ(out, "") << "answered before the output was complete, chunk " << j;
      }
      reply += out;
    }
    EXPECT_EQ(reply, c.exchanges[i].reply);
  }
  EXPECT_EQ(dialog.state(), c.state);
  EXPECT_EQ(dialog.error(), c.error);
  EXPECT_EQ(dialog.killed_sessions(), c.killed);
  // Once finished, the dialog ignores whatever still arrives (coturn's "Bye !", a stray prompt).
  if (c.state != CoturnCliDialog::State::running) {
    EXPECT_EQ(dialog.on_receive("Bye !\r\n> "), "");
    EXPECT_EQ(dialog.state(), c.state);
    EXPECT_EQ(dialog.killed_sessions(), c.killed);
  }
}

std::vector<DialogCase> dialog_cases() {
  using State = CoturnCliDialog::State;
  const std::string k(kPrompt);
  const std::vector<std::string> truncated_ids = {"000000000000000001", "000000000000000002",
                                                  "000000000000000003", "001000000000000002"};
  const std::vector<std::string> remainder_ids = {"001000000000000006", "000000000000000004"};
  std::vector<std::string> all_ids = truncated_ids;
  all_ids.insert(all_ids.end(), remainder_ids.begin(), remainder_ids.end());

  std::vector<Exchange> truncated_flow = {{std::string(kGreeting), kPasswordLine},
                                          {k, "psp u\r\n"},
                                          {std::string(kListingTruncated), cs(truncated_ids[0])},
                                          {k, cs(truncated_ids[1])},
                                          {k, cs(truncated_ids[2])},
                                          {k, cs(truncated_ids[3])},
                                          {k, "psp u\r\n"}};
  std::vector<Exchange> racing_flow = truncated_flow;
  // coturn cancels asynchronously: a listing right after cs may still show cancelled sessions. They are not
  // cancelled twice; the dialog lists again.
  racing_flow.push_back({std::string(kListingTruncated), "psp u\r\n"});
  for (auto* flow : {&truncated_flow, &racing_flow}) {
    flow->push_back({std::string(kListingRemainder), cs(remainder_ids[0])});
    flow->push_back({k, cs(remainder_ids[1])});
    flow->push_back({k, kQuit});
  }

  return {
      {"wrong password",
       "ps u3",
       {{std::string(kGreeting), kPasswordLine}, {std::string(kPasswordPromptAgain), ""}},
       State::failed,
       "wrong password",
       {}},
      {"no session",
       "ps u3",
       {{std::string(kGreeting), kPasswordLine}, {k, "ps u3\r\n"}, {std::string(kListingNone), kQuit}},
       State::done,
       "",
       {}},
      {"one session",
       "ps u3",
       {{std::string(kGreeting), kPasswordLine},
        {k, "ps u3\r\n"},
        {std::string(kListingOne), cs("000000000000000001")},
        {k, kQuit}},
       State::done,
       "",
       {"000000000000000001"}},
      {"several sessions",
       "ps u1",
       {{std::string(kGreeting), kPasswordLine},
        {k, "ps u1\r\n"},
        {std::string(kListingSeveral), cs("000000000000000002")},
        {k, cs("000000000000000003")},
        {k, cs("001000000000000002")},
        {k, kQuit}},
       State::done,
       "",
       {"000000000000000002", "000000000000000003", "001000000000000002"}},
      {"room prefix, two users, one session with peers",
       "psp room7.",
       {{std::string(kGreeting), kPasswordLine},
        {k, "psp room7.\r\n"},
        {std::string(kListingRoomThree), cs("000000000000000006")},
        {k, cs("000000000000000007")},
        {k, cs("001000000000000009")},
        {k, kQuit}},
       State::done,
       "",
       {"000000000000000006", "000000000000000007", "001000000000000009"}},
      {"room prefix, two sessions",
       "psp room7.",
       {{std::string(kGreeting), kPasswordLine},
        {k, "psp room7.\r\n"},
        {std::string(kListingRoomTwo), cs("000000000000000006")},
        {k, cs("000000000000000007")},
        {k, kQuit}},
       State::done,
       "",
       {"000000000000000006", "000000000000000007"}},
      {"truncated listing is listed again", "psp u", truncated_flow, State::done, "", all_ids},
      {"cancelled sessions still listed", "psp u", racing_flow, State::done, "", all_ids},
      {"telnet negotiation is skipped",
       "ps u3",
       {{kWillEcho + kDoNaws + insert_before(kGreeting, "Enter password", kSubnegotiation + kNop),
         kPasswordLine},
        {kNop + k, "ps u3\r\n"},
        {insert_before(insert_before(kListingOne, "  Total", kWillEcho), "> ", kDoNaws),
         cs("000000000000000001")},
        {k, kQuit}},
       State::done,
       "",
       {"000000000000000001"}},
      {"unknown command",
       "psp room7.",
       {{std::string(kGreeting), kPasswordLine}, {k, "psp room7.\r\n"}, {std::string(kUnknownCommand), ""}},
       State::failed,
       "unexpected output: no session total in the listing",
       {}},
      {"session of another user in an exact listing",
       "ps u1",
       {{std::string(kGreeting), kPasswordLine}, {k, "ps u1\r\n"}, {std::string(kListingTruncated), ""}},
       State::failed,
       "unexpected output: session of user <u3> listed",
       {}},
      {"session not matching the partial pattern",
       "psp room7.",
       {{std::string(kGreeting), kPasswordLine}, {k, "psp room7.\r\n"}, {std::string(kListingOne), ""}},
       State::failed,
       "unexpected output: session of user <u3> listed",
       {}},
      {"total without listed sessions",
       "psp room7.",
       {{std::string(kGreeting), kPasswordLine}, {k, "psp room7.\r\n"}, {std::string(kListingNoneShown), ""}},
       State::failed,
       "unexpected output: none of 3 sessions listed",
       {}},
      {"text after cs",
       "ps u3",
       {{std::string(kGreeting), kPasswordLine},
        {k, "ps u3\r\n"},
        {std::string(kListingOne), cs("000000000000000001")},
        {std::string(kUnknownCommand), ""}},
       State::failed,
       "unexpected output after cs",
       {"000000000000000001"}},
      {"prompt without password prompt",
       "ps u3",
       {{"TURN Server\r\nCoturn-4.6.1 'Gorst'\r\n\r\nType '?' for help\r\n> ", ""}},
       State::failed,
       "unexpected output: no password prompt",
       {}},
      {"waiting for the rest of the greeting",
       "ps u3",
       {{"TURN Server\r\nEnter pass", ""}},
       State::running,
       "",
       {}},
  };
}

TEST(CoturnCliDialog, TranscriptsFedWhole) {
  for (const auto& c : dialog_cases()) {
    SCOPED_TRACE(c.name);
    run_dialog(c, Split::whole, 0);
  }
}

TEST(CoturnCliDialog, TranscriptsFedByteByByte) {
  for (const auto& c : dialog_cases()) {
    SCOPED_TRACE(c.name);
    run_dialog(c, Split::byte_by_byte, 0);
  }
}

TEST(CoturnCliDialog, TranscriptsFedInRandomSplits) {
  for (const auto& c : dialog_cases()) {
    for (unsigned seed = 1; seed <= 25; ++seed) {
      SCOPED_TRACE(c.name + ", seed " + std::to_string(seed));
      run_dialog(c, Split::random, seed);
    }
  }
}

struct ArgumentsCase {
  std::string password, list_command, error;
};

TEST(CoturnCliDialog, RefusesArgumentsThatCouldMisfire) {
  const std::vector<ArgumentsCase> cases = {
      {"secretpw", "psp ", "invalid list command"},  // would list every session
      {"secretpw", "psp", "invalid list command"},
      {"secretpw", "ps", "invalid list command"},
      {"secretpw", "ps  u1", "invalid list command"},
      {"secretpw", "psp room 7", "invalid list command"},
      {"secretpw", "ps *u1", "invalid list command"},
      {"secretpw", "psp room'7", "invalid list command"},
      {"secretpw", "pu", "invalid list command"},
      {"secretpw", "cs 1", "invalid list command"},
      {"secretpw", "ps u1\r\nstop", "invalid list command"},
      {"", "ps u1", "invalid password"},
      {" secretpw", "ps u1", "invalid password"},
      {"secret\npw", "ps u1", "invalid password"},
      {"secretpw\r", "ps u1", "invalid password"},
      {std::string("secret\0pw", 9), "ps u1", "invalid password"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("password \"" + c.password + "\", command \"" + c.list_command + "\"");
    CoturnCliDialog dialog(c.password, c.list_command);
    EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
    EXPECT_EQ(dialog.error(), c.error);
    EXPECT_EQ(dialog.on_receive(kGreeting), "");
    EXPECT_TRUE(dialog.killed_sessions().empty());
  }
}

TEST(CoturnCliDialog, OneLoginServesSeveralListCommands) {
  CoturnCliDialog dialog(std::string(kPassword), std::vector<std::string>{"ps u1", "ps u3", "psp room9."});
  EXPECT_EQ(dialog.on_receive(kGreeting), kPasswordLine);
  EXPECT_EQ(dialog.on_receive(kPrompt), "ps u1\r\n");
  EXPECT_EQ(dialog.completed_commands(), 0u);
  EXPECT_EQ(dialog.on_receive(kListingNone), "ps u3\r\n");  // nothing to cancel: on to the next command
  EXPECT_EQ(dialog.completed_commands(), 1u);
  EXPECT_EQ(dialog.on_receive(kListingOne), cs("000000000000000001"));
  EXPECT_EQ(dialog.on_receive(kPrompt), "psp room9.\r\n");
  EXPECT_EQ(dialog.completed_commands(), 2u);
  EXPECT_EQ(dialog.on_receive(kListingNone), "quit\r\n");
  EXPECT_EQ(dialog.state(), CoturnCliDialog::State::done);
  EXPECT_EQ(dialog.completed_commands(), 3u);
  EXPECT_EQ(dialog.killed_sessions(), std::vector<std::string>{"000000000000000001"});
}

// Found by fuzzing: a telnet sequence inside an id ("id=0...0\xff01") left 17 digits, and `cs` with them
// would cancel a different session. coturn always prints at least 18 digits, so a shorter id is not a session
// line.
TEST(CoturnCliDialog, NeverCancelsAnIdShorterThanCoturnPrints) {
  for (std::string_view listing : {std::string_view("\r\n    1) id=00000000000000001, user <u3>:\r\n\r\n"
                                                    "  Total sessions: 1\r\n\r\n> "),
                                   std::string_view("\r\n    1) id=0000000000000000\xff"
                                                    "01, user <u3>:\r\n\r\n"
                                                    "  Total sessions: 1\r\n\r\n> ")}) {
    CoturnCliDialog dialog(std::string(kPassword), "ps u3");
    (void)dialog.on_receive(kGreeting);
    ASSERT_EQ(dialog.on_receive(kPrompt), "ps u3\r\n");
    EXPECT_EQ(dialog.on_receive(listing), "");
    EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
    EXPECT_EQ(dialog.error(), "unexpected output: none of 1 sessions listed");
    EXPECT_TRUE(dialog.killed_sessions().empty());
  }
}

TEST(CoturnCliDialog, AFailureKeepsTheCountOfCommandsAlreadyDone) {
  CoturnCliDialog dialog(std::string(kPassword), std::vector<std::string>{"ps u1", "ps u3"});
  (void)dialog.on_receive(kGreeting);
  (void)dialog.on_receive(kPrompt);
  EXPECT_EQ(dialog.on_receive(kListingNone), "ps u3\r\n");
  EXPECT_EQ(dialog.on_receive("garbage\r\n> "), "");
  EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
  EXPECT_EQ(dialog.completed_commands(), 1u);
}

TEST(CoturnCliDialog, RefusesABatchWithOneBadCommand) {
  CoturnCliDialog dialog(std::string(kPassword), std::vector<std::string>{"ps u1", "psp "});
  EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
  EXPECT_EQ(dialog.error(), "invalid list command");
  EXPECT_FALSE(CoturnCliDialog::is_valid_list_command("psp "));
  EXPECT_TRUE(CoturnCliDialog::is_valid_list_command("psp room9."));
  CoturnCliDialog empty(std::string(kPassword), std::vector<std::string>{});
  EXPECT_EQ(empty.state(), CoturnCliDialog::State::failed);
}

TEST(CoturnCliDialog, EscapesIacInPassword) {
  CoturnCliDialog dialog("pa\xffss", "ps u1");
  EXPECT_EQ(dialog.on_receive(kGreeting), "pa\xff\xffss\r\n");
  EXPECT_EQ(dialog.on_receive(kPrompt), "ps u1\r\n");
}

TEST(CoturnCliDialog, GivesUpWhenListingsStayTruncated) {
  CoturnCliDialog dialog(std::string(kPassword), "psp u");
  ASSERT_EQ(dialog.on_receive(kGreeting), kPasswordLine);
  ASSERT_EQ(dialog.on_receive(kPrompt), "psp u\r\n");
  ASSERT_EQ(dialog.on_receive(kListingTruncated), cs("000000000000000001"));
  for (int i = 0; i < 3; ++i) ASSERT_NE(dialog.on_receive(kPrompt), "");
  std::size_t listings = 1;
  std::string reply = dialog.on_receive(kPrompt);
  while (reply == "psp u\r\n") {
    ++listings;
    reply = dialog.on_receive(kListingTruncated);  // the same four sessions again, total still 6
  }
  EXPECT_EQ(reply, "");
  EXPECT_EQ(listings, CoturnCliDialog::kMaxListings);
  EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
  EXPECT_EQ(dialog.error(), "sessions still listed after 64 listings");
  EXPECT_EQ(dialog.killed_sessions().size(), 4u);
}

TEST(CoturnCliDialog, FailsOnEndlessOutput) {
  CoturnCliDialog dialog(std::string(kPassword), "psp u");
  ASSERT_EQ(dialog.on_receive(kGreeting), kPasswordLine);
  ASSERT_EQ(dialog.on_receive(kPrompt), "psp u\r\n");
  const std::string block(64 * 1024, 'x');
  for (std::size_t sent = 0; sent <= CoturnCliDialog::kMaxBufferedBytes; sent += block.size())
    EXPECT_EQ(dialog.on_receive(block), "");
  EXPECT_EQ(dialog.state(), CoturnCliDialog::State::failed);
  EXPECT_EQ(dialog.error(), "output too long");
}

}  // namespace
}  // namespace turnpike::turn_auth
