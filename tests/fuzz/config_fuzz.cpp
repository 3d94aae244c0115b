// Fuzzes parse_config: no crash or UB on any text, and every rejection names the origin and a line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = turnpike::parse_config(text, "fuzz.conf");
  if (!config.ok() && !config.error().message.starts_with("fuzz.conf")) std::abort();
  return 0;
}
