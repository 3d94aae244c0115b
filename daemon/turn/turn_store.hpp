// TurnStore: per-room TURN credentials in the shared SQLite file, written in coturn's own tables
// (turnusers_lt / turn_secret), and the queue of live sessions still to be ended through coturn's CLI.
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

namespace turnpike {

struct TurnCredential {
  std::string username;
  std::string credential;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

struct PendingKill {
  std::string pattern;  // a username (exact); only rows queued before migration 005 hold a room id (partial)
  bool exact = false;
  std::string reason;
  std::int64_t attempts = 0;
};

class TurnStore {
 public:
  // Prepares statements on the database's connection (already migrated); writes go through its shared
  // transaction statements. The Database must outlive the store.
  static Result<std::unique_ptr<TurnStore>> open(Database& database);
  ~TurnStore();

  // The newest credential of (room, slot) that is still valid at now_ms and was issued under this realm and
  // mode (one issued before turn.realm or turn.mode changed is refused by coturn now).
  Result<std::optional<TurnCredential>> newest(std::string_view roomid, int slot, std::int64_t now_ms,
                                               std::string_view realm, std::string_view mode);
  // The writes below take the room from the rows visible now, in the same statement: when its row is gone
  // (deleted earlier in this group commit, or by a sweep) they write nothing and answer false / nullopt.
  // long-term: the credential row and coturn's turnusers_lt row, in one transaction.
  Result<bool> insert_long_term(std::string_view roomid, int slot, std::string_view realm,
                                const TurnCredential& c, std::string_view hmackey);
  // rest: the credential row; the room's secret must exist (room_secret).
  Result<bool> insert_rest(std::string_view roomid, int slot, std::string_view realm,
                           const TurnCredential& c);
  // rest: the room's secret for `realm`, created (and mirrored into coturn's turn_secret) on first use, and
  // replaced when it was made for another realm (turn.realm changed).
  Result<std::optional<std::string>> room_secret(std::string_view roomid, std::string_view realm,
                                                 std::string_view new_secret);
  // Moves the `limit` oldest credentials that expired at or before now_ms to turn_expired_credentials, in one
  // transaction: their coturn rows go (by trigger), so coturn refuses new allocations with them, while
  // relays already allocated go on until their room ends (its delete queues their kills). Returns how many
  // expired (less than limit: none is left).
  Result<std::int64_t> expire(std::int64_t now_ms, std::int64_t limit);

  // Owners of credentials besides pairing rooms (which own theirs from insert to delete, by trigger): one
  // user of a Socket.IO session is the owner kind "session_member". Removing an owner revokes its credentials
  // and queues the kills of their relays. remove_owners_of_kind returns how many went.
  Result<void> add_owner(std::string_view ownerid, std::string_view kind, std::int64_t now_ms);
  Result<void> remove_owner(std::string_view ownerid);
  Result<std::int64_t> remove_owners_of_kind(std::string_view kind);

  // The oldest `limit` queued kills.
  Result<std::vector<PendingKill>> pending_kills(std::int64_t limit);
  Result<std::int64_t> pending_kill_count();
  Result<void> kill_done(std::string_view pattern);
  Result<void> kill_failed(std::string_view pattern, std::string_view error);

 private:
  struct Statements;
  explicit TurnStore(std::unique_ptr<Statements> statements);
  std::unique_ptr<Statements> stmts_;
};

}  // namespace turnpike
