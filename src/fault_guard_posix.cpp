// The SIGBUS handler and the registry it reads. See fault_guard.hpp for the why,
// fault_registry.hpp for the registry's contract.
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fault_registry.hpp"
#include "mmap_array/fault_guard.hpp"

namespace mmap_array {
namespace detail {
namespace {

// --- the registry ----------------------------------------------------------------------

// Slots live in chunks allocated on demand and never freed, so the handler can read any
// slot below the high-water mark without a lock. 256 chunks of 4096 slots is far beyond
// vm.max_map_count, the kernel's own cap on mappings per process.
constexpr std::size_t kChunkSlots = 4096;
constexpr std::size_t kMaxChunks = 256;

struct slot {
  std::atomic<std::uint32_t> sequence{0};  // odd while the fields below are being written
  std::atomic<std::uintptr_t> begin{0};    // 0 when free
  std::atomic<std::uintptr_t> end{0};
  std::atomic<int> prot{0};
  std::atomic<std::uint64_t> file_offset{0};
  std::atomic<std::uint64_t> generation{0};  // bumped at every registration
  std::atomic<bool> truncated{false};
};

struct chunk {
  std::array<slot, kChunkSlots> slots;
};

std::array<std::atomic<chunk*>, kMaxChunks> g_chunks{};
std::atomic<std::size_t> g_high_water{0};

// Registration state, never touched by the handler.
std::mutex g_registry_mutex;
std::vector<std::size_t> g_free_slots;
std::vector<std::string> g_paths;             // by slot: the last path registered there
std::vector<std::uint64_t> g_path_generation;  // by slot: the generation g_paths belongs to

slot* slot_at(std::size_t index) noexcept {
  chunk* c = g_chunks[index / kChunkSlots].load(std::memory_order_acquire);
  return c == nullptr ? nullptr : &c->slots[index % kChunkSlots];
}

// --- the handler's state ---------------------------------------------------------------

struct sigaction g_previous {};  // what the handler passes foreign signals on to
std::atomic<bool> g_installed{false};
std::mutex g_install_mutex;
std::atomic<void (*)() noexcept> g_notifier{nullptr};
std::atomic<std::uint64_t> g_absorbed{0};
std::uintptr_t g_page_size = 4096;

// Events: a ring the handler writes without locks; readers take them under the mutex.
constexpr std::size_t kEvents = 256;
struct event {
  std::atomic<std::uint64_t> stamp{0};  // n + 1 once event number n is complete
  std::atomic<std::size_t> slot{0};
  std::atomic<std::uint64_t> generation{0};
  std::atomic<std::uint64_t> file_offset{0};
};
std::array<event, kEvents> g_events;
std::atomic<std::uint64_t> g_events_written{0};
std::uint64_t g_events_read = 0;  // under g_registry_mutex

void record_event(std::size_t index, const slot& s, std::uintptr_t page) noexcept {
  const std::uint64_t n = g_events_written.fetch_add(1, std::memory_order_relaxed);
  event& e = g_events[n % kEvents];
  e.slot.store(index, std::memory_order_relaxed);
  e.generation.store(s.generation.load(std::memory_order_relaxed), std::memory_order_relaxed);
  e.file_offset.store(s.file_offset.load(std::memory_order_relaxed) +
                          (page - s.begin.load(std::memory_order_relaxed)),
                      std::memory_order_relaxed);
  e.stamp.store(n + 1, std::memory_order_release);
}

// Gives a signal to the disposition that was in place before ours, as if ours had never
// been there: faulthandler's way. A fault re-executes its instruction and faults again
// into that disposition; a signal someone sent is sent again.
void pass_on(int signum, const siginfo_t* info) noexcept {
  sigaction(signum, &g_previous, nullptr);
  g_installed.store(false, std::memory_order_relaxed);
  if (info == nullptr || info->si_code <= 0) raise(signum);
}

void on_sigbus(int signum, siginfo_t* info, void*) {
  const int saved_errno = errno;
  // si_code > 0: the kernel raised it for a memory access (not kill(2) or raise(3)).
  if (info != nullptr && info->si_code > 0) {
    const std::size_t index = find_mapping(info->si_addr);
    if (index != no_fault_slot) {
      slot& s = *slot_at(index);
      const std::uintptr_t page = reinterpret_cast<std::uintptr_t>(info->si_addr) & ~(g_page_size - 1);
      // The raw system call: the libc wrapper is not on the async-signal-safe list.
      const long mapped = syscall(SYS_mmap, page, g_page_size, s.prot.load(std::memory_order_relaxed),
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
      if (mapped == static_cast<long>(page)) {
        s.truncated.store(true, std::memory_order_release);
        g_absorbed.fetch_add(1, std::memory_order_relaxed);
        record_event(index, s, page);
        if (auto notifier = g_notifier.load(std::memory_order_acquire)) notifier();
        errno = saved_errno;
        return;
      }
    }
  }
  errno = saved_errno;
  pass_on(signum, info);
}

bool ours_is_installed_now() {
  struct sigaction current {};
  sigaction(SIGBUS, nullptr, &current);
  return (current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == &on_sigbus;
}

// Installs ours; with `chain_to_current`, what is installed now becomes what ours passes
// foreign signals on to. Caller holds g_install_mutex.
void install_locked(bool chain_to_current) {
  g_page_size = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  struct sigaction ours {};
  ours.sa_sigaction = &on_sigbus;
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&ours.sa_mask);
  struct sigaction current {};
  if (sigaction(SIGBUS, &ours, &current) != 0) {
    throw os_error(std::error_code(errno, std::system_category()), "install the SIGBUS handler",
                   {});
  }
  if (chain_to_current) g_previous = current;
  g_installed.store(true, std::memory_order_relaxed);
}

}  // namespace

// --- registry API ----------------------------------------------------------------------

std::size_t register_mapping(const void* base, std::size_t length, int prot,
                             std::uint64_t file_offset, const std::filesystem::path& path) noexcept {
  if (base == nullptr || length == 0) return no_fault_slot;
  try {
    std::lock_guard lock(g_registry_mutex);
    std::size_t index;
    if (!g_free_slots.empty()) {
      index = g_free_slots.back();
      g_free_slots.pop_back();
    } else {
      index = g_high_water.load(std::memory_order_relaxed);
      if (index >= kChunkSlots * kMaxChunks) return no_fault_slot;
      if (g_chunks[index / kChunkSlots].load(std::memory_order_relaxed) == nullptr) {
        g_chunks[index / kChunkSlots].store(new chunk, std::memory_order_release);
      }
    }
    if (g_paths.size() <= index) {
      g_paths.resize(index + 1);
      g_path_generation.resize(index + 1);
    }
    slot& s = *slot_at(index);
    const std::uint32_t sequence = s.sequence.load(std::memory_order_relaxed);
    s.sequence.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    const auto start = reinterpret_cast<std::uintptr_t>(base);
    s.begin.store(start, std::memory_order_relaxed);
    s.end.store(start + length, std::memory_order_relaxed);
    s.prot.store(prot, std::memory_order_relaxed);
    s.file_offset.store(file_offset, std::memory_order_relaxed);
    const std::uint64_t generation = s.generation.load(std::memory_order_relaxed) + 1;
    s.generation.store(generation, std::memory_order_relaxed);
    s.truncated.store(false, std::memory_order_relaxed);
    s.sequence.store(sequence + 2, std::memory_order_release);
    g_paths[index] = path.native();
    g_path_generation[index] = generation;
    if (index >= g_high_water.load(std::memory_order_relaxed)) {
      g_high_water.store(index + 1, std::memory_order_release);
    }
    return index;
  } catch (...) {  // bad_alloc: the mapping works unguarded rather than not at all
    return no_fault_slot;
  }
}

void unregister_mapping(std::size_t index) noexcept {
  if (index == no_fault_slot) return;
  std::lock_guard lock(g_registry_mutex);
  slot& s = *slot_at(index);
  const std::uint32_t sequence = s.sequence.load(std::memory_order_relaxed);
  s.sequence.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.begin.store(0, std::memory_order_relaxed);
  s.end.store(0, std::memory_order_relaxed);
  s.sequence.store(sequence + 2, std::memory_order_release);
  try {
    g_free_slots.push_back(index);
  } catch (...) {  // out of memory: the slot is lost to reuse, nothing worse
  }
}

bool mapping_truncated(std::size_t index) noexcept {
  if (index == no_fault_slot) return false;
  return slot_at(index)->truncated.load(std::memory_order_acquire);
}

void mark_mapping_truncated(std::size_t index) noexcept {
  if (index != no_fault_slot) slot_at(index)->truncated.store(true, std::memory_order_release);
}

std::size_t find_mapping(const void* address) noexcept {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  const std::size_t high_water = g_high_water.load(std::memory_order_acquire);
  for (std::size_t index = 0; index < high_water; ++index) {
    const slot* s = slot_at(index);
    if (s == nullptr) continue;
    const std::uint32_t before = s->sequence.load(std::memory_order_acquire);
    if (before & 1u) continue;  // being rewritten: not the live mapping that faulted
    const std::uintptr_t begin = s->begin.load(std::memory_order_relaxed);
    const std::uintptr_t end = s->end.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s->sequence.load(std::memory_order_relaxed) != before) continue;
    if (begin != 0 && begin <= target && target < end) return index;
  }
  return no_fault_slot;
}

std::filesystem::path mapping_path(std::size_t index) {
  std::lock_guard lock(g_registry_mutex);
  return index < g_paths.size() ? std::filesystem::path(g_paths[index]) : std::filesystem::path();
}

}  // namespace detail

// --- public API ------------------------------------------------------------------------

void install_fault_handler() {
  std::lock_guard lock(detail::g_install_mutex);
  if (!detail::g_installed.load(std::memory_order_relaxed)) detail::install_locked(true);
}

bool ensure_fault_handler_on_top() {
  std::lock_guard lock(detail::g_install_mutex);
  if (detail::ours_is_installed_now()) return false;
  detail::install_locked(true);
  return true;
}

bool reinstall_fault_handler_keeping_previous() {
  std::lock_guard lock(detail::g_install_mutex);
  if (detail::ours_is_installed_now()) return false;
  detail::install_locked(false);
  return true;
}

void uninstall_fault_handler() {
  std::lock_guard lock(detail::g_install_mutex);
  if (!detail::ours_is_installed_now()) return;
  sigaction(SIGBUS, &detail::g_previous, nullptr);
  detail::g_installed.store(false, std::memory_order_relaxed);
}

bool fault_handler_installed() {
  std::lock_guard lock(detail::g_install_mutex);
  return detail::ours_is_installed_now();
}

std::uint64_t absorbed_fault_count() noexcept {
  return detail::g_absorbed.load(std::memory_order_relaxed);
}

void set_fault_notifier(void (*notifier)() noexcept) noexcept {
  detail::g_notifier.store(notifier, std::memory_order_release);
}

std::vector<truncation_event> take_truncation_events(std::uint64_t* dropped) {
  using namespace detail;
  std::vector<truncation_event> events;
  std::uint64_t lost = 0;
  std::lock_guard lock(g_registry_mutex);
  const std::uint64_t written = g_events_written.load(std::memory_order_acquire);
  if (written - g_events_read > kEvents) {
    lost += written - g_events_read - kEvents;
    g_events_read = written - kEvents;
  }
  for (; g_events_read < written; ++g_events_read) {
    const event& e = g_events[g_events_read % kEvents];
    const std::uint64_t stamp = e.stamp.load(std::memory_order_acquire);
    if (stamp < g_events_read + 1) break;  // its handler is still writing it: next time
    if (stamp > g_events_read + 1) {       // overwritten by a newer event
      ++lost;
      continue;
    }
    const std::size_t index = e.slot.load(std::memory_order_relaxed);
    const bool same_mapping = index < g_paths.size() &&
                              g_path_generation[index] == e.generation.load(std::memory_order_relaxed);
    events.push_back({same_mapping ? std::filesystem::path(g_paths[index]) : std::filesystem::path(),
                      e.file_offset.load(std::memory_order_relaxed)});
  }
  if (dropped != nullptr) *dropped = lost;
  return events;
}

file_truncated_error::file_truncated_error(std::string_view operation,
                                           const std::filesystem::path& path,
                                           std::string_view detail)
    : os_error(std::error_code(EFAULT, std::system_category()), operation, path, detail) {}

}  // namespace mmap_array
