// CoturnCliDialog: login, listing, session cancellation and quit over coturn's telnet CLI, as a byte-driven
// state machine.
#include "turn-auth/coturn_cli.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>

#include "turn-auth/credentials.hpp"

namespace turnpike::turn_auth {
namespace {

constexpr std::string_view kPasswordPrompt = "Enter password: \r\n";
constexpr std::string_view kPrompt = "> ";
constexpr std::string_view kPromptAfterLine = "\n> ";
constexpr std::string_view kLineEnd = "\r\n";
constexpr std::size_t kMinIdDigits = 18;  // coturn prints session ids zero-padded to 18 digits
constexpr std::size_t kMaxIdDigits = 20;  // a 64-bit session id

// Telnet bytes (RFC 854).
constexpr unsigned char kIac = 255;
constexpr unsigned char kSb = 250;
constexpr unsigned char kSe = 240;
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// coturn prints the prompt "> " at the start of a line and then waits for input, so output is complete once
// the text ends with it. Listing lines never start with "> ", which makes a false match impossible.
bool ends_with_prompt(std::string_view text) {
  return text == kPrompt || ends_with(text, kPromptAfterLine);
}

std::string_view trim_leading_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

struct SessionLine {
  std::string id;
  std::string user;
};

// "    3) id=001000000000000002, user <room7.1.1700000000>:" (leading spaces already removed).
std::optional<SessionLine> parse_session_line(std::string_view line) {
  const std::size_t paren = line.find(") id=");
  if (paren == std::string_view::npos || !all_digits(line.substr(0, paren))) return std::nullopt;
  std::string_view rest = line.substr(paren + 5);
  const std::size_t comma = rest.find(", user <");
  if (comma == std::string_view::npos) return std::nullopt;
  const std::string_view id = rest.substr(0, comma);
  rest = rest.substr(comma + 8);
  if (!ends_with(rest, ">:")) return std::nullopt;
  if (!all_digits(id) || id.size() < kMinIdDigits || id.size() > kMaxIdDigits) return std::nullopt;
  return SessionLine{std::string(id), std::string(rest.substr(0, rest.size() - 2))};
}

// "Total sessions: 6", or "Total sessions for realm r: 6" when a CLI session realm is set.
std::optional<std::size_t> parse_total_line(std::string_view line) {
  if (!starts_with(line, "Total sessions")) return std::nullopt;
  const std::size_t colon = line.rfind(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view number = line.substr(colon + 2);
  if (!all_digits(number) || number.size() > 18) return std::nullopt;
  std::size_t total = 0;
  for (char c : number) total = total * 10 + static_cast<std::size_t>(c - '0');
  return total;
}

// Telnet requires a data byte 255 to be doubled.
std::string telnet_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    out += c;
    if (static_cast<unsigned char>(c) == kIac) out += c;
  }
  return out;
}

}  // namespace

bool CoturnCliDialog::is_valid_list_command(std::string_view command) {
  if (starts_with(command, "ps ")) return is_coturn_safe_name(command.substr(3));
  if (starts_with(command, "psp ")) return is_coturn_safe_name(command.substr(4));
  return false;
}

CoturnCliDialog::CoturnCliDialog(std::string password, std::vector<std::string> list_commands)
    : password_(std::move(password)), list_commands_(std::move(list_commands)) {
  // coturn strips leading blanks and trailing CR/LF from each line, so such passwords could never match.
  const bool bad_password = password_.empty() || password_.front() == ' ' || password_.front() == '\t' ||
                            password_.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos;
  if (bad_password) {
    fail("invalid password");
    return;
  }
  if (list_commands_.empty() || !std::all_of(list_commands_.begin(), list_commands_.end(),
                                             [](const std::string& c) { return is_valid_list_command(c); })) {
    fail("invalid list command");
    return;
  }
  begin_command(0);
}

void CoturnCliDialog::begin_command(std::size_t index) {
  completed_ = index;
  const std::string& command = list_commands_[index];
  exact_ = starts_with(command, "ps ");
  pattern_ = command.substr(exact_ ? 3 : 4);
  listings_ = 0;
  truncated_ = false;
}

std::string CoturnCliDialog::on_receive(std::string_view bytes) {
  if (state_ != State::running) return {};
  append_filtered(bytes);
  if (text_.size() > kMaxBufferedBytes) return fail("output too long");
  return handle_text();
}

