#!/usr/bin/env bash
# Builds the C++ test suite with AddressSanitizer and UndefinedBehaviorSanitizer into
# build/sanitize and runs it with ctest. Every report is fatal (-fno-sanitize-recover=all),
# so it fails the test that made it and the run; leaks are reports too. libstdc++'s own
# checks (_GLIBCXX_ASSERTIONS: bounds of span, vector and string indexing) are on as well,
# since they catch reads past a span inside a larger buffer, which ASan cannot see.
# SANITIZE_CXX chooses the compiler (default clang++; g++ works too).
set -euo pipefail
cd "$(dirname "$0")/.."

CXX_SANITIZE=${SANITIZE_CXX:-clang++}
JOBS=$(nproc 2>/dev/null || echo 2)
BUILD=build/sanitize
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
FLAGS+=" -D_GLIBCXX_ASSERTIONS"

step() { printf '\n== %s\n' "$*"; }

step "build the C++ tests with ASan and UBSan ($CXX_SANITIZE) in $BUILD"
# A 5 times longer hang timeout: the instrumented tests run several times slower.
cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_SANITIZE" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DMMAP_ARRAY_BUILD_TESTS=ON -DMMAP_ARRAY_WARNINGS_AS_ERRORS=ON \
  -DMMAP_ARRAY_TEST_TIMEOUT=300 >/dev/null
cmake --build "$BUILD" --parallel "$JOBS"

step "C++ tests under ASan and UBSan (ctest)"
# handle_sigbus=0: the fault guard (src/fault_guard_posix.cpp) is the SIGBUS handler under
# test, and it passes faults outside our mappings on to the handler that was there before
# it. ASan installs its own SIGBUS handler at startup, so that previous handler would be
# ASan's, which reports "BUS on unknown address" and exits 1 instead of letting the
# default action kill the process with SIGBUS, which is what fault_guard_test checks (as a
# program without ASan sees it). ASan still reports every memory error it finds; it only
# stops turning SIGBUS into a report. allow_user_segv_handler=1 lets our sigaction calls
# through whatever ASan's default for it is. Settings in the caller's ASAN_OPTIONS or
# UBSAN_OPTIONS come last, so they win.
ASAN_DEFAULTS=detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1
ASAN_DEFAULTS+=:strict_init_order=1:handle_sigbus=0:allow_user_segv_handler=1
export ASAN_OPTIONS=$ASAN_DEFAULTS${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
ctest --test-dir "$BUILD" --output-on-failure --parallel "$JOBS"
