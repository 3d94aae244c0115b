// Fuzzes FrameDecoder: no crash or UB, split-independent results, valid UTF-8 text and bounded messages.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"
#include "ws/frame_codec.hpp"

namespace {

using turnpike::ws::Event;
using turnpike::ws::Failure;
using turnpike::ws::FrameDecoder;

struct Outcome {
  std::vector<Event> events;
  std::optional<Failure> failure;
  bool operator==(const Outcome&) const = default;
};

Outcome decode(std::string_view data, std::size_t piece, std::size_t max_message) {
  Outcome outcome;
  FrameDecoder decoder(max_message);
  for (std::size_t pos = 0; pos < data.size() && !outcome.failure; pos += piece) {
    outcome.failure = decoder.feed(data.substr(pos, piece), outcome.events);
  }
  if (outcome.failure && decoder.failure() != outcome.failure) std::abort();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the piece size and the message size limit.
  const std::size_t piece = 1 + (data[0] & 0x0F);
  const std::size_t max_message = (data[0] & 0x10) != 0 ? 16 : 65536;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = decode(stream, stream.size() + 1, max_message);
  const Outcome split = decode(stream, piece, max_message);
  if (!(whole == split)) std::abort();
  for (const auto& event : whole.events) {
    switch (event.kind) {
      case Event::Kind::text:
        if (!turnpike::is_valid_utf8(event.payload)) std::abort();
        [[fallthrough]];
      case Event::Kind::binary:
        if (event.payload.size() > max_message) std::abort();
        break;
      case Event::Kind::close:
        if (!turnpike::is_valid_utf8(event.close_reason)) std::abort();
        if (event.close_code != turnpike::ws::close_code::no_status &&
            !turnpike::ws::is_valid_received_close_code(event.close_code)) {
          std::abort();
        }
        [[fallthrough]];
      default:
        if (event.payload.size() > turnpike::ws::kMaxControlPayload) std::abort();
    }
  }
  return 0;
}
