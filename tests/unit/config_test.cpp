// Config parsing: the key table, file errors with file:line, reload diffs, and the shipped conf file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "core/config.hpp"
#include "core/text.hpp"

namespace turnpike {
namespace {

TEST(Config, EmptyFileGivesDefaults) {
  auto config = parse_config("", "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->limits.max_body_bytes, 16384);
  EXPECT_TRUE(config->signaling.require_known_room);
  EXPECT_TRUE(config->any_origin);
  EXPECT_EQ(config->admin_ranges.size(), 2u);
}

TEST(Config, ParsesSectionsCommentsAndValues) {
  auto config = parse_config(
      "# comment\n; other comment\n\n[server]\nlisten = [::1]:9000\nallowed_origins = https://a.example, "
      "http://b.example:8080\n[limits]\nmax_body_bytes=100\nrest_rate_per_second = 0\n[signaling]\n"
      "ping_interval_seconds = 0.2\npong_timeout_seconds = 0.5\nrequire_known_room = false\n",
      "t.conf");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server.listen, "[::1]:9000");
  EXPECT_EQ(config->server.allowed_origins,
            (std::vector<std::string>{"https://a.example", "http://b.example:8080"}));
  EXPECT_FALSE(config->any_origin);
  EXPECT_EQ(config->limits.max_body_bytes, 100);
  EXPECT_EQ(config->limits.rest_rate_per_second, 0);
  EXPECT_DOUBLE_EQ(config->signaling.ping_interval_seconds, 0.2);
  EXPECT_FALSE(config->signaling.require_known_room);
}

struct BadConfig {
  std::string text;
  std::string expected;  // prefix of the error
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, ReportFileAndLine) {
  auto config = parse_config(GetParam().text, "bad.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message.rfind(GetParam().expected, 0), 0u) << config.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        BadConfig{"[nope]\n", "bad.conf:1: unknown section"},
        BadConfig{"[server]\nlisten = 1.2.3.4:8080\nbogus = 1\n", "bad.conf:3: unknown key server.bogus"},
        BadConfig{"listen = x\n", "bad.conf:1: key outside"},
        BadConfig{"[server]\njust words\n", "bad.conf:2: expected 'key = value'"},
        BadConfig{"[limits]\nmax_body_bytes = 12abc\n",
                  "bad.conf:2: limits.max_body_bytes: expected an integer"},
        BadConfig{"[limits]\nmax_body_bytes = 1\n", "bad.conf:2: limits.max_body_bytes: must be between"},
        BadConfig{"[limits]\nmax_body_bytes = 100\nmax_body_bytes = 200\n", "bad.conf:3: duplicate key"},
        BadConfig{"[server]\nlisten = localhost:80\n", "bad.conf:2: server.listen: host must be an IP"},
        BadConfig{"[server]\nlisten = 127.0.0.1:99999\n", "bad.conf:2: server.listen: bad port"},
        BadConfig{"[signaling]\nrequire_known_room = yes\n", "bad.conf:2: signaling.require_known_room"},
        BadConfig{"[database]\nsynchronous = off\n", "bad.conf:2: database.synchronous: expected one of"},
        BadConfig{"[admin]\nallow_from = 10.0.0.0/33\n", "bad.conf:2: admin.allow_from"},
        BadConfig{"[server]\nallowed_origins = example.com\n", "bad.conf:2: server.allowed_origins"},
        BadConfig{"[signaling]\nping_interval_seconds = 0.05\n",
                  "bad.conf:2: signaling.ping_interval_seconds"},
        BadConfig{"[signaling]\nping_interval_seconds = 30\npong_timeout_seconds = 30\n",
                  "bad.conf:3: signaling.pong_timeout_seconds must be greater"},
        BadConfig{"[server\n", "bad.conf:1: section header"}));

TEST(Config, MissingFileIsAnError) {
  auto config = load_config_file("/nonexistent/turnpike.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("/nonexistent/turnpike.conf:0:"), std::string::npos);
}

// A config file and a CLI password file in the test's temp dir, removed afterwards.
class TurnPasswordFile : public ::testing::Test {
 protected:
  void TearDown() override {
    std::remove(conf_path_.c_str());
    std::remove(password_path_.c_str());
  }
  Result<Config> load(const std::string& turn_section, const char* password_content) {
    if (password_content != nullptr) std::ofstream(password_path_) << password_content;
    std::ofstream(conf_path_) << "[turn]\nrealm = example.org\nurls = turn:t.example.org:3478\n"
                              << turn_section;
    return load_config_file(conf_path_);
  }
  std::string conf_path_ = testing::TempDir() + "turnpike_pwfile_" + std::to_string(::getpid()) + ".conf";
  std::string password_path_ = testing::TempDir() + "turnpike_pwfile_" + std::to_string(::getpid()) + ".pw";
};

TEST_F(TurnPasswordFile, InlinePasswordWinsOverTheFile) {
  auto config = load("cli_password = inline\ncli_password_file = " + password_path_ + "\n", "from-file\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->turn_cli_password, "inline");
}

TEST_F(TurnPasswordFile, EmptyPasswordIsReadFromTheFileAndTrimmed) {
  auto config = load("cli_password_file = " + password_path_ + "\n", "0123abcd\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->turn_cli_password, "0123abcd");
}

TEST_F(TurnPasswordFile, MissingFileNamesTheFile) {
  auto config = load("cli_password_file = " + password_path_ + "\n", nullptr);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("cannot open " + password_path_), std::string::npos)
      << config.error().message;
}

TEST_F(TurnPasswordFile, EmptyFileIsAnError) {
  auto config = load("cli_password_file = " + password_path_ + "\n", " \n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(password_path_ + " is empty"), std::string::npos)
      << config.error().message;
}

TEST_F(TurnPasswordFile, NeitherPasswordNorFileIsAnErrorOnTheTurnLine) {
  auto config = load("cli_password_file =\n", nullptr);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message,
            conf_path_ + ":4: turn.urls is set, so turn.cli_password or turn.cli_password_file must be set");
}

TEST(Config, TurnWithoutRealmIsAnError) {
  auto config = parse_config("[turn]\ncli_password = pw\nurls = turn:t.example.org\n", "t.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message, "t.conf:3: turn.urls is set, so turn.realm must be set too");
}

TEST(Config, ChangedKeysListsDifferences) {
  auto a = parse_config("", "a");
  auto b = parse_config("[limits]\nmax_body_bytes = 100\n[log]\nlevel = debug\n", "b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto changed = changed_keys(*a, *b);
  EXPECT_EQ(changed, (std::vector<std::string_view>{"limits.max_body_bytes", "log.level"}));
}

TEST(Config, EveryDefaultParsesToItself) {
  Config defaults;
  for (const auto& key : config_keys()) {
    Config probe;
    ASSERT_TRUE(key.parse(probe, key.default_value).ok()) << key.name;
    EXPECT_EQ(key.show(probe), key.show(defaults))
        << key.name << ": table default differs from the struct default";
  }
}

// Reads "[section]" and "# key = value" lines of a conf file into {"section.key": value}.
std::map<std::string, std::string> commented_keys(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string section;
  for (std::string line; std::getline(in, line);) {
    auto t = trim(line);
    if (t.starts_with("[")) {
      section = std::string(t.substr(1, t.size() - 2));
    } else if (t.starts_with("# ") && t.find(" =") != std::string_view::npos &&
               t.find(' ', 2) == t.find(" =")) {
      auto body = t.substr(2);
      auto eq = body.find(" =");
      out[section + "." + std::string(body.substr(0, eq))] = std::string(trim(body.substr(eq + 2)));
    }
  }
  return out;
}

TEST(Config, ShippedConfListsEveryKeyAtItsDefault) {
  std::ifstream file(std::string(TURNPIKE_SOURCE_DIR) + "/conf/turnpike.conf");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), render_default_config()) << "regenerate with: turnpiked --print-default-config";
  auto listed = commented_keys(text.str());
  for (const auto& key : config_keys()) {
    ASSERT_TRUE(listed.count(std::string(key.name))) << key.name << " missing from conf/turnpike.conf";
    EXPECT_EQ(listed[std::string(key.name)], key.default_value) << key.name;
  }
  EXPECT_EQ(listed.size(), config_keys().size());
}

TEST(Config, ReferenceDocumentsEveryKey) {
  std::ifstream file(std::string(TURNPIKE_SOURCE_DIR) + "/docs/CONFIG.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  for (const auto& key : config_keys()) {
    std::string row = "| `" + std::string(key.name) + "` | `" + std::string(key.default_value) + "` |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "docs/CONFIG.md lacks the row starting " << row;
  }
}

}  // namespace
}  // namespace turnpike
