// PairingRepository: the storage operations the pairing API uses, each completing through a callback, so a
// backend may answer at once (SQLite) or in a later loop turn (PostgreSQL on libpq's asynchronous API).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "pairing/pairing_outcomes.hpp"

namespace turnpike {

// Every operation takes its inputs by value and reports through `done`, which a backend calls exactly once:
// during the call or in a later turn of the event loop. Callers must not assume that anything stays valid
// until then except what `done` captured by value (objects that outlive the loop, such as the API itself
// and the Config, excepted). A backend destroyed with operations in flight drops their completions without
// calling them. Failures come back as Error (message for the log); nothing throws. All times are Unix epoch
// milliseconds supplied by the caller; a pending is live iff exp_ms > now_ms. One thread owns a repository.
class PairingRepository {
 public:
  virtual ~PairingRepository() = default;

  // A new pending for joinid, created from the client address `creator`. An expired row with the same joinid
  // is replaced; a live one gives conflict and stays as it was. When max_live_per_creator > 0 and `creator`
  // already has that many live pendings: too_many_for_creator, nothing changes. exp_ms must be after now_ms.
  virtual void create_pending(std::string joinid, std::string client1, std::string creator,
                              std::int64_t now_ms, std::int64_t exp_ms, std::int64_t max_live_per_creator,
                              Done<CreateOutcome> done) = 0;
  // Accepts a live, not yet accepted pending: records client2 and new_roomid and creates the room.
  // Already accepted: conflict, nothing changes. No live pending: not_found. When client1 or client2 is
  // already a member of max_rooms_per_client rooms (0 = no cap): too_many_rooms, nothing changes.
  virtual void accept(std::string joinid, std::string client2, std::int64_t now_ms, std::string new_roomid,
                      std::int64_t max_rooms_per_client, Done<AcceptOutcome> done) = 0;
  // For a live pending with this joinid AND client1: waiting until accepted; then ready with its roomid, and
  // the pending is deleted. Anything else: not_found.
  virtual void check(std::string joinid, std::string client1, std::int64_t now_ms,
                     Done<CheckOutcome> done) = 0;

  virtual void find_room(std::string roomid, Done<std::optional<RoomRow>> done) = 0;
  // Marks the room active at now_ms; no-op if absent.
  virtual void touch_room(std::string roomid, std::int64_t now_ms, Done<void> done) = 0;
  // touch_room for each of roomids; every room is tried, and the first failure is reported.
  virtual void touch_rooms(std::vector<std::string> roomids, std::int64_t now_ms, Done<void> done) = 0;
  // True if a room was deleted.
  virtual void delete_room(std::string roomid, Done<bool> done) = 0;
  // Deletes every room and every pending in which any of device_ids is client1 or client2, all or nothing.
  virtual void purge_devices(std::vector<std::string> device_ids, Done<PurgeOutcome> done) = 0;

  virtual void live_pending_count(std::int64_t now_ms, Done<std::int64_t> done) = 0;
  // At most `limit` pendings with exp_ms <= now_ms, oldest first; the number deleted.
  virtual void delete_expired_pendings(std::int64_t now_ms, std::int64_t limit, Done<std::int64_t> done) = 0;
  // At most `limit` rooms with last_active_ms < idle_before_ms, longest idle first; the ids deleted.
  virtual void delete_idle_rooms(std::int64_t idle_before_ms, std::int64_t limit,
                                 Done<std::vector<std::string>> done) = 0;

  // Runs `action` once the writes completed so far are durable; not at all if they are rolled back.
  virtual void after_commit(std::function<void()> action) = 0;
};

}  // namespace turnpike
