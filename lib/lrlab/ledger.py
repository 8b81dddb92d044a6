"""The verdict ledger: every change to a claim's criterion or expected verdict, dated and explained.

A criterion set after looking at the numbers, or an expected verdict moved to match them, is how a scorecard stops
meaning anything. The rule is not that criteria never change (a criterion can be mis-stated, or hinge on three
seeds) but that every change is visible: what changed, why, and which numbers prompted it. Each study keeps its
ledger in ``lrlab/studies/<chapter>/ledger.py`` as ``LEDGER``, a tuple of :class:`Entry`, and passes it to its
:class:`~lrlab.claims.ClaimTable`. The chapter shows it folded under the scorecard (:func:`lrlab.chapter.finish`).

Each entry carries the :func:`fingerprint` of the claim as it stands after the change (its criterion, expected
verdicts and source class). ``tests/test_structure.py`` fails when a claim's current fingerprint differs from its
latest entry's: a claim table cannot change without a ledger entry.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lrlab.claims import ClaimSpec, ClaimTable


@dataclass(frozen=True)
class Entry:
    """One change to one claim: ``date`` (ISO), ``claim`` (its id), ``change`` (what), ``why``, ``numbers`` (the
    measurements that prompted it, or "none: set from the paper" for a claim declared before any run), and the
    claim's ``fingerprint`` after the change."""

    date: str
    claim: str
    change: str
    why: str
    numbers: str
    fingerprint: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.date):
            raise ValueError(f"ledger entry of {self.claim}: date {self.date!r} must be YYYY-MM-DD")
        for name in ("change", "why", "numbers"):
            if not getattr(self, name).strip():
                raise ValueError(f"ledger entry of {self.claim} ({self.date}): {name!r} must say something")


def fingerprint(spec: ClaimSpec) -> str:
    """A short hash of what a ledger entry vouches for: the claim's criterion, expected verdicts and source class."""
    blob = json.dumps({"criterion": spec.criterion, "expected": dict(sorted(spec.expected.items())),
                       "kind": spec.kind}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def latest(entries: Iterable[Entry], claim: str) -> Entry | None:
    """The most recent entry of ``claim`` (entries are kept in the order they were written)."""
    found = [e for e in entries if e.claim == claim]
    return found[-1] if found else None


def problems(table: ClaimTable, entries: Sequence[Entry]) -> list[str]:
    """Why ``entries`` do not account for ``table``: claims without an entry, claims changed since their latest
    entry, entries of claims the table does not hold, dates out of order."""
    out = []
    ids = {c.id for c in table}
    for spec in table:
        last = latest(entries, spec.id)
        if last is None:
            out.append(f"{spec.id}: no ledger entry")
        elif last.fingerprint != fingerprint(spec):
            out.append(f"{spec.id}: criterion, expected verdicts or source class changed since the entry of "
                       f"{last.date} (fingerprint {last.fingerprint}, now {fingerprint(spec)}): add an entry")
    out += [f"{e.claim}: a ledger entry for a claim the table does not hold" for e in entries if e.claim not in ids]
    dates = [e.date for e in entries]
    if dates != sorted(dates):
        out.append("ledger entries are not in date order")
    return out


def html_fold(entries: Sequence[Entry], title: str = "The verdict ledger") -> str:
    """The ledger as a folded HTML table (``<details>``), shown under the scorecard."""
    rows = "".join(
        f"<tr><td>{html.escape(e.date)}</td><td>{html.escape(e.claim)}</td><td>{html.escape(e.change)}</td>"
        f"<td>{html.escape(e.why)}</td><td>{html.escape(e.numbers)}</td></tr>" for e in entries)
    return (f'<details class="lrlab-ledger"><summary>{html.escape(title)}: {len(entries)} entries (every change '
            f"to a criterion or an expected verdict)</summary><table><thead><tr><th>date</th><th>claim</th>"
            f"<th>what changed</th><th>why</th><th>the numbers that prompted it</th></tr></thead><tbody>{rows}"
            "</tbody></table></details>")
