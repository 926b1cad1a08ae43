// error.hpp: the message format every caller (and the Python translator) relies
// on, the category, and throw_error's choice of exception class.
#include "mmap_array/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace {

using mmap_array::errc;

// Every enumerator; a new one added to errc must be added here too, or
// EveryCodeHasItsOwnMessage stops covering it.
const std::vector<errc> kAllCodes = {
    errc::invalid_itemsize, errc::offset_past_end, errc::range_past_end, errc::size_not_multiple,
    errc::shape_mismatch,   errc::missing_shape,   errc::size_overflow,  errc::misaligned,
    errc::not_writable,     errc::index_out_of_range, errc::bad_argument, errc::closed,
};

TEST(Error, WhatReadsCannotOperationPathCause) {
  const mmap_array::layout_error e(errc::size_not_multiple, "map", "data.bin",
                                   "size 13 is not a multiple of itemsize 8");
  EXPECT_STREQ(e.what(), "cannot map 'data.bin': size 13 is not a multiple of itemsize 8");
  EXPECT_EQ(e.operation(), "map");
  EXPECT_EQ(e.path().string(), "data.bin");
  EXPECT_EQ(e.cause(), "size 13 is not a multiple of itemsize 8");
  EXPECT_EQ(e.code(), errc::size_not_multiple);
}

TEST(Error, EmptyDetailFallsBackToTheCodesMessage) {
  const mmap_array::os_error e(std::error_code(ENOENT, std::system_category()), "open",
                               "/no/such/file");
  const std::string cause = std::system_category().message(ENOENT);
  EXPECT_EQ(e.cause(), cause);
  EXPECT_EQ(std::string(e.what()), "cannot open '/no/such/file': " + cause);
  EXPECT_EQ(e.errno_value(), ENOENT);
  EXPECT_EQ(e.code().category(), std::system_category());
}

TEST(Error, LibraryErrorsAreSystemErrors) {
  // Callers that only know std::system_error must still see the code.
  try {
    throw mmap_array::state_error(errc::closed, "view", "x.bin");
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), errc::closed);
    EXPECT_STREQ(e.what(), "cannot view 'x.bin': mapping is closed");
  }
}

TEST(ErrorCategory, IsNamedMmapArray) {
  EXPECT_STREQ(mmap_array::error_category().name(), "mmap_array");
  const std::error_code ec = errc::closed;  // implicit: errc is an error code enum
  EXPECT_EQ(&ec.category(), &mmap_array::error_category());
  EXPECT_EQ(ec.value(), static_cast<int>(errc::closed));
  EXPECT_EQ(mmap_array::make_error_code(errc::misaligned),
            std::error_code(static_cast<int>(errc::misaligned), mmap_array::error_category()));
  // The same number in the system category is a different error.
  EXPECT_NE(ec, std::error_code(ec.value(), std::system_category()));
}

TEST(ErrorCategory, EveryCodeHasItsOwnMessage) {
  const std::string unknown = mmap_array::error_category().message(0);
  EXPECT_EQ(unknown, "unknown mmap_array error");
  std::set<std::string> seen;
  for (errc code : kAllCodes) {
    const std::string message = mmap_array::make_error_code(code).message();
    EXPECT_FALSE(message.empty()) << static_cast<int>(code);
    EXPECT_NE(message, unknown) << static_cast<int>(code);
    EXPECT_TRUE(seen.insert(message).second) << "duplicate message: " << message;
  }
  EXPECT_EQ(mmap_array::error_category().message(static_cast<int>(kAllCodes.back()) + 1), unknown);
}

// Runs throw_error and reports which class arrived, checking the payload on the way.
template <class Expected>
void expect_thrown_as(std::error_code code) {
  try {
    mmap_array::throw_error(code, "map", "p.bin", "detail");
  } catch (const Expected& e) {
    EXPECT_EQ(e.code(), code);
    EXPECT_STREQ(e.what(), "cannot map 'p.bin': detail");
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "code " << code << " arrived as the wrong class: " << e.what();
    return;
  }
}

TEST(ThrowError, ErrnoValuesBecomeOsError) {
  expect_thrown_as<mmap_array::os_error>(std::error_code(EIO, std::system_category()));
  expect_thrown_as<mmap_array::os_error>(std::make_error_code(std::errc::no_space_on_device));
}

TEST(ThrowError, ClosedBecomesStateError) {
  expect_thrown_as<mmap_array::state_error>(errc::closed);
}

TEST(ThrowError, EveryOtherLibraryCodeBecomesLayoutError) {
  for (errc code : kAllCodes) {
    if (code == errc::closed) continue;
    expect_thrown_as<mmap_array::layout_error>(code);
  }
}

TEST(ThrowError, ClassesDoNotOverlap) {
  // A handler for layout_error must not swallow state errors, and vice versa.
  EXPECT_THROW(mmap_array::throw_error(errc::closed, "view", "p"), mmap_array::state_error);
  try {
    mmap_array::throw_error(errc::closed, "view", "p");
  } catch (const mmap_array::layout_error&) {
    ADD_FAILURE() << "state error caught as layout_error";
  } catch (const mmap_array::os_error&) {
    ADD_FAILURE() << "state error caught as os_error";
  } catch (const mmap_array::state_error&) {
  }
  try {
    mmap_array::throw_error(errc::misaligned, "view", "p");
  } catch (const mmap_array::state_error&) {
    ADD_FAILURE() << "layout error caught as state_error";
  } catch (const mmap_array::os_error&) {
    ADD_FAILURE() << "layout error caught as os_error";
  } catch (const mmap_array::layout_error&) {
  }
}

}  // namespace
