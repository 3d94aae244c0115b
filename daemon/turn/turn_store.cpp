// Per-room TURN credentials and pending session kills in SQLite.
#include "turn/turn_store.hpp"

namespace turnpike {

struct TurnStore::Statements {
  explicit Statements(TransactionStatements& transactions) : tx(transactions) {}
  TransactionStatements& tx;
  Statement newest;
  Statement insert_credential;
  Statement insert_user;
  Statement find_secret;
  Statement delete_room_secret;
  Statement insert_room_secret;
  Statement insert_coturn_secret;
  Statement keep_expired;
  Statement delete_expired;
  Statement list_kills;
  Statement count_kills;
  Statement delete_kill;
  Statement fail_kill;
  Statement add_owner;
  Statement remove_owner;
  Statement remove_owners_of_kind;
};

TurnStore::TurnStore(std::unique_ptr<Statements> statements) : stmts_(std::move(statements)) {}
TurnStore::~TurnStore() = default;

Result<std::unique_ptr<TurnStore>> TurnStore::open(Database& database) {
  auto s = std::make_unique<Statements>(database.transactions());
  struct Sql {
    Statement* target;
    const char* text;
  };
  const Sql all[] = {
      {&s->newest,
       "SELECT username, credential, created_ms, expires_ms FROM turn_credentials "
       "WHERE roomid = ?1 AND slot = ?2 AND expires_ms > ?3 AND realm = ?4 AND mode = ?5 "
       "ORDER BY expires_ms DESC LIMIT 1"},
      {&s->insert_credential,
       "INSERT INTO turn_credentials (username, roomid, slot, realm, mode, credential, created_ms, "
       "expires_ms) "
       "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM turn_owners WHERE ownerid = ?2)"},
      {&s->insert_user, "INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?1, ?2, ?3)"},
      {&s->find_secret, "SELECT secret, realm FROM turn_room_secrets WHERE roomid = ?1"},
      // Its trigger removes the secret from coturn's turn_secret too.
      {&s->delete_room_secret, "DELETE FROM turn_room_secrets WHERE roomid = ?1"},
      {&s->insert_room_secret,
       "INSERT INTO turn_room_secrets (roomid, realm, secret) "
       "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM turn_owners WHERE ownerid = ?1)"},
      {&s->insert_coturn_secret, "INSERT OR IGNORE INTO turn_secret (realm, value) VALUES (?1, ?2)"},
      {&s->keep_expired,
       "INSERT OR IGNORE INTO turn_expired_credentials (username, roomid, expired_ms) "
       "SELECT username, roomid, expires_ms FROM turn_credentials WHERE username IN "
       "(SELECT username FROM turn_credentials WHERE expires_ms <= ?1 ORDER BY expires_ms LIMIT "
       "?2)"},
      {&s->delete_expired,
       "DELETE FROM turn_credentials WHERE username IN "
       "(SELECT username FROM turn_credentials WHERE expires_ms <= ?1 ORDER BY expires_ms LIMIT "
       "?2)"},
      {&s->list_kills,
       "SELECT pattern, exact, reason, attempts FROM turn_pending_kills ORDER BY attempts, created_ms, "
       "pattern "
       "LIMIT ?1"},
      {&s->count_kills, "SELECT value FROM turnpike_row_counts WHERE name = 'turn_pending_kills'"},
      {&s->delete_kill, "DELETE FROM turn_pending_kills WHERE pattern = ?1"},
      {&s->add_owner, "INSERT INTO turn_owners (ownerid, kind, created_ms) VALUES (?1, ?2, ?3)"},
      {&s->remove_owner, "DELETE FROM turn_owners WHERE ownerid = ?1"},
      {&s->remove_owners_of_kind, "DELETE FROM turn_owners WHERE kind = ?1"},
      {&s->fail_kill,
       "UPDATE turn_pending_kills SET attempts = attempts + 1, last_error = ?2 WHERE pattern = ?1"},
  };
  for (const auto& sql : all) {
    auto stmt = Statement::prepare(database.handle(), sql.text);
    if (!stmt) return stmt.error();
    *sql.target = std::move(*stmt);
  }
  return std::unique_ptr<TurnStore>(new TurnStore(std::move(s)));
}

Result<std::optional<TurnCredential>> TurnStore::newest(std::string_view roomid, int slot,
                                                        std::int64_t now_ms, std::string_view realm,
                                                        std::string_view mode) {
  auto run = stmts_->newest.run();
  run.bind_text(1, roomid).bind_int64(2, slot).bind_int64(3, now_ms).bind_text(4, realm).bind_text(5, mode);
  auto row = run.step();
  if (!row) return row.error();
  if (!*row) return std::optional<TurnCredential>{};
  return std::optional<TurnCredential>{
      TurnCredential{run.column_text(0), run.column_text(1), run.column_int64(2), run.column_int64(3)}};
}

// False when the room is gone (nothing written).
static Result<bool> insert_credential(Statement& stmt, std::string_view roomid, int slot,
                                      std::string_view realm, std::string_view mode,
                                      const TurnCredential& c) {
  auto run = stmt.run();
  run.bind_text(1, c.username)
      .bind_text(2, roomid)
      .bind_int64(3, slot)
      .bind_text(4, realm)
      .bind_text(5, mode)
      .bind_text(6, c.credential)
      .bind_int64(7, c.created_ms)
      .bind_int64(8, c.expires_ms);
  if (auto ok = run.run_to_completion(); !ok) return ok.error();
  return run.changes() == 1;
}

Result<bool> TurnStore::insert_long_term(std::string_view roomid, int slot, std::string_view realm,
                                         const TurnCredential& c, std::string_view hmackey) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  auto inserted = insert_credential(stmts_->insert_credential, roomid, slot, realm, "long-term", c);
  if (!inserted || !*inserted) return inserted;  // the room is gone: no coturn row either
  {
    auto run = stmts_->insert_user.run();
    run.bind_text(1, realm).bind_text(2, c.username).bind_text(3, hmackey);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
  }
  if (auto ok = tx->commit(); !ok) return ok.error();
  return true;
}

