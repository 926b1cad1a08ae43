#!/usr/bin/env bash
# Runs every test of mmap_array on this machine, setting up what it needs:
#   1. system packages the tests need (GoogleTest, clang with its sanitizer and libFuzzer
#      runtimes), from the distribution;
#   2. the package itself, built and installed from this checkout with its test and docs
#      extras;
#   3. the C++ suite (GoogleTest via ctest, including a consumer of the installed
#      CMake package);
#   4. the Python suite (pytest, against the installed package; property-based tests,
#      the examples and mypy over the stubs included);
#   5. the documentation site, warnings as errors (scripts/docs.sh, into build/docs);
#   6. the C++ suite again under AddressSanitizer and UndefinedBehaviorSanitizer
#      (scripts/sanitize.sh);
#   7. the parsers' libFuzzer targets, FUZZ_SECONDS (default 60) each, after replaying the
#      reproducers of past findings (scripts/fuzz.sh; FUZZ_SECONDS=0 only replays).
# Any failure stops the run with a non-zero status. Extra arguments go to pytest.
# On 2 cores a run from a clean checkout takes about 9 minutes (with the system packages
# already there): sanitizers about 2, fuzzing about 3.5.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python || command -v python3)}
JOBS=$(nproc 2>/dev/null || echo 2)

step() { printf '\n== %s (at %dm%02ds)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

step "system prerequisites"
scripts/install-prerequisites.sh

step "build and install mmap_array with its test and docs extras"
"$PYTHON" -m pip install --quiet --disable-pip-version-check ".[test,docs]"

step "C++ tests (GoogleTest, ctest)"
cmake -S . -B build/tests -DCMAKE_BUILD_TYPE=Debug -DMMAP_ARRAY_BUILD_TESTS=ON \
  -DMMAP_ARRAY_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build/tests --parallel "$JOBS"
ctest --test-dir build/tests --output-on-failure --parallel "$JOBS"

step "Python tests (pytest)"
# The sources live in python/, which is not on sys.path: the tests import the
# installed package, exactly as a user would.
"$PYTHON" -m pytest "$@"

step "documentation (scripts/docs.sh)"
PYTHON="$PYTHON" scripts/docs.sh

step "C++ tests under ASan and UBSan (scripts/sanitize.sh)"
scripts/sanitize.sh

step "fuzzing (scripts/fuzz.sh, ${FUZZ_SECONDS:-60}s a target)"
scripts/fuzz.sh

step "all tests passed"
