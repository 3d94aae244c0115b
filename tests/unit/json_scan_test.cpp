// JsonScanner against nlohmann::json: it never accepts what nlohmann rejects, it lists top-level members with
// their exact bytes, and "canonical" holds exactly when nlohmann's dump() would print the same bytes.
#include "core/json_scan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_text.hpp"

namespace turnpike {
namespace {

using ordered = nlohmann::ordered_json;

struct Scanned {
  bool ok = false;
  JsonSpan top;
  std::vector<JsonMember> members;
};

Scanned scan(std::string_view text, int depth = 64) {
  static JsonScanner scanner;
  Scanned out;
  out.ok = scanner.scan(text, depth, out.top, out.members);
  return out;
}

bool nlohmann_accepts(std::string_view text) {
  return !ordered::parse(text.begin(), text.end(), nullptr, false).is_discarded();
}

// What every accepted text must satisfy: nlohmann accepts it, and canonical spans are what dump() prints
// (the scanner may call a span non-canonical that dump() would happen to reproduce: that only costs speed).
void expect_agrees_with_nlohmann(std::string_view text) {
  Scanned s = scan(text);
  if (!s.ok) return;  // rejecting is always safe: callers fall back to nlohmann
  ASSERT_TRUE(nlohmann_accepts(text)) << text;
  auto parsed = ordered::parse(text.begin(), text.end(), nullptr, false);
  if (s.top.canonical) {
    EXPECT_EQ(to_json_text(parsed), s.top.text) << text;
  }
  if (s.top.kind == JsonKind::object) {
    ASSERT_TRUE(parsed.is_object());
    for (const auto& member : s.members) {
      auto value = ordered::parse(member.value.text.begin(), member.value.text.end(), nullptr, false);
      ASSERT_FALSE(value.is_discarded()) << member.value.text;
      if (member.value.canonical) {
        EXPECT_EQ(to_json_text(value), member.value.text) << text;
      }
    }
  }
}

TEST(JsonScanner, ListsTopLevelMembersWithTheirBytes) {
  Scanned s =
      scan(R"( {"type":"webrtc_offer", "sdp" : {"type":"offer","sdp":"v=0"},"n":-12,"x":[1,{"a":null}]} )");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.top.kind, JsonKind::object);
  EXPECT_FALSE(s.top.canonical);  // whitespace inside
  ASSERT_EQ(s.members.size(), 4u);
  EXPECT_EQ(s.members[0].raw_key, "type");
  EXPECT_EQ(s.members[0].value.text, R"("webrtc_offer")");
  EXPECT_EQ(s.members[1].raw_key, "sdp");
  EXPECT_EQ(s.members[1].value.text, R"({"type":"offer","sdp":"v=0"})");
  EXPECT_TRUE(s.members[1].value.canonical);
  EXPECT_EQ(s.members[1].value.kind, JsonKind::object);
  EXPECT_EQ(s.members[2].value.text, "-12");
  EXPECT_EQ(s.members[2].value.kind, JsonKind::number);
  EXPECT_EQ(s.members[3].value.text, R"([1,{"a":null}])");
  EXPECT_TRUE(s.members[3].value.canonical);
}

TEST(JsonScanner, KeepsDuplicatesInOrderAndMarksEscapedKeys) {
  Scanned s = scan(R"({"type":"a","t\u0079pe":"b","type":"c"})");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.members.size(), 3u);
  EXPECT_FALSE(s.members[0].key_has_escapes);
  EXPECT_TRUE(s.members[1].key_has_escapes);
  EXPECT_EQ(s.members[2].value.text, R"("c")");
  EXPECT_FALSE(s.top.canonical);
  std::string_view plain;
  EXPECT_TRUE(json_plain_string(s.members[2].value, plain));
  EXPECT_EQ(plain, "c");
}

TEST(JsonScanner, CanonicalMeansWhatDumpPrints) {
  for (std::string text : {R"({"a":"x\ny\t\"\\"})", R"("\u001f")", R"("é€😀")", R"([true,false,null,0,-5])",
                           "\"\x7f\"", R"({})", R"([])", R"("\u0000")"}) {
    Scanned s = scan(text);
    ASSERT_TRUE(s.ok) << text;
    EXPECT_TRUE(s.top.canonical) << text;
    expect_agrees_with_nlohmann(text);
  }
  for (std::string text :
       {R"("a\/b")", R"("\u0041")", R"("\u001F")", R"("\u000a")", R"("\ud83d\ude00")", "1.5", "1e3", "-0",
        "123456789012345678901234", R"({"a":1,"a":2})", "[1, 2]", R"({"a" :1})"}) {
    Scanned s = scan(text);
    ASSERT_TRUE(s.ok) << text;
    EXPECT_FALSE(s.top.canonical) << text;
    expect_agrees_with_nlohmann(text);
  }
}

