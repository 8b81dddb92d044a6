"""Each chapter's wall time at scales ``quick`` and ``book``, as a reader runs it (``lrlab run``), one at a time.

Wall time includes starting the kernel and executing the whole notebook (figures, scorecard, provenance). CPU time
is the run's child processes' user + system time. Each chapter and scale runs ``--repeats`` times (default 3), one
after another, and the median run is kept, with every run's wall time. Run on an otherwise idle machine: the
figures are absolute, and the book's runtime badges and ``book/performance.ipynb`` show them. Writes
``benchmarks/results/chapter_times.json``.

    OMP_NUM_THREADS=1 python benchmarks/bench_chapters.py [--scales quick book] [--chapters NAME ...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from lrlab import studies

BOOK_LIMIT_S = 120.0
"""The target: every chapter at scale ``book`` in at most 2 minutes."""


def run_once(chapter: str, scale: str, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lrlab.cli", "run", chapter, "--scale", scale, "-o", str(out)],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                               "LRLAB_PROGRESS": "0"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"lrlab run {chapter} --scale {scale} failed:\n{proc.stderr[-2000:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load_average_1min": os.getloadavg()[0]}


def median_run(runs: list[dict]) -> dict:
    """The run whose wall time is the median (its own CPU time and load with it), and every run's wall time: one run
    on this VM can land 10–15% off, enough to misstate what a change did."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return {**ordered[len(ordered) // 2], "runs_wall_s": [r["wall_s"] for r in runs]}


def book_rows(chapters: dict) -> list[dict]:
    """One row per chapter measured at scale ``book``: its wall time against the two-minute limit."""
    rows = []
    for chapter, scales in chapters.items():
        if "book" in scales:
            book = scales["book"]
            wall, runs = book["wall_s"], book.get("runs_wall_s", [book["wall_s"]])
            note = "ratio = wall time / 120 s" + (f"; median of {len(runs)} runs ({', '.join(map(str, runs))} s)"
                                                  if len(runs) > 1 else "")
            rows.append(common.row(f"{chapter} at scale book", "wall time", wall, "limit", BOOK_LIMIT_S,
                                   wall / BOOK_LIMIT_S, "≤ 1 (2 minutes)", wall <= BOOK_LIMIT_S, note=note))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", nargs="+", default=["quick", "book"])
    p.add_argument("--chapters", nargs="+", default=None)
    p.add_argument("--repeats", type=int, default=3, help="runs of each chapter and scale; the median is kept")
    args = p.parse_args()
    if args.repeats < 1 or args.repeats % 2 == 0:
        raise SystemExit(f"--repeats = {args.repeats} is not allowed: it must be an odd integer >= 1 (a median run)")
    path = common.RESULTS / "chapter_times.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    chapters = old.get("chapters", {})
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in args.chapters or studies.available():
            for scale in args.scales:
                result = median_run([run_once(chapter, scale, Path(tmp) / f"{chapter}-{scale}-{i}")
                                     for i in range(args.repeats)])
                chapters.setdefault(chapter, {})[scale] = result
                print(f"{chapter} {scale}: {result['wall_s']} s wall, {result['cpu_s']} s CPU "
                      f"(runs: {result['runs_wall_s']})", flush=True)
    rows = book_rows(chapters)
    common.write_json(path, {"machine": common.machine(), "measured_on": dt.date.today().isoformat(),
                             "chapters": chapters})
    common.save("chapters", "Chapter wall times (lrlab run, one at a time)", rows, {"chapters": chapters})


if __name__ == "__main__":
    main()
