#!/usr/bin/env bash
# Rewrites conf/turnpike.conf and the key table of docs/CONFIG.md from the daemon's key table
# (a unit test fails when they are out of date). Usage: conf/regenerate.sh [path/to/turnpiked]
set -euo pipefail
cd "$(dirname "$0")/.."
turnpiked=${1:-build/daemon/turnpiked}
"$turnpiked" --print-default-config > conf/turnpike.conf
prose=$(sed '/^| key | default |/,$d' docs/CONFIG.md)
{ printf '%s\n' "$prose"; "$turnpiked" --print-config-reference; } > docs/CONFIG.md
