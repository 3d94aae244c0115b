// The pairing repository on SQLite: each operation runs on PairingStore and completes at once.
#include "pairing/sqlite_pairing_repository.hpp"

#include <utility>

#include "db/group_commit.hpp"
#include "pairing/pairing_store.hpp"

namespace turnpike {

void SqlitePairingRepository::create_pending(std::string joinid, std::string client1, std::string creator,
                                             std::int64_t now_ms, std::int64_t exp_ms,
                                             std::int64_t max_live_per_creator, Done<CreateOutcome> done) {
  done(store_.create_pending(joinid, client1, now_ms, exp_ms, creator, max_live_per_creator));
}

void SqlitePairingRepository::accept(std::string joinid, std::string client2, std::int64_t now_ms,
                                     std::string new_roomid, std::int64_t max_rooms_per_client,
                                     Done<AcceptOutcome> done) {
  done(store_.accept(joinid, client2, now_ms, new_roomid, max_rooms_per_client));
}

void SqlitePairingRepository::check(std::string joinid, std::string client1, std::int64_t now_ms,
                                    Done<CheckOutcome> done) {
  done(store_.check(joinid, client1, now_ms));
}

void SqlitePairingRepository::find_room(std::string roomid, Done<std::optional<RoomRow>> done) {
  done(store_.find_room(roomid));
}

void SqlitePairingRepository::touch_room(std::string roomid, std::int64_t now_ms, Done<void> done) {
  done(store_.touch_room(roomid, now_ms));
}

void SqlitePairingRepository::touch_rooms(std::vector<std::string> roomids, std::int64_t now_ms,
                                          Done<void> done) {
  Result<void> outcome;
  for (const auto& roomid : roomids) {
    if (auto touched = store_.touch_room(roomid, now_ms); !touched && outcome) outcome = touched.error();
  }
  done(std::move(outcome));
}

void SqlitePairingRepository::delete_room(std::string roomid, Done<bool> done) {
  done(store_.delete_room(roomid));
}

void SqlitePairingRepository::purge_devices(std::vector<std::string> device_ids, Done<PurgeOutcome> done) {
  done(store_.purge_devices(device_ids));
}

void SqlitePairingRepository::live_pending_count(std::int64_t now_ms, Done<std::int64_t> done) {
  done(store_.live_pending_count(now_ms));
}

void SqlitePairingRepository::delete_expired_pendings(std::int64_t now_ms, std::int64_t limit,
                                                      Done<std::int64_t> done) {
  done(store_.delete_expired_pendings(now_ms, limit));
}

void SqlitePairingRepository::delete_idle_rooms(std::int64_t idle_before_ms, std::int64_t limit,
                                                Done<std::vector<std::string>> done) {
  done(store_.delete_idle_rooms(idle_before_ms, limit));
}

void SqlitePairingRepository::after_commit(std::function<void()> action) {
  commits_.after_commit(std::move(action));
}

}  // namespace turnpike
