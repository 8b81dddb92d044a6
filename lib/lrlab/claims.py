"""Claims of a paper, measured: criterion, verdict, scorecard, ``claims.json``.

A chapter lists its paper's findings as claims C1, C2, … Each claim carries the paper's own figure or number,
a criterion fixed from the paper *before* looking at our numbers, our measured value, and a verdict:

- ``reproduced``: the criterion holds (for every seed, where the criterion is per seed);
- ``partial``: it holds for some but not all seeds, or only part of a compound criterion holds;
- ``not reproduced``: it does not hold.

``expected`` says whether the chapter asserts the claim at the current scale (scales ``book`` and ``paper``);
at ``quick`` nothing is expected, because a few epochs cannot show a result about 1000.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lrlab.runtime import write_json

VERDICTS: tuple[str, ...] = ("reproduced", "partial", "not reproduced")
EXPECTED_AT: tuple[str, ...] = ("book", "paper")


def verdict_from_seeds(holds: Sequence[bool]) -> str:
    """Verdict of a per-seed criterion: all seeds → reproduced, some → partial, none → not reproduced."""
    holds = [bool(h) for h in holds]
    if not holds:
        raise ValueError("verdict_from_seeds needs at least one seed")
    if all(holds):
        return "reproduced"
    return "partial" if any(holds) else "not reproduced"


def verdict_from_parts(parts: Sequence[bool]) -> str:
    """Verdict of a compound criterion: every part → reproduced, some → partial, none → not reproduced."""
    return verdict_from_seeds(parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if np.isfinite(v) else str(v)
    return value


@dataclass
class Claim:
    """One claim of a paper, its criterion and what we measured.

    ``value`` is the headline number (or a short dict of numbers) the verdict rests on; ``measured`` is the
    sentence a reader sees in the scorecard.
    """

    id: str
    claim: str
    paper: str
    criterion: str
    value: Any
    measured: str
    verdict: str
    expected: bool
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def ok(self) -> bool:
        """True unless the claim is expected at this scale and not reproduced."""
        return not self.expected or self.verdict == "reproduced"


@dataclass
class Scorecard:
    """The claims of one chapter run."""

    chapter: str
    scale: str
    claims: list[Claim] = field(default_factory=list)

    def add(
        self,
        id: str,
        claim: str,
        *,
        paper: str,
        criterion: str,
        value: Any,
        measured: str,
        verdict: str,
        expected_at: Iterable[str] = EXPECTED_AT,
        source: str = "",
        note: str = "",
    ) -> Claim:
        """Record a claim; ``expected_at`` lists the scales at which the chapter asserts it."""
        if any(c.id == id for c in self.claims):
            raise ValueError(f"claim id {id!r} is already on the scorecard")
        c = Claim(
            id=id,
            claim=claim,
            paper=paper,
            criterion=criterion,
            value=_jsonable(value),
            measured=measured,
            verdict=verdict,
            expected=self.scale in tuple(expected_at),
            source=source,
            note=note,
        )
        self.claims.append(c)
        return c

    def table(self) -> pd.DataFrame:
        """The scorecard as a DataFrame (one row per claim)."""
        rows = [
            {
                "claim": f"{c.id}. {c.claim}",
                "paper": c.paper,
                "measured": c.measured,
                "criterion": c.criterion,
                "verdict": c.verdict,
                "asserted here": "yes" if c.expected else "no",
            }
            for c in self.claims
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        colours = {"reproduced": "#1b7837", "partial": "#b35806", "not reproduced": "#b2182b"}
        df = self.table()
        df["verdict"] = [
            f'<span class="lrlab-verdict" style="color:{colours[v]};font-weight:bold">{v}</span>'
            for v in df["verdict"]
        ]
        html = df.to_html(index=False, escape=False, classes="lrlab-scorecard", border=0)
        return f'<div class="lrlab-scorecard-wrap">{html}</div>'

    def summary(self) -> str:
        """One line per claim: ``C1 reproduced  — measured …``."""
        width = max((len(c.verdict) for c in self.claims), default=0)
        return "\n".join(
            f"{c.id:<4}{c.verdict:<{width}}{'' if c.expected else ' (not asserted)'}  {c.measured}"
            for c in self.claims
        )

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.claims]

    def save(self, folder: str | Path) -> Path:
        """Write ``claims.json`` into ``folder`` (created if needed); return its path."""
        return write_json(Path(folder) / "claims.json", self.to_json())

    def check(self) -> None:
        """Assert every claim expected at this scale: raise ``AssertionError`` naming those not reproduced."""
        failed = [c for c in self.claims if not c.ok]
        if failed:
            lines = "; ".join(f"{c.id} {c.verdict} ({c.measured})" for c in failed)
            raise AssertionError(f"{self.chapter} at scale {self.scale!r}: expected claims failed: {lines}")


def load(path: str | Path) -> list[Claim]:
    """Read a ``claims.json`` back into :class:`Claim` objects."""
    return [Claim(**row) for row in json.loads(Path(path).read_text())]
