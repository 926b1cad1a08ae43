#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan, every report fatal) into
# build/fuzz, then, for each target:
#   1. replays its reproducers of past bugs (fuzz/regressions/<target>/), which must pass;
#   2. fuzzes it for FUZZ_SECONDS seconds (default 60) with leak detection on, starting from
#      the corpus in build/fuzz/corpus/<target> (kept between runs, never committed), seeded
#      from the real files of tests/data and the hand-made seeds of fuzz/seeds/<target>.
#      FUZZ_SECONDS=0 runs every input of that corpus once and does not fuzz (libFuzzer's
#      own -max_total_time=0 would mean "forever").
# Any crash, leak, timeout, out-of-memory or sanitizer report fails the run (non-zero
# status), after every target has run; the input that caused it is saved under
# build/fuzz/artifacts/<target>/ and its path printed with the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
if ! [[ $FUZZ_SECONDS =~ ^[0-9]+$ ]]; then
  echo "error: FUZZ_SECONDS must be a whole number of seconds, not '$FUZZ_SECONDS'" >&2
  exit 2
fi
CXX_CLANG=${FUZZ_CXX:-clang++}
JOBS=$(nproc 2>/dev/null || echo 2)
BUILD=build/fuzz

# target:directory of its real sample files in tests/data
TARGETS=(npy_header:npy safetensors_header:safetensors zip_directory:npz)

step() { printf '\n== %s\n' "$*"; }

step "build the fuzzers (clang, libFuzzer, ASan, UBSan) in $BUILD"
cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMMAP_ARRAY_BUILD_FUZZERS=ON -DMMAP_ARRAY_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$BUILD" --parallel "$JOBS"

# Leaks are findings; so is any UBSan report (the build already makes them fatal).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for entry in "${TARGETS[@]}"; do
  target=${entry%%:*}
  samples=tests/data/${entry#*:}
  binary=$BUILD/fuzz/${target}_fuzzer
  corpus=$BUILD/corpus/$target
  artifacts=$BUILD/artifacts/$target
  log=$BUILD/logs/$target.log
  regressions=fuzz/regressions/$target
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"

  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    step "$target: replay fuzz/regressions/$target"
    if ! "$binary" -runs=1 "$regressions"/* >"$log.regressions" 2>&1; then
      tail -n 60 "$log.regressions"
      echo "FAILED: a reproducer of a fixed bug fails again ($log.regressions)" >&2
      failed+=("$target (regressions)")
      continue
    fi
    echo "all $(ls -A "$regressions" | wc -l) pass"
  fi

  if [ "$FUZZ_SECONDS" -eq 0 ]; then
    step "$target: run the corpus once (FUZZ_SECONDS=0)"
    limit=(-runs=0)
  else
    step "$target: fuzz for ${FUZZ_SECONDS}s"
    limit=(-max_total_time="$FUZZ_SECONDS")
  fi
  # Seeds are copied, not linked, so the corpus directory can be deleted freely; -n keeps
  # what earlier runs found.
  for seeds in "$samples" "fuzz/seeds/$target" "$regressions"; do
    [ -d "$seeds" ] || continue
    find "$seeds" -maxdepth 1 -type f ! -name '*.md' ! -name '*.py' -exec cp -n {} "$corpus"/ \;
  done
  status=0
  "$binary" "$corpus" -dict="fuzz/$target.dict" "${limit[@]}" \
    -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
    "$log" || true
  if [ "$status" -ne 0 ]; then
    grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|RELOAD)' "$log" | tail -n 80
    echo "FAILED: $target exited with status $status (full log: $log)" >&2
    reproducer=$(grep -o -E 'Test unit written to [^ ]+' "$log" | tail -n 1 | cut -d' ' -f5)
    if [ -n "$reproducer" ]; then
      echo "reproducer: $reproducer" >&2
      echo "replay it:  $binary $reproducer" >&2
    fi
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
if [ "$FUZZ_SECONDS" -eq 0 ]; then
  echo "fuzzing: no findings (${#TARGETS[@]} targets, their corpus run once)"
else
  echo "fuzzing: no findings (${#TARGETS[@]} targets, ${FUZZ_SECONDS}s each)"
fi
