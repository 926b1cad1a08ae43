// identify_file: what stat(2) says about a path now, as the identity a mapping records,
// so a caller can tell whether a path still names the file it mapped, unchanged.
#include <sys/stat.h>

#include <cerrno>

#include "capture_error.hpp"
#include "file_posix.hpp"
#include "mmap_array/mapped_file.hpp"
#include "syscalls.hpp"

namespace mmap_array {

file_identity identify_file(const std::filesystem::path& path) {
  struct stat st {};
  if (detail::syscalls().stat(path.c_str(), &st) != 0) detail::throw_os_error(errno, "stat", path);
  return detail::identity_of(st);
}

file_identity identify_file(const std::filesystem::path& path, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return identify_file(path); });
}

}  // namespace mmap_array
