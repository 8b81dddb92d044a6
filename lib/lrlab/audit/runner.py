"""Run a chapter's audit through the sweep engine and judge every claim by the two rules.

One audit of a chapter at a scale is a set of single-point sweeps, each cached and resumable like any sweep:

- the *reference*: the chapter's default seed, unmutated;
- the *held-out seed sets* (:data:`lrlab.audit.registry.HELD_OUT_SEEDS`), unmutated;
- one run per *mutant* (:mod:`lrlab.audit.mutants`) at the default seed.

Rule (a): a claim the chapter expects ``reproduced`` holds on every held-out seed set, at least five of them.
Rule (b): at least one mutant flips its verdict away from ``reproduced``; a mutant that leaves a claim with an
expected verdict ``not judged`` counts, because at the scale's own parameters the chapter's closing check then fails.
The result is one tidy table (claim × condition → verdict) and one summary per claim, written to
``audit/results/<chapter>.json`` with the commit and a hash of the chapter's code, which the page "How far to trust the
verdicts" renders.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrlab import provenance, runtime
from lrlab.audit import params as param_draws
from lrlab.audit import registry
from lrlab.sweep import engine, keys

FORMAT = 1
MIN_HELD_OUT = 5
REFERENCE_SEED = 0


@dataclass(frozen=True)
class Job:
    """One single-point sweep of the audit: what it is (``reference``, ``held-out``, ``mutant``, ``draw``), its
    label, seed, mutant and parameter overrides."""

    kind: str
    label: str
    seed: int
    mutant: str | None = None
    params: Mapping[str, Any] | None = None


def wilson(k: int, n: int, z: float = 1.645) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k/n`` (90% by default): honest at n = 5, unlike k/n ± se."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def results_dir(root: Path | None = None) -> Path:
    """``audit/results`` of the book's checkout, where ``make audit`` commits its JSON."""
    return (root or runtime.book_root() or Path.cwd()) / "audit" / "results"


def code_hash(chapter: str) -> str:
    """A hash of everything the chapter's verdicts depend on in the checkout: its notebook and lrlab sources."""
    inputs = keys.key_inputs(chapter)
    return keys.sha256_hex(json.dumps([inputs["notebook"], inputs["source"]]).encode())[:16]


def _claims_of(folder: Path) -> list[dict[str, Any]] | None:
    path = folder / "claims.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _run_job(chapter: str, scale: str, job: Job, base: Path, options: Mapping[str, Any]) -> dict[str, Any]:
    folder = base / job.kind / job.label
    result = engine.run_sweep(chapter, scale, seeds=[job.seed], fixed=dict(job.params or {}), folder=folder,
                              workers=1, mutant=job.mutant, **options)
    point = result.points[0]
    outcome = result.outcomes.get(point.name)
    claims = _claims_of(folder / "runs" / point.name)
    return {"kind": job.kind, "label": job.label, "seed": job.seed, "mutant": job.mutant,
            "params": dict(job.params or {}), "status": outcome.status if outcome else "missing",
            "error": outcome.error if outcome else "", "wall_s": outcome.wall_s if outcome else None,
            "claims": claims}


def _jobs(chapter: str, mutants: Sequence[str], seeds: Sequence[int]) -> list[Job]:
    jobs = [Job("reference", f"seed{REFERENCE_SEED}", REFERENCE_SEED)]
    jobs += [Job("held-out", f"seed{s}", s) for s in seeds]
    jobs += [Job("mutant", m, REFERENCE_SEED, mutant=m) for m in mutants]
    return jobs


def judge(chapter: str, scale: str, runs: Sequence[Mapping[str, Any]], mutants: Mapping[str, Any]) -> list[dict]:
    """Per claim: its expected verdict, the reference verdict, the held-out count with its interval, the mutants
    that flip it, and whether rules (a) and (b) hold."""
    table = registry.studies.load(chapter).CLAIMS
    reference = next((r for r in runs if r["kind"] == "reference"), None)
    ref_verdicts = {c["id"]: c["verdict"] for c in (reference or {}).get("claims") or []}
    held = [r for r in runs if r["kind"] == "held-out"]
    out = []
    for spec in table:
        expected = spec.expected.get(scale)
        target = expected or "reproduced"
        verdicts = [next((c["verdict"] for c in (r["claims"] or []) if c["id"] == spec.id), None) for r in held]
        judged = [v for v in verdicts if v is not None]
        k = sum(v == target for v in judged)
        lo, hi = wilson(k, len(judged))
        caught, crashed = [], []
        for r in runs:
            if r["kind"] != "mutant":
                continue
            v = next((c["verdict"] for c in (r["claims"] or []) if c["id"] == spec.id), None)
            if v is None:
                crashed.append(r["mutant"])
            elif v != "reproduced" and (v != "not judged" or expected is not None):
                caught.append(r["mutant"])  # not judged at the scale's own parameters fails an asserted claim's check
        asserted = expected == "reproduced"
        rule_a = len(judged) >= MIN_HELD_OUT and k == len(judged) == len(held)
        rule_b = bool(caught)
        out.append({
            "id": spec.id, "kind": spec.kind, "expected": expected, "reference": ref_verdicts.get(spec.id),
            "held_out": {"holds": k, "judged": len(judged), "runs": len(held), "interval90": [lo, hi],
                         "verdicts": verdicts},
            "caught_by": caught, "crashed": crashed,
            "targeted_by": [m for m, mut in mutants.items() if spec.id in mut["targets"]],
            "rule_a": rule_a, "rule_b": rule_b, "asserted": asserted,
            "status": ("passes both rules" if asserted and rule_a and rule_b else
                       "fails held-out seeds" if asserted and not rule_a and rule_b else
                       "no mutant flips it (descriptive)" if asserted and rule_a else
                       "fails both rules" if asserted else "not asserted at this scale"),
        })
    return out


