// GroupCommit: the database writes of one event-loop turn share one COMMIT (one WAL sync), and whatever
// depends on them (responses, room_closed, session kills) waits for it to be durable.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "db/sqlite_handles.hpp"
#include "db/wal_syncer.hpp"
#include "net/event_handles.hpp"

namespace turnpike {

// With grouping on, the first Transaction of a turn opens the connection's group (TransactionStatements)
// and activates an event that libevent runs after the callbacks already due in this turn; that event
// commits the group. Its waiters then run, in order, with the outcome: at once, or, with a WalSyncer, once
// the syncer reports the commit durable (the loop goes on meanwhile). With grouping off every Transaction
// commits by itself and waiters run at once. One thread owns it.
class GroupCommit {
 public:
  using Ticket = std::uint64_t;
  using Waiter = std::function<void(bool committed)>;

  GroupCommit(event_base* base, TransactionStatements& transactions, bool grouping,
              std::unique_ptr<WalSyncer> syncer = nullptr);
  ~GroupCommit();  // commits what is still open and makes it durable
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // True while written data waits for the turn's commit or for that commit to be durable.
  bool pending() const { return transactions_.group_open() || durable_ < committed_; }
  // Runs `waiter` once the open group's commit is durable (true) or rolled back (false), or, without an
  // open group, once the last commit is durable; returns a ticket for cancel(). When nothing waits for a
  // commit it runs now with true and returns 0.
  Ticket wait(Waiter waiter);
  // Forgets a waiter that has not run yet (its owner is going away).
  void cancel(Ticket ticket);
  // Runs `action` once the writes made so far are durable; not at all if their commit fails.
  void after_commit(std::function<void()> action);
  // Commits the open group now; its waiters run when it is durable (at once without a syncer).
  void commit_now();
  // Commits the open group and makes every commit durable on this thread, then runs the waiters
  // (shutdown, tests).
  void flush();

 private:
  struct Waiting {
    Ticket ticket;
    std::uint64_t commit;  // the number of the commit it waits for
    Waiter waiter;
  };
  static void on_commit_event(evutil_socket_t, short, void* self);
  void on_durable(std::uint64_t through);
  // Takes the waiters for commits [first, last] out of the list and runs them with `committed`.
  void run_waiters(std::uint64_t first, std::uint64_t last, bool committed);

  TransactionStatements& transactions_;
  EventPtr commit_event_;
  std::unique_ptr<WalSyncer> syncer_;
  std::vector<Waiting> waiters_;  // in the order of their commit numbers
  std::vector<Waiting> running_;  // taken out of waiters_, while they run
  std::uint64_t committed_ = 0;   // commits made so far
  std::uint64_t durable_ = 0;     // commits known to be on disk
  Ticket next_ticket_ = 1;
};

}  // namespace turnpike
