// GroupCommit: one COMMIT per event-loop turn for all of that turn's writes.
#include "db/group_commit.hpp"

#include <algorithm>
#include <utility>

#include "core/callback_guard.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"

namespace turnpike {
namespace {

constexpr double kSlowCommitSeconds = 0.1;

}  // namespace

GroupCommit::GroupCommit(event_base* base, TransactionStatements& transactions, bool grouping,
                         std::unique_ptr<WalSyncer> syncer)
    : transactions_(transactions),
      commit_event_(event_new(base, -1, 0, &GroupCommit::on_commit_event, this)),
      syncer_(std::move(syncer)) {
  if (grouping) transactions_.enable_grouping([this] { event_active(commit_event_.get(), EV_TIMEOUT, 1); });
  if (syncer_) syncer_->on_durable([this](std::uint64_t through) { on_durable(through); });
}

GroupCommit::~GroupCommit() {
  flush();
}

GroupCommit::Ticket GroupCommit::wait(Waiter waiter) {
  if (!pending()) {
    waiter(true);
    return 0;
  }
  Ticket ticket = next_ticket_++;
  waiters_.push_back({ticket, transactions_.group_open() ? committed_ + 1 : committed_, std::move(waiter)});
  return ticket;
}

void GroupCommit::cancel(Ticket ticket) {
  if (ticket == 0) return;
  for (auto* list : {&waiters_, &running_}) {
    for (auto& waiting : *list) {
      if (waiting.ticket == ticket) waiting.waiter = nullptr;
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
  if (!transactions_.group_open()) return;
  const double started = monotonic_seconds();
  Result<void> committed = transactions_.commit_group();
  // A commit holds the loop (without a syncer the WAL sync, and now and then a checkpoint).
  if (const double took = monotonic_seconds() - started; took > kSlowCommitSeconds) {
    log_warn("slow_loop_turn").kv("job", "group_commit").kv("ms", took * 1000);
  }
  if (!committed) {
    log_error("commit_failed").kv("reason", committed.error().message);
    return run_waiters(committed_ + 1, committed_ + 1, false);
  }
  ++committed_;
  if (syncer_) return syncer_->request(committed_);
  on_durable(committed_);
}

void GroupCommit::flush() {
  commit_now();
  if (durable_ == committed_) return;
  if (syncer_) syncer_->flush_now();
  on_durable(committed_);
}

void GroupCommit::on_durable(std::uint64_t through) {
  if (through <= durable_) return;
  durable_ = through;
  run_waiters(0, through, true);
}

void GroupCommit::run_waiters(std::uint64_t first, std::uint64_t last, bool committed) {
  // Waiters may write again (a held response lets the next pipelined request in): that opens a new group
  // with waiters of its own, which stay in waiters_. A waiter may also cancel one that has not run yet,
  // hence the index loop over a member.
  auto in_range = [first, last](const Waiting& waiting) {
    return waiting.commit >= first && waiting.commit <= last;
  };
  auto taken = std::stable_partition(waiters_.begin(), waiters_.end(),
                                     [&](const Waiting& waiting) { return !in_range(waiting); });
  running_.assign(std::make_move_iterator(taken), std::make_move_iterator(waiters_.end()));
  waiters_.erase(taken, waiters_.end());
  for (std::size_t i = 0; i < running_.size(); ++i) {
    if (auto waiter = std::exchange(running_[i].waiter, nullptr)) waiter(committed);
  }
  running_.clear();
}

}  // namespace turnpike
