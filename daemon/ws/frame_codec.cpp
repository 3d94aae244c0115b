// WebSocket (RFC 6455) frame codec: streaming client-frame decoder and server-frame encoder.
#include "ws/frame_codec.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace turnpike::ws {

namespace {

constexpr unsigned char kFin = 0x80;
constexpr unsigned char kRsvBits = 0x70;
constexpr unsigned char kOpcodeBits = 0x0F;
constexpr unsigned char kMaskBit = 0x80;
constexpr unsigned char kLengthBits = 0x7F;
constexpr unsigned char kLength16 = 126;
constexpr unsigned char kLength64 = 127;
constexpr std::size_t kMaxHeaderBytes = 10;  // server frames are unmasked

bool is_known_opcode(unsigned char op) {
  switch (op) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
      return true;
    default:
      return false;
  }
}

// XORs `n` bytes at `p` with the masking key, starting at key index `phase`.
void unmask(char* p, std::size_t n, const std::array<unsigned char, 4>& key, std::size_t phase) {
  std::array<unsigned char, 8> rotated{};
  for (std::size_t i = 0; i < rotated.size(); ++i) rotated[i] = key[(phase + i) & 3];
  std::size_t i = 0;
  if (n >= 8) {
    std::uint64_t key_word;
    std::memcpy(&key_word, rotated.data(), sizeof key_word);
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + i, sizeof word);
      word ^= key_word;
      std::memcpy(p + i, &word, sizeof word);
    }
  }
  for (; i < n; ++i) p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ rotated[i & 3]);
}

// Writes a server frame header into `out` (at least kMaxHeaderBytes long); returns its length.
std::size_t write_header(unsigned char* out, Opcode opcode, std::uint64_t payload_size) {
  out[0] = static_cast<unsigned char>(kFin | static_cast<unsigned char>(opcode));
  if (payload_size <= 125) {
    out[1] = static_cast<unsigned char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = kLength16;
    out[2] = static_cast<unsigned char>(payload_size >> 8);
    out[3] = static_cast<unsigned char>(payload_size);
    return 4;
  }
  out[1] = kLength64;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
  return 10;
}

}  // namespace

bool is_valid_received_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

