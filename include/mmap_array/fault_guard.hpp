// The fault guard: what happens when a mapped file shrinks.
//
// When another process truncates a file (or rewrites it in place) while it is
// mapped, touching a page that no longer exists in the file raises SIGBUS, and
// the process dies. So does a write fault on a sparse file when the disk is full.
// With the guard installed, a SIGBUS at an address inside a mapping made by this
// library is absorbed instead: the faulting page is replaced by a page of zeros
// (so the access completes, and the vanished range reads as zeros from then on),
// the mapping is marked truncated, an event is recorded, and an optional notifier
// is called. Faults anywhere else go to the handler that was installed before, as
// if the guard were not there: a real crash elsewhere still crashes, with
// faulthandler's traceback if it is enabled.
//
// Everything the handler does is async-signal-safe: it reads a lock-free registry
// of mapped ranges, calls mmap through the raw system call, stores into atomics,
// and calls the notifier, which must be async-signal-safe too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "mmap_array/error.hpp"
#include "mmap_array/export.hpp"

namespace mmap_array {

/// Installs the SIGBUS handler (idempotent, thread-safe); it chains to the disposition that
/// was in place. Mappings made before installation are protected too.
MMAP_ARRAY_EXPORT void install_fault_handler();

/// Puts the handler back on top if something (faulthandler.enable, signal.signal) replaced
/// it, now chaining to that replacement; returns true if it had to. Installs it if absent.
MMAP_ARRAY_EXPORT bool ensure_fault_handler_on_top();

/// Puts the handler back on top if something replaced it, still chaining to what it chained
/// to before: for a replacement that must not be chained to (Python's signal.signal, whose
/// C handler only sets a flag and would make a fault repeat forever); returns true if it had to.
MMAP_ARRAY_EXPORT bool reinstall_fault_handler_keeping_previous();

/// Restores the disposition the handler chains to (for example before another library
/// installs its own handler, which should then chain to that, not to ours).
MMAP_ARRAY_EXPORT void uninstall_fault_handler();

/// True while the handler is the process's SIGBUS disposition.
MMAP_ARRAY_EXPORT bool fault_handler_installed();

/// Faults absorbed by the handler since the process started (monotonic).
MMAP_ARRAY_EXPORT std::uint64_t absorbed_fault_count() noexcept;

/// Sets the function the handler calls after absorbing a fault; it runs in signal context,
/// so it must be async-signal-safe. nullptr for none.
MMAP_ARRAY_EXPORT void set_fault_notifier(void (*notifier)() noexcept) noexcept;

/// A vanished page the handler replaced with zeros.
struct truncation_event {
  std::filesystem::path path;     ///< the mapped file, as it was given
  std::uint64_t file_offset = 0;  ///< the page's offset in the file
};

/// The events recorded since the last call, oldest first (not for signal context). Events
/// beyond the ring's capacity between two calls are counted in `dropped`.
MMAP_ARRAY_EXPORT std::vector<truncation_event> take_truncation_events(std::uint64_t* dropped = nullptr);

/// A mapped file shrank under a live mapping (or a write to a sparse file found the disk
/// full): the library read (or wrote) memory whose pages are gone. errno is EFAULT.
class MMAP_ARRAY_EXPORT file_truncated_error : public os_error {
 public:
  /// `detail` says what vanished; `path` names the file.
  file_truncated_error(std::string_view operation, const std::filesystem::path& path,
                       std::string_view detail);
};

}  // namespace mmap_array
