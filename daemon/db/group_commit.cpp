// GroupCommit: one COMMIT per event-loop turn for all of that turn's writes.
#include "db/group_commit.hpp"

#include <utility>

#include "core/callback_guard.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"

namespace turnpike {
namespace {

constexpr double kSlowCommitSeconds = 0.1;

}  // namespace

GroupCommit::GroupCommit(event_base* base, TransactionStatements& transactions, bool grouping)
    : transactions_(transactions),
      commit_event_(event_new(base, -1, 0, &GroupCommit::on_commit_event, this)) {
  if (grouping) transactions_.enable_grouping([this] { event_active(commit_event_.get(), EV_TIMEOUT, 1); });
}

GroupCommit::~GroupCommit() {
  commit_now();
}

GroupCommit::Ticket GroupCommit::wait(Waiter waiter) {
  if (!pending()) {
    waiter(true);
    return 0;
  }
  Ticket ticket = next_ticket_++;
  waiters_.emplace_back(ticket, std::move(waiter));
  return ticket;
}

void GroupCommit::cancel(Ticket ticket) {
  if (ticket == 0) return;
  for (auto* list : {&waiters_, &running_}) {
    for (auto& [id, waiter] : *list) {
      if (id == ticket) waiter = nullptr;
    }
  }
}

void GroupCommit::after_commit(std::function<void()> action) {
  (void)wait([action = std::move(action)](bool committed) {
    if (committed) action();
  });
}

void GroupCommit::on_commit_event(evutil_socket_t, short, void* self) {
  guarded("group_commit", [self] { static_cast<GroupCommit*>(self)->commit_now(); });
}

void GroupCommit::commit_now() {
  if (!pending()) return;
  const double started = monotonic_seconds();
  Result<void> committed = transactions_.commit_group();
  if (!committed) log_error("commit_failed").kv("reason", committed.error().message);
  // A commit holds the loop too (the WAL sync, and now and then a checkpoint).
  if (const double took = monotonic_seconds() - started; took > kSlowCommitSeconds) {
    log_warn("slow_loop_turn").kv("job", "group_commit").kv("ms", took * 1000);
  }
  // Waiters may write again (a held response lets the next pipelined request in): that opens a new group
  // with waiters of its own, so take this group's list first.
  // A waiter may also cancel one that has not run yet, hence the index loop over a member.
  running_ = std::exchange(waiters_, {});
  for (std::size_t i = 0; i < running_.size(); ++i) {
    if (auto waiter = std::exchange(running_[i].second, nullptr)) waiter(committed.ok());
  }
  running_.clear();
}

}  // namespace turnpike
