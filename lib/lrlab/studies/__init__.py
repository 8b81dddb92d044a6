"""The book's chapters: one module per paper, each holding its presets (``SPEC``), experiments and claims.

Notebooks call these and keep the story. ``CHAPTERS`` maps a chapter's name (as ``lrlab run`` takes it) to its
module; modules are imported only when needed, so listing chapters stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

from lrlab.runtime import book_root

CHAPTERS: dict[str, str] = {
    "fluctuations": "lrlab.studies.fluctuations",
    "sphere_regimes": "lrlab.studies.sphere_regimes",
    "eos_ntk": "lrlab.studies.eos_ntk",
    "boosting_paths": "lrlab.studies.boosting_paths",
    "periodic_bn_wd": "lrlab.studies.periodic_bn_wd",
}


def available() -> list[str]:
    """Chapters whose study module and notebook both exist in this checkout."""
    root = book_root()
    out = []
    for name, mod in CHAPTERS.items():
        has_nb = root is not None and (root / "chapters" / f"{name}.ipynb").is_file()
        if has_nb and importlib.util.find_spec(mod) is not None:
            out.append(name)
    return out


def load(chapter: str) -> ModuleType:
    """The study module of ``chapter``; ``ValueError`` naming the known chapters otherwise."""
    known = available()
    if chapter not in known:
        raise ValueError(f"chapter {chapter!r} is not known: it must be one of {', '.join(known)}")
    return importlib.import_module(CHAPTERS[chapter])


def notebook(chapter: str, root: Path | None = None) -> Path:
    """Path of the chapter's notebook in the book (``chapters/<chapter>.ipynb``)."""
    base = root or book_root() or Path.cwd()
    path = base / "chapters" / f"{chapter}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"notebook of chapter {chapter!r} not found at {path}")
    return path
