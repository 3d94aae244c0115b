// OutboundMemory: bytes queued for clients, per address and in total, against their limits.
#include "net/outbound_memory.hpp"

#include <gtest/gtest.h>

namespace turnpike {
namespace {

const IpAddress kOne = *IpAddress::parse("192.0.2.1");
const IpAddress kTwo = *IpAddress::parse("192.0.2.2");

TEST(OutboundMemory, SocketsOfOneAddressShareItsLimitAndAllShareTheTotal) {
  OutboundMemory memory;
  memory.set_limits({/*per_address=*/100, /*total=*/150});
  auto* a1 = memory.attach(kOne);
  auto* a2 = memory.attach(kOne);
  auto* b = memory.attach(kTwo);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(memory.addresses(), 2u);

  EXPECT_TRUE(memory.admits(a1, 60));
  memory.add(a1, 60);
  EXPECT_TRUE(memory.admits(a2, 40));   // exactly the address's 100
  EXPECT_FALSE(memory.admits(a2, 41));  // over it, whichever socket of that address asks
  memory.add(a2, 40);
  EXPECT_TRUE(memory.admits(b, 50));  // the total: 150
  EXPECT_FALSE(memory.admits(b, 51));
  EXPECT_FALSE(memory.admits(nullptr, 51));  // a trusted proxy's socket: the total only
  EXPECT_TRUE(memory.admits(nullptr, 50));

  memory.release(a1, 60);
  EXPECT_EQ(memory.total(), 40u);
  EXPECT_TRUE(memory.admits(a2, 60));
  memory.release(a2, 40);
  memory.detach(a1);
  memory.detach(a2);
  memory.detach(b);
  memory.detach(nullptr);
  EXPECT_EQ(memory.addresses(), 0u);  // no entry is kept for an address without sockets
  EXPECT_EQ(memory.total(), 0u);
}

TEST(OutboundMemory, ZeroMeansNoLimit) {
  OutboundMemory memory;
  auto* a = memory.attach(kOne);
  memory.add(a, 1u << 30);
  EXPECT_TRUE(memory.admits(a, 1u << 30));
  memory.set_limits({0, 1u << 30});
  EXPECT_FALSE(memory.admits(a, 1));
  memory.release(a, 1u << 30);
  memory.detach(a);
}

}  // namespace
}  // namespace turnpike
