// Unit tests for the Engine.IO v4 packet and polling payload codec: tables of texts and their packets.
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "socketio/engineio_packet.hpp"

namespace turnpike::eio {

// Readable gtest output for packets.
void PrintTo(const Packet& packet, std::ostream* os) {
  *os << "Packet{'" << static_cast<char>(packet.type) << "', \"" << packet.data << "\"}";
}

void PrintTo(DecodeError error, std::ostream* os) {
  *os << describe(error);
}

namespace {

using namespace std::string_view_literals;

using Decoded = std::variant<Packet, DecodeError>;

struct PacketCase {
  std::string_view text;
  Decoded expected;
};

TEST(EngineIoPacket, DecodesEveryTypeAndError) {
  const std::vector<PacketCase> cases = {
      {R"(0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})",
       Packet{
           PacketType::open,
           R"({"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})"}},
      {"1", Packet{PacketType::close, ""}},
      {"2", Packet{PacketType::ping, ""}},
      {"3", Packet{PacketType::pong, ""}},
      {"2probe", Packet{PacketType::ping, "probe"}},
      {"3probe", Packet{PacketType::pong, "probe"}},
      {"4", Packet{PacketType::message, ""}},
      {"4hello", Packet{PacketType::message, "hello"}},
      {R"(42["signal",{"type":"offer"}])", Packet{PacketType::message, R"(2["signal",{"type":"offer"}])"}},
      {"4h\xC3\xA9llo \xF0\x9F\x98\x80", Packet{PacketType::message, "h\xC3\xA9llo \xF0\x9F\x98\x80"}},
      {"4a\x1e"
       "b",
       Packet{PacketType::message,
              "a\x1e"
              "b"}},
      {"5", Packet{PacketType::upgrade, ""}},
      {"6", Packet{PacketType::noop, ""}},
      {"44", Packet{PacketType::message, "4"}},
      {"", DecodeError::empty},
      {"7", DecodeError::unknown_type},
      {"9x", DecodeError::unknown_type},
      {"/", DecodeError::unknown_type},
      {" 4", DecodeError::unknown_type},
      {"x", DecodeError::unknown_type},
      {"\x1e", DecodeError::unknown_type},
      {"\0"sv, DecodeError::unknown_type},
      {"b", DecodeError::binary_unsupported},
      {"bAQID", DecodeError::binary_unsupported},
      {"B", DecodeError::unknown_type},
  };
  for (const auto& test_case : cases) {
    SCOPED_TRACE(std::string(test_case.text));
    EXPECT_EQ(decode_packet(test_case.text), test_case.expected);
  }
}

TEST(EngineIoPacket, DecodedDataIsAViewIntoTheText) {
  const std::string text = "4abc";
  const auto decoded = decode_packet(text);
  ASSERT_TRUE(std::holds_alternative<Packet>(decoded));
  EXPECT_EQ(std::get<Packet>(decoded).data.data(), text.data() + 1);
}

struct PayloadCase {
  std::string_view body;
  std::size_t max_packets;
  std::vector<Packet> expected_packets;
  std::optional<DecodeError> expected_error;
};

TEST(EngineIoPacket, DecodesPayloads) {
  const std::vector<PayloadCase> cases = {
      {"4hello", 16, {{PacketType::message, "hello"}}, std::nullopt},
      {"2", 16, {{PacketType::ping, ""}}, std::nullopt},
      {"4hello\x1e"
       "2\x1e"
       "42[\"a\"]\x1e"
       "1",
       16,
       {{PacketType::message, "hello"},
        {PacketType::ping, ""},
        {PacketType::message, "2[\"a\"]"},
        {PacketType::close, ""}},
       std::nullopt},
      {"4\x1e"
       "4",
       16,
       {{PacketType::message, ""}, {PacketType::message, ""}},
       std::nullopt},
      {"", 16, {}, DecodeError::empty},
      {"\x1e", 16, {}, DecodeError::empty},
      {"4a\x1e", 16, {{PacketType::message, "a"}}, DecodeError::empty},
      {"\x1e"
       "4a",
       16,
       {},
       DecodeError::empty},
      {"4a\x1e\x1e"
       "4b",
       16,
       {{PacketType::message, "a"}},
       DecodeError::empty},
      {"4a\x1e"
       "9\x1e"
       "4b",
       16,
       {{PacketType::message, "a"}},
       DecodeError::unknown_type},
      {"4a\x1e"
       "bAQID\x1e"
       "4b",
       16,
       {{PacketType::message, "a"}},
       DecodeError::binary_unsupported},
      {"4a\x1e"
       "4b",
       2,
       {{PacketType::message, "a"}, {PacketType::message, "b"}},
       std::nullopt},
      {"4a\x1e"
       "4b\x1e"
       "4c",
       2,
       {{PacketType::message, "a"}, {PacketType::message, "b"}},
       DecodeError::too_many_packets},
      // The limit is checked before the extra element is decoded.
      {"4a\x1e"
       "4b\x1e",
       2,
       {{PacketType::message, "a"}, {PacketType::message, "b"}},
       DecodeError::too_many_packets},
      {"4a", 0, {}, DecodeError::too_many_packets},
  };
  for (const auto& test_case : cases) {
    SCOPED_TRACE(std::string(test_case.body));
    std::vector<Packet> packets;
    EXPECT_EQ(decode_payload(test_case.body, test_case.max_packets, packets), test_case.expected_error);
    EXPECT_EQ(packets, test_case.expected_packets);
  }
}

TEST(EngineIoPacket, DecodePayloadAppendsToExistingPackets) {
  std::vector<Packet> packets = {{PacketType::noop, ""}};
  EXPECT_EQ(decode_payload("3", 1, packets), std::nullopt);
  EXPECT_EQ(packets, (std::vector<Packet>{{PacketType::noop, ""}, {PacketType::pong, ""}}));
}

TEST(EngineIoPacket, EncodesPackets) {
  EXPECT_EQ(encode_packet(PacketType::open, R"({"sid":"x"})"), R"(0{"sid":"x"})");
  EXPECT_EQ(encode_packet(PacketType::close), "1");
  EXPECT_EQ(encode_packet(PacketType::ping), "2");
  EXPECT_EQ(encode_packet(PacketType::pong, "probe"), "3probe");
  EXPECT_EQ(encode_packet(PacketType::message, "2[\"a\"]"), "42[\"a\"]");
  EXPECT_EQ(encode_packet(PacketType::upgrade), "5");
  EXPECT_EQ(encode_packet(PacketType::noop), "6");
}

TEST(EngineIoPacket, BuildsPayloads) {
  std::string payload;
  append_to_payload(payload, PacketType::message, "0{\"sid\":\"s\"}");
  EXPECT_EQ(payload, "40{\"sid\":\"s\"}");
  append_to_payload(payload, PacketType::ping);
  append_to_payload(payload, PacketType::message, "2[\"a\"]");
  EXPECT_EQ(payload,
            "40{\"sid\":\"s\"}\x1e"
            "2\x1e"
            "42[\"a\"]");
}

TEST(EngineIoPacket, PayloadRoundTrips) {
  const std::vector<std::vector<Packet>> payloads = {
      {{PacketType::open, R"({"sid":"abc"})"}},
      {{PacketType::ping, ""}, {PacketType::pong, "probe"}, {PacketType::noop, ""}},
      {{PacketType::message, "2[\"a\",{\"b\":[1,2]}]"}, {PacketType::message, ""}, {PacketType::close, ""}},
      {{PacketType::message, "\xE2\x82\xAC"}, {PacketType::upgrade, ""}},
  };
  for (const auto& packets : payloads) {
    std::string body;
    for (const auto& packet : packets) append_to_payload(body, packet.type, packet.data);
    SCOPED_TRACE(body);
    std::vector<Packet> decoded;
    EXPECT_EQ(decode_payload(body, packets.size(), decoded), std::nullopt);
    EXPECT_EQ(decoded, packets);
    for (const auto& packet : packets)
      EXPECT_EQ(decode_packet(encode_packet(packet.type, packet.data)), Decoded{packet});
  }
}

TEST(EngineIoPacket, DescribesEveryError) {
  EXPECT_EQ(describe(DecodeError::empty), "empty packet");
  EXPECT_EQ(describe(DecodeError::unknown_type), "unknown packet type");
  EXPECT_EQ(describe(DecodeError::binary_unsupported), "binary packets are not supported");
  EXPECT_EQ(describe(DecodeError::too_many_packets), "too many packets in payload");
}

}  // namespace
}  // namespace turnpike::eio
