// Growing and shrinking raw and .npy files in place (see resize.hpp for the contract).
//
// Every resize reopens the file by the absolute path of the mapping it starts from, checks
// that the path still names that file in that state, changes it, maps the new extent from
// the same descriptor and closes it. The order of the steps is what keeps the file valid
// after a crash at any point: the header of an .npy file is written after its data grows
// and before its data shrinks.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "capture_error.hpp"
#include "checked_math.hpp"
#include "file_posix.hpp"
#include "mapping_access.hpp"
#include "mmap_array/resize.hpp"
#include "npy_header.hpp"
#include "npy_read.hpp"
#include "py_literal.hpp"
#include "syscalls.hpp"
#include "temp_file.hpp"

namespace mmap_array {
namespace detail {
namespace {

constexpr std::string_view kOperation = "resize";

off_t to_off(std::uint64_t value, const std::filesystem::path& path) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
    throw_os_error(EFBIG, kOperation, path);
  }
  return static_cast<off_t>(value);
}

// Opens the file `current` maps, read-write, and checks that it is still that file, of the
// size it had when it was mapped: another size means another writer changed it, and
// resizing from stale numbers would cut or misplace its data.
opened_file reopen(const mapped_file& current) {
  if (!current.is_open()) throw_error(errc::closed, kOperation, current.path());
  if (current.mode() != access_mode::read_write) {
    throw layout_error(errc::not_writable, kOperation, current.path(),
                       "only a read-write (shared) mapping can change its file");
  }
  const std::filesystem::path& path = mapping_access::absolute_path(current);
  opened_file file;
  try {
    file = open_regular_file(path, access_mode::read_write);
  } catch (const os_error& e) {
    if (e.errno_value() != ENOENT) throw;
    throw file_changed_error(kOperation, path,
                             "the file was deleted or renamed since it was mapped");
  }
  const file_identity& was = current.identity();
  const file_identity& now = file.identity;
  if (now.device != was.device || now.inode != was.inode) {
    throw file_changed_error(kOperation, path,
                             "the path now names another file (device " +
                                 std::to_string(was.device) + ", inode " +
                                 std::to_string(was.inode) + " -> device " +
                                 std::to_string(now.device) + ", inode " +
                                 std::to_string(now.inode) + "): it was replaced since it was mapped");
  }
  if (now.size != was.size) {
    throw file_changed_error(kOperation, path,
                             "its size changed from " + std::to_string(was.size) + " to " +
                                 std::to_string(now.size) + " bytes since it was mapped");
  }
  return file;
}

// Allocates bytes [from, to) of the file, which is `from` bytes long, so that a full disk
// fails here and not as a fault when the pages are first written. On failure the file's
// length is restored (the kernel may have extended it part way).
void allocate(int fd, std::uint64_t from, std::uint64_t to, const std::filesystem::path& path) {
  const off_t start = to_off(from, path);
  const off_t length = to_off(to - from, path);
  int err = 0;
  do {
    err = syscalls().fallocate(fd, start, length);
  } while (err == EINTR);
  if (err == 0) return;
  retry_on_eintr([&] { return syscalls().ftruncate(fd, start); });
  throw_os_error(err, "preallocate", path,
                 std::string(std::error_code(err, std::system_category()).message()) +
                     " (growing the file from " + std::to_string(from) + " to " +
                     std::to_string(to) + " bytes)");
}

void set_length(int fd, std::uint64_t size, const std::filesystem::path& path) {
  const off_t length = to_off(size, path);
  if (retry_on_eintr([&] { return syscalls().ftruncate(fd, length); }) != 0) {
    throw_os_error(errno, kOperation, path);
  }
}

// Undoes a growth after a later step failed; the first error is the one reported.
void restore_length(int fd, std::uint64_t size) noexcept {
  retry_on_eintr([&] { return syscalls().ftruncate(fd, static_cast<off_t>(size)); });
}

// Writes zeros over bytes [from, to): stale bytes that lay after an .npy file's array and
// now lie inside it.
void write_zeros(int fd, std::uint64_t from, std::uint64_t to, const std::filesystem::path& path) {
  static const std::vector<std::byte> zeros(std::size_t{1} << 16);
  while (from < to) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, zeros.size()));
    write_all_at(fd, from, std::span(zeros).first(n), path);
    from += n;
  }
}

// The identity of the file open as `fd` after a resize; should fstat fail after the change
// is made, what is known (the new size) is kept rather than failing a finished resize.
file_identity identity_after(int fd, const file_identity& before, std::uint64_t size) noexcept {
  struct stat st {};
  if (syscalls().fstat(fd, &st) == 0) return identity_of(st);
  file_identity identity = before;
  identity.size = size;
  return identity;
}

