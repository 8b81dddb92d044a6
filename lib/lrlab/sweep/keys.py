"""The key of a point: what a chapter run's result depends on, hashed.

A point's key is the SHA-256 of

- the chapter's notebook (its bytes),
- the ``lrlab`` source it imports (followed transitively through static imports: :func:`source_files`),
- the installed versions of the third-party packages that notebook and source import (:func:`package_versions`:
  the top-level modules, mapped to their distributions with ``importlib.metadata.packages_distributions``), and
  the Python version: what is installed, not what ``requirements.txt`` asks for,
- the checksums of the data files the chapter reads (:func:`data_checksums`: Fashion-MNIST's IDX files for the
  chapters that call :func:`lrlab.data.fashion_mnist`; synthetic and bundled data are covered by the code),
- the resolved parameters and the device class.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import platform
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORMAT = 2
"""Version of the layout of keys, cache manifests and ``sweep.json``."""


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def lrlab_root() -> Path:
    """The folder of the ``lrlab`` package whose source is hashed."""
    import lrlab

    return Path(lrlab.__file__).resolve().parent


def _module_files(root: Path) -> dict[str, Path]:
    """``lrlab.probes.neurons`` → its file, for every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules (and module attributes) a syntax tree imports, anywhere in it."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _notebook_code(path: Path) -> str:
    nb = json.loads(path.read_bytes())
    lines = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = "".join(cell.get("source", []))
            lines += [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


_AST_LOCK = threading.Lock()
"""``ast.parse`` from two threads at once can raise a spurious ``SystemError: AST constructor recursion depth
mismatch`` on CPython 3.11 before 3.11.8 (python/cpython#106905); a local sweep hashes sources from its worker
threads, so every parse here takes this lock."""


def _parse(source: str | bytes, filename: str = "<unknown>") -> ast.AST:
    with _AST_LOCK:
        return ast.parse(source, filename=filename)


def source_files(chapter: str) -> list[Path]:
    """The ``lrlab`` files a chapter's runs depend on: the static-import closure of its study module, its
    notebook's imports and ``lrlab.runs``, with their parent packages. The whole package if a file does not parse.
    """
    from lrlab import studies

    root = lrlab_root()
    modules = _module_files(root)
    todo = [studies.CHAPTERS[chapter], "lrlab.runs", "lrlab"]
    try:
        nb_tree = _parse(_notebook_code(studies.notebook(chapter)))
        todo += sorted(m for m in _imported(nb_tree, "__notebook__", False) if m in modules)
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in modules:
                continue
            seen.add(name)
            parts = name.split(".")
            todo += [".".join(parts[:i]) for i in range(1, len(parts))]
            path = modules[name]
            tree = _parse(path.read_bytes(), filename=str(path))
            todo += [m for m in _imported(tree, name, path.name == "__init__.py") if m in modules]
    except (SyntaxError, ValueError, json.JSONDecodeError):
        return sorted(modules.values())
    return sorted(modules[n] for n in seen)


def source_hash(chapter: str, files: list[Path] | None = None) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`source_files` (``files``, when at hand)."""
    root = lrlab_root().parent
    h = hashlib.sha256()
    for path in source_files(chapter) if files is None else files:
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + sha256_hex(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def _notebook(chapter: str) -> Path:
    from lrlab import studies

    return studies.notebook(chapter)


def notebook_hash(chapter: str) -> str:
    """SHA-256 of the chapter notebook's bytes."""
    return sha256_hex(_notebook(chapter).read_bytes())


def _trees(chapter: str, files: list[Path] | None = None) -> list[ast.AST]:
    """The syntax trees of the chapter's notebook code and of :func:`source_files` (``files`` when already at
    hand; a file that does not parse is left out: its run fails anyway)."""
    trees = []
    sources = [(_notebook_code(_notebook(chapter)), "<notebook>")]
    sources += [(p.read_bytes(), str(p)) for p in (source_files(chapter) if files is None else files)]
    for text, name in sources:
        try:
            trees.append(_parse(text, filename=name))
        except (SyntaxError, ValueError):
            continue
    return trees


def imported_modules(chapter: str, trees: list[ast.AST] | None = None) -> list[str]:
    """Top-level names of the third-party modules the chapter's notebook and :func:`source_files` import
    (standard library and ``lrlab`` left out), anywhere in them: ``torch``, ``numpy``, ``sklearn``, …"""
    found: set[str] = set()
    for tree in _trees(chapter) if trees is None else trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.partition(".")[0])
    skip = {"lrlab", "__future__", "__main__", *sys.stdlib_module_names}
    return sorted(m for m in found if m not in skip)


@functools.lru_cache(maxsize=1)
def _distributions_of() -> dict[str, tuple[str, ...]]:
    """``{"sklearn": ("scikit-learn",), ...}``: the scan of every installed distribution's files, made once per
    process (the versions themselves are read afresh each time)."""
    from importlib import metadata

    return {m: tuple(sorted(set(d))) for m, d in metadata.packages_distributions().items()}


