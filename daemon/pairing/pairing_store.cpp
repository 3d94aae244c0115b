// PairingStore: pending join codes and rooms of the pairing API in SQLite (WAL, prepared statements only).
#include "pairing/pairing_store.hpp"

#include <utility>

namespace turnpike {

struct PairingStore::Statements {
  explicit Statements(TransactionStatements& transactions) : tx(transactions) {}
  TransactionStatements& tx;

  Statement delete_dead_pending;
  Statement insert_pending;
  Statement find_live_pending;
  Statement mark_accepted;
  Statement insert_room;
  Statement find_pending_of_client1;
  Statement delete_pending;
  Statement find_room;
  Statement list_rooms;
  Statement touch_room;
  Statement delete_room;
  Statement select_purged_rooms;
  Statement purge_rooms;
  Statement purge_pendings;
  Statement delete_expired_pendings;
  Statement select_idle_rooms;
  Statement delete_idle_rooms;
  Statement counts;
  Statement live_pending_count;
  Statement rooms_of_client;
  Statement live_pendings_of_creator;
  Statement room_count;

  static Result<std::unique_ptr<Statements>> prepare(Database& database);
};

namespace {

// Device ids reach the purge statements as ONE bound parameter holding a JSON array of strings, read back
// with json_each(?1); the ids never become part of the SQL text.
constexpr std::string_view kDevicesMatch =
    "client1 IN (SELECT value FROM json_each(?1)) OR client2 IN (SELECT value FROM json_each(?1))";

std::string json_string_array(const std::vector<std::string>& items) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    out += '"';
    for (char ch : items[i]) {
      const auto byte = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (byte < 0x20) {
        out += "\\u00";
        out += kHex[byte >> 4];
        out += kHex[byte & 0x0f];
      } else {
        out += ch;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

}  // namespace

Result<std::unique_ptr<PairingStore>> PairingStore::open(Database& database) {
  Result<std::unique_ptr<Statements>> statements = Statements::prepare(database);
  if (!statements) return statements.error();
  return std::make_unique<PairingStore>(ConstructionKey{}, std::move(statements).value());
}

PairingStore::PairingStore(ConstructionKey, std::unique_ptr<Statements> statements)
    : stmts_(std::move(statements)) {}

PairingStore::~PairingStore() = default;

Result<std::unique_ptr<PairingStore::Statements>> PairingStore::Statements::prepare(Database& database) {
  auto s = std::make_unique<Statements>(database.transactions());

  const std::string devices_match(kDevicesMatch);
  const std::pair<Statement*, std::string> table[] = {
      {&s->delete_dead_pending, "DELETE FROM pendings WHERE joinid = ?1 AND exp_ms <= ?2"},
      {&s->insert_pending,
       "INSERT INTO pendings(joinid, client1, client2, roomid, exp_ms, created_ms, creator) "
       "VALUES (?1, ?2, NULL, NULL, ?3, ?4, ?5) ON CONFLICT(joinid) DO NOTHING"},
      {&s->find_live_pending,
       "SELECT client1, client2 IS NOT NULL FROM pendings WHERE joinid = ?1 AND exp_ms > ?2"},
      {&s->mark_accepted,
       "UPDATE pendings SET client2 = ?2, roomid = ?3 WHERE joinid = ?1 AND client2 IS NULL"},
      {&s->insert_room,
       "INSERT INTO rooms(roomid, client1, client2, created_ms, last_active_ms) VALUES (?1, ?2, ?3, ?4, ?4)"},
      {&s->find_pending_of_client1,
       "SELECT client2 IS NOT NULL, roomid FROM pendings WHERE joinid = ?1 AND client1 = ?2 AND exp_ms > ?3"},
      {&s->delete_pending, "DELETE FROM pendings WHERE joinid = ?1"},
      {&s->find_room,
       "SELECT roomid, client1, client2, created_ms, last_active_ms FROM rooms WHERE roomid = ?1"},
      {&s->list_rooms,
       "SELECT roomid, client1, client2, created_ms, last_active_ms FROM rooms ORDER BY created_ms, roomid "
       "LIMIT ?1"},
      {&s->touch_room, "UPDATE rooms SET last_active_ms = ?2 WHERE roomid = ?1"},
      {&s->delete_room, "DELETE FROM rooms WHERE roomid = ?1"},
      {&s->select_purged_rooms, "SELECT roomid FROM rooms WHERE " + devices_match + " ORDER BY roomid"},
      {&s->purge_rooms, "DELETE FROM rooms WHERE " + devices_match},
      {&s->purge_pendings, "DELETE FROM pendings WHERE " + devices_match},
      {&s->delete_expired_pendings,
       "DELETE FROM pendings WHERE joinid IN "
       "(SELECT joinid FROM pendings WHERE exp_ms <= ?1 ORDER BY exp_ms LIMIT ?2)"},
      {&s->select_idle_rooms,
       "SELECT roomid FROM rooms WHERE last_active_ms < ?1 ORDER BY last_active_ms LIMIT ?2"},
      {&s->delete_idle_rooms,
       "DELETE FROM rooms WHERE roomid IN "
       "(SELECT roomid FROM rooms WHERE last_active_ms < ?1 ORDER BY last_active_ms LIMIT ?2)"},
      {&s->counts,
       "SELECT (SELECT count(*) FROM pendings WHERE exp_ms > ?1), "
       "(SELECT value FROM turnpike_row_counts WHERE name = 'rooms')"},
      {&s->live_pending_count, "SELECT count(*) FROM pendings WHERE exp_ms > ?1"},
      // Stops at the cap (?2), so it reads at most that many index entries.
      {&s->rooms_of_client,
       "SELECT count(*) FROM (SELECT 1 FROM rooms WHERE client1 = ?1 UNION ALL "
       "SELECT 1 FROM rooms WHERE client2 = ?1 AND client1 <> ?1 LIMIT ?2)"},
      // Stops at the cap (?3) too.
      {&s->live_pendings_of_creator,
       "SELECT count(*) FROM (SELECT 1 FROM pendings WHERE creator = ?1 AND exp_ms > ?2 LIMIT ?3)"},
      {&s->room_count, "SELECT value FROM turnpike_row_counts WHERE name = 'rooms'"},
  };
  for (const auto& [target, sql] : table) {
    Result<Statement> stmt = Statement::prepare(database.handle(), sql);
    if (!stmt) return stmt.error();
    *target = std::move(stmt).value();
  }
  return s;
}

Result<CreateOutcome> PairingStore::create_pending(std::string_view joinid, std::string_view client1,
                                                   std::int64_t now_ms, std::int64_t exp_ms,
                                                   std::string_view creator,
                                                   std::int64_t max_live_per_creator) {
  if (exp_ms <= now_ms) return make_error("create_pending: exp_ms must be after now_ms");
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  if (!creator.empty() && max_live_per_creator > 0) {
    Result<bool> full = creator_has_most_pendings(creator, now_ms, max_live_per_creator);
    if (!full) return full.error();
    if (*full) return CreateOutcome::too_many_for_creator;
  }
  {
    Statement::Run run = stmts_->delete_dead_pending.run();
    run.bind_text(1, joinid).bind_int64(2, now_ms);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
  }
  bool inserted = false;
  {
    Statement::Run run = stmts_->insert_pending.run();
    run.bind_text(1, joinid).bind_text(2, client1).bind_int64(3, exp_ms).bind_int64(4, now_ms);
    if (!creator.empty()) run.bind_text(5, creator);  // unbound: NULL
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    inserted = run.changes() == 1;  // 0: the row that is still there is live
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return inserted ? CreateOutcome::created : CreateOutcome::conflict;
}

Result<bool> PairingStore::client_has_most_rooms(std::string_view client, std::int64_t max_rooms) {
  Statement::Run run = stmts_->rooms_of_client.run();
  run.bind_text(1, client).bind_int64(2, max_rooms);
  Result<bool> row = run.step();
  if (!row) return row.error();
  return *row && run.column_int64(0) >= max_rooms;
}

Result<bool> PairingStore::creator_has_most_pendings(std::string_view creator, std::int64_t now_ms,
                                                     std::int64_t max_live) {
  Statement::Run run = stmts_->live_pendings_of_creator.run();
  run.bind_text(1, creator).bind_int64(2, now_ms).bind_int64(3, max_live);
  Result<bool> row = run.step();
  if (!row) return row.error();
  return *row && run.column_int64(0) >= max_live;
}

Result<AcceptOutcome> PairingStore::accept(std::string_view joinid, std::string_view client2,
                                           std::int64_t now_ms, std::string_view new_roomid,
                                           std::int64_t max_rooms_per_client) {
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  std::string client1;
  {
    Statement::Run run = stmts_->find_live_pending.run();
    run.bind_text(1, joinid).bind_int64(2, now_ms);
    Result<bool> row = run.step();
    if (!row) return row.error();
    if (!*row) return AcceptOutcome{AcceptOutcome::Kind::not_found, {}};
    if (run.column_int64(1) != 0) return AcceptOutcome{AcceptOutcome::Kind::conflict, {}};
    client1 = run.column_text(0);
  }
  if (max_rooms_per_client > 0) {
    for (std::string_view client : {std::string_view(client1), client2}) {
      Result<bool> full = client_has_most_rooms(client, max_rooms_per_client);
      if (!full) return full.error();
      if (*full) return AcceptOutcome{AcceptOutcome::Kind::too_many_rooms, {}};
    }
  }
  {
    Statement::Run run = stmts_->mark_accepted.run();
    run.bind_text(1, joinid).bind_text(2, client2).bind_text(3, new_roomid);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    if (run.changes() != 1)
      return make_error("accept: pending " + std::string(joinid) + " changed unexpectedly");
  }
  {
    Statement::Run run = stmts_->insert_room.run();
    run.bind_text(1, new_roomid).bind_text(2, client1).bind_text(3, client2).bind_int64(4, now_ms);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return AcceptOutcome{AcceptOutcome::Kind::accepted, std::string(new_roomid)};
}

Result<CheckOutcome> PairingStore::check(std::string_view joinid, std::string_view client1,
                                         std::int64_t now_ms) {
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  std::string roomid;
  {
    Statement::Run run = stmts_->find_pending_of_client1.run();
    run.bind_text(1, joinid).bind_text(2, client1).bind_int64(3, now_ms);
    Result<bool> row = run.step();
    if (!row) return row.error();
    if (!*row) return CheckOutcome{CheckOutcome::Kind::not_found, {}};
    if (run.column_int64(0) == 0) return CheckOutcome{CheckOutcome::Kind::waiting, {}};
    roomid = run.column_text(1);
  }
  // The answer is the room accept created for THIS join code, as remembered on the pending, never a lookup by
  // device pair (which could find an older room of the same two devices). If that room has been deleted or
  // purged since, this is still "ready" with its id: the id is what client2 was given, and joining a room
  // that no longer exists fails in the signaling layer for both devices alike.
  {
    Statement::Run run = stmts_->delete_pending.run();
    run.bind_text(1, joinid);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return CheckOutcome{CheckOutcome::Kind::ready, std::move(roomid)};
}

Result<std::optional<RoomRow>> PairingStore::find_room(std::string_view roomid) {
  Statement::Run run = stmts_->find_room.run();
  run.bind_text(1, roomid);
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return std::optional<RoomRow>();
  return std::optional<RoomRow>(RoomRow{run.column_text(0), run.column_text(1), run.column_text(2),
                                        run.column_int64(3), run.column_int64(4)});
}

Result<std::vector<RoomRow>> PairingStore::list_rooms(std::int64_t limit) {
  Statement::Run run = stmts_->list_rooms.run();
  run.bind_int64(1, limit);
  std::vector<RoomRow> rooms;
  while (true) {
    Result<bool> row = run.step();
    if (!row) return row.error();
    if (!*row) return rooms;
    rooms.push_back(RoomRow{run.column_text(0), run.column_text(1), run.column_text(2), run.column_int64(3),
                            run.column_int64(4)});
  }
}

Result<void> PairingStore::touch_room(std::string_view roomid, std::int64_t now_ms) {
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    Statement::Run run = stmts_->touch_room.run();
    run.bind_text(1, roomid).bind_int64(2, now_ms);
    if (Result<void> done = run.run_to_completion(); !done) return done;
  }
  return tx->commit();
}

Result<bool> PairingStore::delete_room(std::string_view roomid) {
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  bool deleted = false;
  {
    Statement::Run run = stmts_->delete_room.run();
    run.bind_text(1, roomid);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    deleted = run.changes() > 0;
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return deleted;
}

Result<PurgeOutcome> PairingStore::purge_devices(const std::vector<std::string>& device_ids) {
  const std::string ids_json = json_string_array(device_ids);
  PurgeOutcome outcome;
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    Statement::Run run = stmts_->select_purged_rooms.run();
    run.bind_text(1, ids_json);
    for (;;) {
      Result<bool> row = run.step();
      if (!row) return row.error();
      if (!*row) break;
      outcome.deleted_roomids.push_back(run.column_text(0));
    }
  }
  {
    Statement::Run run = stmts_->purge_rooms.run();
    run.bind_text(1, ids_json);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    outcome.rooms_deleted = run.changes();
  }
  {
    Statement::Run run = stmts_->purge_pendings.run();
    run.bind_text(1, ids_json);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    outcome.pendings_deleted = run.changes();
  }
  if (outcome.rooms_deleted != static_cast<std::int64_t>(outcome.deleted_roomids.size())) {
    return make_error("purge: selected " + std::to_string(outcome.deleted_roomids.size()) +
                      " rooms but deleted " + std::to_string(outcome.rooms_deleted));
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return outcome;
}

Result<std::int64_t> PairingStore::delete_expired_pendings(std::int64_t now_ms, std::int64_t limit) {
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  std::int64_t deleted = 0;
  {
    Statement::Run run = stmts_->delete_expired_pendings.run();
    run.bind_int64(1, now_ms).bind_int64(2, limit);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    deleted = run.changes();
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return deleted;
}

Result<std::vector<std::string>> PairingStore::delete_idle_rooms(std::int64_t idle_before_ms,
                                                                 std::int64_t limit) {
  std::vector<std::string> roomids;
  Result<Transaction> tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    Statement::Run run = stmts_->select_idle_rooms.run();
    run.bind_int64(1, idle_before_ms).bind_int64(2, limit);
    for (;;) {
      Result<bool> row = run.step();
      if (!row) return row.error();
      if (!*row) break;
      roomids.push_back(run.column_text(0));
    }
  }
  {
    Statement::Run run = stmts_->delete_idle_rooms.run();
    run.bind_int64(1, idle_before_ms).bind_int64(2, limit);
    if (Result<void> done = run.run_to_completion(); !done) return done.error();
    if (run.changes() != static_cast<std::int64_t>(roomids.size())) {
      return make_error("delete_idle_rooms: selected " + std::to_string(roomids.size()) +
                        " rooms but deleted " + std::to_string(run.changes()));
    }
  }
  if (Result<void> committed = tx->commit(); !committed) return committed.error();
  return roomids;
}

Result<StoreCounts> PairingStore::counts(std::int64_t now_ms) {
  Statement::Run run = stmts_->counts.run();
  run.bind_int64(1, now_ms);
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return make_error("counts: no row");
  return StoreCounts{run.column_int64(0), run.column_int64(1)};
}

Result<std::int64_t> PairingStore::room_count() {
  Statement::Run run = stmts_->room_count.run();
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return make_error("room_count: no row");
  return run.column_int64(0);
}

Result<std::int64_t> PairingStore::live_pending_count(std::int64_t now_ms) {
  Statement::Run run = stmts_->live_pending_count.run();
  run.bind_int64(1, now_ms);
  Result<bool> row = run.step();
  if (!row) return row.error();
  if (!*row) return make_error("live_pending_count: no row");
  return run.column_int64(0);
}

}  // namespace turnpike
