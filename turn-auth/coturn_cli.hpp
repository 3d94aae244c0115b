// CoturnCliDialog: a pure state machine for one session-kill dialog with coturn's telnet admin CLI.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace turnpike::turn_auth {

// One dialog with coturn 4.6.1's admin CLI (cli-ip/cli-port/cli-password): log in, then for each list
// command in turn list the sessions of a user (or of every user whose name contains a text) and cancel each
// listed session with `cs <id>`, and `quit`. One login serves many revocations.
// It does no I/O: the caller connects, passes every byte it reads to on_receive() and writes what that
// returns.
//
// What coturn sends (CRLF line ends; no telnet option negotiation, but IAC sequences are skipped if present):
//   on connect        "TURN Server\r\nCoturn-4.6.1 'Gorst'\r\n\r\nType '?' for help\r\nEnter password: \r\n"
//   right password    "> "                    (the prompt; every command's output ends with it)
//   wrong password    "Enter password: \r\n"  (coturn closes the connection after the 5th wrong one)
//   ps/psp listing    "\r\n" then per session "    N) id=001000000000000002, user <name>:\r\n" followed by
//                     indented detail lines and "\r\n"; then "  Total sessions: T\r\n\r\n> ". When T exceeds
//                     cli-max-output-sessions only that many are listed, "...\r\n\r\n" precedes the total and
//                     a three-line "  Warning: too many output sessions, ..." block follows it.
//   cs <id>           "> " (no confirmation text; coturn cancels the session asynchronously)
//   quit              nothing: coturn drops the connection (usually with a TCP reset)
//
// Each command is sent only after the previous prompt arrived, because coturn treats everything it reads in
// one go as a single command line. If a listing is truncated, the dialog lists again after killing what it
// saw and repeats until a complete listing (bounded by kMaxListings). Sessions already cancelled are not
// cancelled twice. A connection closed while state() is still running is a failure the caller reports itself.
class CoturnCliDialog {
 public:
  static constexpr std::size_t kMaxListings = 64;  // listings per dialog (truncation rounds)
  static constexpr std::size_t kMaxBufferedBytes = 4 * 1024 * 1024;  // unanswered output kept before failing

  // password: coturn's cli-password (plain text; no CR, LF or NUL, no leading blank).
  // list_commands: each "psp <text>" (every session whose user name contains text) or "ps <user>" (exact
  // match), done in order; at least one. Any invalid command or password puts the dialog straight into
  // failed.
  CoturnCliDialog(std::string password, std::vector<std::string> list_commands);
  CoturnCliDialog(std::string password, std::string list_command)
      : CoturnCliDialog(std::move(password), std::vector<std::string>{std::move(list_command)}) {}

  // "psp <text>" or "ps <user>" whose argument passes is_coturn_safe_name(): an empty or unusual argument
  // could list (and so kill) sessions of other users ("psp " matches everyone).
  static bool is_valid_list_command(std::string_view command);

  // Feeds bytes read from coturn (any split) and returns the bytes to write back, possibly empty.
  // Once the dialog is done or failed, it ignores input and returns nothing.
  std::string on_receive(std::string_view bytes);

  enum class State { running, done, failed };
  State state() const { return state_; }

  // Why the dialog failed, e.g. "wrong password" or "unexpected output: ..."; empty unless failed.
  const std::string& error() const { return error_; }

  // Session ids sent with `cs`, in order, exactly as coturn listed them (18 zero-padded digits).
  const std::vector<std::string>& killed_sessions() const { return killed_; }
  // How many list commands, from the first, have had every listed session cancelled (all of them once done;
  // on failure, the ones before the command that failed).
  std::size_t completed_commands() const { return completed_; }

 private:
  enum class Step { greeting, password_sent, listing_sent, cancel_sent };
  enum class Telnet { data, iac, option, subnegotiation, subnegotiation_iac };

  void append_filtered(std::string_view bytes);
  std::string handle_text();
  std::string handle_listing();
  std::string next_command();
  void begin_command(std::size_t index);
  std::string fail(std::string why);

  std::string password_;
  std::vector<std::string> list_commands_;
  std::size_t completed_ = 0;  // list_commands_[completed_] is the one under way
  std::string pattern_;        // the argument of the command under way
  bool exact_ = false;         // ps (exact user) rather than psp (substring)

  State state_ = State::running;
  Step step_ = Step::greeting;
  Telnet telnet_ = Telnet::data;
  std::string text_;  // output since the last command, telnet sequences removed
  std::string error_;
  std::vector<std::string> killed_;
  std::unordered_set<std::string> killed_set_;  // the same ids, for lookup
  std::deque<std::string> pending_;             // listed, not yet cancelled
  bool truncated_ = false;                      // the last listing said that more sessions exist
  std::size_t listings_ = 0;
};

}  // namespace turnpike::turn_auth
