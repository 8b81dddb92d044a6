"""Claims of a paper, measured: the claim table, criteria, verdicts, the scorecard and ``claims.json``.

A chapter declares its paper's findings once, as a :class:`ClaimTable` of :class:`ClaimSpec` (id, sentence,
source, the paper's figure or number, criterion, expected verdict per scale) in its study's ``claims.py``. The
table renders the chapter's "Claims under test" list (:meth:`ClaimTable.markdown`) and feeds the scorecard: the
study's claim functions only measure and judge (:meth:`Scorecard.record`). Verdicts:

- ``reproduced``: the criterion holds (for every seed, where the criterion is per seed);
- ``partial``: it holds for some but not all seeds, or only part of a compound criterion holds;
- ``not reproduced``: it does not hold.

A claim's expected verdict at a scale is what the chapter asserts there; the closing check
(:meth:`Scorecard.check`) compares every verdict with its expected one, so a claim that does not reproduce is
recorded and shown, never dropped. No expected verdict at a scale (``quick``, where a few epochs cannot show a
result about 1000) means the claim is measured and shown but not asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lrlab.runtime import write_json

VERDICTS: tuple[str, ...] = ("reproduced", "partial", "not reproduced", "not judged")
"""``not judged``: the run cannot judge the claim (for example no learning rate reached the edge of stability);
the measured text says why. It is never expected at a scale a chapter asserts, and at that scale's own parameters
the closing check fails on it (:meth:`Scorecard.check`)."""
SOURCE_KINDS: tuple[str, ...] = ("paper", "abstract", "derived in this chapter", "background")
"""What a claim rests on: a section, figure or equation of the paper whose text was read; the paper's abstract; a
result this chapter derives itself; another paper's result (cited)."""
TOLERANCE = 1e-9
"""Relative tolerance of every threshold comparison (:func:`at_least`, :func:`at_most`): no verdict may hinge on
the last bit of a float (a Spearman ρ of 0.8 computes as 0.7999999999999999)."""
VERDICT_COLOURS: dict[str, str] = {"reproduced": "#1b7837", "partial": "#b35806", "not reproduced": "#b2182b",
                                   "not judged": "#6b6b6b"}
"""The verdicts' colours, in the scorecard and in every figure that shows a verdict (``lrlab.plots``)."""
EXPECTED_AT: tuple[str, ...] = ("book", "paper")
"""The scales at which a claim is asserted ``reproduced`` unless its table entry says otherwise."""


def verdict_from_seeds(holds: Sequence[bool]) -> str:
    """Verdict of a per-seed criterion: all seeds → reproduced, some → partial, none → not reproduced."""
    holds = [bool(h) for h in holds]
    if not holds:
        raise ValueError("verdict_from_seeds needs at least one seed")
    if all(holds):
        return "reproduced"
    return "partial" if any(holds) else "not reproduced"


def at_least(value: float, threshold: float, rtol: float = TOLERANCE) -> bool:
    """``value >= threshold`` up to a relative tolerance (NaN is never at least anything)."""
    return bool(value >= threshold - rtol * max(1.0, abs(threshold)))


def at_most(value: float, threshold: float, rtol: float = TOLERANCE) -> bool:
    """``value <= threshold`` up to a relative tolerance (NaN is never at most anything)."""
    return bool(value <= threshold + rtol * max(1.0, abs(threshold)))


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


class _Fields(dict):
    """Format fields of a claim's text; a missing one raises a ``KeyError`` naming the claim."""

    def __init__(self, claim_id: str, values: Mapping[str, Any]):
        super().__init__(values)
        self.claim_id = claim_id

    def __missing__(self, key: str) -> Any:
        raise KeyError(f"claim {self.claim_id}: no value for the field {{{key}}} of its text")


@dataclass(frozen=True)
class ClaimSpec:
    """One claim as the chapter declares it, before anything is measured.

    ``sentence``, ``paper``, ``criterion`` and ``note`` may hold ``str.format`` fields (``{tau:g}``), filled from
    the run's configuration and the values the claim function passes (:meth:`Scorecard.record`); ``generic``
    on the table fills them for the "Claims under test" list, which is rendered before any configuration
    exists. Literal braces are doubled. ``cite`` holds the bibliography keys the list cites (comma-separated);
    ``expected`` maps a scale to the verdict the chapter asserts there.
    """

    id: str
    sentence: str
    paper: str
    criterion: str
    source: str = ""
    cite: str = ""
    expected: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(EXPECTED_AT, "reproduced"))
    note: str = ""
    kind: str = ""
    """The source class (:data:`SOURCE_KINDS`): what the claim rests on, as the scorecard shows it."""

    def __post_init__(self) -> None:
        bad = {s: v for s, v in self.expected.items() if v not in VERDICTS}
        if bad:
            raise ValueError(f"claim {self.id}: expected verdicts must be one of {VERDICTS}, got {bad}")
        if self.kind and self.kind not in SOURCE_KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} is not allowed: it must be one of {SOURCE_KINDS}")

    def text(self, attribute: str, values: Mapping[str, Any]) -> str:
        """``attribute`` (``sentence``, ``paper``, ``criterion``, ``note``) with its fields filled from ``values``."""
        return str(getattr(self, attribute)).format_map(_Fields(self.id, values))