FrameDecoder::FrameDecoder(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

std::optional<Failure> FrameDecoder::fail(std::uint16_t code, std::string reason) {
  failure_ = Failure{code, std::move(reason)};
  stage_ = Stage::failed;
  message_opcode_.reset();
  message_ = std::string();
  control_ = std::string();
  return failure_;
}

void FrameDecoder::expect_header(Stage stage, std::size_t bytes) {
  stage_ = stage;
  header_have_ = 0;
  header_need_ = bytes;
}

std::optional<Failure> FrameDecoder::feed(std::string_view data, std::vector<Event>& out) {
  if (failure_) return failure_;
  while (!data.empty()) {
    if (stage_ == Stage::payload) {
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
      if (auto failure = consume_payload(data.substr(0, take))) return failure;
      data.remove_prefix(take);
      if (remaining_ == 0) {
        if (auto failure = finish_frame(out)) return failure;
      }
      continue;
    }
    const std::size_t take = std::min(header_need_ - header_have_, data.size());
    std::memcpy(header_.data() + header_have_, data.data(), take);
    header_have_ += take;
    data.remove_prefix(take);
    if (header_have_ < header_need_) break;
    if (auto failure = advance_header(out)) return failure;
  }
  return std::nullopt;
}

std::optional<Failure> FrameDecoder::advance_header(std::vector<Event>& out) {
  switch (stage_) {
    case Stage::base_header:
      return on_base_header();
    case Stage::extended_length: {
      std::uint64_t length = 0;
      for (std::size_t i = 0; i < header_need_; ++i) length = (length << 8) | header_[i];
      if (header_need_ == 8 && (length >> 63) != 0) {
        return fail(close_code::protocol_error, "64-bit payload length has its most significant bit set");
      }
      remaining_ = length;
      return on_payload_length();
    }
    case Stage::masking_key:
      std::memcpy(mask_.data(), header_.data(), mask_.size());
      mask_phase_ = 0;
      stage_ = Stage::payload;
      if (remaining_ == 0) return finish_frame(out);
      return std::nullopt;
    case Stage::payload:
    case Stage::failed:
      break;
  }
  return std::nullopt;
}

std::optional<Failure> FrameDecoder::on_base_header() {
  const unsigned char b0 = header_[0];
  const unsigned char b1 = header_[1];
  if ((b0 & kRsvBits) != 0) return fail(close_code::protocol_error, "reserved bits set without an extension");
  const unsigned char op = b0 & kOpcodeBits;
  if (!is_known_opcode(op)) return fail(close_code::protocol_error, "unknown opcode");
  if ((b1 & kMaskBit) == 0) return fail(close_code::protocol_error, "client frame not masked");
  fin_ = (b0 & kFin) != 0;
  opcode_ = static_cast<Opcode>(op);
  const unsigned char length7 = b1 & kLengthBits;

  if (is_control()) {
    if (!fin_) return fail(close_code::protocol_error, "fragmented control frame");
    if (length7 > kMaxControlPayload)
      return fail(close_code::protocol_error, "control frame payload over 125 bytes");
  } else if (opcode_ == Opcode::continuation) {
    if (!message_opcode_)
      return fail(close_code::protocol_error, "continuation frame without a message in progress");
  } else {
    if (message_opcode_)
      return fail(close_code::protocol_error, "new data frame inside a fragmented message");
    message_opcode_ = opcode_;
    message_.clear();
    utf8_.reset();
  }

  if (length7 == kLength16) {
    expect_header(Stage::extended_length, 2);
    return std::nullopt;
  }
  if (length7 == kLength64) {
    expect_header(Stage::extended_length, 8);
    return std::nullopt;
  }
  remaining_ = length7;
  return on_payload_length();
}

std::optional<Failure> FrameDecoder::on_payload_length() {
  if (!is_control()) {
    // message_.size() can exceed the limit only if the limit was lowered mid-message.
    const std::size_t have = message_.size();
    if (have > max_message_bytes_ || remaining_ > max_message_bytes_ - have) {
      return fail(close_code::too_big, "message over the size limit");
    }
  }
  expect_header(Stage::masking_key, 4);
  return std::nullopt;
}

std::optional<Failure> FrameDecoder::consume_payload(std::string_view chunk) {
  if (chunk.empty()) return std::nullopt;
  std::string& target = is_control() ? control_ : message_;
  const std::size_t start = target.size();
  target.append(chunk);
  unmask(target.data() + start, chunk.size(), mask_, mask_phase_);
  mask_phase_ = (mask_phase_ + chunk.size()) & 3;
  remaining_ -= chunk.size();
  if (!is_control() && message_opcode_ == Opcode::text &&
      !utf8_.feed(std::string_view(target.data() + start, chunk.size()))) {
    return fail(close_code::invalid_payload, "invalid UTF-8 in text message");
  }
  return std::nullopt;
}

std::optional<Failure> FrameDecoder::finish_frame(std::vector<Event>& out) {
  expect_header(Stage::base_header, 2);
  if (is_control()) return finish_control_frame(out);
  if (!fin_) return std::nullopt;

  if (message_opcode_ == Opcode::text && !utf8_.complete()) {
    return fail(close_code::invalid_payload, "invalid UTF-8 in text message");
  }
  Event& event = out.emplace_back();
  event.kind = message_opcode_ == Opcode::text ? Event::Kind::text : Event::Kind::binary;
  event.payload = std::move(message_);
  message_.clear();  // moved-from: make the state explicit
  message_opcode_.reset();
  return std::nullopt;
}

std::optional<Failure> FrameDecoder::finish_control_frame(std::vector<Event>& out) {
  Event event;
  event.kind = Event::Kind::ping;
  event.payload = std::move(control_);
  control_.clear();
  switch (opcode_) {
    case Opcode::ping:
      break;
    case Opcode::pong:
      event.kind = Event::Kind::pong;
      break;
    default: {  // close
      event.kind = Event::Kind::close;
      const std::string& body = event.payload;
      if (body.empty()) {
        event.close_code = close_code::no_status;
        break;
      }
      if (body.size() == 1) return fail(close_code::protocol_error, "close frame payload of 1 byte");
      const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(body[0]) << 8) |
                                                   static_cast<unsigned char>(body[1]));
      if (!is_valid_received_close_code(code)) return fail(close_code::protocol_error, "invalid close code");
      const std::string_view reason = std::string_view(body).substr(2);
      if (!is_valid_utf8(reason)) return fail(close_code::invalid_payload, "invalid UTF-8 in close reason");
      event.close_code = code;
      event.close_reason = std::string(reason);
      break;
    }
  }
  out.push_back(std::move(event));
  return std::nullopt;
}

std::string encode_frame_header(Opcode opcode, std::uint64_t payload_size) {
  std::array<unsigned char, kMaxHeaderBytes> header{};
  const std::size_t length = write_header(header.data(), opcode, payload_size);
  return std::string(reinterpret_cast<const char*>(header.data()), length);
}

std::string encode_frame(Opcode opcode, std::string_view payload) {
  std::array<unsigned char, kMaxHeaderBytes> header{};
  const std::size_t length = write_header(header.data(), opcode, payload.size());
  std::string frame;
  frame.reserve(length + payload.size());
  frame.append(reinterpret_cast<const char*>(header.data()), length);
  frame.append(payload);
  return frame;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
  if (code == close_code::no_status) return encode_frame(Opcode::close, {});
  if (reason.size() > kMaxCloseReason) {
    std::size_t cut = kMaxCloseReason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80)
      --cut;  // not inside a character
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return encode_frame(Opcode::close, payload);
}

}  // namespace turnpike::ws
