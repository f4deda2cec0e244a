#!/usr/bin/env bash
# Runs every test: installs missing Debian packages, builds (release + ASan/UBSan), runs ctest.
# Usage: scripts/test.sh            (both builds)
#        DNNSPLIT_SKIP_SANITIZE=1 scripts/test.sh   (release build only, for quick local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
start=$(date +%s)

echo "== release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900

if [ "${DNNSPLIT_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== ASan + UBSan build"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" -DDNNSPLIT_SANITIZE=ON -DDNNSPLIT_BUILD_BENCH=OFF >/dev/null
  ninja -C build-asan -j"$jobs"
  # Leak checking is off: libprotobuf/libonnx keep global registries alive until exit.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 1800 -L sanitize
fi
echo "== all tests finished in $(( $(date +%s) - start )) s"
