// The noexcept forms of the public API are the throwing forms with their
// exception turned into a std::error_code, written once here.
#pragma once

#include <new>
#include <system_error>
#include <type_traits>

namespace mmap_array::detail {

template <class Call>
auto capture_error(std::error_code& ec, Call&& call) noexcept -> decltype(call()) {
  using result_type = decltype(call());
  ec.clear();
  try {
    return call();
  } catch (const std::system_error& e) {  // the library's errors and std::filesystem_error
    ec = e.code();
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  } catch (...) {
    ec = std::make_error_code(std::errc::invalid_argument);
  }
  if constexpr (!std::is_void_v<result_type>) return result_type{};
}

}  // namespace mmap_array::detail
