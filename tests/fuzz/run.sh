#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for SECONDS (default 30) on a fresh
# copy of its committed corpus, so nothing is written into the repository. Exits non-zero if any target
# finds a crash, a leak or undefined behaviour; the reproducer is kept in the work directory it names.
# Extra arguments go to every target (e.g. -runs=10000000 instead of a time bound).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
build=${TURNPIKE_FUZZ_BUILD:-build-fuzz}
fuzz_dir=tests/fuzz
targets=(http_request_parser ws_frame_decoder utf8 json_scan config signaling coturn_cli forwarded engineio_payload socketio_packet)

CC=clang CXX=clang++ cmake -S . -B "$build" -DTURNPIKE_FUZZ=ON -DTURNPIKE_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_targets

work=$(mktemp -d "${TMPDIR:-/tmp}/turnpike-fuzz.XXXXXX")
failed=()
for target in "${targets[@]}"; do
  corpus="$work/$target/corpus"
  mkdir -p "$corpus" "$work/$target/artifacts"
  cp "$fuzz_dir/corpus/$target"/* "$corpus"/
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$work/$target/artifacts/")
  [ -f "$fuzz_dir/$target.dict" ] && options+=(-dict="$fuzz_dir/$target.dict")
  echo "== fuzz $target (${seconds}s)"
  if ! ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/${target}_fuzz" "${options[@]}" "$@" "$corpus" >"$work/$target/log" 2>&1; then
    tail -n 60 "$work/$target/log"
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^Done" "$work/$target/log" || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets that failed: ${failed[*]} (inputs and logs in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "all fuzz targets ran clean"
