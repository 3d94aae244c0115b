// Table tests for terminal_safe: what reaches an administrator's terminal from client-supplied ids.
#include "core/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace turnpike {
namespace {

TEST(TerminalSafe, EscapesWhatATerminalWouldActOn) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"device-42", "device-42"},
      {"", ""},
      {"Zoë 日本 😀", "Zoë 日本 😀"},                               // ordinary UTF-8 stays
      {"a\x1b[31mred", "a\\x1b[31mred"},                          // ESC
      {"tab\there\nnew\rline", "tab\\x09here\\x0anew\\x0dline"},  // C0
      {std::string("nul\0x", 5), "nul\\x00x"},
      {"del\x7f", "del\\x7f"},
      {"csi\xc2\x9b"
       "2J",
       "csi\\u{009b}2J"},  // C1 CSI, as UTF-8
      {"abc\xe2\x80\xae"
       "fdp.exe",
       "abc\\u{202e}fdp.exe"},                               // RIGHT-TO-LEFT OVERRIDE
      {"\xe2\x81\xa6x\xe2\x81\xa9", "\\u{2066}x\\u{2069}"},  // isolates
      {"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\\u{200e}\\u{200f}\\u{061c}"},
      {"line\xe2\x80\xa8sep", "line\\u{2028}sep"},
      {"back\\x1b", "back\\\\x1b"},                  // an escape cannot be forged
      {"\xff\xfe", "\\xff\\xfe"},                    // not UTF-8
      {"\xc3", "\\xc3"},                             // truncated
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // surrogate
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // above U+10FFFF
      {"\x80x", "\\x80x"},                           // stray continuation byte
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(terminal_safe(c.in), c.out);
  }
}

}  // namespace
}  // namespace turnpike
