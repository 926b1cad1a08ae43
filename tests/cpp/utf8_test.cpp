// utf8: the validator agrees with a decode-then-check model of RFC 3629 on
// every string of up to 3 bytes and on every 4-byte lead.
#include "utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using mmap_array::detail::append_utf8;
using mmap_array::detail::find_invalid_utf8;

// RFC 3629 written the other way round: decode by bit pattern, then reject what the
// encoding forbids (overlong forms, surrogates, code points past U+10FFFF).
bool model_valid(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
      length = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      cp = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if ((byte & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (byte & 0x3F);
    }
    constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += length;
  }
  return true;
}

// Counts the strings on which the validator and the model disagree, remembering the first.
struct disagreements {
  std::size_t count = 0;
  std::string first;

  void check(std::string_view text) {
    if (!find_invalid_utf8(text) == model_valid(text)) return;
    if (count++ == 0) first = std::string(text);
  }
};

std::string hex(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    out += "0123456789ABCDEF"[(static_cast<unsigned char>(c) >> 4) & 0xF];
    out += "0123456789ABCDEF"[static_cast<unsigned char>(c) & 0xF];
    out += ' ';
  }
  return out;
}

TEST(Utf8, AgreesWithTheModelOnEveryShortString) {
  disagreements found;
  char text[3];
  for (unsigned a = 0; a < 256; ++a) {
    text[0] = static_cast<char>(a);
    found.check({text, 1});
    for (unsigned b = 0; b < 256; ++b) {
      text[1] = static_cast<char>(b);
      found.check({text, 2});
      for (unsigned c = 0; c < 256; ++c) {
        text[2] = static_cast<char>(c);
        found.check({text, 3});
      }
    }
  }
  EXPECT_EQ(found.count, 0u) << "first: " << hex(found.first);
}

TEST(Utf8, AgreesWithTheModelOnFourByteSequences) {
  const unsigned edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF};
  disagreements found;
  for (unsigned a = 0xF0; a < 0x100; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      for (unsigned c : edges) {
        for (unsigned d : edges) {
          const char text[] = {static_cast<char>(a), static_cast<char>(b),
                               static_cast<char>(c), static_cast<char>(d)};
          found.check({text, 4});
        }
      }
    }
  }
  EXPECT_EQ(found.count, 0u) << "first: " << hex(found.first);
}

TEST(Utf8, ReportsTheFirstBadSequence) {
  auto bad = find_invalid_utf8("ok \xC3\xA9 \xE2\x82");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->offset, 6u);
  EXPECT_EQ(bad->length, 2u);
  EXPECT_EQ(bad->reason, "a truncated multi-byte sequence");
  bad = find_invalid_utf8("\xED\xB0\x80");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->reason, "a UTF-16 surrogate encoded in UTF-8");
  EXPECT_FALSE(find_invalid_utf8(""));
}

TEST(Utf8, AppendEncodesEveryLength) {
  std::string out;
  for (const char32_t cp : {U'\x41', U'\x7FF', U'\x800', U'\xFFFF', U'\x10000', U'\x10FFFF'}) {
    append_utf8(out, cp);
  }
  EXPECT_EQ(out, "A\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF");
  EXPECT_FALSE(find_invalid_utf8(out));
}

}  // namespace

namespace {

// decode_utf8 over all of `text`, re-encoding what it decodes; nullopt where it refuses.
std::optional<std::string> decode_and_reencode(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  char32_t cp = 0;
  while (pos < text.size()) {
    if (!mmap_array::detail::decode_utf8(text, pos, cp)) return std::nullopt;
    append_utf8(out, cp);
  }
  return out;
}

TEST(Utf8, TheDecoderAcceptsExactlyWhatTheCheckerAcceptsAndRoundTrips) {
  std::size_t disagreements = 0;
  std::string first;
  auto check = [&](std::string_view text) {
    const std::optional<std::string> decoded = decode_and_reencode(text);
    const bool ok = decoded ? (!find_invalid_utf8(text) && *decoded == text) : bool(find_invalid_utf8(text));
    if (!ok && disagreements++ == 0) first = std::string(text);
  };
  for (int length = 1; length <= 3; ++length) {
    const long total = 1L << (8 * length);
    for (long n = 0; n < total; ++n) {
      char text[3];
      for (int k = 0; k < length; ++k) text[k] = static_cast<char>((n >> (8 * k)) & 0xFF);
      check(std::string_view(text, static_cast<std::size_t>(length)));
    }
  }
  for (std::uint32_t cp = 0x10000; cp <= 0x10FFFF; cp += 0x3F1) {  // a spread of 4-byte forms
    std::string text;
    append_utf8(text, static_cast<char32_t>(cp));
    check(text);
  }
  EXPECT_EQ(disagreements, 0u) << "first: " << hex(first);
}

}  // namespace
