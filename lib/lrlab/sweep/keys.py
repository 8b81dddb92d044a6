"""The key of a point: what a chapter run's result depends on, hashed.

A point's key is the SHA-256 of the chapter's notebook, the ``lrlab`` source it imports (followed transitively
through static imports), the locked requirements, the resolved parameters and the device class.
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lrlab.runtime import book_root

FORMAT = 1
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


def source_hash(chapter: str) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`source_files`."""
    root = lrlab_root().parent
    h = hashlib.sha256()
    for path in source_files(chapter):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + sha256_hex(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def notebook_hash(chapter: str) -> str:
    """SHA-256 of the chapter notebook's bytes."""
    from lrlab import studies

    return sha256_hex(studies.notebook(chapter).read_bytes())


def requirements_hash() -> str:
    """SHA-256 of the book's ``requirements.txt``; of the installed distributions' versions outside a checkout."""
    root = book_root()
    if root is not None and (root / "requirements.txt").is_file():
        return sha256_hex((root / "requirements.txt").read_bytes())
    from importlib import metadata

    dists = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions())
    return sha256_hex("\n".join(dists).encode())


def key_inputs(chapter: str) -> dict[str, str]:
    """The hashed inputs every point of ``chapter`` shares: notebook, lrlab source, requirements."""
    return {"notebook": notebook_hash(chapter), "source": source_hash(chapter), "requirements": requirements_hash()}


def point_key(chapter: str, inputs: Mapping[str, str], resolved: Mapping[str, Any], device: str) -> str:
    """The cache key of one run: SHA-256 of the chapter, its inputs, the resolved parameters and the device."""
    blob = json.dumps({"format": FORMAT, "chapter": chapter, "inputs": dict(inputs), "device": device,
                       "params": dict(resolved)}, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(blob.encode())
