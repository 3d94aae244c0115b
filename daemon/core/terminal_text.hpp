// Text from clients made safe to print on an administrator's terminal.
#pragma once

#include <string>
#include <string_view>

namespace turnpike {

// `text` with everything a terminal would act on instead of showing turned into a visible escape: control
// characters (C0, DEL and C1, e.g. ESC or CSI), bidirectional formatting characters (which reorder what
// follows them), line and paragraph separators, and bytes that are not UTF-8. Bytes become `\xNN`, code
// points `\u{XXXX}`; a backslash becomes `\\`, so the escapes cannot be forged. Everything else is unchanged.
std::string terminal_safe(std::string_view text);

}  // namespace turnpike
