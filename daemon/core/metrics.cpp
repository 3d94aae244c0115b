// Prometheus text rendering of the daemon's counters.
#include "core/metrics.hpp"

#include <cstdio>

namespace turnpike {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <class Map>
std::uint64_t& counter(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), 0).first;
  return it->second;
}

}  // namespace

std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

void Metrics::count_request(std::string_view route, int status, double seconds) {
  ++requests_[{std::string(route), status}];
  auto& h = latency_[std::string(route)];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_relayed(std::string_view type) {
  // The type comes from a client's message: only the three relayed types are kept, so none can add keys.
  if (type != "webrtc_offer" && type != "webrtc_answer" && type != "ice_candidate") return;
  ++counter(relayed_, type);
}
void Metrics::count_rate_limited(std::string_view kind) {
  ++counter(rate_limited_, kind);
}
void Metrics::count_ws_close(std::uint16_t code) {
  ++ws_closes_[code];
}
void Metrics::count_tls_handshake_failure() {
  ++tls_handshake_failures_;
}

void Metrics::count_connection_rejected() {
  ++connections_rejected_;
}

void Metrics::count_expired(std::string_view kind, std::int64_t rows) {
  counter(expired_, kind) += static_cast<std::uint64_t>(rows);
}

void Metrics::observe_loop_lag(double seconds) {
  for (std::size_t i = 0; i < kLagBuckets.size(); ++i) {
    if (seconds <= kLagBuckets[i]) ++loop_lag_buckets_[i];
  }
  ++loop_lag_count_;
  loop_lag_sum_ += seconds;
}

void Metrics::count_turn_kill(bool ok, std::size_t sessions_killed, std::size_t kills) {
  (ok ? turn_kills_ok_ : turn_kills_failed_) += kills;
  turn_sessions_killed_ += sessions_killed;
}

std::uint64_t Metrics::rate_limited(std::string_view kind) const {
  auto it = rate_limited_.find(kind);
  return it == rate_limited_.end() ? 0 : it->second;
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  out.reserve(4096);
  header(out, "turnpike_connections", "gauge", "Open client connections by protocol.");
  out += "turnpike_connections{protocol=\"http\"} " + std::to_string(g.http_connections) + "\n";
  out += "turnpike_connections{protocol=\"websocket\"} " + std::to_string(g.ws_connections) + "\n";
  header(out, "turnpike_signaling_rooms", "gauge", "Signaling rooms with at least one connected member.");
  out += "turnpike_signaling_rooms " + std::to_string(g.signaling_rooms) + "\n";
  if (g.pairing_rooms >= 0) {
    header(out, "turnpike_rooms", "gauge", "Rooms created through the pairing API and not yet ended.");
    out += "turnpike_rooms " + std::to_string(g.pairing_rooms) + "\n";
    header(out, "turnpike_pendings", "gauge", "Live join codes waiting to be accepted or checked.");
    out += "turnpike_pendings " + std::to_string(g.pendings) + "\n";
  }
  header(out, "turnpike_db_commits_total", "counter",
         "SQLite commits by result; with database.group_commit one commit covers a turn's writes.");
  out += "turnpike_db_commits_total{result=\"ok\"} " + std::to_string(g.db_commits) + "\n";
  out += "turnpike_db_commits_total{result=\"failed\"} " + std::to_string(g.db_failed_commits) + "\n";
  header(out, "turnpike_db_writes_total", "counter",
         "Write transactions (requests, sweeps, joins) committed.");
  out += "turnpike_db_writes_total " + std::to_string(g.db_writes) + "\n";
  header(out, "turnpike_uptime_seconds", "gauge", "Seconds since the daemon started.");
  out += "turnpike_uptime_seconds " + number(g.uptime_seconds) + "\n";

  header(out, "turnpike_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, n] : requests_) {
    out += "turnpike_http_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  header(out, "turnpike_http_request_duration_seconds", "histogram", "Time to handle an HTTP request.");
  for (const auto& [route, h] : latency_) {
    std::string label = "route=\"" + route + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "turnpike_http_request_duration_seconds_bucket{" + label + ",le=\"" + number(kBuckets[i]) +
             "\"} " + std::to_string(h.buckets[i]) + "\n";
    }
    out += "turnpike_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "turnpike_http_request_duration_seconds_sum{" + label + "} " + number(h.sum) + "\n";
    out += "turnpike_http_request_duration_seconds_count{" + label + "} " + std::to_string(h.count) + "\n";
  }
  header(out, "turnpike_messages_relayed_total", "counter", "Signaling messages relayed to a peer, by type.");
  for (std::string_view type : {"webrtc_offer", "webrtc_answer", "ice_candidate"}) {
    auto it = relayed_.find(type);
    out += "turnpike_messages_relayed_total{type=\"" + std::string(type) + "\"} " +
           std::to_string(it == relayed_.end() ? 0 : it->second) + "\n";
  }
  header(out, "turnpike_rate_limited_total", "counter", "Requests or messages refused by a rate limit.");
  for (std::string_view kind : {"rest", "ws", "failed_join"}) {
    out += "turnpike_rate_limited_total{kind=\"" + std::string(kind) + "\"} " +
           std::to_string(rate_limited(kind)) + "\n";
  }
  header(out, "turnpike_ws_closes_total", "counter",
         "WebSocket connections closed by the server, by close code.");
  for (const auto& [code, n] : ws_closes_) {
    out += "turnpike_ws_closes_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  }
  header(out, "turnpike_connections_rejected_total", "counter", "Connections refused by connection limits.");
  out += "turnpike_connections_rejected_total " + std::to_string(connections_rejected_) + "\n";
  header(out, "turnpike_tls_handshake_failures_total", "counter",
         "TLS connections that ended before their handshake finished (bad or no ClientHello, timeout).");
  out += "turnpike_tls_handshake_failures_total " + std::to_string(tls_handshake_failures_) + "\n";
  header(out, "turnpike_expired_total", "counter", "Rows removed by expiry, by kind.");
  for (std::string_view kind : {"pendings", "rooms", "turn_credentials"}) {
    auto it = expired_.find(kind);
    out += "turnpike_expired_total{kind=\"" + std::string(kind) + "\"} " +
           std::to_string(it == expired_.end() ? 0 : it->second) + "\n";
  }
  header(out, "turnpike_loop_lag_seconds", "histogram",
         "How late the periodic sweep timer fired: time the event loop spent on other work.");
  for (std::size_t i = 0; i < kLagBuckets.size(); ++i) {
    out += "turnpike_loop_lag_seconds_bucket{le=\"" + number(kLagBuckets[i]) + "\"} " +
           std::to_string(loop_lag_buckets_[i]) + "\n";
  }
  out += "turnpike_loop_lag_seconds_bucket{le=\"+Inf\"} " + std::to_string(loop_lag_count_) + "\n";
  out += "turnpike_loop_lag_seconds_sum " + number(loop_lag_sum_) + "\n";
  out += "turnpike_loop_lag_seconds_count " + std::to_string(loop_lag_count_) + "\n";
  if (g.turn_kills_pending >= 0) {
    header(out, "turnpike_turn_kills_pending", "gauge",
           "Revoked credentials whose live relays are still to be ended.");
    out += "turnpike_turn_kills_pending " + std::to_string(g.turn_kills_pending) + "\n";
    header(out, "turnpike_turn_kills_total", "counter",
           "Runs of coturn's CLI to end revoked sessions, by result.");
    out += "turnpike_turn_kills_total{result=\"ok\"} " + std::to_string(turn_kills_ok_) + "\n";
    out += "turnpike_turn_kills_total{result=\"failed\"} " + std::to_string(turn_kills_failed_) + "\n";
    header(out, "turnpike_turn_sessions_killed_total", "counter", "Live relay sessions ended in coturn.");
    out += "turnpike_turn_sessions_killed_total " + std::to_string(turn_sessions_killed_) + "\n";
    header(
        out, "turnpike_turn_sessions_unconfirmed_total", "counter",
        "Sessions a verification listing still showed after their kill (cancelled again, kill kept queued).");
    out += "turnpike_turn_sessions_unconfirmed_total " + std::to_string(turn_sessions_unconfirmed_) + "\n";
  }
  return out;
}

}  // namespace turnpike
