// Field rules of the pairing API, table-driven from PROTOCOL.md §Details.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pairing/field_rules.hpp"

namespace turnpike {
namespace {

using nlohmann::json;

TEST(FieldRules, JoinId) {
  struct Case {
    std::string json_text;
    std::optional<std::string> expected;
  };
  for (const auto& c : std::vector<Case>{{R"("123456")", "123456"},
                                         {R"("000123")", "000123"},
                                         {"123456", "123456"},
                                         {"123456.0", "123456"},
                                         {"100000", "100000"},
                                         {R"("12345")", std::nullopt},
                                         {R"("1234567")", std::nullopt},
                                         {R"("12a456")", std::nullopt},
                                         {R"(" 12345")", std::nullopt},
                                         {R"("١٢٣٤٥٦")", std::nullopt},
                                         {"12345", std::nullopt},
                                         {"-123456", std::nullopt},
                                         {"123456.5", std::nullopt},
                                         {"true", std::nullopt},
                                         {"[123456]", std::nullopt},
                                         {R"({"a":1})", std::nullopt}}) {
    EXPECT_EQ(normalize_joinid(json::parse(c.json_text), 6), c.expected) << c.json_text;
  }
  EXPECT_EQ(normalize_joinid(json::parse(R"("1234")"), 4), "1234");
}

TEST(FieldRules, ExpiresInSeconds) {
  struct Case {
    std::string json_text;
    std::optional<std::int64_t> expected;
  };
  for (const auto& c : std::vector<Case>{{"300", 300},
                                         {"300.0", 300},
                                         {R"("300")", 300},
                                         {"1", 1},
                                         {"86400", 86400},
                                         {"86401", std::nullopt},
                                         {"0", std::nullopt},
                                         {"-5", std::nullopt},
                                         {"1.9", std::nullopt},
                                         {R"("+60")", std::nullopt},
                                         {R"(" 60")", std::nullopt},
                                         {R"("300abc")", std::nullopt},
                                         {R"("1e3")", std::nullopt},
                                         {R"("99999999999999999999999")", std::nullopt},
                                         {"true", std::nullopt},
                                         {"[60]", std::nullopt}}) {
    EXPECT_EQ(parse_expires_seconds(json::parse(c.json_text), 86400), c.expected) << c.json_text;
  }
}

TEST(FieldRules, Ids) {
  EXPECT_TRUE(is_valid_id(json("device-1"), 128));
  EXPECT_TRUE(is_valid_id(json("Zoë's phone"), 128));
  EXPECT_TRUE(is_valid_id(json(std::string(128, 'a')), 128));
  EXPECT_FALSE(is_valid_id(json(std::string(129, 'a')), 128));
  EXPECT_FALSE(is_valid_id(json(""), 128));
  EXPECT_FALSE(is_valid_id(json("a\nb"), 128));
  EXPECT_FALSE(is_valid_id(json("a\x7f"), 128));
  EXPECT_FALSE(is_valid_id(json(std::string("a\0b", 3)), 128));
  EXPECT_FALSE(is_valid_id(json(5), 128));
  EXPECT_FALSE(is_valid_id(json::object(), 128));
  // "é" is two bytes: the limit counts bytes.
  EXPECT_FALSE(is_valid_id(json("\xc3\xa9\xc3\xa9"), 3));
}

TEST(FieldRules, MissingMeansAbsentNullOrEmpty) {
  auto body = json::parse(R"({"a":null,"b":"","c":0,"d":false,"e":"x"})");
  EXPECT_TRUE(is_missing_field(body, "a"));
  EXPECT_TRUE(is_missing_field(body, "b"));
  EXPECT_FALSE(is_missing_field(body, "c"));
  EXPECT_FALSE(is_missing_field(body, "d"));
  EXPECT_FALSE(is_missing_field(body, "e"));
  EXPECT_TRUE(is_missing_field(body, "zzz"));
}

}  // namespace
}  // namespace turnpike