Result<bool> TurnStore::insert_rest(std::string_view roomid, int slot, std::string_view realm,
                                    const TurnCredential& c) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  auto inserted = insert_credential(stmts_->insert_credential, roomid, slot, realm, "rest", c);
  if (!inserted || !*inserted) return inserted;
  if (auto ok = tx->commit(); !ok) return ok.error();
  return true;
}

Result<std::optional<std::string>> TurnStore::room_secret(std::string_view roomid, std::string_view realm,
                                                          std::string_view new_secret) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  bool replace = false;
  {
    auto run = stmts_->find_secret.run();
    run.bind_text(1, roomid);
    auto row = run.step();
    if (!row) return row.error();
    if (*row && run.column_text(1) == realm) return std::optional<std::string>(run.column_text(0));
    replace = *row;  // a secret of the realm before turn.realm changed: coturn no longer uses it
  }
  if (replace) {
    auto run = stmts_->delete_room_secret.run();
    run.bind_text(1, roomid);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
  }
  {
    auto run = stmts_->insert_room_secret.run();
    run.bind_text(1, roomid).bind_text(2, realm).bind_text(3, new_secret);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
    // The room is gone: no secret, and none in coturn's turn_secret, where it would verify any username.
    if (run.changes() == 0) return std::optional<std::string>{};
  }
  {
    auto run = stmts_->insert_coturn_secret.run();
    run.bind_text(1, realm).bind_text(2, new_secret);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
  }
  if (auto ok = tx->commit(); !ok) return ok.error();
  return std::optional<std::string>(new_secret);
}

Result<std::int64_t> TurnStore::expire(std::int64_t now_ms, std::int64_t limit) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    auto run = stmts_->keep_expired.run();
    run.bind_int64(1, now_ms).bind_int64(2, limit);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
  }
  std::int64_t expired = 0;
  {
    auto run = stmts_->delete_expired.run();
    run.bind_int64(1, now_ms).bind_int64(2, limit);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
    expired = run.changes();
  }
  if (auto ok = tx->commit(); !ok) return ok.error();
  return expired;
}

Result<std::vector<PendingKill>> TurnStore::pending_kills(std::int64_t limit) {
  std::vector<PendingKill> out;
  auto run = stmts_->list_kills.run();
  run.bind_int64(1, limit);
  while (true) {
    auto row = run.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({run.column_text(0), run.column_int64(1) != 0, run.column_text(2), run.column_int64(3)});
  }
  return out;
}

Result<std::int64_t> TurnStore::pending_kill_count() {
  auto run = stmts_->count_kills.run();
  auto row = run.step();
  if (!row) return row.error();
  return *row ? run.column_int64(0) : 0;
}

Result<void> TurnStore::add_owner(std::string_view ownerid, std::string_view kind, std::int64_t now_ms) {
  auto run = stmts_->add_owner.run();
  run.bind_text(1, ownerid).bind_text(2, kind).bind_int64(3, now_ms);
  return run.run_to_completion();
}

Result<void> TurnStore::remove_owner(std::string_view ownerid) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    auto run = stmts_->remove_owner.run();
    run.bind_text(1, ownerid);
    if (auto ok = run.run_to_completion(); !ok) return ok;
  }
  return tx->commit();
}

Result<std::int64_t> TurnStore::remove_owners_of_kind(std::string_view kind) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  std::int64_t removed = 0;
  {
    auto run = stmts_->remove_owners_of_kind.run();
    run.bind_text(1, kind);
    if (auto ok = run.run_to_completion(); !ok) return ok.error();
    removed = run.changes();
  }
  if (auto committed = tx->commit(); !committed) return committed.error();
  return removed;
}

Result<void> TurnStore::kill_done(std::string_view pattern) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    auto run = stmts_->delete_kill.run();
    run.bind_text(1, pattern);
    if (auto ok = run.run_to_completion(); !ok) return ok;
  }
  return tx->commit();
}

Result<void> TurnStore::kill_failed(std::string_view pattern, std::string_view error) {
  auto tx = Transaction::begin(stmts_->tx);
  if (!tx) return tx.error();
  {
    auto run = stmts_->fail_kill.run();
    run.bind_text(1, pattern).bind_text(2, error);
    if (auto ok = run.run_to_completion(); !ok) return ok;
  }
  return tx->commit();
}

}  // namespace turnpike
