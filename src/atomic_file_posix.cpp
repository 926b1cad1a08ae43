#include "mmap_array/atomic_file.hpp"

#include <algorithm>
#include <utility>

#include "capture_error.hpp"
#include "file_posix.hpp"
#include "mmap_array/fault_guard.hpp"

namespace mmap_array {

atomic_writer::atomic_writer(const std::filesystem::path& path, write_options options)
    : path_(path),
      temp_(std::make_unique<detail::temp_file>(detail::temp_file::create_beside(path))),
      faults_at_start_(absorbed_fault_count()),
      options_(options) {}

atomic_writer::atomic_writer(atomic_writer&& other) noexcept = default;
atomic_writer& atomic_writer::operator=(atomic_writer&& other) noexcept = default;
atomic_writer::~atomic_writer() = default;  // temp_file's destructor removes an uncommitted file

void atomic_writer::require_active(const char* operation) const {
  if (!temp_) {
    throw state_error(errc::closed, operation, path_,
                      "the writer was committed, aborted or failed");
  }
}

void atomic_writer::preallocate(std::uint64_t total_bytes) {
  require_active("preallocate");
  temp_->preallocate(total_bytes);
  // The file keeps the largest size ever reserved, which commit() must cut back.
  preallocated_ = std::max(preallocated_, total_bytes);
}

void atomic_writer::write(std::span<const std::byte> bytes) {
  require_active("write");
  try {
    detail::write_all(temp_->fd(), bytes, temp_->given());
  } catch (...) {
    // Part of `bytes` may be in the file: committing it later would publish a torn file.
    abort();
    throw;
  }
  written_ += bytes.size();
}

void atomic_writer::commit() {
  require_active("commit");
  if (absorbed_fault_count() != faults_at_start_) {
    abort();
    throw file_truncated_error("write", path_,
                               "a mapped file shrank while this one was being written, so its "
                               "data may hold zeros where that file's bytes were; nothing was "
                               "replaced");
  }
  // Preallocation may have reserved more than was written; the file is what was written.
  if (preallocated_ > written_) temp_->truncate(written_);
  std::unique_ptr<detail::temp_file> temp = std::move(temp_);
  temp->commit(options_.fsync);
}

void atomic_writer::abort() noexcept { temp_.reset(); }

void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> chunks,
                           write_options options) {
  atomic_writer writer(path, options);
  for (const auto& chunk : chunks) writer.write(chunk);
  writer.commit();
}

void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::span<const std::byte>> chunks,
                           write_options options, std::error_code& ec) noexcept {
  detail::capture_error(ec, [&] { write_file_atomically(path, chunks, options); });
}

}  // namespace mmap_array
