// WebSocket (RFC 6455) server-side frame codec: client-frame decoder, server-frame encoder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.hpp"

namespace turnpike::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA
};

namespace close_code {
constexpr std::uint16_t normal = 1000;
constexpr std::uint16_t going_away = 1001;
constexpr std::uint16_t protocol_error = 1002;
constexpr std::uint16_t unsupported = 1003;
constexpr std::uint16_t no_status = 1005;  // never sent on the wire: "the close frame had no payload"
constexpr std::uint16_t invalid_payload = 1007;
constexpr std::uint16_t policy_violation = 1008;
constexpr std::uint16_t too_big = 1009;
constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

// Largest payload of a control frame (ping, pong, close), and of a close reason.
inline constexpr std::size_t kMaxControlPayload = 125;
inline constexpr std::size_t kMaxCloseReason = kMaxControlPayload - 2;

// One complete thing received from the client.
struct Event {
  enum class Kind { text, binary, ping, pong, close };
  Kind kind;
  std::string payload;  // whole reassembled message for text/binary; control payload otherwise
  std::uint16_t close_code =
      0;  // for close: the code sent by the peer, or close_code::no_status if the payload was empty
  std::string close_reason;  // for close (valid UTF-8)

  friend bool operator==(const Event&, const Event&) = default;
};

// Why the connection must be closed, and with which close code.
struct Failure {
  std::uint16_t close_code;
  std::string reason;

  friend bool operator==(const Failure&, const Failure&) = default;
};

// True for close codes a peer may send: 1000-1003, 1007-1014 and 3000-4999.
bool is_valid_received_close_code(std::uint16_t code);

// Decodes the client-to-server byte stream of one connection into Events.
//
// Streaming: bytes may be split anywhere; a partial frame is kept internally (only the header bytes of the
// current stage and the payload received so far, unmasked in place), so every input byte is handled once.
// Fragmented text/binary messages are reassembled; control frames between fragments are delivered at once.
// A text message is validated as it arrives (fails with 1007 as soon as its bytes cannot be UTF-8).
// The size limit is enforced from frame headers, before any payload of an oversized frame is buffered.
// The decoder does not stop at a close frame; the connection decides what to do after one.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_message_bytes);

  // Applies to frame headers decoded from now on (a message in progress is checked against it at its next
  // frame).
  void set_max_message_bytes(std::size_t max_message_bytes) { max_message_bytes_ = max_message_bytes; }
  std::size_t max_message_bytes() const { return max_message_bytes_; }

  // Decode as many complete frames as `data` holds, appending events to `out`; keeps any partial frame
  // internally. Returns a Failure as soon as the stream violates the protocol (events decoded before the
  // violation stay in `out`); after that, feed keeps returning the same Failure and decodes nothing.
  std::optional<Failure> feed(std::string_view data, std::vector<Event>& out);

  const std::optional<Failure>& failure() const { return failure_; }
  // True while a fragmented text/binary message has started and its final frame has not arrived.
  bool in_message() const { return message_opcode_.has_value(); }

 private:
  enum class Stage : std::uint8_t { base_header, extended_length, masking_key, payload, failed };

  std::optional<Failure> fail(std::uint16_t code, std::string reason);
  std::optional<Failure> advance_header(std::vector<Event>& out);
  std::optional<Failure> on_base_header();
  std::optional<Failure> on_payload_length();
  std::optional<Failure> consume_payload(std::string_view chunk);
  std::optional<Failure> finish_frame(std::vector<Event>& out);
  std::optional<Failure> finish_control_frame(std::vector<Event>& out);
  void expect_header(Stage stage, std::size_t bytes);
  bool is_control() const { return (static_cast<std::uint8_t>(opcode_) & 0x8) != 0; }

  std::size_t max_message_bytes_;
  std::optional<Failure> failure_;

  // Current frame.
  Stage stage_ = Stage::base_header;
  std::array<unsigned char, 8> header_{};  // bytes of the current header stage
  std::size_t header_have_ = 0;
  std::size_t header_need_ = 2;
  bool fin_ = false;
  Opcode opcode_ = Opcode::continuation;
  std::uint64_t remaining_ = 0;  // payload bytes of the current frame not yet received
  std::array<unsigned char, 4> mask_{};
  std::size_t mask_phase_ = 0;  // index into mask_ of the next payload byte

  // Current data message (possibly fragmented) and current control frame payload.
  std::optional<Opcode> message_opcode_;  // text or binary while a message is open
  std::string message_;
  std::string control_;
  Utf8Validator utf8_;
};

// Server frame: FIN set, unmasked, minimal length encoding. Control payloads must be at most 125 bytes.
std::string encode_frame(Opcode opcode, std::string_view payload);

// Only the header of a server frame (2, 4 or 10 bytes), for writing a large payload without copying it.
std::string encode_frame_header(Opcode opcode, std::uint64_t payload_size);

// Close frame with `code` and `reason`. The reason is cut to 123 bytes (at a UTF-8 character boundary) so the
// frame stays a valid control frame. close_code::no_status yields a close frame with an empty payload.
std::string encode_close(std::uint16_t code, std::string_view reason = {});

}  // namespace turnpike::ws