TEST(JsonScanner, RejectsWhatIsNotJson) {
  for (std::string text : {"",
                           " ",
                           "{",
                           "}",
                           "[1,]",
                           "{\"a\":1,}",
                           "{\"a\" 1}",
                           "{1:2}",
                           "01",
                           "1.",
                           ".5",
                           "1e",
                           "+1",
                           "--1",
                           "tru",
                           "nul",
                           "\"abc",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "\"\\ud800\"",
                           "\"\\udc00\"",
                           "\"\\ud800\\u0041\"",
                           "\"a\x01\"",
                           "\"\xc3\"",
                           "\"\xc0\xaf\"",
                           "\"\xed\xa0\x80\"",
                           "\"\xf4\x90\x80\x80\"",
                           "\"\xff\"",
                           "1 2",
                           "{}x",
                           "[1] ]",
                           "\xEF\xBB\xBF{}"}) {
    EXPECT_FALSE(scan(text).ok) << text;
  }
}

// Found by fuzzing: numbers that overflow a double were accepted, while nlohmann rejects them.
TEST(JsonScanner, RejectsNumbersThatOverflowLikeNlohmann) {
  for (const std::string& text :
       std::vector<std::string>{"1E400", "-1e999", "[0.5e+309]", "{\"a\":" + std::string(400, '9') + "}"}) {
    EXPECT_FALSE(nlohmann_accepts(text)) << text;
    EXPECT_FALSE(scan(text).ok) << text;
  }
  // Underflow is not overflow: both read it as (about) zero.
  for (std::string text : {"1e-400", "-2.5E-999", "18446744073709551616", "1.7976931348623157e308"}) {
    EXPECT_TRUE(nlohmann_accepts(text)) << text;
    EXPECT_TRUE(scan(text).ok) << text;
  }
}

TEST(JsonScanner, LeavesNlohmannsExtensionsToNlohmann) {
  // nlohmann skips a leading BOM and stops at a NUL byte; the scanner refuses both, so callers fall back.
  for (std::string text : {std::string("\xEF\xBB\xBF{}"), std::string("1\0garbage", 9)}) {
    EXPECT_TRUE(nlohmann_accepts(text));
    EXPECT_FALSE(scan(text).ok);
  }
}

TEST(JsonScanner, EnforcesTheDepthLimit) {
  std::string deep(64, '[');
  deep += std::string(64, ']');
  EXPECT_TRUE(scan(deep, 64).ok);
  EXPECT_FALSE(scan("[" + deep + "]", 64).ok);
  EXPECT_FALSE(scan(R"({"a":{"b":{}}})", 2).ok);
  EXPECT_TRUE(scan(R"({"a":{"b":1}})", 2).ok);
}

// Random JSON-like texts, valid and broken, from a small alphabet that hits every branch.
std::string random_text(std::mt19937& rng, int depth) {
  static const std::vector<std::string> atoms = {
      "0",        "-1",      "12",    "1.5",         "2e-3",        "-0",
      "true",     "false",   "null",  "\"\"",        "\"a\"",       "\"\\n\"",
      "\"/\"",    "\"\\/\"", "\"é\"", "\"\\u00e9\"", "\"\\u0001\"", "\"\\ud83d\\ude00\"",
      "\"\x7f\"", "\"\\\"\""};
  std::uniform_int_distribution<int> pick(0, 9);
  int choice = depth > 3 ? 0 : pick(rng);
  auto space = [&] { return pick(rng) == 0 ? " " : ""; };
  if (choice < 5) return atoms[std::uniform_int_distribution<std::size_t>(0, atoms.size() - 1)(rng)];
  std::string out;
  int n = std::uniform_int_distribution<int>(0, 3)(rng);
  if (choice < 7) {
    out = "[" + std::string(space());
    for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::string(space()) + random_text(rng, depth + 1);
    return out + space() + "]";
  }
  static const std::vector<std::string> keys = {"\"a\"", "\"b\"", "\"type\"", "\"sdp\"", "\"t\\u0079pe\""};
  out = "{" + std::string(space());
  for (int i = 0; i < n; ++i) {
    out += (i ? "," : "") + keys[std::uniform_int_distribution<std::size_t>(0, keys.size() - 1)(rng)] +
           space() + ":" + space() + random_text(rng, depth + 1);
  }
  return out + space() + "}";
}

TEST(JsonScanner, AgreesWithNlohmannOnRandomAndMutatedTexts) {
  std::mt19937 rng(20261205);
  int accepted = 0, rejected_valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = random_text(rng, 0);
    if (i % 2 == 1 && !text.empty()) {
      // Break it: drop, duplicate or replace a byte.
      std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
      switch (i % 6) {
        case 1:
          text.erase(at, 1);
          break;
        case 3:
          text.insert(at, 1, text[at]);
          break;
        default:
          text[at] = "{}[]\",:\\ 0x"[std::uniform_int_distribution<int>(0, 10)(rng)];
      }
    }
    expect_agrees_with_nlohmann(text);
    if (HasFatalFailure()) return;
    bool ok = scan(text).ok;
    accepted += ok;
    if (!ok && nlohmann_accepts(text)) {
      ++rejected_valid;
      ADD_FAILURE() << "valid JSON refused: " << text;
    }
  }
  EXPECT_GT(accepted, 5000);     // the generator does produce plenty of valid JSON
  EXPECT_EQ(rejected_valid, 0);  // and nothing valid is refused (no BOM in this alphabet)
}

}  // namespace
}  // namespace turnpike
