// TurnSessionKiller: ends the live relay sessions of revoked credentials through coturn's admin CLI, a batch
// of queued kills per login (turn.kills_per_login), asynchronously on the event loop; a batch is done only
// when a fresh listing confirms its sessions are gone, and is retried with backoff until then.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "net/event_handles.hpp"

namespace turnpike {

class TurnStore;
class Metrics;
namespace turn_auth {
class CoturnCliDialog;
}

class TurnSessionKiller {
 public:
  TurnSessionKiller(event_base* base, TurnStore& store, Metrics& metrics,
                    std::function<const Config&()> config);
  ~TurnSessionKiller();

  // Something was queued: start working on the queue now unless a run is under way or backing off.
  void poke();

 private:
  static void on_timer(void* self);
  static void on_read(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short what, void* self);
  void read_reply(bufferevent* bev);
  void run_next();
  void start_dialog(const Config& config, std::vector<std::string> commands);
  // Frees the dialog: pass its error() as a copy (std::string(dialog_->error())).
  void finish_attempt(bool ok, const std::string& error);
  // The batch's verification listing found none of its sessions: its kills are done.
  void confirm_batch();
  double next_backoff();
  void schedule(double seconds);

  event_base* base_;
  TurnStore& store_;
  Metrics& metrics_;
  std::function<const Config&()> config_;
  Timer timer_;
  BufferEventPtr connection_;
  std::unique_ptr<turn_auth::CoturnCliDialog> dialog_;
  std::vector<std::string> patterns_;  // of the batch under way, in dialog order
  std::vector<std::string> commands_;  // their list commands (ps/psp), listed again to verify
  bool verifying_ = false;             // the batch's sessions were cancelled: list again to confirm
  std::size_t sessions_in_batch_ = 0;
  double backoff_seconds_ = 0;
  bool backing_off_ = false;
};

}  // namespace turnpike
