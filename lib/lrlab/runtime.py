"""Seeding, threads, device and where a run writes its files.

Every chapter calls :func:`setup` once, in its setup cell. It seeds every generator from one integer, pins torch
to one thread (processes run side by side in tests, kernels and sweep workers: see :data:`SINGLE_THREAD_ENV`), and
picks the device (:func:`device`).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

import numpy as np

RUN_DIR_ENV = "LRLAB_RUN_DIR"
THREADS_ENV = "LRLAB_THREADS"
DEVICE_ENV = "LRLAB_DEVICE"
SINGLE_THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", THREADS_ENV: "1",
    "LRLAB_PROGRESS": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
"""The environment of processes that run side by side (the kernel of ``lrlab run``, the points of ``lrlab sweep``).

One thread per library (OpenMP, MKL, OpenBLAS, and torch through ``$LRLAB_THREADS``): the threads of processes
running side by side compete for the same few cores and spend their time waiting on each other, so each process runs
far slower than it does with one thread. No progress bars, whose output would interleave in the logs, and no
debugger warning about frozen modules from the kernels.
"""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) from one integer."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the boosting chapter needs no torch
        return
    torch.manual_seed(seed)


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads: ``n``, else ``$LRLAB_THREADS``, else 1. Returns the count in force."""
    n = int(os.environ.get(THREADS_ENV, "1")) if n is None else n
    if n < 1:
        raise ValueError(f"threads = {n!r} is not allowed: it must be an integer >= 1")
    try:
        import torch
    except ImportError:
        return n
    torch.set_num_threads(n)
    return torch.get_num_threads()


def requested_device(prefer: str | None = None) -> str:
    """The device asked for: ``prefer``, else ``$LRLAB_DEVICE``, else ``cpu``; ``ValueError`` unless it is ``cpu``
    or ``cuda``.

    Not checked against this machine: a sweep's coordinator names the device its workers will use.
    """
    want = (prefer or os.environ.get(DEVICE_ENV) or "cpu").lower()
    if want not in ("cpu", "cuda"):
        raise ValueError(f"device = {want!r} is not allowed: it must be 'cpu' or 'cuda'")
    return want


def device(prefer: str | None = None) -> str:
    """The device to compute on: :func:`requested_device`, ``ValueError`` if ``cuda`` is asked for and torch sees
    no CUDA device."""
    want = requested_device(prefer)
    if want == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("device = 'cuda' was asked for but torch sees no CUDA device")
    return want


def flush_denormals() -> bool:
    """Flush subnormal floats to zero in torch's CPU arithmetic on this thread (x86 FTZ/DAZ); True if supported.

    Adam's moment estimates of a unit that stopped learning decay geometrically into the subnormal range (below
    1.2e-38 in float32), where x86 arithmetic takes a slow path that makes the fluctuations chapter's Adam runs
    markedly slower (see the performance page). A subnormal number is below any update float32 weights can
    resolve, so what is lost is below the rounding of the numbers the chapters report.
    """
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.set_flush_denormal(True))


def setup(seed: int, threads: int | None = None, prefer_device: str | None = None) -> str:
    """Seed everything, set the thread policy, flush subnormal floats (:func:`flush_denormals`), return the device
    to use."""
    seed_everything(seed)
    set_threads(threads)
    flush_denormals()
    return device(prefer_device)


def repo_root(start: Path | None = None) -> Path | None:
    """The book's root (the folder holding ``_config.yml``), walking up from ``start`` or the cwd."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "chapters").is_dir():
            return folder
    return None


def book_root() -> Path | None:
    """The book's root: the checkout this package lives in (editable install), else found from the cwd."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "_config.yml").is_file() else repo_root()


def results_dir(chapter: str) -> Path:
    """Where a chapter writes ``claims.json`` and ``provenance.json``.

    ``$LRLAB_RUN_DIR`` when ``lrlab run`` set it; otherwise ``_build/results/<chapter>`` under the book root
    (the book build and nbval), or ``./lrlab-results/<chapter>`` outside the book.
    """
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        folder = Path(env)
    else:
        root = repo_root()
        folder = (root / "_build" / "results" / chapter) if root else Path("lrlab-results") / chapter
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as JSON atomically: a private temporary file renamed over ``path`` (folder created).

    A reader never sees a half-written file, and two writers never share a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)
    return path
