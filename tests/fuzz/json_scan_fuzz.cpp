// Fuzzes JsonScanner against nlohmann::json: same verdict (within the depth limit), same members and values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_scan.hpp"

namespace {

using json = nlohmann::ordered_json;
using turnpike::JsonKind;
using turnpike::JsonMember;
using turnpike::JsonSpan;

// Nested arrays and objects: 0 for a scalar.
int depth_of(const json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const auto& element : value) deepest = std::max(deepest, depth_of(element));
  return deepest + 1;
}

JsonKind kind_of(const json& value) {
  if (value.is_object()) return JsonKind::object;
  if (value.is_array()) return JsonKind::array;
  if (value.is_string()) return JsonKind::string;
  if (value.is_number()) return JsonKind::number;
  return JsonKind::literal;
}

// Everything the header promises about one span of a value the oracle parsed as `expected`.
void check_span(const JsonSpan& span, const json& expected) {
  const json reparsed = json::parse(span.text, nullptr, false);
  if (reparsed.is_discarded() || reparsed != expected) std::abort();
  if (span.kind != kind_of(expected)) std::abort();
  if (span.canonical && span.text != expected.dump()) std::abort();
  if (span.kind == JsonKind::string && !span.has_escapes &&
      span.text.substr(1, span.text.size() - 2) != expected.get_ref<const std::string&>()) {
    std::abort();
  }
  std::string_view plain;
  if (turnpike::json_plain_string(span, plain) && plain != expected.get_ref<const std::string&>())
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int max_depth = data[0] % 24;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  JsonSpan top;
  std::vector<JsonMember> members;
  turnpike::JsonScanner scanner;
  const bool scanned = scanner.scan(text, max_depth, top, members);

  const json oracle = json::parse(text, nullptr, /*allow_exceptions=*/false);
  // The documented differences: a leading byte-order mark (nlohmann skips it), a NUL byte (nlohmann stops
  // reading there) and the depth limit.
  const bool has_nul = text.find('\0') != std::string_view::npos;
  const bool expected = !has_nul && !oracle.is_discarded() && !text.starts_with("\xEF\xBB\xBF") &&
                        depth_of(oracle) <= max_depth;
  if (scanned != expected) std::abort();
  if (!scanned) return 0;

  check_span(top, oracle);
  if (top.text.data() < text.data() || top.text.data() + top.text.size() > text.data() + text.size())
    std::abort();
  if (!oracle.is_object()) {
    if (!members.empty()) std::abort();
    return 0;
  }
  // Members in order, duplicates included; the last of equal keys is the one the parsed object holds.
  std::map<std::string, const JsonMember*> last;
  for (const auto& member : members) {
    const json key = json::parse("\"" + std::string(member.raw_key) + "\"", nullptr, false);
    if (key.is_discarded()) std::abort();
    const auto& decoded = key.get_ref<const std::string&>();
    if (!member.key_has_escapes && decoded != member.raw_key) std::abort();
    last[decoded] = &member;
  }
  if (last.size() != oracle.size()) std::abort();
  for (const auto& [key, member] : last) {
    const auto found = oracle.find(key);
    if (found == oracle.end()) std::abort();
    check_span(member->value, *found);
  }
  // A canonical object has no duplicate keys.
  if (top.canonical && members.size() != last.size()) std::abort();
  return 0;
}
