// .npz archives: the zip directory, then the .npy header of every stored
// member, then one mapping of the whole file.
#include "mmap_array/npz.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "capture_error.hpp"
#include "file_posix.hpp"
#include "mapping_access.hpp"
#include "npy_read.hpp"
#include "py_literal.hpp"
#include "zip_directory.hpp"

namespace mmap_array {
namespace {

constexpr std::string_view kSuffix = ".npy";

// The header of the stored member `entry`, its errors naming the member.
npy_header read_member_header(int fd, const detail::zip_entry& entry,
                              const std::filesystem::path& path, const npy_limits& limits) {
  try {
    return detail::read_npy_header(fd, entry.data_offset, entry.uncompressed_size, path, limits,
                                   "member");
  } catch (const format_error& e) {
    throw format_error(e.code(), e.operation(), path,
                       "member " + detail::quote_py_str(entry.name) + ": " + e.cause());
  }
}

}  // namespace

mapped_npz map_npz(const std::filesystem::path& path, access_mode mode,
                   const npy_limits& limits) {
  detail::opened_file file = detail::open_regular_file(path, mode);
  const std::vector<detail::zip_entry> entries =
      detail::read_zip_directory(file.fd.get(), file.identity.size, path);

  mapped_npz archive;
  for (const detail::zip_entry& entry : entries) {
    if (!entry.name.ends_with(kSuffix)) continue;
    if (entry.encrypted) {
      throw format_error(format_errc::encrypted_member, "read", path,
                         "member " + detail::quote_py_str(entry.name) +
                             " is encrypted, which numpy.load cannot read either");
    }
    npz_member member;
    member.name = entry.name.substr(0, entry.name.size() - kSuffix.size());
    member.compressed = entry.method != 0;
    if (!member.compressed) {
      member.header = read_member_header(file.fd.get(), entry, path, limits);
      // Cannot overflow: the header and data lie within the member, which lies within the file.
      member.data_offset = entry.data_offset + member.header.data_offset;
    }
    archive.members.push_back(std::move(member));
  }
  archive.file = detail::mapping_access::map(file.fd.get(), file.identity, path, mode, 0,
                                             file.identity.size);
  return archive;
}

mapped_npz map_npz(const std::filesystem::path& path, access_mode mode, const npy_limits& limits,
                   std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return map_npz(path, mode, limits); });
}

}  // namespace mmap_array
