// NumPy's descr: a type string such as '<f8', or a list of fields
// (name, type) or (name, type, shape), the name a str or a (title, name)
// tuple, the type again a type string or a list of fields.
#include "npy_descr.hpp"

#include <bit>
#include <set>
#include <string>
#include <string_view>

#include "checked_math.hpp"
#include "mmap_array/error.hpp"
#include "mmap_array/npy.hpp"
#include "py_literal.hpp"

namespace mmap_array {
namespace detail {
namespace {

constexpr char kNativeOrder = std::endian::native == std::endian::little ? '<' : '>';

struct descr_context {
  const std::filesystem::path& path;
  std::string where;  // "descr", or "descr field 'a', field 'b'" inside records

  [[noreturn]] void fail(format_errc code, std::string_view message) const {
    throw format_error(code, "parse", path, where + ": " + std::string(message));
  }
};

// A decimal size: digits only, no sign, no leading zero, at most 2**64 - 1.
bool parse_size(std::string_view digits, std::uint64_t& out) noexcept {
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (!checked_mul(value, 10, value) || !checked_add(value, digit, value)) return false;
  }
  out = value;
  return true;
}

bool is_one_of(std::uint64_t value, std::initializer_list<std::uint64_t> allowed) noexcept {
  for (std::uint64_t a : allowed) {
    if (value == a) return true;
  }
  return false;
}

// The bracketed unit of a datetime64/timedelta64 type ("[ns]", "[10ms]") in canonical form:
// a multiplier of 1 dropped, "[generic]" dropped. Returns false if it is not one.
bool canonical_time_unit(std::string_view text, std::string& out) {
  if (text.empty()) {
    out.clear();
    return true;
  }
  if (text.size() < 3 || text.front() != '[' || text.back() != ']') return false;
  text = text.substr(1, text.size() - 2);
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t multiplier = 1;
  // NumPy keeps the multiplier in a C int.
  if (digits > 0 && (!parse_size(text.substr(0, digits), multiplier) || multiplier == 0 ||
                     multiplier > 0x7FFF'FFFF)) {
    return false;
  }
  const std::string_view unit = text.substr(digits);
  if (unit == "generic") {
    if (digits > 0) return false;
    out.clear();
    return true;
  }
  static constexpr std::string_view kUnits[] = {"Y",  "M",  "W",  "D",  "h",  "m", "s",
                                                "ms", "us", "ns", "ps", "fs", "as"};
  for (std::string_view known : kUnits) {
    if (unit == known) {
      out = "[" + (multiplier == 1 ? std::string() : std::to_string(multiplier)) +
            std::string(unit) + "]";
      return true;
    }
  }
  return false;
}

// A type string in the canonical form of NumPy's dtype.str: byte order first, '|' where
// order means nothing, '=' and a missing order replaced by this machine's, aliases
// ('?', 'a') by their names ('b1', 'S').
npy_dtype parse_typestr(std::string_view text, const descr_context& context) {
  const auto unknown = [&]() {
    context.fail(format_errc::bad_dtype, "unknown type string " + quote_py_str(text));
  };
  std::string_view rest = text;
  char order = 0;
  if (!rest.empty() && std::string_view("<>|=").find(rest[0]) != std::string_view::npos) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  if (rest.empty()) unknown();
  const char kind = rest[0];
  const std::string_view size_text = rest.substr(1);
  const char byte_order = order == '<' || order == '>' ? order : kNativeOrder;

  npy_dtype dtype;
  if (kind == 'O') {
    context.fail(format_errc::object_dtype,
                 "type string " + quote_py_str(text) +
                     " holds Python objects (pickled), which cannot be mapped");
  }
  if (kind == '?' && size_text.empty()) {
    dtype.typestr = "|b1";
    dtype.itemsize = 1;
    return dtype;
  }
  if (kind == 'M' || kind == 'm') {
    std::string unit;
    if (!size_text.starts_with('8') || !canonical_time_unit(size_text.substr(1), unit)) unknown();
    dtype.typestr = std::string(1, byte_order) + kind + "8" + unit;
    dtype.itemsize = 8;
    return dtype;
  }

  std::uint64_t size = 0;
  if (!parse_size(size_text, size)) unknown();
  const std::string digits(size_text);
  switch (kind) {
    case 'b':
      if (size != 1) unknown();
      dtype.typestr = "|b1";
      break;
    case 'i':
    case 'u':
      if (!is_one_of(size, {1, 2, 4, 8})) unknown();
      dtype.typestr = std::string(1, size == 1 ? '|' : byte_order) + kind + digits;
      break;
    case 'f':  // 12 and 16: long double on x86 (32- and 64-bit)
      if (!is_one_of(size, {2, 4, 8, 12, 16})) unknown();
      dtype.typestr = std::string(1, byte_order) + kind + digits;
      break;
    case 'c':
      if (!is_one_of(size, {8, 16, 24, 32})) unknown();
      dtype.typestr = std::string(1, byte_order) + kind + digits;
      break;
    case 'S':
    case 'a':
      dtype.typestr = "|S" + digits;
      break;
    case 'V':
      dtype.typestr = "|V" + digits;
      break;
    case 'U':
      // Size counts UCS-4 characters.
      if (!checked_mul(size, 4, size)) {
        context.fail(format_errc::size_overflow,
                     "type string " + quote_py_str(text) + " is 2**64 bytes or more");
      }
      dtype.typestr = std::string(1, byte_order) + "U" + digits;
      break;
    default:
      unknown();
  }
  dtype.itemsize = size;
  return dtype;
}

npy_dtype parse_descr(const py_value& value, const descr_context& context);

// The subarray shape of a field: an int n (meaning (n,)) or a tuple of ints.
std::vector<std::uint64_t> parse_field_shape(const py_value& value, const descr_context& context) {
  std::vector<std::uint64_t> shape;
  const auto bad = [&]() {
    context.fail(format_errc::bad_dtype, "subarray shape is " + describe(value) +
                                             ", not a non-negative int or a tuple of them");
  };
  if (value.type == py_value::kind::integer) {
    shape.emplace_back();
    if (!to_uint64(value, shape.back())) bad();
    return shape;
  }
  if (value.type != py_value::kind::tuple) bad();
  for (const py_value& dim : value.items) {
    shape.emplace_back();
    if (!to_uint64(dim, shape.back())) {
      context.fail(format_errc::bad_dtype, "subarray shape has " + describe(dim) +
                                               ", not a non-negative int below 2**64");
    }
  }
  return shape;
}

npy_field parse_field(const py_value& value, std::size_t index, const descr_context& record) {
  if (value.type != py_value::kind::tuple || value.items.size() < 2 || value.items.size() > 3) {
    record.fail(format_errc::bad_dtype, "field " + std::to_string(index) + " is " +
                                            describe(value) +
                                            ", not a (name, type) or (name, type, shape) tuple");
  }
  npy_field field;
  const py_value& name = value.items[0];
  if (name.type == py_value::kind::str) {
    field.name = name.text;
  } else if (name.type == py_value::kind::tuple && name.items.size() == 2 &&
             name.items[0].type == py_value::kind::str &&
             name.items[1].type == py_value::kind::str) {
    field.title = name.items[0].text;
    field.name = name.items[1].text;
  } else {
    record.fail(format_errc::bad_dtype, "field " + std::to_string(index) + " has the name " +
                                            describe(name) +
                                            ", not a str or a (title, name) tuple of str");
  }
  const descr_context context{record.path, record.where + " field " +
                                               (field.name.empty() ? std::to_string(index)
                                                                   : quote_py_str(field.name))};
  field.type = parse_descr(value.items[1], context);
  if (value.items.size() == 3) field.shape = parse_field_shape(value.items[2], context);
  // NumPy writes gaps between fields as ('', '|V<n>'); any other nameless field would be
  // renamed 'f0', 'f1'... by NumPy, which a reader of the file cannot know.
  if (field.name.empty() && (!field.title.empty() || !field.shape.empty() ||
                             !field.type.typestr.starts_with("|V"))) {
    context.fail(format_errc::bad_dtype,
                 "a field without a name must be padding ('', '|V<n>'), not of type " +
                     format_npy_descr(field.type) +
                     (field.shape.empty() ? "" : " with shape " + py_tuple(field.shape)));
  }
  return field;
}

npy_dtype parse_record(const py_value& list, const descr_context& context) {
  npy_dtype record;
  std::set<std::string> used;  // names and titles share one namespace in NumPy
  std::uint64_t itemsize = 0;
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    npy_field field = parse_field(list.items[i], i, context);
    if (!field.name.empty() && !used.insert(field.name).second) {
      context.fail(format_errc::bad_dtype,
                   "field name " + quote_py_str(field.name) + " occurs more than once");
    }
    if (!field.title.empty() && !used.insert(field.title).second) {
      context.fail(format_errc::bad_dtype, "field title " + quote_py_str(field.title) +
                                               " repeats a field name or title");
    }
    std::uint64_t bytes = field.type.itemsize;
    for (std::uint64_t dim : field.shape) {
      if (!checked_mul(bytes, dim, bytes)) {
        context.fail(format_errc::size_overflow,
                     "field " + quote_py_str(field.name) + " of shape " + py_tuple(field.shape) +
                         " and " + std::to_string(field.type.itemsize) +
                         "-byte items is 2**64 bytes or more");
      }
    }
    if (!checked_add(itemsize, bytes, itemsize)) {
      context.fail(format_errc::size_overflow, "the record's fields add up to 2**64 bytes or more");
    }
    record.fields.push_back(std::move(field));
  }
  record.itemsize = itemsize;
  return record;
}

// The literal parser caps nesting, and every record level is a list and a tuple deep, so this
// recursion is bounded by max_literal_depth / 2.
npy_dtype parse_descr(const py_value& value, const descr_context& context) {
  if (value.type == py_value::kind::str) return parse_typestr(value.text, context);
  if (value.type == py_value::kind::list) return parse_record(value, context);
  context.fail(format_errc::bad_dtype,
               describe(value) + " is neither a type string nor a list of fields");
}

}  // namespace

npy_dtype dtype_from_literal(const py_value& descr, const std::filesystem::path& path) {
  return parse_descr(descr, descr_context{path, "descr"});
}

}  // namespace detail

npy_dtype parse_npy_descr(std::string_view literal, const std::filesystem::path& path) {
  const detail::py_value value =
      detail::parse_py_literal(literal, detail::literal_encoding::utf8, path, "descr");
  return detail::dtype_from_literal(value, path);
}

std::string format_npy_descr(const npy_dtype& dtype) {
  if (!dtype.typestr.empty()) return detail::quote_py_str(dtype.typestr);
  std::string out = "[";
  for (std::size_t i = 0; i < dtype.fields.size(); ++i) {
    const npy_field& field = dtype.fields[i];
    if (i > 0) out += ", ";
    out += "(";
    if (field.title.empty()) {
      out += detail::quote_py_str(field.name);
    } else {
      out += "(" + detail::quote_py_str(field.title) + ", " + detail::quote_py_str(field.name) +
             ")";
    }
    out += ", " + format_npy_descr(field.type);
    if (!field.shape.empty()) out += ", " + detail::py_tuple(field.shape);
    out += ")";
  }
  return out + "]";
}

}  // namespace mmap_array
