// Counters and histograms of the daemon, rendered in the Prometheus text format for GET /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace turnpike {

struct Gauges {
  std::uint64_t http_connections = 0;
  std::uint64_t ws_connections = 0;
  std::uint64_t signaling_rooms = 0;
  std::int64_t pairing_rooms = -1;  // -1: unknown (database unavailable)
  std::int64_t pendings = -1;
  std::int64_t turn_kills_pending = -1;  // -1: TURN off
  std::uint64_t db_commits = 0;
  std::uint64_t db_failed_commits = 0;
  std::uint64_t db_writes = 0;
  double uptime_seconds = 0;
};

// A request method as a metrics label: GET, HEAD, POST, DELETE or OPTIONS, anything else "other", so a
// client inventing methods cannot add series.
std::string_view method_label(std::string_view method);

class Metrics {
 public:
  void count_request(std::string_view route, int status, double seconds);
  void count_relayed(std::string_view type);
  void count_rate_limited(std::string_view kind);  // "rest", "ws", "failed_join"
  void count_ws_close(std::uint16_t code);
  void count_connection_rejected();
  // A TLS connection that ended before its handshake finished.
  void count_tls_handshake_failure();
  // Rows removed by expiry: kind is "pendings", "rooms" or "turn_credentials".
  void count_expired(std::string_view kind, std::int64_t rows);
  // How late a periodic timer fired: the event loop was busy for that long.
  void observe_loop_lag(double seconds);
  // `kills` queued kills (rooms or credentials) done, or one attempt failed; `sessions_killed` ended in
  // coturn.
  void count_turn_kill(bool ok, std::size_t sessions_killed, std::size_t kills);
  // Sessions still (or newly) listed by the verification listing after their kill; cancelled again.
  void count_turn_sessions_unconfirmed(std::size_t sessions) { turn_sessions_unconfirmed_ += sessions; }

  std::uint64_t rate_limited(std::string_view kind) const;
  std::uint64_t turn_kill_failures() const { return turn_kills_failed_; }
  std::string render(const Gauges& gauges) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t, std::less<>> relayed_;
  std::map<std::string, std::uint64_t, std::less<>> rate_limited_;
  std::map<std::uint16_t, std::uint64_t> ws_closes_;
  std::uint64_t connections_rejected_ = 0;
  std::uint64_t tls_handshake_failures_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> expired_;
  static constexpr std::array<double, 10> kLagBuckets = {0.001, 0.005, 0.01, 0.02, 0.05,
                                                         0.1,   0.25,  0.5,  1,    5};
  std::array<std::uint64_t, kLagBuckets.size()> loop_lag_buckets_{};
  std::uint64_t loop_lag_count_ = 0;
  double loop_lag_sum_ = 0;
  std::uint64_t turn_kills_ok_ = 0;
  std::uint64_t turn_kills_failed_ = 0;
  std::uint64_t turn_sessions_killed_ = 0;
  std::uint64_t turn_sessions_unconfirmed_ = 0;
};

}  // namespace turnpike
