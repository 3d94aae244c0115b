// Fuzzes CoturnCliDialog with arbitrary coturn output: no crash or UB, and it only ever writes sane commands.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "turn-auth/coturn_cli.hpp"

namespace {

using turnpike::turn_auth::CoturnCliDialog;

// What coturn prints: a 64-bit number zero-padded to 18 digits.
bool is_session_id(std::string_view id) {
  if (id.size() < 18 || id.size() > 20) return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the size of the reads coturn's output arrives in.
  const std::size_t piece = 1 + (data[0] & 0x3F);
  const std::string_view output(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string password = "secretpw";
  const std::vector<std::string> commands = {"ps u3", "psp room7."};
  CoturnCliDialog dialog(password, commands);

  std::string written;
  for (std::size_t pos = 0; pos < output.size(); pos += piece) {
    const bool finished = dialog.state() != CoturnCliDialog::State::running;
    const std::string reply = dialog.on_receive(output.substr(pos, piece));
    if (finished && !reply.empty()) std::abort();
    written += reply;
  }

  // Every line written is the password, a list command, `cs` with a listed id, or quit.
  std::set<std::string> allowed = {password, "quit"};
  allowed.insert(commands.begin(), commands.end());
  std::set<std::string> killed;
  for (const auto& id : dialog.killed_sessions()) {
    if (!is_session_id(id) || !killed.insert(id).second) std::abort();
    allowed.insert("cs " + id);
  }
  std::size_t start = 0;
  while (start < written.size()) {
    const std::size_t end = written.find("\r\n", start);
    if (end == std::string::npos) std::abort();
    if (!allowed.contains(written.substr(start, end - start))) std::abort();
    start = end + 2;
  }
  const bool failed = dialog.state() == CoturnCliDialog::State::failed;
  if (failed == dialog.error().empty()) std::abort();
  if (dialog.completed_commands() > commands.size()) std::abort();
  if (dialog.state() == CoturnCliDialog::State::done && dialog.completed_commands() != commands.size()) {
    std::abort();
  }
  return 0;
}
