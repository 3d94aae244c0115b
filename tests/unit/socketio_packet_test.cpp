// Unit tests for the Socket.IO v5 packet codec: decoding tables, validity rules, encoders and round trips.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "socketio/socketio_packet.hpp"

namespace turnpike::sio {

// Readable gtest output for packets.
void PrintTo(const Packet& packet, std::ostream* os) {
  *os << "Packet{type " << static_cast<int>(packet.type) << ", nsp \"" << packet.nsp << "\", ack ";
  if (packet.ack_id) {
    *os << *packet.ack_id;
  } else {
    *os << "none";
  }
  *os << ", data " << (packet.has_data ? packet.data.dump() : "none") << "}";
}

void PrintTo(DecodeError error, std::ostream* os) {
  *os << describe(error);
}

namespace {

using namespace std::string_view_literals;
using json = nlohmann::ordered_json;
using Decoded = std::variant<Packet, DecodeError>;

Packet make_packet(PacketType type, std::string nsp = "/", std::optional<std::uint64_t> ack_id = std::nullopt,
                   std::optional<std::string_view> json_text = std::nullopt) {
  Packet packet;
  packet.type = type;
  packet.nsp = std::move(nsp);
  packet.ack_id = ack_id;
  if (json_text) {
    packet.data = json::parse(*json_text);
    packet.has_data = true;
  }
  return packet;
}

struct DecodeCase {
  std::string_view text;
  Decoded expected;
};

void expect_decodes(const std::vector<DecodeCase>& cases) {
  for (const auto& test_case : cases) {
    SCOPED_TRACE(std::string(test_case.text));
    EXPECT_EQ(decode(test_case.text), test_case.expected);
  }
}

TEST(SocketIoPacket, DecodesEveryType) {
  expect_decodes({
      {"0", make_packet(PacketType::connect)},
      {R"(0{"token":"abc"})", make_packet(PacketType::connect, "/", std::nullopt, R"({"token":"abc"})")},
      {"1", make_packet(PacketType::disconnect)},
      {R"(2["hello"])", make_packet(PacketType::event, "/", std::nullopt, R"(["hello"])")},
      {R"(3[])", make_packet(PacketType::ack, "/", std::nullopt, "[]")},
      {R"(4"refused")", make_packet(PacketType::connect_error, "/", std::nullopt, R"("refused")")},
      {R"(4{"message":"x"})",
       make_packet(PacketType::connect_error, "/", std::nullopt, R"({"message":"x"})")},
  });
}

TEST(SocketIoPacket, DecodesErrors) {
  expect_decodes({
      {"", DecodeError::empty},
      {"7", DecodeError::unknown_type},
      {"9[\"a\"]", DecodeError::unknown_type},
      {"a", DecodeError::unknown_type},
      {" 2[\"a\"]", DecodeError::unknown_type},
      {"-1", DecodeError::unknown_type},
      {"5", DecodeError::binary_unsupported},
      {"6", DecodeError::binary_unsupported},
      {R"(51-["a",{"_placeholder":true,"num":0}])", DecodeError::binary_unsupported},
      {R"(61-/admin,5[{"_placeholder":true,"num":0}])", DecodeError::binary_unsupported},
      {"2/bad\x01name,[\"a\"]", DecodeError::bad_namespace},
      {"2/bad\x7fname,[\"a\"]", DecodeError::bad_namespace},
      {"2/bad\xC3name,[\"a\"]", DecodeError::bad_namespace},
      {"2/tab\tname", DecodeError::bad_namespace},
      {"21234567890123456[\"a\"]", DecodeError::bad_ack_id},
      {"2[\"a\"", DecodeError::bad_json},
      {"2x", DecodeError::bad_json},
      {"2/admin,x", DecodeError::bad_json},
      {"2[\"a\"] x", DecodeError::bad_json},
      {"2[\"\xC3\"]", DecodeError::bad_json},
      {"2[\"\\ud800\"]", DecodeError::bad_json},
      {"2[1e400]", DecodeError::bad_json},
      {"2\xEF\xBB\xBF[\"a\"]", DecodeError::bad_json},
      {"2[\"a\"]\0"sv, DecodeError::bad_json},
      {"2[\"a\"]\0x"sv, DecodeError::bad_json},
      {"2[\"a\0\"]"sv, DecodeError::bad_json},
      {"2/admin\0,[\"a\"]"sv, DecodeError::bad_namespace},
      {"0[]", DecodeError::invalid_payload},
  });
}

TEST(SocketIoPacket, BoundsTheNamespace) {
  const std::string longest = "/" + std::string(kMaxNamespaceBytes - 1, 'n');
  EXPECT_EQ(decode("0" + longest + ","), Decoded{make_packet(PacketType::connect, longest)});
  EXPECT_EQ(decode("0" + longest + "n,"), Decoded{DecodeError::bad_namespace});
}

TEST(SocketIoPacket, BoundsPayloadNesting) {
  const auto nested = [](int depth) {
    return "3" + std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  const auto deepest = decode(nested(kMaxPayloadDepth));
  ASSERT_TRUE(std::holds_alternative<Packet>(deepest));
  EXPECT_TRUE(std::get<Packet>(deepest).data.is_array());
  EXPECT_EQ(decode(nested(kMaxPayloadDepth + 1)), Decoded{DecodeError::bad_json});
}

TEST(SocketIoPacket, DecodesNamespacesAndAckIds) {
  expect_decodes({
      {"0/admin,", make_packet(PacketType::connect, "/admin")},
      {"0/admin", make_packet(PacketType::connect, "/admin")},
      {"1/admin,", make_packet(PacketType::disconnect, "/admin")},
      {"0/", make_packet(PacketType::connect, "/")},
      {"0/,", make_packet(PacketType::connect, "/")},
      {R"(0/admin,{"token":"t"})",
       make_packet(PacketType::connect, "/admin", std::nullopt, R"({"token":"t"})")},
      {R"(2/admin,["a"])", make_packet(PacketType::event, "/admin", std::nullopt, R"(["a"])")},
      {R"(2/a/b c,["x"])", make_packet(PacketType::event, "/a/b c", std::nullopt, R"(["x"])")},
      {"2/caf\xC3\xA9,[\"x\"]", make_packet(PacketType::event, "/caf\xC3\xA9", std::nullopt, R"(["x"])")},
      // No ',' : the namespace runs to the end, so the "payload" is part of it.
      {R"(0/admin{"a":1})", make_packet(PacketType::connect, R"(/admin{"a":1})")},
      {R"(2/admin["a"])", DecodeError::invalid_payload},
      {R"(2/admin,12["a"])", make_packet(PacketType::event, "/admin", 12, R"(["a"])")},
      {R"(2/admin,0["a"])", make_packet(PacketType::event, "/admin", 0, R"(["a"])")},
      {R"(20["a"])", make_packet(PacketType::event, "/", 0, R"(["a"])")},
      {R"(2007["a"])", make_packet(PacketType::event, "/", 7, R"(["a"])")},
      {R"(2123456789012345["a"])", make_packet(PacketType::event, "/", 123456789012345, R"(["a"])")},
      {R"(2999999999999999["a"])", make_packet(PacketType::event, "/", 999999999999999, R"(["a"])")},
      {R"(2/admin,1234567890123456["a"])", DecodeError::bad_ack_id},
      {R"(31[true])", make_packet(PacketType::ack, "/", 1, "[true]")},
      {R"(3/admin,42[{"ok":true}])", make_packet(PacketType::ack, "/admin", 42, R"([{"ok":true}])")},
      // An ack id right after the type, or after the namespace without a payload.
      {"0/admin,7", make_packet(PacketType::connect, "/admin", 7)},
      {"07", make_packet(PacketType::connect, "/", 7)},
      // A namespace must follow the type directly: "/" later is payload.
      {"21/admin,[\"a\"]", DecodeError::bad_json},
  });
}

TEST(SocketIoPacket, ChecksPayloadsLikeSocketIoParser) {
  expect_decodes({
      // CONNECT: an object or nothing.
      {R"(0{})", make_packet(PacketType::connect, "/", std::nullopt, "{}")},
      {R"(0{"auth":{"token":"t","n":[1,2]}})",
       make_packet(PacketType::connect, "/", std::nullopt, R"({"auth":{"token":"t","n":[1,2]}})")},
      {R"(0["a"])", DecodeError::invalid_payload},
      {R"(0"a")", DecodeError::invalid_payload},
      {"0null", DecodeError::invalid_payload},
      // DISCONNECT: nothing.
      {"1{}", DecodeError::invalid_payload},
      {"1[]", DecodeError::invalid_payload},
      // EVENT: a non-empty array starting with a number or a string that is not reserved.
      {R"(2["signal",{"type":"offer","sdp":"v=0"}])",
       make_packet(PacketType::event, "/", std::nullopt, R"(["signal",{"type":"offer","sdp":"v=0"}])")},
      {R"(2[1,"a"])", make_packet(PacketType::event, "/", std::nullopt, R"([1,"a"])")},
      {R"(2[-1.5])", make_packet(PacketType::event, "/", std::nullopt, "[-1.5]")},
      {R"(2[""])", make_packet(PacketType::event, "/", std::nullopt, R"([""])")},
      {R"(2["Connect"])", make_packet(PacketType::event, "/", std::nullopt, R"(["Connect"])")},
      {R"(2["h\u00e9"])", make_packet(PacketType::event, "/", std::nullopt, "[\"h\xC3\xA9\"]")},
      {R"( 2["a"])", DecodeError::unknown_type},
      {R"(2 ["a"] )", make_packet(PacketType::event, "/", std::nullopt, R"(["a"])")},
      {R"(2["a",{"b":[{"c":[[[]]]}]}])",
       make_packet(PacketType::event, "/", std::nullopt, R"(["a",{"b":[{"c":[[[]]]}]}])")},
      {"2", DecodeError::invalid_payload},
      {"2/admin,", DecodeError::invalid_payload},
      {"21", DecodeError::invalid_payload},
      {"2[]", DecodeError::invalid_payload},
      {"2{}", DecodeError::invalid_payload},
      {R"(2"a")", DecodeError::invalid_payload},
      {"2[null]", DecodeError::invalid_payload},
      {"2[true]", DecodeError::invalid_payload},
      {R"(2[["a"]])", DecodeError::invalid_payload},
      {R"(2[{"a":1}])", DecodeError::invalid_payload},
      {R"(2["connect"])", DecodeError::invalid_payload},
      {R"(2["connect_error"])", DecodeError::invalid_payload},
      {R"(2["disconnect",1])", DecodeError::invalid_payload},
      {R"(2["disconnecting"])", DecodeError::invalid_payload},
      {R"(2["newListener"])", DecodeError::invalid_payload},
      {R"(2/admin,3["removeListener"])", DecodeError::invalid_payload},
      // ACK: an array (empty allowed).
      {R"(3["a",1])", make_packet(PacketType::ack, "/", std::nullopt, R"(["a",1])")},
      {R"(3{})", DecodeError::invalid_payload},
      {"3", DecodeError::invalid_payload},
      {"31", DecodeError::invalid_payload},
      // CONNECT_ERROR: a string or an object.
      {"4[]", DecodeError::invalid_payload},
      {"4", DecodeError::invalid_payload},
      {"4null", DecodeError::invalid_payload},
  });
}

TEST(SocketIoPacket, EncodesLikeSocketIoParser) {
  EXPECT_EQ(encode(PacketType::connect, "/", std::nullopt), "0");
  EXPECT_EQ(encode(PacketType::connect, "", std::nullopt), "0");
  EXPECT_EQ(encode(PacketType::connect, "/admin", std::nullopt), "0/admin,");
  EXPECT_EQ(encode(PacketType::connect, "/admin", std::nullopt, R"({"sid":"s"})"), R"(0/admin,{"sid":"s"})");
  EXPECT_EQ(encode(PacketType::disconnect, "/admin", std::nullopt), "1/admin,");
  EXPECT_EQ(encode(PacketType::event, "/", 12, R"(["a"])"), R"(212["a"])");
  EXPECT_EQ(encode(PacketType::event, "/admin", 0, R"(["a"])"), R"(2/admin,0["a"])");
  EXPECT_EQ(encode(PacketType::ack, "/admin", 999999999999999, "[]"), "3/admin,999999999999999[]");
  EXPECT_EQ(encode(PacketType::connect_error, "/", std::nullopt, R"("no")"), R"(4"no")");
}

TEST(SocketIoPacket, ConvenienceEncoders) {
  EXPECT_EQ(encode_event("/", "signal", R"({"type":"offer"})"), R"(2["signal",{"type":"offer"}])");
  EXPECT_EQ(encode_event("/sessions", "peer-left", ""), R"(2/sessions,["peer-left"])");
  EXPECT_EQ(encode_event("/", "quo\"te\n", "1"), R"(2["quo\"te\n",1])");
  EXPECT_EQ(encode_connect("/", "AbC-_1"), R"(0{"sid":"AbC-_1"})");
  EXPECT_EQ(encode_connect("/sessions", "s"), R"(0/sessions,{"sid":"s"})");
  EXPECT_EQ(encode_connect_error("/", "Invalid \"token\""), R"(4{"message":"Invalid \"token\""})");
  EXPECT_EQ(encode_connect_error("/admin", "nope"), R"(4/admin,{"message":"nope"})");
  EXPECT_EQ(encode_ack("/", 5, R"([{"ok":true}])"), R"(35[{"ok":true}])");
  EXPECT_EQ(encode_ack("/sessions", 0, "[]"), "3/sessions,0[]");
  EXPECT_EQ(encode_disconnect("/"), "1");
  EXPECT_EQ(encode_disconnect("/sessions"), "1/sessions,");
}

TEST(SocketIoPacket, ConvenienceEncodersDecodeBack) {
  EXPECT_EQ(decode(encode_event("/s", "quo\"te", R"({"a":[1]})")),
            Decoded{make_packet(PacketType::event, "/s", std::nullopt, R"(["quo\"te",{"a":[1]}])")});
  EXPECT_EQ(decode(encode_connect("/s", "sid1")),
            Decoded{make_packet(PacketType::connect, "/s", std::nullopt, R"({"sid":"sid1"})")});
  EXPECT_EQ(
      decode(encode_connect_error("/", "bad\ttoken")),
      Decoded{make_packet(PacketType::connect_error, "/", std::nullopt, R"({"message":"bad\ttoken"})")});
  EXPECT_EQ(decode(encode_ack("/s", 9, "[null]")), Decoded{make_packet(PacketType::ack, "/s", 9, "[null]")});
  EXPECT_EQ(decode(encode_disconnect("/s")), Decoded{make_packet(PacketType::disconnect, "/s")});
}

TEST(SocketIoPacket, RoundTrips) {
  const std::vector<Packet> packets = {
      make_packet(PacketType::connect),
      make_packet(PacketType::connect, "/sessions", std::nullopt, R"({"userId":"u1","sessionId":"s1"})"),
      make_packet(PacketType::connect, "/", 3, "{}"),
      make_packet(PacketType::disconnect, "/sessions"),
      make_packet(PacketType::event, "/", std::nullopt, R"(["signal",{"type":"offer","sdp":"v=0\r\n"}])"),
      make_packet(PacketType::event, "/x", 0, R"([7,"\u0000",-0.5,1e300,18446744073709551615])"),
      make_packet(PacketType::event, "/", 999999999999999, "[\"\xF0\x9F\x98\x80\",{\"z\":1,\"a\":2}]"),
      make_packet(PacketType::ack, "/", 1, "[]"),
      make_packet(PacketType::ack, "/a,b", 1, "[[],{}]"),  // a ',' in a namespace cannot survive: see below
      make_packet(PacketType::connect_error, "/", std::nullopt, R"("refused")"),
      make_packet(PacketType::connect_error, "/admin", std::nullopt, R"({"message":"x","data":{"code":4}})"),
  };
  for (const auto& packet : packets) {
    const std::string text =
        encode(packet.type, packet.nsp, packet.ack_id, packet.has_data ? packet.data.dump() : std::string());
    SCOPED_TRACE(text);
    if (packet.nsp.find(',') != std::string::npos) {
      // The decoder ends a namespace at its first ','.
      EXPECT_EQ(decode(text), Decoded{DecodeError::bad_json});
    } else {
      EXPECT_EQ(decode(text), Decoded{packet});
    }
  }
}

TEST(SocketIoPacket, DescribesEveryError) {
  EXPECT_EQ(describe(DecodeError::empty), "empty packet");
  EXPECT_EQ(describe(DecodeError::unknown_type), "unknown packet type");
  EXPECT_EQ(describe(DecodeError::binary_unsupported), "binary packets are not supported");
  EXPECT_EQ(describe(DecodeError::bad_namespace), "invalid namespace");
  EXPECT_EQ(describe(DecodeError::bad_ack_id), "invalid ack id");
  EXPECT_EQ(describe(DecodeError::bad_json), "payload is not valid JSON");
  EXPECT_EQ(describe(DecodeError::invalid_payload), "invalid payload for packet type");
}

}  // namespace
}  // namespace turnpike::sio