def audit(chapter: str, scale: str = "book", mutants: str | Sequence[str] = "all",
          seeds: Sequence[int] = registry.HELD_OUT_SEEDS, draws: int = 0, draw_seed: int = 0,
          workers: int | None = None, scheduler: str | None = None, dask_local: bool = False,
          cache: str | Path | None = None, folder: str | Path | None = None, write: bool = True,
          log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Audit ``chapter`` at ``scale`` (see the module docstring); return the record and, with ``write``, save it
    as ``audit/results/<chapter>.json``. ``draws`` > 0 also runs that many random parameter sets the presets
    allow at scale ``quick`` (:mod:`lrlab.audit.params`), each of which must finish with a scorecard."""
    start = time.perf_counter()
    known = registry.of(chapter)
    names = sorted(known) if mutants == "all" else ([] if mutants == "none" else list(mutants))
    for name in names:
        registry.get(chapter, name)
    drawn = param_draws.draw(chapter, draws, draw_seed) if draws else []
    base = Path(folder) if folder else Path.cwd() / "runs" / "audit" / f"{chapter}-{scale}"
    options = {"cache": cache, "scheduler": scheduler, "dask_local": dask_local}
    say = log or (lambda msg: None)
    jobs = _jobs(chapter, names, seeds)
    draw_jobs = [Job("draw", f"draw{i:02d}", REFERENCE_SEED, params=p) for i, p in enumerate(drawn)]
    say(f"audit of {chapter} at {scale}: {len(jobs)} runs ({len(seeds)} held-out seed sets, {len(names)} mutants)"
        + (f" and {len(draw_jobs)} parameter draws at quick" if draw_jobs else ""))
    slots = workers or 2
    with contextlib.ExitStack() as stack:
        if dask_local:  # one LocalCluster for the whole audit, not one per single-point sweep
            from distributed import LocalCluster

            cluster = stack.enter_context(LocalCluster(n_workers=slots, threads_per_worker=1, processes=True))
            options = {**options, "scheduler": cluster.scheduler_address, "dask_local": False}
        with ThreadPoolExecutor(max_workers=slots) as pool:
            runs = list(pool.map(lambda j: _run_job(chapter, scale, j, base, options), jobs))
            draw_runs = list(pool.map(lambda j: _run_job(chapter, "quick", j, base, options), draw_jobs))
    for r in runs + draw_runs:
        say(f"  {r['kind']:<9} {r['label']:<28} {r['status']}" + (f": {r['error'][:120]}" if r["error"] else ""))
    muts = {n: {"mechanism": known[n].mechanism, "targets": list(known[n].targets)} for n in names}
    record = {
        "format": FORMAT, "chapter": chapter, "scale": scale, "commit": provenance.git_commit(),
        "code_hash": code_hash(chapter), "date": time.strftime("%Y-%m-%d"), "seeds": list(seeds),
        "reference_seed": REFERENCE_SEED, "mutants": muts,
        "claims": judge(chapter, scale, runs, muts),
        "runs": [{k: v for k, v in r.items() if k != "claims"} | {"verdicts": {c["id"]: c["verdict"] for c in
                                                                          (r["claims"] or [])}} for r in runs],
        "draws": [{"params": r["params"], "status": r["status"], "error": r["error"],
                   "scorecard": r["claims"] is not None,
                   "not_judged": [c["id"] for c in (r["claims"] or []) if c["verdict"] == "not judged"]}
                  for r in draw_runs],
        "wall_s": round(time.perf_counter() - start, 1),
    }
    if write:
        runtime.write_json(results_dir() / f"{chapter}.json", record)
    return record


def load(chapter: str, root: Path | None = None) -> dict[str, Any] | None:
    """The committed audit record of ``chapter``, or None when it was never audited."""
    path = results_dir(root) / f"{chapter}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def summary(record: Mapping[str, Any]) -> str:
    """The audit as text: one line per claim."""
    lines = [f"{record['chapter']} at {record['scale']} ({record['wall_s']} s, commit {record['commit'][:10]})"]
    for c in record["claims"]:
        h = c["held_out"]
        lines.append(f"  {c['id']:<5} expected {str(c['expected']):<15} held-out {h['holds']}/{h['runs']}  "
                     f"caught by {', '.join(c['caught_by']) or 'none':<40} {c['status']}")
    if record["draws"]:
        ok = sum(d["scorecard"] for d in record["draws"])
        lines.append(f"  parameter draws at quick: {ok}/{len(record['draws'])} ended with a scorecard")
    return "\n".join(lines)
