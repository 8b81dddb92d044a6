"""Where the points run: one point in a scratch folder (:func:`execute_point`), on a local pool of processes or a
Dask cluster."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from lrlab.sweep import keys

INTERRUPTED_RC = 130
"""Exit code of an ``lrlab run`` stopped by Ctrl-C (SIGINT); such a run is never cached."""


def point_command(chapter: str, scale: str) -> list[str]:
    """The command a worker runs for a point: ``lrlab run`` with placeholders ``{python}``, ``{params}``
    (a YAML file of the point's overrides and seed) and ``{out}`` (the run folder) filled in on the worker."""
    return ["{python}", "-m", "lrlab.cli", "run", chapter, "--scale", scale, "-f", "{params}", "-o", "{out}"]


try:  # looked up once, before any fork
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):  # pragma: no cover
    _PRCTL = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGKILL this child when the thread that started it dies (a killed sweep leaves no run)."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def execute_point(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Run one point in a scratch folder and return its files (runs on a local worker or a Dask worker).

    ``payload`` holds ``chapter``, ``argv`` (see ``point_command``), ``params``, ``env``, ``timeout`` and the
    coordinator's ``inputs``. The worker first checks that its checkout hashes to the same inputs (else the
    result would be stored under a key it does not belong to) and refuses with an error otherwise.
    """
    start = time.perf_counter()
    host = socket.gethostname()
    here = keys.key_inputs(payload["chapter"])
    differ = [k for k, v in payload["inputs"].items() if here.get(k) != v]
    if differ:
        return {"rc": None, "files": {}, "wall_s": time.perf_counter() - start, "host": host, "cacheable": False,
                "error": f"the worker's {' and '.join(differ)} hash differently from the coordinator's (host {host}"
                         f"{_what_differs(payload, differ)}): every worker needs the same checkout, packages and data"}
    with tempfile.TemporaryDirectory(prefix="lrlab-point-") as scratch:
        scratch = Path(scratch)
        out, pfile = scratch / "run", scratch / "params.yaml"
        # YAML, not JSON: `lrlab run -f` reads YAML 1.1, where JSON's 1e-05 would be a string
        pfile.write_text(yaml.safe_dump({**payload["params"], "seed": payload["seed"]}))
        fill = {"{python}": sys.executable, "{params}": str(pfile), "{out}": str(out)}
        argv = [fill.get(a, a) for a in payload["argv"]]
        env = {**os.environ, **payload["env"]}
        error = ""
        try:
            proc = subprocess.run(argv, env=env, cwd=scratch, capture_output=True, text=True,
                                  timeout=payload.get("timeout"), preexec_fn=_die_with_parent)
            rc, tail = proc.returncode, (proc.stderr or "").strip()[-4000:]
        except subprocess.TimeoutExpired:
            rc, tail, error = None, "", f"TimeoutError: the point ran longer than --timeout {payload['timeout']} s"
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} \
            if out.is_dir() else {}
    status = read_status(files)
    if status.get("status") == "interrupted" or rc == INTERRUPTED_RC:  # Ctrl-C: not the point's result
        return {"rc": rc, "files": {}, "wall_s": time.perf_counter() - start, "host": host, "cacheable": False,
                "error": "KeyboardInterrupt: the run was interrupted (not cached)"}
    if not error and rc != 0:
        error = status.get("error") or _last_error(tail) or f"the run exited with code {rc}"
    if not error and not status.get("ok"):
        error = status.get("error") or "the run left no status.json"
    return {"rc": rc, "files": files, "error": error, "stderr": tail if error else "",
            "wall_s": time.perf_counter() - start, "host": host, "cacheable": True}


def _what_differs(payload: Mapping[str, Any], differ: list[str]) -> str:
    """``; torch 2.12.0 here, 2.13.0 there``: the first few package versions or data files that differ."""
    theirs = payload.get("details") or {}
    if not any(k in theirs for k in differ):
        return ""
    mine = keys.key_details(payload["chapter"])
    notes = []
    for kind in ("versions", "data"):
        if kind in differ and kind in theirs:
            for name in sorted(set(mine[kind]) | set(theirs[kind])):
                here, there = mine[kind].get(name, "absent"), theirs[kind].get(name, "absent")
                if here != there:
                    notes.append(f"{name} {here[:12]} here, {there[:12]} there")
    return "; " + ", ".join(notes[:3]) if notes else ""


def read_status(files: Mapping[str, bytes]) -> dict[str, Any]:
    """A run's ``status.json`` among its ``files``; empty when it is missing or unreadable."""
    try:
        return json.loads(files["status.json"])
    except (KeyError, ValueError):
        return {}


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("error:") or re.match(r"^[A-Za-z_.]+(Error|Exception|Interrupt)\b", ln):
            return ln.removeprefix("error:").strip()
    return lines[-1] if lines else ""


