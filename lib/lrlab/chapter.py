"""Open and close a chapter: the one call of its setup cell and the one call of its scorecard cell.

Every chapter notebook starts the same way: resolve the ``parameters`` cell's values against the study's
``SPEC``, seed, set threads and device, set the figure style, start the provenance record. And it ends the same
way: save ``claims.json`` and ``provenance.json`` side by side, show the scorecard, compare every verdict with the
one its claim table expects. :func:`start` and :func:`finish` are those two steps, so the notebooks keep only
the story.

``python -m lrlab.chapter --sync`` rewrites every chapter's ``parameters`` cell from its study's ``SPEC`` (the
cell is generated, never edited by hand; ``tests/test_repo.py`` fails on drift).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lrlab import plots, runtime, studies
from lrlab.claims import Scorecard
from lrlab.config import Config
from lrlab.provenance import Provenance


class Started(NamedTuple):
    """What a chapter's setup cell gets back: the resolved configuration, the device, the provenance record."""

    cfg: Config
    device: str
    prov: Provenance


def start(chapter: str, namespace: Mapping[str, Any]) -> Started:
    """Resolve the chapter's parameters from ``namespace`` (the notebook's globals), seed, set threads, device
    and figure style, and start the provenance record.

    A bad value raises ``ValueError`` naming the parameter, the value and what is allowed, before any data is
    built.
    """
    cfg = studies.load(chapter).SPEC.resolve_from(namespace)
    device = runtime.setup(cfg.seed)
    plots.use_style()
    return Started(cfg, device, Provenance(chapter, cfg.as_dict()))


def finish(card: Scorecard, prov: Provenance) -> None:
    """Save ``claims.json`` and ``provenance.json`` together, show the scorecard, then compare every verdict
    with the one expected at this scale (:meth:`lrlab.claims.Scorecard.check`, an ``AssertionError`` naming each
    claim that differs).

    Saving comes first, so a failing check still leaves the claims and their provenance on disk, matching.
    """
    folder = runtime.results_dir(card.chapter)
    card.save(folder)
    prov.save(folder)
    try:
        from IPython.display import display
    except ImportError:  # outside IPython: print the one-line summary instead
        print(card.summary())
    else:
        display(card)
    card.check()


def parameters_cell(notebook: Path) -> tuple[int, dict[str, Any]]:
    """Index and cell of the notebook's cell tagged ``parameters``; ``ValueError`` when there is not exactly one."""
    nb = json.loads(notebook.read_text())
    found = [(i, c) for i, c in enumerate(nb["cells"]) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise ValueError(f"{notebook}: expected one cell tagged 'parameters', found {len(found)}")
    return found[0]


def sync(chapter: str, root: Path | None = None) -> bool:
    """Write the chapter's ``parameters`` cell from its ``SPEC``; True when the notebook changed."""
    path = studies.notebook(chapter, root)
    nb = json.loads(path.read_text())
    index, _ = parameters_cell(path)
    want = studies.load(chapter).SPEC.parameters_cell()
    lines = want.splitlines(keepends=True)
    if "".join(nb["cells"][index]["source"]) == want:
        return False
    nb["cells"][index]["source"] = lines
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lrlab.chapter", description=__doc__.splitlines()[0])
    ap.add_argument("--sync", action="store_true", help="rewrite every chapter's parameters cell from its SPEC")
    args = ap.parse_args(argv)
    if not args.sync:
        ap.print_help()
        return 2
    for chapter in studies.available():
        if sync(chapter):
            print(f"{chapter}: parameters cell rewritten from SPEC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
