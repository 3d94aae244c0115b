// Unit tests for the WebSocket frame decoder/encoder and UTF-8 validation, each input fed whole and split.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"
#include "ws/frame_codec.hpp"

namespace turnpike::ws {

// Readable gtest output for events and failures.
void PrintTo(const Event& event, std::ostream* os) {
  static constexpr std::array<const char*, 5> kNames = {"text", "binary", "ping", "pong", "close"};
  *os << "Event{" << kNames[static_cast<std::size_t>(event.kind)] << ", payload size "
      << event.payload.size();
  if (event.payload.size() <= 40) *os << " \"" << event.payload << "\"";
  if (event.kind == Event::Kind::close)
    *os << ", code " << event.close_code << ", reason \"" << event.close_reason << "\"";
  *os << "}";
}

void PrintTo(const Failure& failure, std::ostream* os) {
  *os << "Failure{" << failure.close_code << ", \"" << failure.reason << "\"}";
}

namespace {

using Key = std::array<unsigned char, 4>;
constexpr Key kKey = {0x37, 0xfa, 0x21, 0x3d};  // the masking key of the RFC 6455 §5.7 examples

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Test-side frame builders (independent of the encoder under test).

struct FrameOptions {
  bool masked = true;
  unsigned char rsv = 0;  // bits 0x70 of the first byte
  int length_bytes = -1;  // -1 minimal, else 0 (7-bit), 2 (16-bit) or 8 (64-bit) length encoding
  Key key = kKey;
};

void append_length(std::string& out, unsigned char mask_bit, std::uint64_t length, int length_bytes) {
  if (length_bytes < 0) length_bytes = length <= 125 ? 0 : (length <= 0xFFFF ? 2 : 8);
  if (length_bytes == 0) {
    out.push_back(static_cast<char>(mask_bit | length));
  } else if (length_bytes == 2) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
}

std::string frame(bool fin, int opcode, std::string_view payload, FrameOptions options = {}) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | options.rsv | opcode));
  append_length(out, options.masked ? 0x80 : 0, payload.size(), options.length_bytes);
  if (options.masked) {
    for (unsigned char k : options.key) out.push_back(static_cast<char>(k));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const unsigned char k = options.masked ? options.key[i % 4] : 0;
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ k));
  }
  return out;
}

// Only the header of a masked client frame declaring `length` bytes (no masking key, no payload).
std::string length_header(int first_byte, std::uint64_t length, int length_bytes = -1) {
  std::string out(1, static_cast<char>(first_byte));
  append_length(out, 0x80, length, length_bytes);
  return out;
}

std::string text(std::string_view payload, bool fin = true) {
  return frame(fin, 0x1, payload);
}
std::string binary(std::string_view payload, bool fin = true) {
  return frame(fin, 0x2, payload);
}
std::string cont(std::string_view payload, bool fin) {
  return frame(fin, 0x0, payload);
}
std::string ping(std::string_view payload) {
  return frame(true, 0x9, payload);
}
std::string pong(std::string_view payload) {
  return frame(true, 0xA, payload);
}
std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out = bytes({code >> 8, code & 0xFF});
  out.append(reason);
  return out;
}
std::string close_frame(std::uint16_t code, std::string_view reason = {}) {
  return frame(true, 0x8, close_payload(code, reason));
}

// Masks a server frame (as produced by encode_frame) so that it reads as a client frame.
std::string mask_server_frame(std::string_view server_frame, Key key = kKey) {
  const auto length7 = static_cast<unsigned char>(server_frame[1]) & 0x7F;
  const std::size_t header = length7 == 126 ? 4 : (length7 == 127 ? 10 : 2);
  std::string out(server_frame.substr(0, header));
  out[1] = static_cast<char>(static_cast<unsigned char>(out[1]) | 0x80);
  for (unsigned char k : key) out.push_back(static_cast<char>(k));
  const std::string_view payload = server_frame.substr(header);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
  }
  return out;
}

Event ev(Event::Kind kind, std::string payload) {
  Event event;
  event.kind = kind;
  event.payload = std::move(payload);
  return event;
}
Event ev_text(std::string payload) {
  return ev(Event::Kind::text, std::move(payload));
}
Event ev_binary(std::string payload) {
  return ev(Event::Kind::binary, std::move(payload));
}
Event ev_ping(std::string payload) {
  return ev(Event::Kind::ping, std::move(payload));
}
Event ev_pong(std::string payload) {
  return ev(Event::Kind::pong, std::move(payload));
}
Event ev_close(std::uint16_t code, std::string reason) {
  Event event = ev(Event::Kind::close, close_payload(code, reason));
  event.close_code = code;
  event.close_reason = std::move(reason);
  return event;
}
Event ev_close_empty() {
  Event event = ev(Event::Kind::close, "");
  event.close_code = close_code::no_status;
  return event;
}

std::string patterned(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 31 + 7) & 0xFF);
  return out;
}

// ----------------------------------------------------------------------------------------------------------
// Feeding strategies: whole, byte by byte, random splits. All must give the same events and failure.

struct DecodeResult {
  std::vector<Event> events;
  std::optional<Failure> failure;
};

