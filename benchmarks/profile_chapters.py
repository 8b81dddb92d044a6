"""Profile each chapter with cProfile: where does its time go? (Remove what dominates before tuning the rest.)

Executes the chapter notebook's code cells, at its stored defaults (scale ``book``) or ``--scale``, in this process
under ``cProfile``, and writes ``benchmarks/results/profiles/<chapter>.txt`` (the top functions by own time and
by cumulative time within ``lrlab``) and ``benchmarks/results/profiles.json`` (each chapter's top five functions by
own time, as shares of the total).

    OMP_NUM_THREADS=1 python benchmarks/profile_chapters.py [--chapters NAME ...] [--scale quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import tempfile
import time
from pathlib import Path

import nbformat

import common
from lrlab import studies
from lrlab.runtime import repo_root

os.environ.setdefault("MPLBACKEND", "Agg")  # no display: figures render off-screen
OUT = common.RESULTS / "profiles"


def code_of(notebook: Path, scale: str | None) -> str:
    nb = nbformat.read(notebook, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cells.append(cell.source)
        if scale and "parameters" in cell.metadata.get("tags", []):
            cells.append(f"scale = {scale!r}")
    return "\n\n".join(cells)


def profile(chapter: str, scale: str | None) -> dict:
    source = code_of(repo_root() / "chapters" / f"{chapter}.ipynb", scale)
    profiler = cProfile.Profile()
    namespace: dict = {"__name__": "__profiled__"}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LRLAB_RUN_DIR"] = tmp
        start = time.perf_counter()
        profiler.enable()
        exec(compile(source, f"<{chapter}>", "exec"), namespace)  # noqa: S102 - our own notebook
        profiler.disable()
        wall = time.perf_counter() - start
        os.environ.pop("LRLAB_RUN_DIR")
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats("lrlab", 25)
    (OUT / f"{chapter}.txt").write_text(text.getvalue())
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:5]
    return {"wall_s": wall, "profiled_s": total,
            "top": [{"function": f"{Path(f).name}:{line}({name})", "own_s": tt, "share": tt / total}
                    for (f, line, name), (_, _, tt, _, _) in top]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chapters", nargs="+", default=None)
    p.add_argument("--scale", default=None, help="quick | book | paper (default: the notebook's stored defaults)")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    summary_path = common.RESULTS / "profiles.json"
    summary = json.loads(summary_path.read_text()).get("chapters", {}) if summary_path.is_file() else {}
    for chapter in args.chapters or studies.available():
        summary[chapter] = profile(chapter, args.scale)
        head = summary[chapter]["top"][0]
        print(f"{chapter}: {summary[chapter]['wall_s']:.0f} s; top: {head['function']} {head['share']:.0%}",
              flush=True)
    common.write_json(summary_path, {"machine": common.machine(), "scale": args.scale or "book",
                                     "chapters": summary})


if __name__ == "__main__":
    main()
