// GroupCommit: the database writes of one event-loop turn share one COMMIT (one WAL sync), and whatever
// depends on them (responses, room_closed, session kills) waits for it.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "db/sqlite_handles.hpp"
#include "net/event_handles.hpp"

namespace turnpike {

// With grouping on, the first Transaction of a turn opens the connection's group (TransactionStatements)
// and activates an event that libevent runs after the callbacks already due in this turn; that event
// commits the group and then runs the waiters registered meanwhile, in order, with the outcome. With
// grouping off every Transaction commits by itself and waiters run at once. One thread owns it.
class GroupCommit {
 public:
  using Ticket = std::uint64_t;
  using Waiter = std::function<void(bool committed)>;

  GroupCommit(event_base* base, TransactionStatements& transactions, bool grouping);
  ~GroupCommit();  // commits what is still open
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // True while written data waits for the turn's commit.
  bool pending() const { return transactions_.group_open(); }
  // Runs `waiter` after the open group's commit (true) or its rollback (false); returns a ticket for
  // cancel(). Without an open group it runs now with true and returns 0.
  Ticket wait(Waiter waiter);
  // Forgets a waiter that has not run yet (its owner is going away).
  void cancel(Ticket ticket);
  // Runs `action` once the writes made so far are durable; not at all if their commit fails.
  void after_commit(std::function<void()> action);
  // Commits the open group now and runs its waiters (shutdown, tests).
  void commit_now();

 private:
  static void on_commit_event(evutil_socket_t, short, void* self);

  TransactionStatements& transactions_;
  EventPtr commit_event_;
  std::vector<std::pair<Ticket, Waiter>> waiters_;  // of the open group
  std::vector<std::pair<Ticket, Waiter>> running_;  // of the group just committed, while they run
  Ticket next_ticket_ = 1;
};

}  // namespace turnpike
