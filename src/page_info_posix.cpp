// page_info: what backs a mapping, from Linux's /proc/self/smaps and the
// transparent huge page settings under /sys (see access.hpp).
#include <fcntl.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "capture_error.hpp"
#include "file_posix.hpp"
#include "mmap_array/access.hpp"
#include "page_span.hpp"
#include "syscalls.hpp"

namespace mmap_array {
namespace {

constexpr const char* kOperation = "inspect the pages of";
constexpr const char* kSmaps = "/proc/self/smaps";
constexpr const char* kThpEnabled = "/sys/kernel/mm/transparent_hugepage/enabled";
constexpr const char* kThpSize = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";

// The whole text of a (proc or sys) file, or nothing if it does not exist; other failures
// throw os_error naming `file` (the mapping the report is about) and the file read.
std::optional<std::string> read_text(const char* source, const mapped_file& file) {
  detail::unique_fd fd(detail::retry_on_eintr(
      [&] { return detail::syscalls().open(source, O_RDONLY | O_CLOEXEC, 0); }));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    detail::throw_os_error(errno, kOperation, file.path(), std::string("cannot open ") + source);
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = detail::retry_on_eintr([&] {
      return detail::syscalls().pread(fd.get(), buffer, sizeof buffer,
                                      static_cast<off_t>(text.size()));
    });
    if (n < 0) {
      detail::throw_os_error(errno, kOperation, file.path(),
                             std::string("cannot read ") + source);
    }
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

bool parse_number(std::string_view text, std::uint64_t& value, int base = 10) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// "start-end ..." of a VMA header line, or nothing for any other line.
std::optional<std::pair<std::uint64_t, std::uint64_t>> vma_bounds(std::string_view line) {
  const std::size_t dash = line.find('-');
  const std::size_t space = line.find(' ');
  if (dash == std::string_view::npos || space == std::string_view::npos || dash > space) {
    return std::nullopt;
  }
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  if (!parse_number(line.substr(0, dash), begin, 16) ||
      !parse_number(line.substr(dash + 1, space - dash - 1), end, 16)) {
    return std::nullopt;
  }
  return std::pair{begin, end};
}

void add_counter(page_report& report, std::string_view name, std::uint64_t bytes) {
  for (auto& [known, total] : report.smaps) {
    if (known == name) {
      total += bytes;
      return;
    }
  }
  report.smaps.emplace_back(std::string(name), bytes);
}

// Sums the kB counters of the VMAs overlapping [begin, end) into `report`.
void read_smaps(std::string_view text, std::uint64_t begin, std::uint64_t end,
                page_report& report) {
  bool inside = false;
  bool all_advised = true;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (const auto bounds = vma_bounds(line)) {
      inside = bounds->first < end && bounds->second > begin;
      report.vmas += inside ? 1 : 0;
      continue;
    }
    if (!inside) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "VmFlags") {
      const std::string flags = " " + std::string(value) + " ";
      all_advised = all_advised && flags.find(" hg ") != std::string::npos;
      continue;
    }
    // The page sizes of a VMA are not amounts: summed over VMAs they would mean nothing.
    if (name == "KernelPageSize" || name == "MMUPageSize") continue;
    std::uint64_t kilobytes = 0;
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB" &&
        parse_number(trim(value.substr(0, value.size() - 3)), kilobytes)) {
      add_counter(report, name, kilobytes * 1024);
    }
  }
  report.hugepage_advised = report.vmas > 0 && all_advised;
}

}  // namespace

page_report page_info(const mapped_file& file) {
  const detail::page_span span = detail::pages_of(file, {}, kOperation);
  page_report report;
  report.page_size = detail::system_page_size();
  if (const auto enabled = read_text(kThpEnabled, file)) {
    const std::size_t open = enabled->find('[');
    const std::size_t close = enabled->find(']', open);
    if (open != std::string::npos && close != std::string::npos) {
      report.thp_enabled = enabled->substr(open + 1, close - open - 1);
    }
  }
  if (const auto size = read_text(kThpSize, file)) {
    std::uint64_t bytes = 0;
    if (parse_number(trim(*size), bytes)) report.huge_page_size = static_cast<std::size_t>(bytes);
  }
  if (report.huge_page_size > 0 && file.data() != nullptr) {
    report.pmd_aligned = reinterpret_cast<std::uintptr_t>(file.data()) % report.huge_page_size ==
                         file.offset() % report.huge_page_size;
  }
  if (span.pages_length == 0) return report;
  const std::optional<std::string> smaps = read_text(kSmaps, file);
  if (!smaps) detail::throw_os_error(ENOENT, kOperation, file.path(), "no /proc/self/smaps");
  const auto begin = reinterpret_cast<std::uintptr_t>(span.pages);
  read_smaps(*smaps, begin, begin + span.pages_length, report);
  if (report.vmas == 0) {
    detail::throw_os_error(ENOENT, kOperation, file.path(),
                           "the mapping is missing from /proc/self/smaps");
  }
  return report;
}

page_report page_info(const mapped_file& file, std::error_code& ec) noexcept {
  return detail::capture_error(ec, [&] { return page_info(file); });
}

}  // namespace mmap_array
