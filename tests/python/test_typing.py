"""Static typing: the stub and py.typed ship, and mypy accepts what users and we write.

mypy runs on the installed package (its Python code against the generated _core.pyi),
under --strict on examples/ and test_public_api_types.py (every public name, with
assert_type on what it returns), and in default mode on the whole test suite. The suite
as a whole is not held to --check-untyped-defs: it calls the API with wrong types on
purpose (the hostile-argument tests), and most of what mypy then reports there is NumPy's
stubs failing to infer mixed dicts of arrays, which says nothing about our API; the
strict file is the check of the public API instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mmap_array

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(mmap_array.__file__).parent
STUB = PACKAGE / "_core.pyi"
PUBLIC_CLASSES = ("MemoryMappedArray", "MappedArrays")


def stub_classes() -> dict[str, ast.ClassDef]:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def test_the_stub_and_the_marker_are_installed():
    assert (PACKAGE / "py.typed").is_file(), "py.typed is missing from the installed package"
    assert STUB.is_file(), "_core.pyi is missing: bindings/CMakeLists.txt generates and installs it"
    classes = stub_classes()
    for name in ("FileChangedError", "FileIdentity", "FileTruncatedError", "FormatError", *PUBLIC_CLASSES):
        assert name in classes, f"_core.pyi does not declare {name}"


@pytest.mark.parametrize("class_name", PUBLIC_CLASSES)
def test_the_stub_declares_every_public_method(class_name):
    runtime = getattr(mmap_array, class_name)
    public = {name for name in vars(runtime) if not name.startswith("_")}
    declared = {node.name for node in stub_classes()[class_name].body if isinstance(node, ast.FunctionDef)}
    assert public - declared == set(), f"{class_name} members missing from _core.pyi"
    assert {"__enter__", "__exit__", "__getitem__", "__len__", "__iter__"} <= declared


@pytest.mark.parametrize("class_name", PUBLIC_CLASSES)
def test_public_signatures_have_real_types(class_name):
    # nanobind shows an nb::handle argument as `object`: a public method taking one needs
    # nb::sig(...) with the types of bindings/stub_types.hpp.
    untyped = []
    for node in stub_classes()[class_name].body:
        if not isinstance(node, ast.FunctionDef) or (node.name.startswith("_") and node.name != "__init__"):
            continue
        arguments = node.args.posonlyargs + node.args.args[1:] + node.args.kwonlyargs
        annotations = [argument.annotation for argument in arguments] + [node.returns]
        for annotation in annotations:
            text = ast.unparse(annotation) if annotation is not None else "<none>"
            if text == "<none>" or "object" in text.split(" | "):
                untyped.append(f"{node.name}: {text}")
    assert not untyped, f"{class_name} has arguments or results typed only as object: {untyped}"


def run_mypy(tmp_path: Path, *arguments: str | Path) -> None:
    # The checkout's configuration (third-party overrides), a cache outside the checkout,
    # and a working directory where only the installed package can be found.
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(tmp_path / "mypy-cache"), *map(str, arguments)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"


def test_mypy_accepts_the_package(tmp_path):
    run_mypy(tmp_path, "--disallow-untyped-defs", "--disallow-incomplete-defs", "--check-untyped-defs",
             "-p", "mmap_array")


def test_mypy_strict_accepts_the_examples_and_the_public_api(tmp_path):
    run_mypy(tmp_path, "--strict", *sorted((ROOT / "examples").glob("*.py")),
             ROOT / "tests" / "python" / "test_public_api_types.py")


def test_mypy_accepts_the_tests(tmp_path):
    run_mypy(tmp_path, ROOT / "tests" / "python")
