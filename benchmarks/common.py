"""What every benchmark shares: one thread, repeat-and-median timing, the matrix-multiply rate, the machine, and
the results file (``benchmarks/results/<name>.json``) that ``book/performance.ipynb`` renders.

A results file holds ``rows``: one comparison each, with the two sides' figures, their ratio, the target and
whether it was met. The page reads them; nothing is typed by hand.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from lrlab.runtime import write_json  # noqa: E402

torch.set_num_threads(1)
RESULTS = Path(__file__).resolve().parent / "results"


def _cpu_times() -> list[int] | None:
    """The machine's cumulative CPU times from /proc/stat (user, nice, system, idle, iowait, irq, softirq, steal)."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None


_CPU_AT_START = _cpu_times()


def median_time(fn: Callable[[], object], repeats: int = 3) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``repeats`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 21, block: int = 1) -> dict[str, float]:
    """Median wall time of one call of each function, taking turns ``repeats`` times, so that every side of a ratio
    sees the same machine state (a VM's speed drifts by tens of percent over seconds).

    With ``block`` > 1 each turn calls its function ``block`` times and keeps all but the first call: every side is
    then timed with its own data in cache, not after the other side has evicted it.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            for i in range(block):
                start = time.perf_counter()
                fn()
                if block == 1 or i > 0:
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def matmul(n: int) -> tuple[Callable[[], object], int]:
    """A float32 n×n×n product to time, and its 2n³ operations."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
    a @ b
    return (lambda: a @ b), 2 * n**3


def matmul_best(sizes: tuple[int, ...] = (128, 256, 512, 1024), repeats: int = 7) -> tuple[float, int]:
    """This machine's float32 matrix-multiply rate on one thread, GFLOP/s, and the size that reached it: the best
    n×n×n product (median of repeats) over ``sizes``, so the floor it sets is the strictest one."""
    rates = {}
    for n in sizes:
        fn, ops = matmul(n)
        seconds, _ = median_time(fn, repeats)
        rates[n] = ops / seconds / 1e9
    best = max(rates, key=rates.get)
    return rates[best], best


def flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of the matrix products (and convolutions) ``fn()`` runs, by torch's counter."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The machine a result was measured on."""
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads_per_process": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        **cpu_shares(),
    }


def cpu_shares() -> dict[str, float]:
    """Since this process started: the share of the machine's CPU time that was busy, and the share the hypervisor
    took (steal). A run with much steal was measured on a machine that was not really idle."""
    now = _cpu_times()
    if now is None or _CPU_AT_START is None:
        return {}
    d = [b - a for a, b in zip(_CPU_AT_START, now)]
    total = sum(d) or 1
    return {"cpu_busy_share": round(1 - (d[3] + d[4]) / total, 3), "cpu_steal_share": round(d[7] / total, 3)}


def row(comparison: str, ours: str, ours_value: float, other: str, other_value: float, ratio: float,
        target: str, met: bool | None, unit: str = "s", note: str = "") -> dict:
    """One comparison: ``ratio`` is how many times better ours is (or, for a floor, how far above it we are)."""
    return {"comparison": comparison, "ours": ours, "ours_value": ours_value, "other": other,
            "other_value": other_value, "unit": unit, "ratio": ratio, "target": target, "met": met, "note": note}


def save(name: str, title: str, rows: list[dict], details: dict | None = None) -> Path:
    """Write ``benchmarks/results/<name>.json`` (atomically) and print its rows."""
    path = RESULTS / f"{name}.json"
    write_json(path, {"name": name, "title": title, "measured_on": dt.date.today().isoformat(),
                      "machine": machine(), "rows": rows, "details": details or {}})
    for r in rows:
        verdict = {True: "met", False: "NOT met", None: "no target"}[r["met"]]
        print(f"{r['comparison']}: {r['ratio']:.2f}x (target {r['target']}: {verdict})")
    print(f"wrote {path}")
    return path