@dataclass(frozen=True)
class ClaimTable:
    """A chapter's claims, declared once: the list under "Claims under test" and the scorecard both read it."""

    chapter: str
    claims: tuple[ClaimSpec, ...]
    generic: Mapping[str, Any] = field(default_factory=dict)
    """Values of the claims' format fields in the "Claims under test" list (no run exists there yet)."""
    ledger: tuple[Any, ...] = ()
    """The chapter's verdict ledger (:class:`lrlab.ledger.Entry`): every change to a criterion or expected verdict."""

    def __post_init__(self) -> None:
        ids = [c.id for c in self.claims]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"claim table of {self.chapter}: ids declared twice: {dup}")

    def __iter__(self) -> Iterator[ClaimSpec]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    def __getitem__(self, claim_id: str) -> ClaimSpec:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"claim {claim_id!r} is not in the claim table of {self.chapter}")

    def markdown(self) -> str:
        """The chapter's "Claims under test" list (MyST): id, sentence, citation, and the verdict the chapter
        expects at each scale (asserted ``reproduced``, or expected ``partial`` / ``not reproduced``)."""
        lines = []
        for c in self.claims:
            cite = f" {{cite:p}}`{c.cite}`" if c.cite else ""
            at: dict[str, list[str]] = {}
            for scale, verdict in c.expected.items():
                at.setdefault(verdict, []).append(f"`{scale}`")
            parts = [f"{'asserted' if v == 'reproduced' else 'expected ' + v} at scale {' and '.join(at[v])}"
                     for v in VERDICTS if v in at]
            text = "; ".join(parts)
            where = f" *{text[:1].upper()}{text[1:]}.*" if parts else " *Measured and shown, not asserted.*"
            lines.append(f"- **{c.id}** {c.text('sentence', self.generic)}{cite}{where}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def scorecard(self, cfg: Mapping[str, Any]) -> Scorecard:
        """An empty scorecard of this table for the run configured by ``cfg`` (its values fill the texts' fields)."""
        return Scorecard(self.chapter, cfg["scale"], table=self, fields=dict(cfg))


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
    kind: str = ""
    """The source class (:data:`SOURCE_KINDS`)."""
    expected_verdict: str | None = None
    """The verdict the claim table expects at this scale; None where the claim is not asserted."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def ok(self) -> bool:
        """True unless the verdict differs from the one expected at this scale (or, without a claim table, the
        claim is asserted and not reproduced)."""
        if self.verdict == "not judged":  # the run could not test it (its parameters leave no edge, ...): it says so
            return True
        if self.expected_verdict is not None:
            return self.verdict == self.expected_verdict
        return not self.expected or self.verdict == "reproduced"


@dataclass
class Scorecard:
    """The claims of one chapter run."""

    chapter: str
    scale: str
    claims: list[Claim] = field(default_factory=list)
    table: ClaimTable | None = None
    """The chapter's claim table: :meth:`record` takes each claim's texts and expected verdict from it."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Values of the table's format fields common to every claim (the run's configuration)."""

    def record(self, id: str, *, value: Any, measured: str, verdict: str, note: str | None = None,
               **fields: Any) -> Claim:
        """Record claim ``id`` of the table: what was measured and the verdict; texts come from the table.

        ``fields`` fill the claim's format fields besides the configuration's; ``note`` replaces the table's note.
        """
        if self.table is None:
            raise ValueError(f"scorecard of {self.chapter} has no claim table to record {id!r} from")
        spec = self.table[id]
        values = {**self.fields, **fields}
        expected = spec.expected.get(self.scale)
        claim = self.add(
            id, spec.text("sentence", values), paper=spec.text("paper", values),
            criterion=spec.text("criterion", values), value=value, measured=measured, verdict=verdict,
            expected_at=(self.scale,) if expected == "reproduced" else (), source=spec.source,
            note=spec.text("note", values) if note is None else note,
        )
        claim.kind, claim.expected_verdict = spec.kind, expected
        return claim

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

    def frame(self) -> pd.DataFrame:
        """The scorecard as a DataFrame (one row per claim)."""
        rows = [
            {
                "claim": f"{c.id}. {c.claim}",
                "source": c.kind or c.source,
                "paper": c.paper,
                "measured": c.measured,
                "criterion": c.criterion,
                "verdict": c.verdict,
                "expected here": c.expected_verdict or ("reproduced" if c.expected else "not asserted"),
            }
            for c in self.claims
        ]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        colours = VERDICT_COLOURS
        df = self.frame()
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

    def check(self, require_judged: bool = False) -> None:
        """Compare every verdict with the one expected at this scale; raise ``AssertionError`` naming those that
        differ (a claim asserted ``reproduced`` that is not, or one expected ``partial`` that came out otherwise).

        ``require_judged``: the run used its scale's own parameters (any seed), so every claim with an expected
        verdict there must be judged; ``not judged`` is then a failure too. Elsewhere (parameters a reader chose,
        under which a claim may be untestable) it passes, and the measured text says why."""
        failed = [c for c in self.claims
                  if not c.ok or (require_judged and c.verdict == "not judged" and c.expected_verdict is not None)]
        if failed:
            lines = "; ".join(f"{c.id} {c.verdict}, expected {c.expected_verdict or 'reproduced'} ({c.measured})"
                              for c in failed)
            raise AssertionError(f"{self.chapter} at scale {self.scale!r}: expected claims failed: {lines}")


def load(path: str | Path) -> list[Claim]:
    """Read a ``claims.json`` back into :class:`Claim` objects."""
    return [Claim(**row) for row in json.loads(Path(path).read_text())]
