"""Provenance of a run: commit, versions, Python, device, threads, wall time, data hashes.

Shown at the end of every chapter and written as ``provenance.json`` beside ``claims.json``.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from lrlab.runtime import write_json

PACKAGES = ("lrlab", "torch", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "seaborn", "papermill")


def git_commit(folder: Path | None = None) -> str:
    """``<sha>`` of HEAD, with ``+dirty`` when the work tree has changes; ``unknown`` outside git."""
    cwd = folder or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


@functools.cache
def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return out


def versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (read once per process: the metadata scan is slow)."""
    return dict(_versions(packages))


def device_info() -> dict[str, Any]:
    info: dict[str, Any] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    try:
        import torch
    except ImportError:
        return info
    info["torch_threads"] = torch.get_num_threads()
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


class Provenance:
    """Start the clock at construction; ``collect()`` gives the record, ``save(folder)`` writes it."""

    def __init__(self, chapter: str, config: dict[str, Any]):
        self.chapter = chapter
        self.config = dict(config)
        self.data: dict[str, str] = {}
        self.mutant: str | None = None
        """The mutant this run applies (``lrlab audit``), None for a normal run."""
        self.started = time.time()
        self._t0 = time.perf_counter()

    def add_data(self, name: str, checksum: str) -> None:
        """Record a dataset's checksum (see :func:`lrlab.data.sha256`)."""
        self.data[name] = checksum

    @functools.cached_property
    def _commit(self) -> str:
        return git_commit()

    def collect(self) -> dict[str, Any]:
        return {
            "chapter": self.chapter,
            "parameters": self.config,
            "commit": self._commit,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "versions": versions(),
            "device": device_info(),
            "data": self.data,
            "mutant": self.mutant,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "wall_s": round(time.perf_counter() - self._t0, 2),
        }

    def save(self, folder: str | Path) -> Path:
        return write_json(Path(folder) / "provenance.json", self.collect())

    def _repr_markdown_(self) -> str:
        p = self.collect()
        rows = [
            ("commit", p["commit"]),
            ("wall time", f"{p['wall_s']:.1f} s"),
            ("python", p["python"]),
            ("device", ", ".join(f"{k} {v}" for k, v in p["device"].items())),
            ("versions", ", ".join(f"{k} {v}" for k, v in p["versions"].items())),
            ("data", ", ".join(f"{k} `{v}`" for k, v in p["data"].items()) or "none"),
            ("parameters", ", ".join(f"{k}={v}" for k, v in p["parameters"].items())),
        ]
        return "| record | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
