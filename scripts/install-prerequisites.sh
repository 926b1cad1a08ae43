#!/usr/bin/env bash
# Installs the system packages the test suite needs, if they are missing:
# a C++20 compiler, CMake and GoogleTest. On Debian/Ubuntu as root this uses
# apt-get; anywhere else it says exactly what to install and fails.
set -euo pipefail

missing=()
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
[ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ] || missing+=(libgtest-dev)

if [ ${#missing[@]} -eq 0 ]; then
  echo "all present: c++, cmake, GoogleTest"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "error: the tests need these packages, which are missing: ${missing[*]}" >&2
echo "  on Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
echo "  elsewhere: install a C++20 compiler, CMake >= 3.22 and GoogleTest (with its CMake config)" >&2
exit 1
