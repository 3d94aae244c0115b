#!/usr/bin/env bash
# Installs what is missing, builds turnpiked, and runs it on 127.0.0.1:8080 with conf/dev.conf (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-build-deps
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target turnpiked
mkdir -p run
echo "turnpiked on http://127.0.0.1:8080 (WebSocket: ws://127.0.0.1:8080/ws); database run/turnpike.db"
exec build/daemon/turnpiked --config conf/dev.conf