void check_tail(std::span<const std::byte> tail, std::uint64_t old_size, std::uint64_t new_size,
                const std::filesystem::path& path) {
  const std::uint64_t growth = new_size > old_size ? new_size - old_size : 0;
  if (tail.size() > growth) {
    throw layout_error(errc::bad_argument, kOperation, path,
                       std::to_string(tail.size()) + " bytes to append do not fit in the " +
                           std::to_string(growth) + " bytes the file grows by");
  }
}

std::size_t growth_axis(const npy_header& header, const std::filesystem::path& path) {
  if (header.shape.empty()) {
    throw layout_error(errc::bad_argument, kOperation, path,
                       "a 0-d array (shape ()) has no axis to grow or shrink");
  }
  return header.fortran_order ? header.shape.size() - 1 : 0;
}

// `header` with `new_length` entries along its growing axis, and its new data size.
npy_header resized_header(const npy_header& header, std::uint64_t new_length,
                          const std::filesystem::path& path) {
  npy_header next = header;
  next.shape[growth_axis(header, path)] = new_length;
  std::uint64_t bytes = next.dtype.itemsize;
  bool empty = false;
  for (std::uint64_t dim : next.shape) {
    if (dim == 0) {
      empty = true;
    } else if (!checked_mul(bytes, dim, bytes)) {
      throw layout_error(errc::size_overflow, kOperation, path,
                         "shape " + py_tuple(next.shape) + " of " +
                             std::to_string(next.dtype.itemsize) +
                             "-byte items is 2**64 bytes or more");
    }
  }
  next.data_size = empty ? 0 : bytes;
  std::uint64_t end = 0;
  if (!checked_add(next.data_offset, next.data_size, end)) {
    throw layout_error(errc::size_overflow, kOperation, path,
                       "the file would be 2**64 bytes or more");
  }
  return next;
}

bool same_header(const npy_header& a, const npy_header& b) {
  return a.shape == b.shape && a.fortran_order == b.fortran_order &&
         a.data_offset == b.data_offset && a.data_size == b.data_size &&
         format_npy_descr(a.dtype) == format_npy_descr(b.dtype);
}

// The .npy file without room for its new header: a complete new file, written to a
// temporary beside it and renamed over it, so a reader sees the old file or the new one.
mapped_npy rewrite_npy(const mapped_file& current, const opened_file& file,
                       const npy_header& header, const npy_header& next,
                       std::span<const std::byte> tail) {
  const std::filesystem::path& path = mapping_access::absolute_path(current);
  npy_layout layout = make_npy_layout(header.dtype, next.shape, header.fortran_order,
                                      kOperation, path);
  std::uint64_t file_size = 0;
  if (!checked_add(layout.header.data_offset, layout.header.data_size, file_size)) {
    throw layout_error(errc::size_overflow, kOperation, path,
                       "the file would be 2**64 bytes or more");
  }
  temp_file temp = temp_file::create_beside(path);
  temp.preallocate(file_size);
  write_all_at(temp.fd(), 0, std::as_bytes(std::span(layout.prefix)), path);
  // The data that stays, copied through a bounded buffer.
  const std::uint64_t keep = std::min(header.data_size, layout.header.data_size);
  std::vector<std::byte> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(keep, 1 << 20)));
  for (std::uint64_t done = 0; done < keep;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(keep - done, buffer.size()));
    read_exact(file.fd.get(), header.data_offset + done, std::span(buffer).first(n), path);
    write_all_at(temp.fd(), layout.header.data_offset + done, std::span(buffer).first(n), path);
    done += n;
  }
  if (!tail.empty()) write_all_at(temp.fd(), layout.header.data_offset + keep, tail, path);
  struct stat st {};
  if (syscalls().fstat(temp.fd(), &st) != 0) throw_os_error(errno, "stat", path);
  mapped_file data = mapping_access::map(temp.fd(), identity_of(st), current.path(),
                                         access_mode::read_write, layout.header.data_offset,
                                         layout.header.data_size);
  temp.commit(false);
  mapping_access::mark_created(data, temp.target());
  return {std::move(layout.header), std::move(data)};
}

}  // namespace
}  // namespace detail