def package_versions(chapter: str, trees: list[ast.AST] | None = None) -> dict[str, str]:
    """``{"python": "3.11.2", "numpy": "2.3.1", "scikit-learn": "1.7.0", "torch": "2.13.0", ...}``: the installed
    version of every distribution that provides a module of :func:`imported_modules` (``"not installed"`` for a
    module no distribution provides), and Python's."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    dists = _distributions_of()
    for module in imported_modules(chapter, trees):
        names = dists.get(module)
        if not names:
            out[f"module {module}"] = "not installed"
            continue
        for name in names:
            try:
                out[name.lower()] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name.lower()] = "not installed"
    return dict(sorted(out.items()))


def _loaders_called(chapter: str, trees: list[ast.AST] | None = None) -> set[str]:
    """Names of the functions the chapter's notebook and :func:`source_files` call (``data.fashion_mnist(...)``
    and ``fashion_mnist(...)`` both give ``fashion_mnist``)."""
    names: set[str] = set()
    for tree in _trees(chapter) if trees is None else trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                names.add(f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "")
    return names


def fashion_mnist_files() -> dict[str, Path | None]:
    """The four Fashion-MNIST IDX files :func:`lrlab.data.fashion_mnist` reads, found where it looks
    (``$LRLAB_FASHION_MNIST``, then Debian's folders; plain or gzipped): ``None`` for a split it cannot find."""
    from lrlab import data

    folders = [Path(p) for p in (os.environ.get("LRLAB_FASHION_MNIST"), *data.FASHION_DIRS) if p]
    found: dict[str, Path | None] = {}
    for split, stems in data.FASHION_FILES.items():
        pair = None
        for folder in folders:
            files = [next((folder / n for n in (stem, stem + ".gz") if (folder / n).is_file()), None)
                     for stem in stems]
            if all(files):
                pair = files
                break
        for stem, path in zip(stems, pair or [None] * len(stems)):
            found[f"{split}/{stem}"] = path
    return found


DATASETS = {"fashion_mnist": fashion_mnist_files}
"""The datasets read from files, by the name of their loader in :mod:`lrlab.data`. CIFAR-10 (scale ``paper``
only, from ``$LRLAB_CIFAR10``, often set on the workers alone) is not among them: its checksums are in each run's
``provenance.json``."""

_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks; remembered per path, size and modification time."""
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo not in _FILE_HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _FILE_HASHES[memo] = h.hexdigest()
    return _FILE_HASHES[memo]


def data_checksums(chapter: str, trees: list[ast.AST] | None = None) -> dict[str, str]:
    """``{"fashion_mnist/train/train-images-idx3-ubyte": "<sha256>", ...}`` for the datasets of :data:`DATASETS`
    the chapter's code calls (``"not found"`` for a missing file: such a run fails, and is keyed apart). Keyed by
    file name, not folder, so the same files in another place give the same checksums. Empty for a chapter that
    reads no data file."""
    out: dict[str, str] = {}
    called = _loaders_called(chapter, trees)
    for name, files in DATASETS.items():
        if name in called:
            for label, path in files().items():
                out[f"{name}/{label}"] = file_sha256(path) if path is not None else "not found"
    return out


def _digest(mapping: Mapping[str, str]) -> str:
    return sha256_hex(json.dumps(dict(mapping), sort_keys=True, separators=(",", ":")).encode())


def key_details(chapter: str, files: list[Path] | None = None) -> dict[str, dict[str, str]]:
    """What :func:`key_inputs` hashes besides files: the package versions and the data checksums, in full (a
    sweep records them in ``sweep.json``). ``files``: :func:`source_files`, when already at hand."""
    trees = _trees(chapter, files)
    return {"versions": package_versions(chapter, trees), "data": data_checksums(chapter, trees)}


def key_inputs(chapter: str, details: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """The hashed inputs every point of ``chapter`` shares: notebook, lrlab source, package versions, data
    (``details``: :func:`lrlab.sweep.key_details`, when already at hand)."""
    files = source_files(chapter)
    details = details or key_details(chapter, files)
    return {"notebook": notebook_hash(chapter), "source": source_hash(chapter, files),
            "versions": _digest(details["versions"]), "data": _digest(details["data"])}


def point_key(chapter: str, inputs: Mapping[str, str], resolved: Mapping[str, Any], device: str,
              mutant: str | None = None) -> str:
    """The cache key of one run: SHA-256 of the chapter, its inputs, the resolved parameters, the device and, for an
    audit's mutant run, the mutant's name (a normal run's key does not mention mutants)."""
    fields = {"format": FORMAT, "chapter": chapter, "inputs": dict(inputs), "device": device,
              "params": dict(resolved)}
    if mutant:
        fields["mutant"] = mutant
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(blob.encode())
