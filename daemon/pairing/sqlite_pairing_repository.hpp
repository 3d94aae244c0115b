// SqlitePairingRepository: the pairing repository on SQLite; every operation completes during the call, and
// its writes are durable at the turn's group commit.
#pragma once

#include "pairing/pairing_repository.hpp"

namespace turnpike {

class GroupCommit;
class PairingStore;

// Runs each operation on the synchronous PairingStore and calls `done` before returning. The store and the
// group commit must outlive it.
class SqlitePairingRepository final : public PairingRepository {
 public:
  SqlitePairingRepository(PairingStore& store, GroupCommit& commits) : store_(store), commits_(commits) {}

  void create_pending(std::string joinid, std::string client1, std::string creator, std::int64_t now_ms,
                      std::int64_t exp_ms, std::int64_t max_live_per_creator,
                      Done<CreateOutcome> done) override;
  void accept(std::string joinid, std::string client2, std::int64_t now_ms, std::string new_roomid,
              std::int64_t max_rooms_per_client, Done<AcceptOutcome> done) override;
  void check(std::string joinid, std::string client1, std::int64_t now_ms, Done<CheckOutcome> done) override;
  void find_room(std::string roomid, Done<std::optional<RoomRow>> done) override;
  void touch_room(std::string roomid, std::int64_t now_ms, Done<void> done) override;
  void touch_rooms(std::vector<std::string> roomids, std::int64_t now_ms, Done<void> done) override;
  void delete_room(std::string roomid, Done<bool> done) override;
  void purge_devices(std::vector<std::string> device_ids, Done<PurgeOutcome> done) override;
  void live_pending_count(std::int64_t now_ms, Done<std::int64_t> done) override;
  void delete_expired_pendings(std::int64_t now_ms, std::int64_t limit, Done<std::int64_t> done) override;
  void delete_idle_rooms(std::int64_t idle_before_ms, std::int64_t limit,
                         Done<std::vector<std::string>> done) override;
  // GroupCommit::after_commit: after the turn's COMMIT.
  void after_commit(std::function<void()> action) override;

 private:
  PairingStore& store_;
  GroupCommit& commits_;
};

}  // namespace turnpike
