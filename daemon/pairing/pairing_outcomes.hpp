// The rows and outcomes of pairing operations, the same for every store backend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace turnpike {

struct RoomRow {
  std::string roomid, client1, client2;
  std::int64_t created_ms, last_active_ms;
};

// too_many_for_creator: the creating address already has its most live codes (nothing changed).
enum class CreateOutcome { created, conflict, too_many_for_creator };

struct AcceptOutcome {
  // too_many_rooms: client1 or client2 is already in its most rooms (nothing changed).
  enum class Kind { accepted, not_found, conflict, too_many_rooms } kind;
  std::string roomid;  // set when accepted
};

struct CheckOutcome {
  enum class Kind { not_found, waiting, ready } kind;
  std::string roomid;  // set when ready
};

struct PurgeOutcome {
  std::int64_t rooms_deleted = 0, pendings_deleted = 0;
  std::vector<std::string> deleted_roomids;
};

struct StoreCounts {
  std::int64_t pendings = 0, rooms = 0;  // pendings counts live ones only
};

}  // namespace turnpike
