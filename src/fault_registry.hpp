// The registry of the library's mappings, which the SIGBUS handler reads to tell
// our faults from everyone else's. Registering and unregistering take a mutex;
// the handler never does: it reads the slots through atomics and a sequence
// counter per slot (a seqlock), which is async-signal-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace mmap_array::detail {

/// A slot index that means "not registered" (the registry was full, or the mapping is empty).
inline constexpr std::size_t no_fault_slot = static_cast<std::size_t>(-1);

/// Registers the mapping [base, base + length), made with protection `prot` from byte
/// `file_offset` of `path`; returns its slot, or no_fault_slot if it could not be registered
/// (the mapping then works, unguarded). Never throws.
std::size_t register_mapping(const void* base, std::size_t length, int prot,
                             std::uint64_t file_offset, const std::filesystem::path& path) noexcept;

/// Forgets a slot; call it before unmapping. no_fault_slot is ignored.
void unregister_mapping(std::size_t slot) noexcept;

/// True once the handler has replaced a page of this slot's mapping with zeros.
bool mapping_truncated(std::size_t slot) noexcept;

/// Marks a slot truncated (a write(2) from its memory failed with EFAULT).
void mark_mapping_truncated(std::size_t slot) noexcept;

/// The slot whose mapping holds `address`, or no_fault_slot. Async-signal-safe.
std::size_t find_mapping(const void* address) noexcept;

/// The path a slot was registered with (empty if the slot was reused since `generation`).
std::filesystem::path mapping_path(std::size_t slot);

}  // namespace mmap_array::detail
