// Round trip through the installed package: create a raw array of doubles,
// fill it, flush, close, map it again read-only and check the sum. Exits 0 on
// success, 1 on any failure (with the reason on stderr).
#include <mmap_array/mmap_array.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <numeric>
#include <span>
#include <vector>

namespace {

constexpr std::uint64_t kCount = 1000;

int fail(const char* reason) {
  std::fprintf(stderr, "consumer: %s\n", reason);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <scratch file>\n", argv[0]);
    return 2;
  }
  // The header the build generated and the package's version file must agree.
  if (std::strcmp(mmap_array::version, MMAP_ARRAY_PACKAGE_VERSION) != 0) {
    return fail("mmap_array::version differs from the CMake package version");
  }
  try {
    const std::filesystem::path path = argv[1];
    {
      mmap_array::mapped_file out = mmap_array::create_raw_array(
          path, {.itemsize = sizeof(double), .shape = std::vector<std::uint64_t>{kCount}});
      std::span<double> values = out.as_span<double>();
      // Halves are exact in binary, so the sum below is exact too.
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) * 0.5;
      out.flush();
      out.close();
    }
    mmap_array::mapped_file in = mmap_array::map_raw_array(
        path, mmap_array::access_mode::read_only, {.itemsize = sizeof(double)});
    const std::span<const double> values = in.as_span<const double>();
    if (values.size() != kCount) return fail("the mapped array has the wrong length");
    const double sum = std::accumulate(values.begin(), values.end(), 0.0);
    const double expected = 0.5 * static_cast<double>(kCount * (kCount - 1) / 2);
    if (sum != expected) return fail("the sum of the mapped values is wrong");
    std::printf("consumer: mmap_array %s, sum of %llu doubles = %.1f\n", mmap_array::version,
                static_cast<unsigned long long>(kCount), sum);
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
