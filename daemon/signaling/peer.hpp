// A member of the signaling core as the core sees it, whatever transport and dialect carry it.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/address.hpp"

namespace turnpike {

using PeerId = std::uint64_t;

class Peer {
 public:
  virtual ~Peer() = default;
  // Unique among the peers connected now (a connection id).
  virtual PeerId id() const = 0;
  // Where the peer connects from, for logs and per-address limits.
  virtual const IpAddress& address() const = 0;
  // One complete signaling message, in the core's JSON text; the transport frames it.
  virtual void send(std::string_view message) = 0;
  // The core has already forgotten this peer (its seat was taken over, or it went silent): end the
  // transport with `code` (WebSocket close codes) and `reason`, and do not call Signaling::disconnect.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
};

}  // namespace turnpike