DecodeResult decode_chunks(std::size_t max_bytes, std::string_view input,
                           const std::vector<std::size_t>& cuts) {
  FrameDecoder decoder(max_bytes);
  DecodeResult result;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size() && !result.failure; ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
    result.failure = decoder.feed(input.substr(start, end - start), result.events);
    start = end;
  }
  if (result.failure) {
    // Sticky: feeding anything afterwards keeps failing with the same failure and decodes nothing.
    std::vector<Event> more;
    const auto again = decoder.feed(text("after failure"), more);
    EXPECT_EQ(again, result.failure);
    EXPECT_TRUE(more.empty());
    EXPECT_EQ(decoder.failure(), result.failure);
  }
  return result;
}

struct Strategy {
  std::string name;
  std::vector<std::size_t> cuts;  // increasing offsets where the input is split
};

std::vector<Strategy> strategies(std::size_t size) {
  std::vector<Strategy> out;
  out.push_back({"whole", {}});
  Strategy each{"byte by byte", {}};
  for (std::size_t i = 1; i < size; ++i) each.cuts.push_back(i);
  out.push_back(std::move(each));
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    Strategy random{"random splits seed " + std::to_string(seed), {}};
    // Mix of tiny and large chunks so that splits land inside headers, lengths, masks and payloads.
    const std::size_t max_chunk =
        seed % 3 == 0 ? 3 : (seed % 3 == 1 ? 17 : std::max<std::size_t>(1, size / 4));
    std::uniform_int_distribution<std::size_t> chunk(1, max_chunk);
    for (std::size_t at = chunk(rng); at < size; at += chunk(rng)) random.cuts.push_back(at);
    out.push_back(std::move(random));
  }
  return out;
}

struct DecodeCase {
  DecodeCase(std::string name_, std::string input_, std::vector<Event> events_,
             std::optional<std::uint16_t> failure_ = std::nullopt, std::size_t max_bytes_ = 65536)
      : name(std::move(name_)),
        input(std::move(input_)),
        events(std::move(events_)),
        failure(failure_),
        max_bytes(max_bytes_) {}

  std::string name;
  std::string input;
  std::vector<Event> events;
  std::optional<std::uint16_t> failure;  // expected close code, or none
  std::size_t max_bytes = 65536;
};

void PrintTo(const DecodeCase& c, std::ostream* os) {
  *os << c.name;
}

void run_case(const DecodeCase& c) {
  for (const Strategy& strategy : strategies(c.input.size())) {
    SCOPED_TRACE(strategy.name);
    const DecodeResult result = decode_chunks(c.max_bytes, c.input, strategy.cuts);
    EXPECT_EQ(result.events, c.events);
    if (c.failure) {
      ASSERT_TRUE(result.failure.has_value()) << "expected failure " << *c.failure;
      EXPECT_EQ(result.failure->close_code, *c.failure) << result.failure->reason;
      EXPECT_FALSE(result.failure->reason.empty());
    } else {
      EXPECT_FALSE(result.failure.has_value())
          << "unexpected failure " << result.failure->close_code << " " << result.failure->reason;
    }
  }
}

std::string case_name(const testing::TestParamInfo<DecodeCase>& info) {
  return info.param.name;
}

// ----------------------------------------------------------------------------------------------------------
// Valid streams.

