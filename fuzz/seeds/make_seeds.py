"""Writes the hand-made fuzzing seeds of fuzz/seeds/<target>/.

The real files of tests/data seed the fuzzers too (scripts/fuzz.sh copies them); these
add what those lack: descr literals and bare JSON (which no whole file is), old-style
and escaped .npy headers, packed safetensors types, and zip archives with compressed,
non-.npy and directory members, a comment and data descriptors. Rerunning rewrites them:

    python3 fuzz/seeds/make_seeds.py
"""

import io
import json
import pathlib
import struct
import zipfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def npy_file(header: str, version: int = 1, data: bytes = b"") -> bytes:
    text = header.encode("latin-1" if version < 3 else "utf-8")
    preamble = 10 if version == 1 else 12
    text += b" " * (63 - (preamble + len(text)) % 64) + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


def npy_seeds(out: pathlib.Path) -> None:
    (out / "descr_record.txt").write_text("[('x', '<f4'), ('y', '<i2', (3,))]")
    (out / "descr_nested.txt").write_text(
        "[(('a title', 'n'), '<u2'), ('', '|V2'), "
        "('s', [('a', '>c8'), ('t', '<m8[10us]')], (2, 1))]"
    )
    (out / "descr_typestr.txt").write_text("u'>U7'")
    # Python 2 wrote u'' strings and L-suffixed longs; NumPy still reads them.
    (out / "python2_header.npy").write_bytes(
        npy_file("{'descr': u'<f8', 'fortran_order': False, 'shape': (2L, 3L), }", 1, bytes(48))
    )
    # ... but only in versions 1.0 and 2.0: a 3.0 header is refused for its L.
    (out / "long_suffix_v2.npy").write_bytes(
        npy_file("{'descr': [('a', '<i2', (2L,))], 'fortran_order': True, 'shape': (1L,), }", 2, bytes(4))
    )
    (out / "long_suffix_v3.npy").write_bytes(
        npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2L,), }", 3, bytes(16))
    )
    (out / "escaped_names_v3.npy").write_bytes(
        npy_file("{'descr': [('\\u03c0\\x41\\101', '<f4'), ('\u00e9', 'S2')], "
                 "'fortran_order': True, 'shape': (1,), }", 3, bytes(6))
    )


def safetensors_file(header: dict, data: bytes, pad: int = 0) -> bytes:
    text = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out: pathlib.Path) -> None:
    (out / "json_values.json").write_bytes(
        b'{"a":[1,2.5e3,-0.0,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{"c":[[[]]]}}'
    )
    header = {
        "__metadata__": {"format": "np", "\u00e9": "\\"},
        "bf16": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
        "f4": {"dtype": "F4", "shape": [2, 2], "data_offsets": [4, 6]},
        "f6": {"dtype": "F6_E2M3", "shape": [4], "data_offsets": [6, 9]},
        "scalar": {"dtype": "F8_E4M3", "shape": [], "data_offsets": [9, 10]},
        "empty": {"dtype": "I64", "shape": [0, 3], "data_offsets": [10, 10]},
    }
    (out / "packed_types.safetensors").write_bytes(safetensors_file(header, bytes(range(10)), 5))


def zip_seeds(out: pathlib.Path) -> None:
    def npy(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue()

    with zipfile.ZipFile(out / "mixed.npz", "w") as z:
        z.writestr("a.npy", npy(np.arange(3, dtype="<i2")), zipfile.ZIP_STORED)
        z.writestr("b.npy", npy(np.ones(4)), zipfile.ZIP_DEFLATED)
        z.writestr("notes.txt", "not an array", zipfile.ZIP_STORED)
        z.writestr("dir/", b"")
        z.writestr("dir/c.npy", npy(np.array([[1 + 2j]])), zipfile.ZIP_STORED)
        z.comment = b"an archive comment"

    # Written to a stream that cannot seek, zipfile puts sizes in data descriptors after
    # each member (general purpose flag bit 3).
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:
            self.data += b
            return len(b)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as z:
        with z.open("d.npy", "w") as member:
            member.write(npy(np.array([True, False])))
    (out / "data_descriptor.npz").write_bytes(bytes(stream.data))


def main() -> None:
    for target, make in (("npy_header", npy_seeds), ("safetensors_header", safetensors_seeds),
                         ("zip_directory", zip_seeds)):
        out = HERE / target
        out.mkdir(exist_ok=True)
        make(out)


if __name__ == "__main__":
    main()