mapped_file resize_raw_array(const mapped_file& current, std::uint64_t new_size,
                             std::span<const std::byte> tail) {
  using namespace detail;
  opened_file file = reopen(current);
  const std::filesystem::path& path = mapping_access::absolute_path(current);
  const std::uint64_t old_file_size = file.identity.size;
  if (current.offset() + current.size() != old_file_size) {
    throw layout_error(errc::shape_mismatch, kOperation, path,
                       "the mapped range ends at byte " +
                           std::to_string(current.offset() + current.size()) +
                           ", before the end of the file (size " + std::to_string(old_file_size) +
                           "): only an array that ends the file can grow or shrink");
  }
  std::uint64_t new_file_size = 0;
  if (!checked_add(current.offset(), new_size, new_file_size)) {
    throw layout_error(errc::size_overflow, kOperation, path,
                       "offset " + std::to_string(current.offset()) + " plus " +
                           std::to_string(new_size) + " bytes overflows 64 bits");
  }
  check_tail(tail, current.size(), new_size, path);
  const int fd = file.fd.get();
  mapped_file result;
  if (new_file_size >= old_file_size) {
    if (new_file_size > old_file_size) allocate(fd, old_file_size, new_file_size, path);
    try {
      if (!tail.empty()) write_all_at(fd, old_file_size, tail, path);
      result = mapping_access::map(fd, file.identity, current.path(), access_mode::read_write,
                                   current.offset(), new_size);
    } catch (...) {
      restore_length(fd, old_file_size);
      throw;
    }
  } else {
    // Mapped before the cut, so a failure to map leaves the file whole.
    result = mapping_access::map(fd, file.identity, current.path(), access_mode::read_write,
                                 current.offset(), new_size);
    set_length(fd, new_file_size, path);
  }
  mapping_access::succeed(result, current, identity_after(fd, file.identity, new_file_size));
  return result;
}

mapped_file resize_raw_array(const mapped_file& current, std::uint64_t new_size,
                             std::span<const std::byte> tail, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return resize_raw_array(current, new_size, tail); });
}

bool npy_header_fits(const npy_header& header, std::uint64_t new_length) {
  const npy_header next = detail::resized_header(header, new_length, {});
  return detail::format_npy_header_in(next, header.data_offset).has_value();
}

mapped_npy resize_npy(const mapped_file& current, const npy_header& header,
                      std::uint64_t new_length, std::span<const std::byte> tail) {
  using namespace detail;
  opened_file file = reopen(current);
  const std::filesystem::path& path = mapping_access::absolute_path(current);
  const int fd = file.fd.get();
  const std::uint64_t old_file_size = file.identity.size;
  // The header as the file holds it now: another writer may have rewritten it in place.
  const npy_header on_disk = read_npy_header(
      fd, 0, old_file_size, path,
      npy_limits{std::max<std::uint64_t>(header.data_offset, npy_limits{}.max_header_size)},
      "file");
  if (!same_header(on_disk, header) || current.offset() != header.data_offset ||
      current.size() != header.data_size) {
    throw file_changed_error(kOperation, path,
                             "its .npy header changed since it was mapped (shape " +
                                 py_tuple(header.shape) + " -> " + py_tuple(on_disk.shape) + ")");
  }
  npy_header next = resized_header(header, new_length, path);
  check_tail(tail, header.data_size, next.data_size, path);
  const std::optional<std::string> prefix = format_npy_header_in(next, header.data_offset);
  if (!prefix) return rewrite_npy(current, file, header, next, tail);

  const std::uint64_t old_end = header.data_offset + header.data_size;
  const std::uint64_t new_end = header.data_offset + next.data_size;
  mapped_file data;
  if (new_end >= old_end) {
    // Data first, header last: until the header is written, the old header describes the
    // old array, and what follows it is bytes after the array, which readers accept.
    const bool grows = new_end > old_file_size;
    if (grows) allocate(fd, old_file_size, new_end, path);
    try {
      if (!tail.empty()) write_all_at(fd, old_end, tail, path);
      write_zeros(fd, old_end + tail.size(), std::min(old_file_size, new_end), path);
      if (new_end < old_file_size) set_length(fd, new_end, path);
      data = mapping_access::map(fd, file.identity, current.path(), access_mode::read_write,
                                 header.data_offset, next.data_size);
      // One write of the header, which lies in the file's first page.
      write_all_at(fd, 0, std::as_bytes(std::span(*prefix)), path);
    } catch (...) {
      if (grows) restore_length(fd, old_file_size);
      throw;
    }
  } else {
    // Header first, then the cut: in between, the old data's end is bytes after the array.
    std::vector<std::byte> old_prefix(static_cast<std::size_t>(header.data_offset));
    read_exact(fd, 0, old_prefix, path);
    data = mapping_access::map(fd, file.identity, current.path(), access_mode::read_write,
                               header.data_offset, next.data_size);
    write_all_at(fd, 0, std::as_bytes(std::span(*prefix)), path);
    try {
      set_length(fd, new_end, path);
    } catch (...) {
      // The file is valid either way; with its old header back, it is also as it was.
      try {
        write_all_at(fd, 0, old_prefix, path);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the first error is the one to report
      }
      throw;
    }
  }
  mapping_access::succeed(data, current, identity_after(fd, file.identity, new_end));
  return {std::move(next), std::move(data)};
}

mapped_npy resize_npy(const mapped_file& current, const npy_header& header,
                      std::uint64_t new_length, std::span<const std::byte> tail,
                      std::error_code& ec) noexcept {
  return detail::capture_error(ec,
                               [&] { return resize_npy(current, header, new_length, tail); });
}

}  // namespace mmap_array
