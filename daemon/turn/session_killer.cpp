// Ending revoked relay sessions through coturn's telnet CLI.
#include "turn/session_killer.hpp"

#include <event2/buffer.h>

#include <algorithm>

#include "core/callback_guard.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "turn-auth/coturn_cli.hpp"
#include "turn/turn_store.hpp"

namespace turnpike {
namespace {

constexpr double kAttemptTimeoutSeconds = 5;
constexpr double kMaxBackoffSeconds = 30;
// A kill counts as done only when a fresh listing, this long after the `cs` commands, shows none of its
// sessions: one that authenticated just before the revocation may appear in coturn after the first listing,
// and whatever answers on turn.cli_address is not trusted to have cancelled what it said.
constexpr double kVerifyDelaySeconds = 0.5;

}  // namespace

TurnSessionKiller::TurnSessionKiller(event_base* base, TurnStore& store, Metrics& metrics,
                                     std::function<const Config&()> config)
    : base_(base),
      store_(store),
      metrics_(metrics),
      config_(std::move(config)),
      timer_(base, &TurnSessionKiller::on_timer, this) {}

TurnSessionKiller::~TurnSessionKiller() = default;

void TurnSessionKiller::poke() {
  if (connection_ || backing_off_) return;
  timer_.start(0);
}

void TurnSessionKiller::on_timer(void* self) {
  auto* killer = static_cast<TurnSessionKiller*>(self);
  if (killer->connection_) {
    killer->finish_attempt(false, "coturn CLI did not answer in time");
  } else {
    killer->backing_off_ = false;
    killer->run_next();
  }
}

void TurnSessionKiller::run_next() {
  const Config& config = config_();
  // Without TURN there is no coturn to talk to; the queue waits until TURN is configured.
  if (!config.turn.enabled()) return;
  if (verifying_) return start_dialog(config, commands_);
  auto kills = store_.pending_kills(config.turn.kills_per_login);
  if (!kills) {
    log_error("turn_kill_queue_failed").kv("reason", kills.error().message);
    return;
  }
  patterns_.clear();
  commands_.clear();
  for (const auto& kill : *kills) {
    std::string command = (kill.exact ? "ps " : "psp ") + kill.pattern;
    if (!turn_auth::CoturnCliDialog::is_valid_list_command(command)) {
      // Only a row written by hand can hold such a pattern; it could never be listed safely.
      log_error("turn_kill_dropped").kv("reason", "pattern unsafe for coturn's CLI");
      (void)store_.kill_done(kill.pattern);
      continue;
    }
    patterns_.push_back(kill.pattern);
    commands_.push_back(std::move(command));
  }
  if (commands_.empty()) {
    if (!kills->empty()) timer_.start(0);  // only dropped ones: look again
    return;
  }
  sessions_in_batch_ = 0;
  start_dialog(config, commands_);
}

void TurnSessionKiller::start_dialog(const Config& config, std::vector<std::string> commands) {
  dialog_ = std::make_unique<turn_auth::CoturnCliDialog>(config.turn_cli_password, std::move(commands));
  if (dialog_->state() == turn_auth::CoturnCliDialog::State::failed) {
    finish_attempt(false, std::string(dialog_->error()));  // a copy: the dialog goes first
    return;
  }
  auto address = to_socket_address(config.turn.cli_address);
  if (!address) {
    finish_attempt(false, "turn.cli_address: " + address.error().message);
    return;
  }
  connection_.reset(bufferevent_socket_new(base_, -1, BEV_OPT_CLOSE_ON_FREE));
  bufferevent_setcb(connection_.get(), &TurnSessionKiller::on_read, nullptr, &TurnSessionKiller::on_event,
                    this);
  bufferevent_enable(connection_.get(), EV_READ | EV_WRITE);
  timer_.start(kAttemptTimeoutSeconds);
  if (bufferevent_socket_connect(connection_.get(), address->get(), static_cast<int>(address->length)) != 0) {
    finish_attempt(false, "cannot connect to coturn's CLI");
  }
}

void TurnSessionKiller::on_read(bufferevent* bev, void* self) {
  auto* killer = static_cast<TurnSessionKiller*>(self);
  if (!guarded("turn_cli_read", [killer, bev] { killer->read_reply(bev); })) {
    killer->finish_attempt(false, "internal error while talking to coturn's CLI");
  }
}

void TurnSessionKiller::read_reply(bufferevent* bev) {
  evbuffer* input = bufferevent_get_input(bev);
  std::string bytes(evbuffer_get_length(input), '\0');
  evbuffer_remove(input, bytes.data(), bytes.size());
  timer_.start(kAttemptTimeoutSeconds);  // coturn is answering: the deadline is for silence, not the batch
  std::string reply = dialog_->on_receive(bytes);
  if (!reply.empty()) bufferevent_write(bev, reply.data(), reply.size());
  switch (dialog_->state()) {
    case turn_auth::CoturnCliDialog::State::running:
      break;
    case turn_auth::CoturnCliDialog::State::done:
      finish_attempt(true, "");
      break;
    case turn_auth::CoturnCliDialog::State::failed:
      finish_attempt(false, std::string(dialog_->error()));  // a copy: the dialog goes first
      break;
  }
}

void TurnSessionKiller::on_event(bufferevent*, short what, void* self) {
  auto* killer = static_cast<TurnSessionKiller*>(self);
  if (what & BEV_EVENT_CONNECTED) return;
  guarded("turn_cli_event", [killer] {
    bool done = killer->dialog_ && killer->dialog_->state() == turn_auth::CoturnCliDialog::State::done;
    killer->finish_attempt(done, "coturn's CLI closed the connection or is unreachable");
  });
}

void TurnSessionKiller::finish_attempt(bool ok, const std::string& error) {
  timer_.stop();
  connection_.reset();
  const std::size_t killed = dialog_ ? dialog_->killed_sessions().size() : 0;
  const std::size_t completed = ok ? patterns_.size() : dialog_ ? dialog_->completed_commands() : 0;
  dialog_.reset();
  sessions_in_batch_ += killed;
  if (ok && verifying_ && killed == 0) return confirm_batch();
  if (ok && verifying_) {
    // Sessions were still listed (or appeared since): cancelled again just now; confirm once more.
    metrics_.count_turn_sessions_unconfirmed(killed);
    log_warn("turn_kill_unconfirmed").kv("sessions", static_cast<std::uint64_t>(killed));
    return schedule(next_backoff());
  }
  if (!ok) {
    // What the dialog finished before the failure is verified on its own; the rest waits, and the kill
    // that failed goes behind the others in the queue (attempts), so it does not hold their revocation up.
    if (!verifying_ && completed < patterns_.size()) {
      (void)store_.kill_failed(patterns_[completed], error);
      patterns_.resize(completed);
      commands_.resize(completed);
    }
    metrics_.count_turn_kill(false, 0, 1);
    const double retry = next_backoff();
    log_warn("turn_kill_failed").kv("reason", error).kv("retry_in_seconds", retry);
    if (patterns_.empty()) {
      verifying_ = false;
      return schedule(retry);
    }
    if (verifying_) return schedule(retry);
  }
  verifying_ = true;
  schedule(kVerifyDelaySeconds);
}

void TurnSessionKiller::confirm_batch() {
  for (const auto& pattern : patterns_) (void)store_.kill_done(pattern);
  metrics_.count_turn_kill(true, sessions_in_batch_, patterns_.size());
  log_info("turn_sessions_ended")
      .kv("sessions", static_cast<std::uint64_t>(sessions_in_batch_))
      .kv("kills", static_cast<std::uint64_t>(patterns_.size()));
  verifying_ = false;
  patterns_.clear();
  commands_.clear();
  backoff_seconds_ = 0;
  timer_.start(0);  // the next batch, if any
}

double TurnSessionKiller::next_backoff() {
  const double first = config_().turn.kill_retry_seconds;
  backoff_seconds_ = backoff_seconds_ == 0 ? first : std::min(kMaxBackoffSeconds, backoff_seconds_ * 2);
  return backoff_seconds_;
}

void TurnSessionKiller::schedule(double seconds) {
  backing_off_ = true;  // pokes wait for it
  timer_.start(seconds);
}

}  // namespace turnpike
