#!/usr/bin/env bash
# Installs what is missing, builds, and runs the appliance on loopback: turnpiked on 127.0.0.1:8080 with
# conf/dev.conf, and coturn on 127.0.0.1:3478 with the config turnpikectl renders from it (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target turnpiked turnpikectl
mkdir -p run

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# turnpiked first: it creates the database with coturn's tables (strict) before coturn opens the file.
allow_root=()
[ "$(id -u)" != 0 ] || allow_root=(--allow-root)  # a development machine; the packaged service runs as turnpike
build/daemon/turnpiked --config conf/dev.conf "${allow_root[@]}" &
pids+=($!)
for _ in $(seq 50); do
  curl -fs http://127.0.0.1:8080/health >/dev/null 2>&1 && break
  sleep 0.1
done
build/daemon/turnpikectl --config conf/dev.conf coturn-config > run/turnserver.conf
turnserver -c run/turnserver.conf --pidfile="$PWD/run/turnserver.pid" --log-file="$PWD/run/turnserver.log" \
  >/dev/null 2>&1 &
pids+=($!)

cat <<MSG
turnpike is running:
  demo page   http://127.0.0.1:8080/demo/   (open it in two browser windows)
  REST + WS   http://127.0.0.1:8080/api/... and ws://127.0.0.1:8080/ws
  health      http://127.0.0.1:8080/health
  admin       build/daemon/turnpikectl --config conf/dev.conf status
  coturn      127.0.0.1:3478 (log: run/turnserver.log), database run/turnpike.db
Browsers relay through 127.0.0.1 only when started with --allow-loopback-in-peer-connection (Chromium).
MSG
wait -n "${pids[@]}"