void CoturnCliDialog::append_filtered(std::string_view bytes) {
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    switch (telnet_) {
      case Telnet::data:
        if (u == kIac)
          telnet_ = Telnet::iac;
        else if (u != 0)  // coturn's telnet layer sends a bare CR as CR NUL
          text_ += c;
        break;
      case Telnet::iac:
        if (u == kIac) {
          text_ += c;
          telnet_ = Telnet::data;
        } else if (u >= kWill && u <= kDont) {
          telnet_ = Telnet::option;
        } else if (u == kSb) {
          telnet_ = Telnet::subnegotiation;
        } else {
          telnet_ = Telnet::data;  // a two-byte command such as NOP or GA
        }
        break;
      case Telnet::option:
        telnet_ = Telnet::data;  // the option byte of WILL/WONT/DO/DONT; options are never negotiated
        break;
      case Telnet::subnegotiation:
        if (u == kIac) telnet_ = Telnet::subnegotiation_iac;
        break;
      case Telnet::subnegotiation_iac:
        telnet_ = u == kSe ? Telnet::data : Telnet::subnegotiation;
        break;
    }
  }
}

std::string CoturnCliDialog::handle_text() {
  switch (step_) {
    case Step::greeting:
      if (ends_with(text_, kPasswordPrompt)) {
        text_.clear();
        step_ = Step::password_sent;
        return telnet_escape(password_) + std::string(kLineEnd);
      }
      // coturn 4.6.1 refuses to start its CLI without a cli-password, so a bare prompt here is unexpected.
      if (ends_with_prompt(text_)) return fail("unexpected output: no password prompt");
      return {};
    case Step::password_sent:
      if (ends_with(text_, kPasswordPrompt)) return fail("wrong password");
      if (!ends_with_prompt(text_)) return {};
      if (text_ != kPrompt) return fail("unexpected output after the password");
      text_.clear();
      return next_command();
    case Step::listing_sent:
      if (!ends_with_prompt(text_)) return {};
      return handle_listing();
    case Step::cancel_sent:
      if (!ends_with_prompt(text_)) return {};
      if (text_ != kPrompt) return fail("unexpected output after cs");
      text_.clear();
      return next_command();
  }
  return {};
}

std::string CoturnCliDialog::handle_listing() {
  const std::string_view output = std::string_view(text_).substr(0, text_.size() - kPrompt.size());
  std::optional<std::size_t> total;
  std::size_t listed = 0;
  std::unordered_set<std::string> seen;

  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;

    line = trim_leading_spaces(line);
    if (auto total_line = parse_total_line(line)) {
      total = total_line;
      continue;
    }
    auto session = parse_session_line(line);
    if (!session) continue;  // detail, "...", warning and blank lines
    const bool matches =
        exact_ ? session->user == pattern_ : session->user.find(pattern_) != std::string::npos;
    if (!matches) return fail("unexpected output: session of user <" + session->user + "> listed");
    if (!seen.insert(session->id).second) continue;
    ++listed;
    if (killed_set_.count(session->id) == 0) pending_.push_back(std::move(session->id));
  }

  if (!total) return fail("unexpected output: no session total in the listing");
  if (listed > *total) return fail("unexpected output: more sessions listed than the total");
  if (listed == 0 && *total > 0)
    return fail("unexpected output: none of " + std::to_string(*total) + " sessions listed");
  truncated_ = listed < *total;
  text_.clear();
  return next_command();
}

// After the prompt: cancel the next listed session, list again if the last listing was truncated, go on to
// the next list command, or quit.
std::string CoturnCliDialog::next_command() {
  if (!pending_.empty()) {
    killed_.push_back(std::move(pending_.front()));
    pending_.pop_front();
    killed_set_.insert(killed_.back());
    step_ = Step::cancel_sent;
    return "cs " + killed_.back() + std::string(kLineEnd);
  }
  if (listings_ == 0 || truncated_) {
    if (listings_ == kMaxListings)
      return fail("sessions still listed after " + std::to_string(kMaxListings) + " listings");
    ++listings_;
    truncated_ = false;
    step_ = Step::listing_sent;
    return list_commands_[completed_] + std::string(kLineEnd);
  }
  if (completed_ + 1 < list_commands_.size()) {
    begin_command(completed_ + 1);
    return next_command();
  }
  completed_ = list_commands_.size();
  state_ = State::done;
  return "quit" + std::string(kLineEnd);
}

std::string CoturnCliDialog::fail(std::string why) {
  state_ = State::failed;
  error_ = std::move(why);
  text_.clear();
  pending_.clear();
  return {};
}

}  // namespace turnpike::turn_auth
