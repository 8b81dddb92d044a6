"""The tables of the book's page "How far to trust the verdicts" (``book/trust.ipynb``), from ``audit/results``.

Everything on that page is read from the committed audit records (:func:`lrlab.audit.runner.load`), as the
performance page reads ``benchmarks/results``; :func:`stale` compares the record's code hash with the checkout's,
so the page says when a chapter changed after its audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lrlab.audit import runner

CAUGHT, MISSED, CRASHED = "caught", "·", "crashed"


def stale(record: Mapping[str, Any]) -> bool:
    """True when the chapter's notebook or lrlab sources changed since the audit was run."""
    return record.get("code_hash") != runner.code_hash(record["chapter"])


def grid(record: Mapping[str, Any]) -> pd.DataFrame:
    """Claims × mutants: ``caught`` where the mutant flips the claim's verdict, ``crashed`` where the mutant run
    left no scorecard (which catches nothing), ``·`` otherwise; a trailing ``*`` marks the mutants aimed at the
    claim's mechanism."""
    rows = {}
    for c in record["claims"]:
        row = {}
        for name in record["mutants"]:
            mark = CAUGHT if name in c["caught_by"] else CRASHED if name in c["crashed"] else MISSED
            row[name] = mark + ("*" if name in c["targeted_by"] else "")
        rows[c["id"]] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("claim")


def held_out(record: Mapping[str, Any]) -> pd.DataFrame:
    """Per claim: its source class, the verdict expected at the audited scale, the reference verdict, how many
    held-out seed sets gave the expected verdict (with a 90% Wilson interval), the two rules and the status."""
    rows = []
    for c in record["claims"]:
        h = c["held_out"]
        lo, hi = h["interval90"]
        rows.append({
            "claim": c["id"], "source": c.get("kind") or "", "expected": c["expected"] or "not asserted",
            "reference": c["reference"] or "no scorecard",
            "held-out seed sets": f"{h['holds']}/{h['runs']}", "90% interval": f"{lo:.2f}–{hi:.2f}",
            "(a) held-out": "yes" if c["rule_a"] else "no", "(b) a mutant flips it": "yes" if c["rule_b"] else "no",
            "status": c["status"],
        })
    return pd.DataFrame(rows)


def mutants(record: Mapping[str, Any]) -> pd.DataFrame:
    """The chapter's mutants: what each breaks and the claims it aims at."""
    return pd.DataFrame([{"mutant": n, "what it breaks": m["mechanism"], "aimed at": ", ".join(m["targets"])}
                         for n, m in record["mutants"].items()])


def draws(record: Mapping[str, Any]) -> str:
    """One sentence on the random parameter sets: how many ended with a scorecard, and what failed."""
    found = record.get("draws") or []
    if not found:
        return "No random parameter sets were drawn in this audit."
    ok = [d for d in found if d["scorecard"]]
    text = f"{len(ok)} of {len(found)} random parameter sets at scale `quick` ended with a scorecard"
    bad = [d for d in found if not d["scorecard"]]
    if bad:
        text += "; without one: " + "; ".join(f"`{d['params']}` ({d['error'][:80]})" for d in bad[:3])
    return text + "."


def summary(records: Mapping[str, Mapping[str, Any] | None]) -> pd.DataFrame:
    """One row per chapter: asserted claims, how many pass both rules, mutants, when and on which commit."""
    rows = []
    for chapter, rec in records.items():
        if rec is None:
            rows.append({"chapter": chapter, "asserted": "—", "pass both rules": "—", "mutants": "—",
                         "audited": "not yet", "book runs (min)": "—", "code changed since": "—"})
            continue
        asserted = [c for c in rec["claims"] if c["asserted"]]
        rows.append({
            "chapter": chapter, "asserted": len(asserted),
            "pass both rules": sum(c["rule_a"] and c["rule_b"] for c in asserted), "mutants": len(rec["mutants"]),
            "audited": f"{rec['date']}, commit {rec['commit'][:10]}",
            # each run's own wall time, cached runs included (a resumed audit's own wall time is only what it redid)
            "book runs (min)": round(sum(r.get("wall_s") or 0.0 for r in rec.get("runs", [])) / 60, 1),
            "code changed since": "yes" if stale(rec) else "no",
        })
    return pd.DataFrame(rows)


def show(chapter: str, record: Mapping[str, Any] | None) -> None:
    """Display a chapter's section of the page: the staleness note, the rules per claim, the grid, the mutants."""
    from IPython.display import Markdown, display

    if record is None:
        display(Markdown(f"*`{chapter}` has not been audited yet: run `make audit` (or `lrlab audit {chapter}`).*"))
        return
    when = f"Audited at scale `{record['scale']}` on {record['date']}, commit `{record['commit'][:10]}`"
    note = (" **The chapter's code changed after this audit: its verdicts below describe the earlier code; "
            "re-run `make audit`.**" if stale(record) else " The chapter's code is unchanged since.")
    seeds = ", ".join(map(str, record["seeds"]))
    display(Markdown(f"{when} (code hash `{record['code_hash']}`), held-out seed sets starting at {seeds}, "
                     f"{len(record['mutants'])} mutants.{note}"))
    display(held_out(record).style.hide(axis="index"))
    if record["mutants"]:
        display(grid(record))
        display(mutants(record).style.hide(axis="index"))
    display(Markdown(draws(record)))