std::vector<DecodeCase> valid_cases() {
  const std::string euro = "\xE2\x82\xAC";
  return {
      // RFC 6455 §5.7: masked "Hello", literally.
      {"rfc_masked_text_hello",
       bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       {ev_text("Hello")}},
      // RFC 6455 §5.7: masked pong "Hello", literally.
      {"rfc_masked_pong_hello",
       bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
       {ev_pong("Hello")}},
      {"text", text("hello world"), {ev_text("hello world")}},
      {"text_multibyte_utf8",
       text("h\xC3\xA9llo " + euro + " \xF0\x9D\x84\x9E \xF4\x8F\xBF\xBF"),
       {ev_text("h\xC3\xA9llo " + euro + " \xF0\x9D\x84\x9E \xF4\x8F\xBF\xBF")}},
      {"empty_text", text(""), {ev_text("")}},
      {"binary_all_byte_values", binary(patterned(256)), {ev_binary(patterned(256))}},
      {"binary_invalid_utf8_is_fine", binary("\xFF\xC0\x80"), {ev_binary("\xFF\xC0\x80")}},
      {"empty_binary", binary(""), {ev_binary("")}},
      {"fragmented_text_with_ping_between",
       text("Hel", false) + ping("p") + cont("lo", true),
       {ev_ping("p"), ev_text("Hello")}},
      {"fragmented_binary_three_parts_empty_middle",
       binary("ab", false) + cont("", false) + cont("cd", true),
       {ev_binary("abcd")}},
      {"fragmented_text_code_point_split_across_fragments",
       text("a\xE2", false) + pong("x") + cont("\x82", false) +
           cont("\xAC"
                "b",
                true),
       {ev_pong("x"), ev_text("a" + euro + "b")}},
      {"fragmented_text_with_close_between",
       text("ab", false) + close_frame(1000) + cont("c", true),
       {ev_close(1000, ""), ev_text("abc")}},
      {"two_fragmented_messages_back_to_back",
       text("a", false) + cont("b", true) + binary("c", false) + cont("d", true),
       {ev_text("ab"), ev_binary("cd")}},
      {"length_125", binary(patterned(125)), {ev_binary(patterned(125))}},
      {"length_126_uses_16_bit", binary(patterned(126)), {ev_binary(patterned(126))}},
      {"length_65535", text(std::string(65535, 'x')), {ev_text(std::string(65535, 'x'))}},
      {"length_65536_uses_64_bit", binary(patterned(65536)), {ev_binary(patterned(65536))}},
      {"non_minimal_16_bit_length", frame(true, 0x1, "abc", {.length_bytes = 2}), {ev_text("abc")}},
      {"non_minimal_64_bit_length", frame(true, 0x2, "abc", {.length_bytes = 8}), {ev_binary("abc")}},
      {"zero_mask_key", frame(true, 0x1, "plain", {.key = {0, 0, 0, 0}}), {ev_text("plain")}},
      {"ping_empty", ping(""), {ev_ping("")}},
      {"ping_125", ping(patterned(125)), {ev_ping(patterned(125))}},
      {"pong_binary_payload", pong(bytes({0x00, 0xFF})), {ev_pong(bytes({0x00, 0xFF}))}},
      {"close_with_code_and_reason", close_frame(1000, "bye"), {ev_close(1000, "bye")}},
      {"close_code_only", close_frame(1001), {ev_close(1001, "")}},
      {"close_utf8_reason", close_frame(4000, "adi\xC3\xB3s"), {ev_close(4000, "adi\xC3\xB3s")}},
      {"close_reason_123_bytes",
       close_frame(1000, std::string(123, 'r')),
       {ev_close(1000, std::string(123, 'r'))}},
      {"close_empty", frame(true, 0x8, ""), {ev_close_empty()}},
      {"close_code_1003", close_frame(1003), {ev_close(1003, "")}},
      {"close_code_1007", close_frame(1007), {ev_close(1007, "")}},
      {"close_code_1011", close_frame(1011), {ev_close(1011, "")}},
      {"close_code_1012_service_restart", close_frame(1012), {ev_close(1012, "")}},
      {"close_code_1014", close_frame(1014), {ev_close(1014, "")}},
      {"close_code_3000", close_frame(3000), {ev_close(3000, "")}},
      {"close_code_4999", close_frame(4999), {ev_close(4999, "")}},
      {"several_frames_in_one_read",
       text("a") + binary("b") + ping("c") + pong("d") + close_frame(1000, "e"),
       {ev_text("a"), ev_binary("b"), ev_ping("c"), ev_pong("d"), ev_close(1000, "e")}},
  };
}

class ValidDecodeTest : public testing::TestWithParam<DecodeCase> {};
TEST_P(ValidDecodeTest, DecodesTheSameEventsForAnySplit) {
  run_case(GetParam());
}
INSTANTIATE_TEST_SUITE_P(WsFrameDecoder, ValidDecodeTest, testing::ValuesIn(valid_cases()), case_name);

// ----------------------------------------------------------------------------------------------------------
// Truncated streams: the decoder waits for more bytes, without events and without failing.

std::vector<DecodeCase> truncated_cases() {
  const std::string big = binary(patterned(70000));
  return {
      {"nothing", "", {}},
      {"first_header_byte", text("hi").substr(0, 1), {}},
      {"base_header_only", text("hi").substr(0, 2), {}},
      {"half_of_16_bit_length", binary(patterned(300)).substr(0, 3), {}},
      {"part_of_64_bit_length", big.substr(0, 6), {}},
      {"part_of_mask_key", text("hi").substr(0, 4), {}},
      {"header_without_payload", text("hello").substr(0, 6), {}},
      {"part_of_payload", text("hello").substr(0, 8), {}},
      {"large_payload_minus_one_byte", big.substr(0, big.size() - 1), {}, std::nullopt, 1 << 20},
      {"first_fragment_only", text("Hel", false), {}},
      {"fragment_and_partial_continuation", text("Hel", false) + cont("lo", true).substr(0, 7), {}},
      {"partial_control_frame_between_fragments", text("Hel", false) + ping("p").substr(0, 3), {}},
      {"partial_close_frame", close_frame(1000, "bye").substr(0, 8), {}},
      {"complete_frame_then_partial", text("one") + text("two").substr(0, 5), {ev_text("one")}},
  };
}

class TruncatedDecodeTest : public testing::TestWithParam<DecodeCase> {};
TEST_P(TruncatedDecodeTest, WaitsForMoreBytes) {
  run_case(GetParam());
}
INSTANTIATE_TEST_SUITE_P(WsFrameDecoder, TruncatedDecodeTest, testing::ValuesIn(truncated_cases()),
                         case_name);

// ----------------------------------------------------------------------------------------------------------
// Message size limit.

