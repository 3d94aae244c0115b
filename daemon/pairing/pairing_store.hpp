// PairingStore: pending join codes and rooms of the pairing API in SQLite (WAL, prepared statements only).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "db/database.hpp"
#include "db/sqlite_handles.hpp"
#include "pairing/pairing_outcomes.hpp"

namespace turnpike {

// All times are Unix epoch milliseconds supplied by the caller. A pending is live iff exp_ms > now_ms.
// Every operation that runs more than one statement does so in one BEGIN IMMEDIATE transaction that is rolled
// back on any failure. SQLite failures come back as Error (message for the log); nothing throws.
// One thread owns a store; the Database must outlive it.
class PairingStore {
 public:
  // Prepares every statement on the database's connection (already migrated); writes go through its shared
  // transaction statements.
  static Result<std::unique_ptr<PairingStore>> open(Database& database);

 private:
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };
  struct Statements;

 public:
  // Only open() can call this (the key is private).
  PairingStore(ConstructionKey, std::unique_ptr<Statements> statements);
  PairingStore(const PairingStore&) = delete;
  PairingStore& operator=(const PairingStore&) = delete;
  ~PairingStore();

  // A new pending for joinid, created from the client address `creator` (empty: none recorded). An expired
  // row with the same joinid is replaced; a live one gives conflict and stays as it was. When
  // max_live_per_creator > 0 and `creator` already has that many live pendings: too_many_for_creator, nothing
  // changes. exp_ms must be after now_ms.
  Result<CreateOutcome> create_pending(std::string_view joinid, std::string_view client1, std::int64_t now_ms,
                                       std::int64_t exp_ms, std::string_view creator = {},
                                       std::int64_t max_live_per_creator = 0);

  // Accepts a live, not yet accepted pending: records client2 and new_roomid on it and creates the room
  // (created_ms = last_active_ms = now_ms). Already accepted: conflict, nothing changes. No live pending:
  // not_found. When max_rooms_per_client > 0 and client1 or client2 is already a member of that many rooms:
  // too_many_rooms, nothing changes.
  Result<AcceptOutcome> accept(std::string_view joinid, std::string_view client2, std::int64_t now_ms,
                               std::string_view new_roomid, std::int64_t max_rooms_per_client = 0);

  // For a live pending with this joinid AND client1: waiting until accepted; then ready with the roomid that
  // accept stored on this pending, and the pending is deleted. Anything else: not_found.
  Result<CheckOutcome> check(std::string_view joinid, std::string_view client1, std::int64_t now_ms);

  Result<std::optional<RoomRow>> find_room(std::string_view roomid);
  // Rooms in creation order, at most `limit` of them (for the admin API).
  Result<std::vector<RoomRow>> list_rooms(std::int64_t limit);
  Result<void> touch_room(std::string_view roomid, std::int64_t now_ms);  // no-op if absent
  Result<bool> delete_room(std::string_view roomid);                      // true if a row was deleted

  // Deletes, in one transaction, every room and every pending in which any of device_ids is client1 or
  // client2. Duplicate ids are harmless; the counts are rows actually deleted.
  Result<PurgeOutcome> purge_devices(const std::vector<std::string>& device_ids);

  // The oldest `limit` pendings with exp_ms <= now_ms; the number deleted (less than limit: none is left).
  Result<std::int64_t> delete_expired_pendings(std::int64_t now_ms, std::int64_t limit);
  // The `limit` longest idle rooms with last_active_ms < idle_before_ms (their TURN rows go by trigger).
  Result<std::vector<std::string>> delete_idle_rooms(std::int64_t idle_before_ms, std::int64_t limit);

  Result<StoreCounts> counts(std::int64_t now_ms);
  // The number of rooms, read from the row-count table (O(1), for the public /health).
  Result<std::int64_t> room_count();
  Result<std::int64_t> live_pending_count(std::int64_t now_ms);

 private:
  // True when `client` is client1 or client2 of at least max_rooms rooms (reads at most max_rooms entries).
  Result<bool> client_has_most_rooms(std::string_view client, std::int64_t max_rooms);
  // True when `creator` created at least max_live pendings that are live at now_ms (reads at most max_live).
  Result<bool> creator_has_most_pendings(std::string_view creator, std::int64_t now_ms,
                                         std::int64_t max_live);

  std::unique_ptr<Statements> stmts_;
};

}  // namespace turnpike
