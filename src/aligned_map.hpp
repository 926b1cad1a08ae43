// Placing file mappings where huge pages can back them.
//
// The kernel can map a 2 MiB page-cache folio with one page-table entry (a PMD
// mapping: smaps' FilePmdMapped) only where the mapping's address and the
// file offset agree modulo 2 MiB. Linux places mappings of at least 2 MiB that
// way itself for filesystems that provide thp_get_unmapped_area (ext4, xfs and
// others on recent kernels); where it does not, the mapping is moved to such an
// address inside a reserved region.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace mmap_array::detail {

/// The PMD (transparent huge page) size implied by the page size: a page of page-table
/// entries of 8 bytes each maps page_size / 8 pages (2 MiB for 4 KiB pages).
std::size_t pmd_size() noexcept;

/// mmap(nullptr, length, prot, flags, fd, offset) through the syscall seam, moved if needed
/// so that the address and `offset` agree modulo pmd_size() when `length` is at least that.
/// Returns MAP_FAILED with errno set if the plain mapping fails; if only the move fails, the
/// plain mapping is returned (alignment is an optimisation).
void* map_pmd_aligned(std::size_t length, int prot, int flags, int fd, off_t offset) noexcept;

}  // namespace mmap_array::detail