std::vector<DecodeCase> size_limit_cases() {
  constexpr std::uint16_t k1009 = close_code::too_big;
  return {
      {"text_at_limit", text("0123456789"), {ev_text("0123456789")}, std::nullopt, 10},
      {"text_one_over_limit", text("0123456789A"), {}, k1009, 10},
      {"binary_at_limit", binary(patterned(10)), {ev_binary(patterned(10))}, std::nullopt, 10},
      {"binary_one_over_limit", binary(patterned(11)), {}, k1009, 10},
      {"fragments_summing_to_limit",
       text("01234", false) + cont("56789", true),
       {ev_text("0123456789")},
       std::nullopt,
       10},
      {"fragments_summing_over_limit", text("012345", false) + cont("6789A", true), {}, k1009, 10},
      {"three_fragments_over_limit",
       binary("0123", false) + cont("4567", false) + cont("89A", true),
       {},
       k1009,
       10},
      {"over_limit_with_empty_fragments_before",
       binary("", false) + cont("", false) + cont(patterned(11), true),
       {},
       k1009,
       10},
      // The header alone decides: no masking key or payload is needed (nor waited for).
      {"16_bit_length_header_only", length_header(0x82, 1000), {}, k1009, 10},
      {"64_bit_length_header_only_1_GiB", length_header(0x82, std::uint64_t{1} << 30), {}, k1009, 65536},
      {"64_bit_length_header_only_max", length_header(0x81, 0x7FFFFFFFFFFFFFFFULL), {}, k1009, 65536},
      {"7_bit_length_header_only", length_header(0x81, 11), {}, k1009, 10},
      {"continuation_header_only", text("012345", false) + length_header(0x80, 5), {}, k1009, 10},
      {"limit_zero_allows_empty_message", text(""), {ev_text("")}, std::nullopt, 0},
      {"limit_zero_rejects_one_byte", binary("x"), {}, k1009, 0},
      {"limit_65536_exact", binary(patterned(65536)), {ev_binary(patterned(65536))}, std::nullopt, 65536},
      {"limit_65536_plus_one", binary(patterned(65537)), {}, k1009, 65536},
      {"control_frames_not_counted",
       text("01234", false) + ping(patterned(100)) + cont("56789", true),
       {ev_ping(patterned(100)), ev_text("0123456789")},
       std::nullopt,
       10},
      {"earlier_messages_delivered_before_failure",
       text("ok") + binary(patterned(11)),
       {ev_text("ok")},
       k1009,
       10},
  };
}

class SizeLimitDecodeTest : public testing::TestWithParam<DecodeCase> {};
TEST_P(SizeLimitDecodeTest, EnforcesMaxMessageBytes) {
  run_case(GetParam());
}
INSTANTIATE_TEST_SUITE_P(WsFrameDecoder, SizeLimitDecodeTest, testing::ValuesIn(size_limit_cases()),
                         case_name);

// ----------------------------------------------------------------------------------------------------------
// Protocol violations.

std::vector<DecodeCase> malformed_cases() {
  constexpr std::uint16_t k1002 = close_code::protocol_error;
  constexpr std::uint16_t k1007 = close_code::invalid_payload;
  std::vector<DecodeCase> cases = {
      // RFC 6455 §5.7 unmasked "Hello": fine from a server, a violation from a client.
      {"unmasked_text", bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), {}, k1002},
      {"unmasked_ping", frame(true, 0x9, "x", {.masked = false}), {}, k1002},
      {"unmasked_close", frame(true, 0x8, close_payload(1000, ""), {.masked = false}), {}, k1002},
      {"unmasked_continuation", text("a", false) + frame(true, 0x0, "b", {.masked = false}), {}, k1002},
      {"rsv1", frame(true, 0x1, "x", {.rsv = 0x40}), {}, k1002},
      {"rsv2", frame(true, 0x1, "x", {.rsv = 0x20}), {}, k1002},
      {"rsv3", frame(true, 0x2, "x", {.rsv = 0x10}), {}, k1002},
      {"rsv_on_control", frame(true, 0x9, "x", {.rsv = 0x40}), {}, k1002},
      {"rsv_on_continuation", text("a", false) + frame(true, 0x0, "b", {.rsv = 0x40}), {}, k1002},
      {"ping_126_bytes", ping(patterned(126)), {}, k1002},
      {"pong_126_bytes", pong(patterned(126)), {}, k1002},
      {"close_126_bytes", close_frame(1000, std::string(124, 'r')), {}, k1002},
      {"control_64_bit_length_header_only", length_header(0x89, 200), {}, k1002},
      {"control_7_bit_non_minimal_126", frame(true, 0x9, "x", {.length_bytes = 2}), {}, k1002},
      {"fragmented_ping", frame(false, 0x9, "x"), {}, k1002},
      {"fragmented_close", frame(false, 0x8, close_payload(1000, "")), {}, k1002},
      {"continuation_without_message", cont("x", true), {}, k1002},
      {"non_final_continuation_without_message", cont("x", false), {}, k1002},
      {"continuation_after_finished_message", text("a") + cont("b", true), {ev_text("a")}, k1002},
      {"text_inside_fragmented_text", text("a", false) + text("b"), {}, k1002},
      {"binary_inside_fragmented_text", text("a", false) + binary("b"), {}, k1002},
      {"text_inside_fragmented_binary",
       binary("a", false) + ping("p") + text("b", false),
       {ev_ping("p")},
       k1002},
      {"64_bit_length_msb_set", length_header(0x82, 0x8000000000000000ULL), {}, k1002},
      {"64_bit_length_all_ones", length_header(0x82, 0xFFFFFFFFFFFFFFFFULL), {}, k1002},
      {"close_payload_1_byte", frame(true, 0x8, "\x03"), {}, k1002},
      {"close_code_0", close_frame(0), {}, k1002},
      {"close_code_999", close_frame(999), {}, k1002},
      {"close_code_1004", close_frame(1004), {}, k1002},
      {"close_code_1005", close_frame(1005), {}, k1002},
      {"close_code_1006", close_frame(1006), {}, k1002},
      {"close_code_1015", close_frame(1015), {}, k1002},
      {"close_code_1016", close_frame(1016), {}, k1002},
      {"close_code_2000", close_frame(2000), {}, k1002},
      {"close_code_2999", close_frame(2999), {}, k1002},
      {"close_code_5000", close_frame(5000), {}, k1002},
      {"close_code_65535", close_frame(65535), {}, k1002},
      {"close_reason_invalid_utf8", close_frame(1000, "bad \xFF"), {}, k1007},
      {"close_reason_truncated_utf8", close_frame(1000, "\xE2\x82"), {}, k1007},
      {"close_reason_overlong", close_frame(1000, "\xC0\xAF"), {}, k1007},
      {"text_invalid_byte_ff", text("ab\xFF"), {}, k1007},
      {"text_lone_continuation", text("\x80"), {}, k1007},
      {"text_overlong_slash_2_bytes", text("\xC0\xAF"), {}, k1007},
      {"text_overlong_c1", text("\xC1\xBF"), {}, k1007},
      {"text_overlong_3_bytes", text("\xE0\x80\xAF"), {}, k1007},
      {"text_overlong_4_bytes", text("\xF0\x80\x80\xAF"), {}, k1007},
      {"text_surrogate_high", text("\xED\xA0\x80"), {}, k1007},
      {"text_surrogate_low", text("\xED\xBF\xBF"), {}, k1007},
      {"text_above_10ffff", text("\xF4\x90\x80\x80"), {}, k1007},
      {"text_f5_lead", text("\xF5\x80\x80\x80"), {}, k1007},
      {"text_truncated_at_end", text("ok\xE2\x82"), {}, k1007},
      {"text_truncated_at_end_of_fragmented_message", text("ok\xE2", false) + cont("\x82", true), {}, k1007},
      // Fails on the first fragment, without waiting for the rest of the message.
      {"text_invalid_in_first_fragment", text("\xC0\xAF", false), {}, k1007},
      {"text_invalid_in_continuation",
       text("ok", false) + ping("p") + cont("\xED\xA0\x80", false),
       {ev_ping("p")},
       k1007},
      {"valid_message_then_violation",
       text("fine") + frame(true, 0x1, "x", {.masked = false}),
       {ev_text("fine")},
       k1002},
  };
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    cases.push_back({"unknown_opcode_" + std::to_string(op), frame(true, op, "x"), {}, k1002});
  }
  cases.push_back(
      {"unknown_opcode_inside_fragmented_message", text("a", false) + frame(true, 0x3, ""), {}, k1002});
  return cases;
}

