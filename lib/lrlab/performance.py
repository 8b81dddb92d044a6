"""The benchmark results behind the book's performance page (``book/performance.ipynb``).

``make bench`` runs the scripts in ``benchmarks/``; each writes ``benchmarks/results/<name>.json`` with the machine,
the date and its ``rows``: one comparison each, with both sides' figures, their ratio, the target the issue set
and whether it was met (see ``benchmarks/common.py``). This module reads those files into tables; it measures
nothing, so the page shows exactly what the last ``make bench`` measured. Chapter times are read by
:mod:`lrlab.timings`; the cProfile summaries by :func:`profile_table`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lrlab import timings
from lrlab.runtime import book_root

BENCHMARKS: tuple[str, ...] = ("training", "sharpness", "ntk", "boosting", "chapters", "make_test")
"""The results files the page shows, in its order (``benchmarks/results/<name>.json``)."""


def results_dir(root: Path | None = None) -> Path:
    """``benchmarks/results`` of the book's checkout."""
    if root is None:
        root = book_root() or Path.cwd()
    return root / "benchmarks" / "results"


def load(name: str, root: Path | None = None) -> dict[str, Any] | None:
    """One benchmark's results, or ``None`` when it has not been run here (``make bench`` writes it)."""
    return timings.load(results_dir(root) / f"{name}.json")


