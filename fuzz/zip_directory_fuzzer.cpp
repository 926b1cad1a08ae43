// libFuzzer target: map_npz, and so the zip central directory reader and the .npy header
// of every stored member, on an archive of arbitrary bytes.
//
// The reader works from a file descriptor, so each input is written to one memfd (made
// once; an anonymous file in memory, no disk I/O) and opened through /proc/self/fd like
// any path. A format_error is the reader refusing bad bytes, and an os_error the file
// layer's answer; anything else is a finding. So is an archive that opens with a member
// outside the file: every stored member's bytes are read, and checked to lie in the mapping.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mmap_array/error.hpp"
#include "mmap_array/npz.hpp"

namespace {

// The memfd every input is written to, and the path that opens it.
struct scratch_file {
  int fd = -1;
  std::string path;
};

const scratch_file& scratch() {
  static const scratch_file file = [] {
    scratch_file f;
    f.fd = ::memfd_create("zip_directory_fuzzer", MFD_CLOEXEC);
    if (f.fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    f.path = "/proc/self/fd/" + std::to_string(f.fd);
    return f;
  }();
  return file;
}

void write_input(const std::uint8_t* data, std::size_t size) {
  const int fd = scratch().fd;
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
}

// Reads every byte of every stored member's array, so a member placed outside the mapping
// faults (or ASan reports it) instead of passing unnoticed.
void touch_members(const mmap_array::mapped_npz& archive) {
  const std::size_t file_size = archive.file.size();
  for (const mmap_array::npz_member& member : archive.members) {
    if (member.compressed) continue;
    if (member.data_offset > file_size || member.header.data_size > file_size - member.data_offset) {
      std::abort();
    }
    // Volatile, so the compiler keeps reads whose values nobody uses.
    const volatile std::byte* first = archive.file.data() + member.data_offset;
    for (std::uint64_t i = 0; i < member.header.data_size; ++i) static_cast<void>(first[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_input(data, size);
  try {
    touch_members(mmap_array::map_npz(scratch().path));
  } catch (const mmap_array::format_error&) {
  } catch (const mmap_array::os_error&) {
  }
  return 0;
}
