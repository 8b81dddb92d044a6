"""Run benchmark scripts several times and keep, for every comparison, the run with the median ratio.

One run on this VM can land a ratio 30% off (its speed drifts over seconds), which decides a borderline verdict by
luck. Each script runs ``--runs`` times (odd, default 3), one after another; each run's ``results/<name>.json`` is
kept. The merged file holds, per comparison, the row of the run whose ratio is the median (a real measurement, its
figures and verdict consistent), with every run's ratio added to its note and to ``details["runs"]``.

    OMP_NUM_THREADS=1 python benchmarks/repeat.py [--runs 3] bench_training bench_sharpness bench_ntk bench_boosting
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import common


def result_name(script: str) -> str:
    """``bench_training`` (or ``bench_training.py``) writes ``results/training.json``."""
    stem = Path(script).stem
    if not stem.startswith("bench_"):
        raise SystemExit(f"script = {script!r} is not allowed: it must be a benchmarks/bench_*.py script")
    return stem.removeprefix("bench_")


def merge(runs: list[dict]) -> dict:
    """Per comparison, the row of the run with the median ratio (the lower median for an even count); the other
    fields (machine, date, details) are the last run's, plus ``details["runs"]``: every run's ratio per comparison."""
    merged = dict(runs[-1])
    ratios: dict[str, list[float]] = {}
    for run in runs:
        for r in run["rows"]:
            ratios.setdefault(r["comparison"], []).append(r["ratio"])
    rows = []
    for r in runs[-1]["rows"]:
        name = r["comparison"]
        target = statistics.median_low(ratios[name])
        row = dict(next(x for run in runs for x in run["rows"] if x["comparison"] == name and x["ratio"] == target))
        shown = ", ".join(f"{v:.3g}" for v in ratios[name])
        row["note"] = "; ".join(filter(None, [row.get("note", ""), f"median of {len(ratios[name])} runs ({shown})"]))
        rows.append(row)
    merged["rows"] = rows
    merged["details"] = {**merged.get("details", {}), "runs": ratios}
    return merged


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("scripts", nargs="+")
    args = p.parse_args()
    if args.runs < 1 or args.runs % 2 == 0:
        raise SystemExit(f"--runs = {args.runs} is not allowed: it must be an odd integer >= 1")
    here = Path(__file__).resolve().parent
    for script in args.scripts:
        name = result_name(script)
        runs = []
        for i in range(args.runs):
            print(f"{name}: run {i + 1} of {args.runs}", flush=True)
            subprocess.run([sys.executable, str(here / f"bench_{name}.py")], check=True)
            runs.append(json.loads((common.RESULTS / f"{name}.json").read_text()))
        data = merge(runs)
        common.save(name, data["title"], data["rows"], data["details"])


if __name__ == "__main__":
    main()