class MalformedDecodeTest : public testing::TestWithParam<DecodeCase> {};
TEST_P(MalformedDecodeTest, FailsWithTheRightCloseCode) {
  run_case(GetParam());
}
INSTANTIATE_TEST_SUITE_P(WsFrameDecoder, MalformedDecodeTest, testing::ValuesIn(malformed_cases()),
                         case_name);

// ----------------------------------------------------------------------------------------------------------
// Decoder state across feeds.

TEST(WsFrameDecoder, FailureIsStickyAndReported) {
  FrameDecoder decoder(100);
  std::vector<Event> events;
  const auto failure = decoder.feed(frame(true, 0x1, "x", {.masked = false}), events);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->close_code, close_code::protocol_error);
  EXPECT_EQ(decoder.failure(), failure);
  EXPECT_EQ(decoder.feed(text("valid"), events), failure);
  EXPECT_EQ(decoder.feed("", events), failure);
  EXPECT_TRUE(events.empty());
}

TEST(WsFrameDecoder, AppendsToExistingEvents) {
  FrameDecoder decoder(100);
  std::vector<Event> events = {ev_text("earlier")};
  EXPECT_FALSE(decoder.feed(text("later"), events).has_value());
  EXPECT_EQ(events, (std::vector<Event>{ev_text("earlier"), ev_text("later")}));
}

TEST(WsFrameDecoder, ReportsMessageInProgress) {
  FrameDecoder decoder(100);
  std::vector<Event> events;
  EXPECT_FALSE(decoder.in_message());
  ASSERT_FALSE(decoder.feed(text("a", false), events).has_value());
  EXPECT_TRUE(decoder.in_message());
  ASSERT_FALSE(decoder.feed(cont("b", true), events).has_value());
  EXPECT_FALSE(decoder.in_message());
  EXPECT_EQ(events, std::vector<Event>{ev_text("ab")});
}

TEST(WsFrameDecoder, NewLimitAppliesToLaterFrames) {
  FrameDecoder decoder(100);
  std::vector<Event> events;
  ASSERT_FALSE(decoder.feed(binary(patterned(50)), events).has_value());
  decoder.set_max_message_bytes(10);
  EXPECT_EQ(decoder.max_message_bytes(), 10u);
  ASSERT_FALSE(decoder.feed(binary(patterned(10)), events).has_value());
  const auto failure = decoder.feed(binary(patterned(11)), events);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->close_code, close_code::too_big);
  EXPECT_EQ(events, (std::vector<Event>{ev_binary(patterned(50)), ev_binary(patterned(10))}));
}

TEST(WsFrameDecoder, LimitLoweredBelowMessageInProgress) {
  FrameDecoder decoder(100);
  std::vector<Event> events;
  ASSERT_FALSE(decoder.feed(binary(patterned(50), false), events).has_value());
  decoder.set_max_message_bytes(20);
  const auto failure = decoder.feed(cont("", true), events);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->close_code, close_code::too_big);
}

