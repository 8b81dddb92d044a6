"""Seeding, threads, device and where a run writes its files.

Every chapter calls :func:`setup` once, in its setup cell. It seeds every generator from one integer, pins torch
to one thread (processes run side by side in tests, kernels and sweep workers, and two processes with two
threads each ran 280x slower than with one on the 2-core machine), and picks the device.
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


def device(prefer: str | None = None) -> str:
    """``cpu`` unless CUDA is present and asked for (``prefer='cuda'`` or ``$LRLAB_DEVICE=cuda``)."""
    want = (prefer or os.environ.get(DEVICE_ENV, "cpu")).lower()
    if want not in ("cpu", "cuda"):
        raise ValueError(f"device = {want!r} is not allowed: it must be 'cpu' or 'cuda'")
    if want == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("device = 'cuda' was asked for but torch sees no CUDA device")
    return want


def flush_denormals() -> bool:
    """Flush subnormal floats to zero in torch's CPU arithmetic on this thread (x86 FTZ/DAZ); True if supported.

    Adam's moment estimates of a unit that stopped learning decay geometrically into the subnormal range (below
    1.2e-38 in float32), where x86 arithmetic takes a slow path: the fluctuations chapter's Adam runs took 2.3x
    as long without this. A subnormal number is below any update float32 weights can resolve, so what is lost is
    below the rounding of the numbers the chapters report.
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