def load_all(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every benchmark of :data:`BENCHMARKS` that has results, by name."""
    out = {}
    for name in BENCHMARKS:
        data = load(name, root)
        if data is not None:
            out[name] = data
    return out


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "not met", None: "—"}[met]


def ratio_table(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per comparison: what is compared, the ratio, the target and whether it was met."""
    rows = []
    for name, data in results.items():
        for r in data.get("rows", []):
            rows.append({
                "benchmark": name,
                "comparison": r["comparison"],
                "ratio": r["ratio"],
                "target": r.get("target") or "—",
                "verdict": _verdict(r.get("met")),
                "note": r.get("note", ""),
            })
    return pd.DataFrame(rows, columns=["benchmark", "comparison", "ratio", "target", "verdict", "note"])


def targets_met(results: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """(met, with a target) over every comparison that has a target."""
    table = ratio_table(results)
    judged = table[table["verdict"] != "—"]
    return int((judged["verdict"] == "met").sum()), len(judged)


def machines(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Where and when each benchmark ran. The load average shows whether the machine was idle; the CPU steal share
    (in results that record it; older ones say —) shows how much of the CPU time the hypervisor took meanwhile."""
    rows = []
    for name, data in results.items():
        m = data.get("machine", {})
        rows.append({"benchmark": name, "measured on": data.get("measured_on", "—"), "cpu": m.get("cpu", "—"),
                     "cores": m.get("cores"), "torch": m.get("torch", "—"),
                     "threads per process": m.get("threads_per_process"),
                     "load (1 min)": m.get("load_average_1min"), "CPU stolen": m.get("cpu_steal_share")})
    return pd.DataFrame(rows)


def detail(results: dict[str, dict[str, Any]], name: str, *keys: str) -> Any:
    """``results[name]["details"][k1][k2]…``, or ``None`` when any level is missing."""
    node: Any = results.get(name, {}).get("details", {})
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


_BUILTIN = re.compile(r"^~:0\(<(?:method '(?P<method>[^']+)' of '(?P<owner>[^']+)' objects"
                      r"|built-in method (?P<name>[^>]+)|(?P<other>[^>]+))>\)$")


def readable_function(name: str) -> str:
    """A cProfile function key as a reader can use it.

    cProfile names a function defined in Python ``file.py:line(function)`` (kept) and a built-in ``~:0(<…>)``:
    ``~:0(<method 'run_backward' of 'torch._C._EngineBase' objects>)`` becomes
    ``torch._C._EngineBase.run_backward`` and ``~:0(<built-in method torch.baddbmm>)`` becomes ``torch.baddbmm``.
    (Shown raw, the angle brackets read as HTML tags and the performance page showed ``~:0()``.)
    """
    m = _BUILTIN.match(name)
    if m is None:
        return name
    if m["method"]:
        return f"{m['owner']}.{m['method']}"
    return (m["name"] or m["other"]).strip()


def profile_table(root: Path | None = None, top: int = 3) -> pd.DataFrame:
    """Each chapter's ``top`` functions by own time under cProfile (``benchmarks/profile_chapters.py``), named by
    :func:`readable_function`."""
    columns = ["chapter", "rank", "function", "share of time"]
    data = load("profiles", root)
    if data is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for chapter, entry in data.get("chapters", {}).items():
        for rank, fn in enumerate(entry.get("top", [])[:top], start=1):
            rows.append({"chapter": chapter, "rank": rank, "function": readable_function(fn["function"]),
                         "share of time": fn["share"]})
    return pd.DataFrame(rows, columns=columns)


def find(results: dict[str, dict[str, Any]], name: str, starts: str) -> dict[str, Any] | None:
    """The first row of benchmark ``name`` whose comparison starts with ``starts`` (``None`` if absent)."""
    for r in results.get(name, {}).get("rows", []):
        if r["comparison"].startswith(starts):
            return r
    return None


def ratio(results: dict[str, dict[str, Any]], name: str, starts: str) -> float:
    """The ratio of :func:`find`'s row as a plain float (what the page glues); NaN when it was not measured."""
    r = find(results, name, starts)
    return math.nan if r is None else float(r["ratio"])


def against_target(results: dict[str, dict[str, Any]], name: str, starts: str) -> str:
    """How :func:`find`'s row stands against its target, as words for the page's prose: ``"meeting its target
    (≤ 3× the floor)"``, ``"short of its target (…)"``, ``"with no target"`` or ``"not measured"``."""
    r = find(results, name, starts)
    if r is None:
        return "not measured"
    if r.get("met") is None:
        return "with no target"
    return f"{'meeting' if r['met'] else 'short of'} its target ({r['target']})"


def as_counts(counts: list[int | None]) -> np.ndarray:
    """Products counted per start (``benchmarks/bench_sharpness.py``) as floats, a start that never reached the
    accuracy (``None``) counting as infinitely many."""
    return np.array([math.inf if k is None else k for k in counts], dtype=float)


def median_ratio(ours: list[int | None], theirs: list[int | None]) -> float:
    """How many times fewer products our side needs: the median of ``theirs`` over the median of ``ours``, paired
    counts over the same starts (:func:`as_counts`); the performance page's sharpness section."""
    return float(np.median(as_counts(theirs)) / np.median(as_counts(ours)))


def speed_words(ratio: float) -> str:
    """A speed ratio (baseline time / ours) as words for prose: ``"1.4× faster"``, ``"1.1× slower"``, or ``"not
    measured"`` for NaN; a comparison whose sign differs between CPUs then reads right on any of them."""
    if not math.isfinite(ratio) or ratio <= 0:
        return "not measured"
    return f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"


def plot_chapter_times(times: pd.DataFrame, limit_s: float = 120.0):
    """Wall time of every chapter at scales quick and book (horizontal bars), with the 2-minute budget."""
    from lrlab.plots import figure

    fig, ax = figure(height=2.4)
    chapters = list(times.index if times.index.name == "chapter" else times["chapter"])
    y = range(len(chapters))
    for offset, scale, colour in ((-0.2, "quick", "#9ecae1"), (0.2, "book", "#08519c")):
        ax.barh([i + offset for i in y], times[f"{scale}_s"].to_numpy(dtype=float), height=0.38, color=colour,
                label=f"scale {scale}")
    ax.axvline(limit_s, color="#a50f15", linestyle="--", linewidth=1, label=f"budget at book ({limit_s:.0f} s)")
    ax.set_yticks(list(y), chapters)
    ax.invert_yaxis()
    ax.set_xlabel("wall time of `lrlab run` (s)")
    ax.legend(loc="lower right", fontsize="small")
    return fig


PAPER_GPU = "paper_gpu"
"""Scale ``paper`` on a GPU (``benchmarks/bench_paper_gpu.py``): written only where a GPU was lent, so optional."""


def paper_gpu_table(data: dict[str, Any] | None) -> pd.DataFrame:
    """One row per chapter run timed at scale ``paper`` on a GPU: what ran, how many configurations, the time of an
    epoch (a step for the full-batch ``eos_ntk``), the model-steps per second and the estimated whole run.

    ``data`` is ``benchmarks/results/paper_gpu.json`` (:func:`load`); an empty table when it is ``None``.
    """
    columns = ["chapter", "run", "setup", "configurations", "time per epoch", "model-steps / s",
               "whole run (estimate)", "GPU memory (GiB)"]
    rows = []
    for r in (data or {}).get("rows", []):
        if "estimate_s" not in r:
            continue
        if "step_s" in r:  # full-batch GD: a step, and a sharpness measurement
            per = (f"{1e3 * r['step_s']:.2f} ms per step; {1e3 * r['sharpness_s']:.0f} ms per sharpness "
                   "measurement")
            rate = 1.0 / r["step_s"]
        else:
            per = _short_duration(r["epoch_s"])
            rate = r.get("model_steps_per_s", math.nan)
        rows.append({"chapter": r["chapter"], "run": r["run"], "setup": r.get("setup", ""),
                     "configurations": r["configs"], "time per epoch": per, "model-steps / s": rate,
                     "whole run (estimate)": f"{timings.format_duration(r['estimate_s'])} ({r['estimate']})",
                     "GPU memory (GiB)": r.get("peak_memory_gib", math.nan)})
    return pd.DataFrame(rows, columns=columns)


def _short_duration(seconds: float) -> str:
    """An epoch's time: ``27 ms``, ``7.5 s``, else :func:`lrlab.timings.format_duration`."""
    if 0 < seconds < 1:
        return f"{1e3 * seconds:.0f} ms"
    if 1 <= seconds < 60:
        return f"{seconds:.1f} s"
    return timings.format_duration(seconds)


def convnet_step_table(data: dict[str, Any] | None) -> pd.DataFrame:
    """ConvNetSI's training step on the GPU: the K convolutions of a layer one after another vs one grouped call."""
    rows = [{"configurations": r["configs"], "setup": r["setup"], "one after another (ms)": r["loop_ms"],
             "grouped (ms)": r["grouped_ms"], "grouped speed-up": r["grouped_speedup"],
             "largest relative difference": r["max_rel_diff"]}
            for r in (data or {}).get("rows", []) if "grouped_ms" in r]
    return pd.DataFrame(rows, columns=["configurations", "setup", "one after another (ms)", "grouped (ms)",
                                       "grouped speed-up", "largest relative difference"])


def paper_gpu_row(data: dict[str, Any] | None, chapter: str, run: str | None = None) -> dict[str, Any] | None:
    """The row of ``paper_gpu.json`` for ``chapter`` (and ``run``, when the chapter timed several)."""
    for r in (data or {}).get("rows", []):
        if r["chapter"] == chapter and (run is None or r["run"] == run):
            return r
    return None
