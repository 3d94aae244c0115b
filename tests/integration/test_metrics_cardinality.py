"""Metrics labels come from fixed sets: a client inventing methods or paths cannot add series to /metrics."""
import random
import string

import requests

from httputil import Metrics


def series(d):
    r = requests.get(d.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text
    return Metrics(r.text).samples


def random_token(rng, n):
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(n))


def test_invented_methods_and_paths_add_no_series(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0, "signaling.require_known_room": False})
    rng = random.Random(1414)
    known_paths = ["/rooms", "/metrics", "/health", "/api/rooms", "/api/rooms/accept", "/admin/reload", "/ws"]
    statuses = set()
    with requests.Session() as s:
        # Every label a well-behaved client can produce once, so the baseline holds those series already.
        for path in known_paths:
            for method in ["GET", "HEAD", "POST", "DELETE", "PATCH"]:
                statuses.add(s.request(method, d.url + path, timeout=5).status_code)
        statuses.add(s.get(d.url + "/no-such-path", timeout=5).status_code)
        before = series(d)
        for i in range(200):
            method = random_token(rng, 8)
            path = rng.choice(known_paths) if i % 2 == 0 else "/" + random_token(rng, 12).lower()
            statuses.add(s.request(method, d.url + path, timeout=5).status_code)
    assert {404, 405} <= statuses, statuses  # both the unknown-path and the unknown-method answers were hit
    after = series(d)
    new = set(after) - set(before)
    # The only series allowed to appear are latency/request series of /metrics itself (at most a few).
    assert len(new) <= 20, sorted(str(k) for k in new)[:40]
    http_series = [k for k in after if k[0] == "turnpike_http_requests_total"]
    assert len(http_series) <= 80, len(http_series)
    fixed_routes = {"unmatched", "legacy", "OPTIONS", "rate_limited", "malformed", "timeout", "websocket"}
    for name, labels in after:
        for label, value in labels:
            if label == "route" and value not in fixed_routes:
                assert value.split(" ")[0] in {"GET", "HEAD", "POST", "DELETE", "OPTIONS", "other"}, value
