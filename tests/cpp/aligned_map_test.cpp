// Placement of mappings for huge pages (src/aligned_map.hpp): a mapping of at
// least one PMD that the kernel left misaligned is moved so that its addresses
// agree with its file offsets modulo the PMD size; small ones are left alone.
#include "aligned_map.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "mmap_array/mapped_file.hpp"
#include "test_support.hpp"

namespace {

using mmap_array::access_mode;
using mmap_array::mapped_file;
using namespace mmap_array_test;

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

TEST(AlignedMap, PmdSizeFollowsThePageSize) {
  EXPECT_EQ(mmap_array::detail::pmd_size(), kPage * (kPage / 8));
  if (kPage == 4096) {
    EXPECT_EQ(mmap_array::detail::pmd_size(), std::size_t{2} << 20);
  }
}

// A kernel that places file mappings anywhere: the first file mapping goes one page past an
// address agreeing with its offset modulo 2 MiB.
int g_misplaced = 0;
void* misplacing_mmap(void* address, std::size_t length, int prot, int flags, int fd, off_t offset) {
  const auto& real = mmap_array::detail::real_syscalls();
  if (fd < 0 || address != nullptr || g_misplaced > 0) {
    return real.mmap(address, length, prot, flags, fd, offset);
  }
  ++g_misplaced;
  const std::size_t huge = kPage * (kPage / 8);
  void* area = real.mmap(nullptr, length + 2 * huge, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return area;
  const auto low = reinterpret_cast<std::uintptr_t>(area);
  const std::uintptr_t wanted = static_cast<std::uintptr_t>(offset) % huge;
  const std::uintptr_t target = low + (wanted + huge - low % huge) % huge + kPage;
  real.munmap(area, length + 2 * huge);
  return real.mmap(reinterpret_cast<void*>(target), length, prot, flags | MAP_FIXED_NOREPLACE,
                   fd, offset);
}

void* refusing_reservation_mmap(void* address, std::size_t length, int prot, int flags, int fd,
                                off_t offset) {
  if (fd < 0) {
    errno = ENOMEM;
    return MAP_FAILED;
  }
  return misplacing_mmap(address, length, prot, flags, fd, offset);
}

TEST(AlignedMap, MappingsOfAPmdOrMoreArePlacedForHugePages) {
  temp_dir tmp;
  const std::size_t huge = kPage * (kPage / 8);
  const auto path = tmp / "data.bin";
  write_file(path, pattern(3 * huge));
  const std::uint64_t offset = 5 * kPage + 17;
  {
    seam_guard guard;
    guard.table().mmap = misplacing_mmap;
    g_misplaced = 0;
    mapped_file m = mapped_file::open(path, access_mode::read_only, {offset});
    EXPECT_EQ(g_misplaced, 1);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m.data()) % huge, offset % huge);
    EXPECT_EQ(as_text({m.data(), m.size()}), std::string_view(pattern(3 * huge)).substr(offset));
  }
  {
    // No address space for the reservation: the misplaced mapping is kept, and works.
    seam_guard guard;
    guard.table().mmap = refusing_reservation_mmap;
    g_misplaced = 0;
    mapped_file m = mapped_file::open(path, access_mode::read_only, {offset});
    EXPECT_NE(reinterpret_cast<std::uintptr_t>(m.data()) % huge, offset % huge);
    EXPECT_EQ(as_text({m.data(), m.size()}), std::string_view(pattern(3 * huge)).substr(offset));
  }
  // Small mappings are left where the kernel put them: one mmap, nothing more.
  counting_seam seam;
  write_file(tmp / "small.bin", pattern(kPage));
  mapped_file small = mapped_file::open(tmp / "small.bin", access_mode::read_only);
  EXPECT_EQ(seam.counts().mmap, 1);
  EXPECT_EQ(seam.counts().munmap, 0);
}

}  // namespace
