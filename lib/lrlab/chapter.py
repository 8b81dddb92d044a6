"""Open and close a chapter: the one call of its setup cell and the one call of its scorecard cell.

Every chapter notebook starts the same way: resolve the ``parameters`` cell's values against the study's
``SPEC``, seed, set threads and device, set the figure style, start the provenance record. And it ends the same
way: save ``claims.json`` and ``provenance.json`` side by side, show the scorecard with its verdict ledger folded
under it, compare every verdict with the one its claim table expects. :func:`start` and :func:`finish` are those
two steps, so the notebooks keep only the story.

``python -m lrlab.chapter --sync`` rewrites every chapter's ``parameters`` cell from its study's ``SPEC`` (the
cell is generated, never edited by hand; ``tests/test_structure.py`` fails on drift). ``python -m lrlab.chapter
--ledger CHAPTER`` prints each claim's ledger fingerprint (:mod:`lrlab.ledger`) and what the ledger misses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lrlab import ledger, plots, runtime, studies
from lrlab.audit import registry
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
    built. When ``$LRLAB_MUTANT`` names one of the chapter's mutants (``lrlab audit`` sets it), the fault is
    applied for the rest of the kernel's life and recorded in the provenance.
    """
    cfg = studies.load(chapter).SPEC.resolve_from(namespace)
    mutant = registry.from_environment(chapter)
    device = runtime.setup(cfg.seed)
    plots.use_style()
    prov = Provenance(chapter, cfg.as_dict())
    if mutant is not None:
        mutant.apply()
        prov.mutant = mutant.name
        print(f"MUTANT RUN: {mutant.name}: {mutant.mechanism}")
    return Started(cfg, device, prov)


def finish(card: Scorecard, prov: Provenance) -> None:
    """Save ``claims.json`` and ``provenance.json`` together, show the scorecard, then compare every verdict
    with the one expected at this scale (:meth:`lrlab.claims.Scorecard.check`, an ``AssertionError`` naming each
    claim that differs).

    Saving comes first, so a failing check still leaves the claims and their provenance on disk, matching. A run at
    its scale's own parameters (:func:`is_preset_run`) must judge every claim the scale expects a verdict of.
    """
    folder = runtime.results_dir(card.chapter)
    card.save(folder)
    prov.save(folder)
    entries = card.table.ledger if card.table is not None else ()
    try:
        from IPython.display import HTML, display
    except ImportError:  # outside IPython: print the one-line summary instead
        print(card.summary())
    else:
        display(card)
        if entries:
            display(HTML(ledger.html_fold(entries)))
    card.check(require_judged=is_preset_run(card.chapter, prov.config))


def is_preset_run(chapter: str, parameters: Mapping[str, Any]) -> bool:
    """Whether ``parameters`` (a run's resolved configuration, with ``scale`` and ``seed``) are its scale's preset,
    whatever the seed: the book's own runs, the audit's held-out seeds and mutants, not a reader's variation."""
    spec = studies.load(chapter).SPEC
    try:
        preset = spec.resolve(scale=parameters.get("scale"), seed=parameters.get("seed", 0)).as_dict()
    except (ValueError, TypeError):
        return False
    return preset == {k: list(v) if isinstance(v, tuple) else v for k, v in parameters.items()}


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
    ap.add_argument("--ledger", metavar="CHAPTER",
                    help="print each claim's ledger fingerprint and what the ledger does not account for")
    args = ap.parse_args(argv)
    if args.ledger:
        table = studies.load(args.ledger).CLAIMS
        for spec in table:
            last = ledger.latest(table.ledger, spec.id)
            print(f"{spec.id:<5} fingerprint {ledger.fingerprint(spec)}  latest entry: "
                  f"{last.date + ' ' + last.fingerprint if last else 'none'}")
        found = ledger.problems(table, table.ledger)
        print("\n".join(found) or "the ledger accounts for every claim")
        return 1 if found else 0
    if not args.sync:
        ap.print_help()
        return 2
    for chapter in studies.available():
        if sync(chapter):
            print(f"{chapter}: parameters cell rewritten from SPEC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