TEST(WsFrameDecoder, KeepsDecodingAfterPartialFeeds) {
  // Many messages through one decoder, each split differently, to catch state leaking between frames.
  FrameDecoder decoder(1 << 20);
  std::vector<Event> events;
  std::vector<Event> expected;
  std::string stream;
  for (std::size_t n : {0, 1, 5, 125, 126, 127, 1000, 65535, 65536, 70000}) {
    stream += binary(patterned(n));
    expected.push_back(ev_binary(patterned(n)));
    stream += ping(std::to_string(n));
    expected.push_back(ev_ping(std::to_string(n)));
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> chunk(1, 4096);
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(chunk(rng), stream.size() - at);
    ASSERT_FALSE(decoder.feed(std::string_view(stream).substr(at, n), events).has_value());
    at += n;
  }
  EXPECT_EQ(events, expected);
}

// ----------------------------------------------------------------------------------------------------------
// Encoder.

struct HeaderCase {
  std::string name;
  Opcode opcode;
  std::size_t payload_size;
  std::string header;
};

TEST(WsFrameEncoder, UsesMinimalLengthEncoding) {
  const std::vector<HeaderCase> cases = {
      {"empty text", Opcode::text, 0, bytes({0x81, 0x00})},
      {"binary 1", Opcode::binary, 1, bytes({0x82, 0x01})},
      {"text 125", Opcode::text, 125, bytes({0x81, 0x7D})},
      {"binary 126", Opcode::binary, 126, bytes({0x82, 0x7E, 0x00, 0x7E})},
      {"binary 256", Opcode::binary, 256, bytes({0x82, 0x7E, 0x01, 0x00})},
      {"text 65535", Opcode::text, 65535, bytes({0x81, 0x7E, 0xFF, 0xFF})},
      {"binary 65536", Opcode::binary, 65536, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00})},
      {"binary 70000", Opcode::binary, 70000, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70})},
      {"ping 5", Opcode::ping, 5, bytes({0x89, 0x05})},
      {"pong 0", Opcode::pong, 0, bytes({0x8A, 0x00})},
      {"close 2", Opcode::close, 2, bytes({0x88, 0x02})},
  };
  for (const HeaderCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string payload = patterned(c.payload_size);
    const std::string encoded = encode_frame(c.opcode, payload);
    ASSERT_EQ(encoded.size(), c.header.size() + payload.size());
    EXPECT_EQ(encoded.substr(0, c.header.size()), c.header);
    EXPECT_EQ(encoded.substr(c.header.size()), payload);
    EXPECT_EQ(encode_frame_header(c.opcode, c.payload_size), c.header);
  }
}

