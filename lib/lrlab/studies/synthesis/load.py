"""Reading what the chapters wrote: each chapter's ``claims.json`` and ``provenance.json``, by chapter."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrlab.runtime import book_root
from lrlab.studies import CHAPTERS as _REGISTRY

CHAPTERS: tuple[str, ...] = tuple(_REGISTRY)
"""The five chapters, in the book's order (the registry ``lrlab.studies.CHAPTERS``)."""

LABELS: dict[str, str] = {
    "fluctuations": "Fluctuations",
    "sphere_regimes": "Sphere regimes",
    "eos_ntk": "EoS and NTK",
    "boosting_paths": "Boosting paths",
    "periodic_bn_wd": "Periodic BN + WD",
}
"""Short names of the chapters for tables and figure panels."""

VERDICTS: tuple[str, ...] = ("reproduced", "partial", "not reproduced")
REGIMES: tuple[str, ...] = ("convergence", "equilibrium", "divergence")


class MissingResultsError(FileNotFoundError):
    """A chapter's ``claims.json`` (or a number in it) that the synthesis needs is not there."""


@dataclass(frozen=True)
class ChapterResults:
    """What one chapter wrote when it was executed: its claims by id, its provenance, and the folder."""

    chapter: str
    claims: dict[str, dict[str, Any]]
    provenance: dict[str, Any]
    folder: Path

    @property
    def parameters(self) -> dict[str, Any]:
        """The resolved parameters the chapter ran with: from ``provenance.json``, else from the ``params.json``
        of an ``lrlab run`` folder; empty when neither is there."""
        if "parameters" in self.provenance:
            return dict(self.provenance["parameters"])
        return dict(self.provenance.get("resolved", {}))

    @property
    def scale(self) -> str:
        """The scale the chapter ran at (``quick``, ``book`` or ``paper``); ``unknown`` without provenance."""
        return str(self.parameters.get("scale", "unknown"))

    def claim(self, cid: str) -> dict[str, Any]:
        """Claim ``cid`` as written to ``claims.json``; :class:`MissingResultsError` if there is no such claim."""
        if cid not in self.claims:
            raise MissingResultsError(f"{self.folder / 'claims.json'} has no claim {cid!r} of chapter "
                                      f"{self.chapter!r}; {_how_to_produce(self.chapter, self.folder)}")
        return self.claims[cid]

    def value(self, cid: str, *keys: str) -> Any:
        """The measured ``value`` of claim ``cid``, followed down ``keys``; a missing key raises
        :class:`MissingResultsError` saying the results predate this synthesis and how to re-run the chapter."""
        node: Any = self.claim(cid)["value"]
        for i, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                path = ".".join((cid, "value", *keys[: i + 1]))
                raise MissingResultsError(f"{self.folder / 'claims.json'} has no {path}: the results of chapter "
                                          f"{self.chapter!r} predate the synthesis; "
                                          f"{_how_to_produce(self.chapter, self.folder)}")
            node = node[key]
        return node


Results = dict[str, ChapterResults]


def _how_to_produce(chapter: str, folder: Path) -> str:
    return (f"produce them with `make book` (which executes every chapter first) or `lrlab run {chapter} -o "
            f"{folder}`")


def results_folder(results: str | Path | None = None) -> Path:
    """The folder holding one ``<chapter>/`` folder of results per chapter.

    ``results`` if given; otherwise ``_build/results`` under the book's root, where a chapter executed in the book
    writes (:func:`lrlab.runtime.results_dir`). Never created here.
    """
    if results is not None:
        return Path(results)
    root = book_root()
    if root is None:
        raise MissingResultsError("the book's root (the folder holding _config.yml and chapters/) was not found from "
                             f"{Path.cwd()}: pass the results folder explicitly")
    return root / "_build" / "results"


def load_chapter(chapter: str, results: str | Path | None = None) -> ChapterResults:
    """Read ``claims.json`` (required) and ``provenance.json`` (optional; ``params.json`` of a run folder
    stands in for it) of ``chapter``.

    Raises :class:`MissingResultsError` naming the chapter, the expected file and the command that writes it.
    """
    folder = results_folder(results) / chapter
    path = folder / "claims.json"
    if not path.is_file():
        raise MissingResultsError(f"the results of chapter {chapter!r} are missing: {path} does not exist; "
                             f"{_how_to_produce(chapter, folder)}")
    rows = json.loads(path.read_text())
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "id" in r for r in rows):
        raise MissingResultsError(f"{path} is not a chapter scorecard (a list of claims with an 'id'); "
                             f"{_how_to_produce(chapter, folder)}")
    prov_path = next((p for p in (folder / "provenance.json", folder / "params.json") if p.is_file()), None)
    prov = json.loads(prov_path.read_text()) if prov_path else {}
    return ChapterResults(chapter, {str(r["id"]): r for r in rows}, prov, folder)


def load(results: str | Path | None = None, chapters: Iterable[str] = CHAPTERS) -> Results:
    """The results of every chapter in ``chapters`` (default: all five), by chapter name."""
    return {c: load_chapter(c, results) for c in chapters}


def num(x: Any) -> float:
    """A claims.json number back to a float (``"inf"`` and ``"nan"`` are written as strings)."""
    return float(x)

