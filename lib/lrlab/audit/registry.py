"""Which mutants and seed sets a chapter's audit runs (``lrlab audit``; see :mod:`lrlab.audit.mutants`)."""

from __future__ import annotations

import os

from lrlab import studies
from lrlab.audit.mutants import MUTANT_ENV, Mutant

HELD_OUT_SEEDS: tuple[int, ...] = (1000, 2000, 3000, 4000, 5000)
"""First seeds of the held-out seed sets: far from the seeds the chapters were written on (0 and its
neighbours), and far from each other, so the sets of a chapter that draws ``seed, seed+1, ...`` never overlap."""


def of(chapter: str) -> dict[str, Mutant]:
    """The mutants the study of ``chapter`` declares, by name (empty when it declares none)."""
    found = getattr(studies.load(chapter), "MUTANTS", ())
    names = [m.name for m in found]
    if len(names) != len(set(names)):
        raise ValueError(f"{chapter}: a mutant name is declared twice: {names}")
    return {m.name: m for m in found}


def get(chapter: str, name: str) -> Mutant:
    """The mutant ``name`` of ``chapter``; ``ValueError`` naming the known ones otherwise."""
    known = of(chapter)
    if name not in known:
        raise ValueError(f"mutant {name!r} is not known for chapter {chapter!r}: it must be one of "
                         f"{', '.join(sorted(known)) or '(none declared)'}")
    return known[name]


def from_environment(chapter: str) -> Mutant | None:
    """The mutant ``$LRLAB_MUTANT`` names for ``chapter``, or None for a normal run."""
    name = os.environ.get(MUTANT_ENV, "").strip()
    return get(chapter, name) if name else None