TEST(WsFrameEncoder, MatchesRfcExamples) {
  EXPECT_EQ(encode_frame(Opcode::text, "Hello"), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encode_frame(Opcode::ping, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encode_frame_header(Opcode::binary, std::uint64_t{1} << 32),
            bytes({0x82, 0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0}));
}

TEST(WsFrameEncoder, EncodesClose) {
  EXPECT_EQ(encode_close(close_code::normal), bytes({0x88, 0x02, 0x03, 0xE8}));
  EXPECT_EQ(encode_close(close_code::too_big, "big"), bytes({0x88, 0x05, 0x03, 0xF1, 'b', 'i', 'g'}));
  EXPECT_EQ(encode_close(close_code::going_away, "shutdown"),
            encode_frame(Opcode::close, "\x03\xE9shutdown"));
  EXPECT_EQ(encode_close(close_code::no_status), bytes({0x88, 0x00}));
}

TEST(WsFrameEncoder, CutsLongCloseReasonAtCharacterBoundary) {
  struct Case {
    std::string name;
    std::string reason;
    std::string expected_reason;
  };
  const std::string euro = "\xE2\x82\xAC";
  std::string euros;
  for (int i = 0; i < 50; ++i) euros += euro;  // 150 bytes; 41 whole characters fit in 123
  const std::vector<Case> cases = {
      {"ascii 123 kept", std::string(123, 'a'), std::string(123, 'a')},
      {"ascii 124 cut", std::string(124, 'a'), std::string(123, 'a')},
      {"ascii 500 cut", std::string(500, 'a'), std::string(123, 'a')},
      {"three-byte characters", euros, euros.substr(0, 123)},
      {"character across the limit", std::string(122, 'a') + euro, std::string(122, 'a')},
      {"character ending at the limit", std::string(120, 'a') + euro + "b", std::string(120, 'a') + euro},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string encoded = encode_close(close_code::policy_violation, c.reason);
    ASSERT_LE(encoded.size(), 2 + kMaxControlPayload);
    EXPECT_EQ(encoded,
              encode_frame(Opcode::close, close_payload(close_code::policy_violation, c.expected_reason)));
    EXPECT_TRUE(is_valid_utf8(encoded.substr(4)));
  }
}

TEST(WsFrameEncoder, RoundTripsThroughTheDecoder) {
  struct Case {
    std::string name;
    std::string client_frame;
    Event expected;
  };
  const std::vector<Case> cases = {
      {"text", mask_server_frame(encode_frame(Opcode::text, "hello \xE2\x82\xAC")),
       ev_text("hello \xE2\x82\xAC")},
      {"empty text", mask_server_frame(encode_frame(Opcode::text, "")), ev_text("")},
      {"binary 125", mask_server_frame(encode_frame(Opcode::binary, patterned(125))),
       ev_binary(patterned(125))},
      {"binary 126", mask_server_frame(encode_frame(Opcode::binary, patterned(126))),
       ev_binary(patterned(126))},
      {"binary 65535", mask_server_frame(encode_frame(Opcode::binary, patterned(65535))),
       ev_binary(patterned(65535))},
      {"binary 65536", mask_server_frame(encode_frame(Opcode::binary, patterned(65536))),
       ev_binary(patterned(65536))},
      {"binary 100000 other key",
       mask_server_frame(encode_frame(Opcode::binary, patterned(100000)), {1, 2, 3, 4}),
       ev_binary(patterned(100000))},
      {"ping", mask_server_frame(encode_frame(Opcode::ping, "p")), ev_ping("p")},
      {"pong", mask_server_frame(encode_frame(Opcode::pong, patterned(125))), ev_pong(patterned(125))},
      {"close", mask_server_frame(encode_close(close_code::going_away, "bye")), ev_close(1001, "bye")},
      {"close no status", mask_server_frame(encode_close(close_code::no_status)), ev_close_empty()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    for (const Strategy& strategy : strategies(c.client_frame.size())) {
      SCOPED_TRACE(strategy.name);
      const DecodeResult result = decode_chunks(1 << 20, c.client_frame, strategy.cuts);
      ASSERT_FALSE(result.failure.has_value()) << result.failure->reason;
      EXPECT_EQ(result.events, std::vector<Event>{c.expected});
    }
  }
}

// Random messages, randomly fragmented with control frames in between, fed in random splits.
TEST(WsFrameDecoder, RandomStreamsDecodeToTheirMessages) {
  std::mt19937 rng(2024);
  const std::vector<std::string> pieces = {
      "a", "Z", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF"};
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<Event> expected;
    const int messages = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int m = 0; m < messages; ++m) {
      const bool is_text = rng() % 2 == 0;
      std::string message;
      const std::size_t length =
          std::uniform_int_distribution<std::size_t>(0, rng() % 4 == 0 ? 3000 : 40)(rng);
      while (message.size() < length) {
        if (is_text) {
          message += pieces[rng() % pieces.size()];
        } else {
          message.push_back(static_cast<char>(rng()));
        }
      }
      // Split the message into fragments at arbitrary byte offsets (also inside UTF-8 characters).
      std::size_t at = 0;
      bool first = true;
      for (bool fin = false; !fin;) {
        const std::size_t n =
            std::min(message.size() - at, std::uniform_int_distribution<std::size_t>(0, 700)(rng));
        fin = at + n == message.size() && rng() % 3 != 0;  // an empty final fragment may follow
        const Key key = {static_cast<unsigned char>(rng()), static_cast<unsigned char>(rng()),
                         static_cast<unsigned char>(rng()), static_cast<unsigned char>(rng())};
        stream += frame(fin, first ? (is_text ? 0x1 : 0x2) : 0x0, std::string_view(message).substr(at, n),
                        {.key = key});
        first = false;
        at += n;
        if (fin) expected.push_back(is_text ? ev_text(message) : ev_binary(message));
        if (rng() % 4 == 0) {
          const std::string control = std::to_string(rng());
          const bool is_ping = rng() % 2 == 0;
          stream += is_ping ? ping(control) : pong(control);
          expected.push_back(is_ping ? ev_ping(control) : ev_pong(control));
        }
      }
    }
    for (const Strategy& strategy : strategies(stream.size())) {
      if (strategy.name == "byte by byte" && stream.size() > 5000) continue;
      SCOPED_TRACE("round " + std::to_string(round) + ", " + strategy.name);
      const DecodeResult result = decode_chunks(1 << 20, stream, strategy.cuts);
      ASSERT_FALSE(result.failure.has_value()) << result.failure->reason;
      ASSERT_EQ(result.events, expected);
    }
  }
}

// Arbitrary (mostly invalid) input: whatever the result, every split gives exactly the same events and
// failure.
TEST(WsFrameDecoder, ArbitraryBytesGiveTheSameResultForAnySplit) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    const int parts = std::uniform_int_distribution<int>(1, 6)(rng);
    for (int p = 0; p < parts; ++p) {
      // Plausible frame starts mixed with random bytes, so that decoding gets past the first header.
      const int opcode = std::array<int, 8>{0x0, 0x1, 0x2, 0x8, 0x9, 0xA, 0x3, 0xB}[rng() % 8];
      std::string payload(std::uniform_int_distribution<std::size_t>(0, rng() % 5 == 0 ? 300 : 12)(rng),
                          '\0');
      for (char& c : payload) c = static_cast<char>(rng() % 3 == 0 ? rng() : 'a' + rng() % 26);
      if (opcode == 0x8 && payload.size() >= 2 && rng() % 2 == 0)
        payload.replace(0, 2, close_payload(1000, ""));
      std::string f = frame(rng() % 4 != 0, opcode, payload);
      if (rng() % 4 == 0) f[rng() % f.size()] = static_cast<char>(rng());
      input += f;
    }
    const std::size_t max_bytes = rng() % 2 == 0 ? 65536 : 64;
    const DecodeResult whole = decode_chunks(max_bytes, input, {});
    for (const Strategy& strategy : strategies(input.size())) {
      SCOPED_TRACE("round " + std::to_string(round) + ", " + strategy.name);
      const DecodeResult split = decode_chunks(max_bytes, input, strategy.cuts);
      ASSERT_EQ(split.events, whole.events);
      ASSERT_EQ(split.failure, whole.failure);
    }
  }
}

