#!/usr/bin/env bash
# Installs what is missing, checks formatting, builds turnpike plainly, runs clang-tidy, builds with ASan+UBSan,
# runs every test (unit, integration, browser, notify) against both builds, fuzzes each parser for 30 s, then
# builds the .deb and .rpm and tests them (lintian, contents, the units, and the .deb installed and run under a
# booted systemd in a container).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

packaging/install-build-deps

echo "== clang-format"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

echo "== build"
cmake -S . -B build -DTURNPIKE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

echo "== clang-tidy (bugprone, performance; .clang-tidy)"
bash tests/clang-tidy.sh build

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DTURNPIKE_WERROR=ON -DTURNPIKE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j2

echo "== tests under ASan+UBSan (leaks fail)"
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

echo "== fuzzing: every libFuzzer target for 30 s (clang build in build-fuzz)"
bash tests/fuzz/run.sh 30

echo "== packaging: the shipped units offline, both packages built and checked, the .deb under a booted systemd"
bash tests/packaging/systemd_units_test.sh
bash packaging/build
bash tests/packaging/check_packages.sh --no-build
bash tests/packaging/systemd_units_test.sh dist/turnpike_*.deb
bash tests/packaging/nspawn_test.sh