class LocalPool:
    """``workers`` points at a time, each in its own ``lrlab run`` process (one thread per library)."""

    def __init__(self, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lrlab-sweep")
        self.description = f"{workers} local worker{'s' if workers > 1 else ''}"

    def slots(self) -> int:
        return self.workers

    def submit(self, payload: Mapping[str, Any]):
        return self.pool.submit(execute_point, payload)

    def done(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return list(wait(list(futures), timeout=timeout, return_when=FIRST_COMPLETED).done)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """Points as tasks of a ``dask.distributed`` cluster: at ``address``, at the address a scheduler wrote into
    ``scheduler_file`` (``dask scheduler --scheduler-file``, the usual way on SLURM), or a ``LocalCluster`` of
    ``workers``."""

    def __init__(self, address: str | None, workers: int, scheduler_file: str | Path | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--scheduler/--scheduler-file/--dask-local need dask.distributed: "
                             "pip install 'dask[distributed]'") from None
        self.cluster = None
        if scheduler_file:
            path = Path(scheduler_file).expanduser()
            if not path.is_file():
                raise ValueError(f"--scheduler-file {str(scheduler_file)!r} does not exist: start the scheduler "
                                 "first (dask scheduler --scheduler-file PATH, or a dask-jobqueue cluster)")
            try:
                self.client = Client(scheduler_file=str(path), timeout="30s")
            except (OSError, TimeoutError, ValueError, KeyError) as e:
                raise ValueError(f"--scheduler-file {str(scheduler_file)!r}: no Dask scheduler answers at the "
                                 f"address it holds ({e.__class__.__name__}: {e})") from None
            self.description = f"Dask scheduler {self.client.scheduler.address} (from {path})"
        elif address:
            try:
                self.client = Client(address, timeout="30s")
            except (OSError, TimeoutError) as e:
                raise ValueError(f"--scheduler {address!r}: no Dask scheduler answers there ({e})") from None
            self.description = f"Dask scheduler {address}"
        else:
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, host="127.0.0.1")
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster {self.cluster.scheduler_address} ({workers} workers)"

    def slots(self) -> int:
        """Points in flight: twice the cluster's threads (asked at most every 5 s; clusters grow), at least 8."""
        now = time.monotonic()
        if now - getattr(self, "_asked", -1e9) > 5:
            self._asked, self._slots = now, max(8, 2 * sum(self.client.nthreads().values()))
        return self._slots

    def submit(self, payload: Mapping[str, Any]):
        return self.client.submit(execute_point, dict(payload), pure=False,
                                  key=f"lrlab-point-{payload['key'][:12]}-{uuid.uuid4().hex[:8]}")

    def done(self, futures: Iterable[Any], timeout: float) -> list[Any]:
        """The futures that finished, waiting until the first does or ``timeout`` passes (``distributed.wait``:
        woken by the scheduler's message, not by polling)."""
        from distributed import wait

        futures = list(futures)
        if not futures:
            return []
        try:
            wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        except Exception:  # a cancelled future: _finish reports it through its result()
            pass
        return [f for f in futures if f.done()]

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
