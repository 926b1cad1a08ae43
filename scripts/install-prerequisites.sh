#!/usr/bin/env bash
# Installs the system packages the test suite needs, if they are missing:
# a C++20 compiler, CMake, GoogleTest, and clang with its libFuzzer and
# sanitizer runtimes (for scripts/fuzz.sh and scripts/sanitize.sh). On
# Debian/Ubuntu as root this uses apt-get; anywhere else it says exactly what
# to install and fails. When everything is present it only looks (well under a
# second) and touches nothing.
set -euo pipefail

# The major version of the clang that is (or would be) installed: the runtimes' package is
# named after it. Empty if neither clang++ nor apt's package lists say.
clang_major() {
  if command -v clang++ >/dev/null 2>&1; then
    clang++ -dumpversion | cut -d. -f1
  elif command -v apt-cache >/dev/null 2>&1; then
    apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' |
      head -n 1
  fi
}

# True if clang++ finds libFuzzer and the ASan and UBSan runtimes. Since Debian 12 and
# Ubuntu 23.04 they ship apart from clang, in libclang-rt-<major>-dev, which clang only
# recommends (and --no-install-recommends skips); before that they were part of
# libclang-common-<major>-dev, which clang depends on.
have_clang_runtimes() {
  command -v clang++ >/dev/null 2>&1 || return 1
  local dir arch
  dir="$(clang++ -print-resource-dir)/lib/linux"
  arch=$(uname -m)
  [ -f "$dir/libclang_rt.fuzzer-$arch.a" ] && [ -f "$dir/libclang_rt.asan-$arch.a" ] &&
    [ -f "$dir/libclang_rt.ubsan_standalone-$arch.a" ]
}

# The package that holds the runtimes of the clang that is (or would be) installed.
runtimes_package() {
  local major
  major=$(clang_major || true)
  if [ -z "$major" ]; then
    echo "libclang-rt-<clang major version>-dev"
  elif ! command -v apt-cache >/dev/null 2>&1 ||
    apt-cache show "libclang-rt-$major-dev" >/dev/null 2>&1; then
    echo "libclang-rt-$major-dev"
  else
    echo "libclang-common-$major-dev"
  fi
}

missing_packages() {
  missing=()
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  [ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ] ||
    missing+=(libgtest-dev)
  command -v clang++ >/dev/null 2>&1 || missing+=(clang)
  have_clang_runtimes || missing+=("$(runtimes_package)")
}

missing_packages
if [ ${#missing[@]} -eq 0 ]; then
  echo "all present: c++, cmake, GoogleTest, clang++ with libFuzzer, ASan and UBSan"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Two rounds: the runtimes' package is named after clang's version, which a fresh machine
  # only knows once the package lists are there, or once clang itself is installed.
  for round in 1 2; do
    missing_packages
    [ ${#missing[@]} -eq 0 ] && break
    echo "installing: ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done
  missing_packages
  if [ ${#missing[@]} -eq 0 ]; then
    echo "installed; all present: c++, cmake, GoogleTest, clang++ with libFuzzer, ASan and UBSan"
    exit 0
  fi
  echo "error: still missing after apt-get install (round $round): ${missing[*]}" >&2
  exit 1
fi

echo "error: the tests need these packages, which are missing: ${missing[*]}" >&2
echo "  on Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
echo "  elsewhere: install a C++20 compiler, CMake >= 3.22, GoogleTest (with its CMake config)" >&2
echo "  and clang with its libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer runtimes" >&2
exit 1
