// Python type spellings for nb::sig. Arguments taken as nb::handle (converted by hand in
// arguments.cpp) would otherwise show as `object` in __doc__, in the generated _core.pyi
// and in the documentation; these say what each argument really accepts. stubgen turns
// `numpy.typing.X`, `collections.abc.X` and `os.X` into imports of the stub.
#pragma once

// A file name: what os.fspath() accepts.
#define MMAP_ARRAY_PATH_T "str | bytes | os.PathLike[str] | os.PathLike[bytes]"
// Anything numpy.dtype() accepts.
#define MMAP_ARRAY_DTYPE_T "numpy.typing.DTypeLike"
// A shape: one index or a sequence of them (Python or NumPy integers).
#define MMAP_ARRAY_SHAPE_T \
  "typing.SupportsIndex | collections.abc.Sequence[typing.SupportsIndex]"
// A NumPy array of any dtype and shape.
#define MMAP_ARRAY_ARRAY_T "numpy.typing.NDArray[typing.Any]"
// An optional row index or count.
#define MMAP_ARRAY_INDEX_T "typing.SupportsIndex | None"