// ----------------------------------------------------------------------------------------------------------
// UTF-8 validation.

struct Utf8Case {
  std::string name;
  std::string input;
  bool valid;
};

TEST(WsUtf8, ValidatesWholeStringsAndEverySplit) {
  const std::vector<Utf8Case> cases = {
      {"empty", "", true},
      {"ascii", "hello, world 0123456789 long enough for the fast path", true},
      {"nul byte", std::string("a\0b", 3), true},
      {"two-byte min U+0080", "\xC2\x80", true},
      {"two-byte max U+07FF", "\xDF\xBF", true},
      {"three-byte min U+0800", "\xE0\xA0\x80", true},
      {"before surrogates U+D7FF", "\xED\x9F\xBF", true},
      {"after surrogates U+E000", "\xEE\x80\x80", true},
      {"U+FFFF", "\xEF\xBF\xBF", true},
      {"four-byte min U+10000", "\xF0\x90\x80\x80", true},
      {"max U+10FFFF", "\xF4\x8F\xBF\xBF", true},
      {"mixed text",
       "Gr\xC3\xBC\xC3\x9F"
       "e \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC",
       true},
      {"non-ascii after 8 ascii bytes", "abcdefgh\xC3\xA9ijklmnop", true},
      {"lone continuation", "\x80", false},
      {"continuation after ascii run", "abcdefghijk\xBF", false},
      {"overlong C0", "\xC0\x80", false},
      {"overlong C1", "\xC1\xBF", false},
      {"overlong three-byte", "\xE0\x9F\xBF", false},
      {"overlong four-byte", "\xF0\x8F\xBF\xBF", false},
      {"surrogate D800", "\xED\xA0\x80", false},
      {"surrogate DFFF", "\xED\xBF\xBF", false},
      {"surrogate pair as CESU-8", "\xED\xA0\xBD\xED\xB8\x80", false},
      {"above U+10FFFF", "\xF4\x90\x80\x80", false},
      {"F5 lead", "\xF5\x80\x80\x80", false},
      {"FE", "\xFE", false},
      {"FF", "\xFF", false},
      {"truncated two-byte", "a\xC3", false},
      {"truncated three-byte", "\xE2\x82", false},
      {"truncated four-byte", "\xF0\x9F\x98", false},
      {"lead byte interrupted by ascii",
       "\xE2"
       "a\xAC",
       false},
      {"two lead bytes", "\xC3\xC3\xA9", false},
      {"too many continuations", "\xC3\xA9\xA9", false},
  };
  for (const Utf8Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(is_valid_utf8(c.input), c.valid);
    for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
      Utf8Validator validator;
      const bool first = validator.feed(std::string_view(c.input).substr(0, cut));
      const bool second = validator.feed(std::string_view(c.input).substr(cut));
      EXPECT_EQ(first && second && validator.complete(), c.valid) << "split at " << cut;
    }
  }
}

TEST(WsUtf8, IncompleteSequenceIsValidSoFar) {
  Utf8Validator validator;
  EXPECT_TRUE(validator.feed("ok\xF0\x9F"));
  EXPECT_TRUE(validator.valid());
  EXPECT_FALSE(validator.complete());
  EXPECT_TRUE(validator.feed("\x98\x80"));
  EXPECT_TRUE(validator.complete());
  EXPECT_FALSE(validator.feed("\xFF"));
  EXPECT_FALSE(validator.valid());
  EXPECT_FALSE(validator.feed("fine"));  // stays invalid
  validator.reset();
  EXPECT_TRUE(validator.complete());
}

TEST(WsUtf8, AgreesWithADecoderOnAllShortSequences) {
  // Reference: decode per RFC 3629 by value and compare, for every 1- and 2-byte string and 3-byte strings
  // starting with a lead byte.
  auto reference = [](std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      const auto b = static_cast<unsigned char>(s[i]);
      std::size_t n;
      std::uint32_t cp;
      if (b < 0x80) {
        ++i;
        continue;
      } else if ((b & 0xE0) == 0xC0) {
        n = 2;
        cp = b & 0x1F;
      } else if ((b & 0xF0) == 0xE0) {
        n = 3;
        cp = b & 0x0F;
      } else if ((b & 0xF8) == 0xF0) {
        n = 4;
        cp = b & 0x07;
      } else {
        return false;
      }
      if (i + n > s.size()) return false;
      for (std::size_t k = 1; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (c & 0x3F);
      }
      const std::uint32_t min = n == 2 ? 0x80 : (n == 3 ? 0x800 : 0x10000);
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
      i += n;
    }
    return true;
  };
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(is_valid_utf8(s), reference(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(is_valid_utf8(s), reference(s)) << a << " " << b;
      if (a < 0xC0) continue;
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(is_valid_utf8(s), reference(s)) << a << " " << b << " " << c;
        if (a < 0xF0 || a > 0xF4) continue;
        for (int d : {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF}) {
          const std::string s4 = s + static_cast<char>(d);
          ASSERT_EQ(is_valid_utf8(s4), reference(s4)) << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

}  // namespace
}  // namespace turnpike::ws
