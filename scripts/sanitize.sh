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
cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_SANITIZE" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DMMAP_ARRAY_BUILD_TESTS=ON -DMMAP_ARRAY_WARNINGS_AS_ERRORS=ON \
  >/dev/null
cmake --build "$BUILD" --parallel "$JOBS"

step "C++ tests under ASan and UBSan (ctest)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD" --output-on-failure --parallel "$JOBS"
