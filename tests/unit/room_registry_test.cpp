// Room membership rules: join order, seats, departure, moves and closing.
#include <gtest/gtest.h>

#include "signaling/room_registry.hpp"

namespace turnpike {
namespace {

TEST(RoomRegistry, JoinOrderDecidesInitiator) {
  RoomRegistry rooms;
  EXPECT_EQ(rooms.add("r", 1), 0u);
  EXPECT_EQ(rooms.add("r", 2), 1u);
  EXPECT_TRUE(rooms.is_full("r"));
  EXPECT_EQ(rooms.members("r"), (std::vector<PeerId>{1, 2}));
  // A leaves, C joins: B has been there longest and comes first.
  auto departure = rooms.remove(1);
  ASSERT_TRUE(departure);
  EXPECT_EQ(departure->room, "r");
  EXPECT_EQ(departure->remaining, (std::vector<PeerId>{2}));
  EXPECT_EQ(rooms.add("r", 3), 1u);
  EXPECT_EQ(rooms.members("r"), (std::vector<PeerId>{2, 3}));
}

TEST(RoomRegistry, LastDepartureDeletesRoom) {
  RoomRegistry rooms;
  rooms.add("r", 1);
  auto departure = rooms.remove(1);
  ASSERT_TRUE(departure);
  EXPECT_TRUE(departure->remaining.empty());
  EXPECT_EQ(rooms.room_count(), 0u);
  EXPECT_EQ(rooms.room_of(1), nullptr);
  EXPECT_FALSE(rooms.remove(1));
}

TEST(RoomRegistry, MoveBetweenRooms) {
  RoomRegistry rooms;
  rooms.add("a", 1);
  rooms.add("a", 2);
  rooms.remove(1);
  rooms.add("b", 1);
  EXPECT_EQ(*rooms.room_of(1), "b");
  EXPECT_EQ(rooms.members("a"), (std::vector<PeerId>{2}));
}

TEST(RoomRegistry, CloseEmptiesRoomAndListKeepsCreationOrder) {
  RoomRegistry rooms;
  rooms.add("z", 1);
  rooms.add("a", 2);
  rooms.add("a", 3);
  rooms.add("m", 4);
  auto list = rooms.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], (std::pair<std::string, std::size_t>{"z", 1}));
  EXPECT_EQ(list[1], (std::pair<std::string, std::size_t>{"a", 2}));
  EXPECT_EQ(rooms.close("a"), (std::vector<PeerId>{2, 3}));
  EXPECT_EQ(rooms.room_of(2), nullptr);
  EXPECT_EQ(rooms.room_count(), 2u);
  EXPECT_TRUE(rooms.close("nope").empty());
}

}  // namespace
}  // namespace turnpike
