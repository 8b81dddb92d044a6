"""Running a sweep: every point looked up in the cache, the missing ones computed, the sweep folder kept current."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lrlab.audit import registry
from lrlab.audit.mutants import MUTANT_ENV
from lrlab.runtime import DEVICE_ENV, SINGLE_THREAD_ENV, requested_device, write_json
from lrlab.sweep import executors, keys
from lrlab.sweep.cache import Cache, CorruptEntryError, Entry, default_cache
from lrlab.sweep.grid import Point, expand
from lrlab.sweep.keys import FORMAT, point_key, sha256_hex, source_files


@dataclass
class Outcome:
    """What became of one point in this sweep."""

    status: str  # ok | failed
    cached: bool
    key: str
    error: str = ""
    wall_s: float | None = None
    host: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "cached": self.cached, "key": self.key, "error": self.error,
                "wall_s": None if self.wall_s is None else round(self.wall_s, 3), "host": self.host}


@dataclass
class SweepResult:
    """A finished sweep: its folder, points and their outcomes."""

    folder: Path
    points: list[Point]
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def computed(self) -> int:
        return sum(not o.cached for o in self.outcomes.values())

    @property
    def cached(self) -> int:
        return sum(o.cached for o in self.outcomes.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, o in self.outcomes.items() if o.status != "ok"]

    def summary(self) -> str:
        return (f"sweep: {len(self.points)} points, {self.computed} computed, {self.cached} from the cache, "
                f"{len(self.failed)} failed, in {self.wall_s:.1f} s")


def _progress(total: int, desc: str, enabled: bool | None):
    """The sweep's progress bar: shown as ``lrlab run`` shows its line (:func:`lrlab.runs.progress_wanted`: on a
    terminal, not under CI, not with ``LRLAB_PROGRESS=0``; ``LRLAB_PROGRESS=1`` forces it)."""
    from tqdm.auto import tqdm

    from lrlab.runs import progress_wanted

    if enabled is None:
        enabled = progress_wanted()
    return tqdm(total=total, desc=desc, unit="point", disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def default_folder(chapter: str, scale: str, points: Sequence[Point], root: Path | None = None) -> Path:
    """``runs/sweeps/<chapter>-<scale>-<hash of the point keys>``: the same sweep lands in the same folder."""
    digest = sha256_hex("".join(p.key for p in points).encode())[:10]
    return (root or Path.cwd()) / "runs" / "sweeps" / f"{chapter}-{scale}-{digest}"


def _link(folder: Path, name: str, target: Path) -> None:
    runs = folder / "runs"
    runs.mkdir(exist_ok=True)
    link = runs / name
    tmp = runs / f".{name}.{uuid.uuid4().hex[:8]}"
    try:
        tmp.symlink_to(target, target_is_directory=True)
        tmp.replace(link)
    except OSError:  # a filesystem without links: copy the run folder instead
        tmp.unlink(missing_ok=True)
        copy = runs / f".{name}.{uuid.uuid4().hex[:8]}.copy"
        shutil.copytree(target, copy)
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        copy.rename(link)


def run_sweep(
    chapter: str,
    scale: str = "book",
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] = (0,),
    fixed: Mapping[str, Any] | None = None,
    folder: str | Path | None = None,
    cache: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: bool = False,
    scheduler_file: str | Path | None = None,
    retry_failed: bool = False,
    timeout: float | None = None,
    device: str | None = None,
    progress: bool | None = None,
    log=None,
    mutant: str | None = None,
) -> SweepResult:
    """Run every point of ``grid × seeds`` of ``chapter`` at ``scale`` (see the module docstring).

    ``mutant`` runs every point with that fault of the chapter applied (``lrlab audit``; part of each point's key).
    Everything is validated before anything runs (``ValueError`` naming the parameter and value). Returns the
    :class:`SweepResult`; the sweep folder holds ``sweep.json``, ``points.json`` and ``runs/<point>``.
    """
    start = time.perf_counter()
    if sum(bool(x) for x in (scheduler, scheduler_file, dask_local)) > 1:
        raise ValueError("give one of --scheduler ADDRESS, --scheduler-file PATH and --dask-local, not several")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers {workers!r} is not allowed: it must be an integer >= 1")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"--timeout {timeout!r} is not allowed: it must be a number of seconds > 0")
    if scheduler_file and not Path(scheduler_file).expanduser().is_file():
        raise ValueError(f"--scheduler-file {str(scheduler_file)!r} does not exist: start the scheduler first "
                         "(dask scheduler --scheduler-file PATH, or a dask-jobqueue cluster)")
    device = requested_device(device)
    if mutant:
        registry.get(chapter, mutant)  # an unknown mutant fails here, naming the known ones
    points = expand(chapter, scale, grid or {}, seeds, fixed)
    inputs = keys.key_inputs(chapter)
    details = keys.key_details(chapter)  # the versions and data checksums behind inputs["versions"], ["data"]
    for p in points:
        p.key = point_key(chapter, inputs, p.resolved, device, mutant)
    all_keys = [p.key for p in points]
    if len(set(all_keys)) != len(all_keys):
        dup = next(p for p in points if all_keys.count(p.key) > 1)
        raise ValueError(f"grid point {dup.name} resolves to the same parameters as another point: "
                         "a grid value equal to the preset is given twice")
    out = Path(folder) if folder else default_folder(chapter, scale, points)
    store = Cache(cache or default_cache())
    workers = workers or max(1, min(len(points), os.cpu_count() or 1))
    out.mkdir(parents=True, exist_ok=True)
    source = [str(p.relative_to(keys.lrlab_root().parent)) for p in source_files(chapter)]
    write_json(out / "sweep.json", {
        "format": FORMAT, "chapter": chapter, "scale": scale, "grid": dict(grid or {}), "seeds": list(seeds),
        "fixed": dict(fixed or {}), "device": device, "cache": str(store.root), "inputs": inputs,
        "source_files": source, "versions": details["versions"], "data": details["data"],
        "points": [p.as_json() for p in points],
    })
    names = {p.name for p in points}
    if (out / "runs").is_dir():
        for stale in (out / "runs").iterdir():
            if stale.name not in names and stale.is_symlink():
                stale.unlink()

    result = SweepResult(out, points)
    outcomes = result.outcomes
    previous: dict[str, str] = {}  # failed entries seen at the start: retried once, not if someone else did
    todo: deque[Point] = deque()
    say = log or (lambda msg: None)
    for p in points:
        try:
            entry = store.check(p.key)
        except CorruptEntryError as e:
            say(f"cache entry of {p.name} is damaged ({e}): recomputing it")
            entry = None
        if entry is not None and (entry.ok or not retry_failed):
            outcomes[p.name] = _from_entry(entry, cached=True)
            _link(out, p.name, entry.folder)
        else:
            if entry is not None:
                previous[p.key] = entry.run_id
            todo.append(p)

    def save_points() -> None:
        write_json(out / "points.json", {p.name: outcomes[p.name].as_json() if p.name in outcomes else
                                          {"status": "pending", "key": p.key} for p in points})

    save_points()
    bar = _progress(len(points), f"{chapter} ({scale})", progress)
    bar.update(len(outcomes))

    def tally() -> None:
        bar.set_postfix(cached=result.cached, computed=result.computed, failed=len(result.failed), refresh=True)

    tally()
    if not todo:
        bar.close()
        result.wall_s = time.perf_counter() - start
        return result

    argv = executors.point_command(chapter, scale)
    env = {**SINGLE_THREAD_ENV, DEVICE_ENV: device, MUTANT_ENV: mutant or ""}
    if scheduler or scheduler_file or dask_local:
        pool = executors.DaskPool(scheduler, workers, scheduler_file=scheduler_file)
    else:
        pool = executors.LocalPool(workers)
    say(f"running {len(todo)} of {len(points)} points on {pool.description}; cache {store.root}")
    running: dict[Any, tuple[Point, contextlib.ExitStack]] = {}
    try:
        while todo or running:
            waiting: list[Point] = []
            while todo and len(running) < pool.slots():
                p = todo.popleft()
                stack = contextlib.ExitStack()
                if not stack.enter_context(store.try_lock(p.key)):
                    stack.close()
                    waiting.append(p)  # another sweep is computing it: look again later
                    continue
                store.clean_tmp(p.key)
                try:
                    entry = store.check(p.key)
                except CorruptEntryError:
                    store.discard(p.key)
                    entry = None
                if entry is not None and (entry.ok or previous.get(p.key) != entry.run_id):
                    stack.close()  # finished meanwhile (by another sweep), or a failure not ours to retry
                    outcomes[p.name] = _from_entry(entry, cached=True)
                    _link(out, p.name, entry.folder)
                    tally()
                    bar.update(1)
                    save_points()
                    continue
                payload = {"chapter": chapter, "key": p.key, "argv": argv, "params": p.params, "seed": p.seed,
                           "env": env, "timeout": timeout, "inputs": inputs, "details": details}
                running[pool.submit(payload)] = (p, stack)
            todo.extend(waiting)
            if not running:
                time.sleep(0.25)
                continue
            for fut in pool.done(running, timeout=0.25):
                p, stack = running.pop(fut)
                with stack:
                    outcome = _finish(fut, p, store, chapter, scale, device, inputs, out)
                outcomes[p.name] = outcome
                if outcome.status != "ok":
                    bar.write(f"point {p.name} failed: {outcome.error}", file=sys.stderr)
                tally()
                bar.update(1)
                save_points()
    finally:
        for fut, (_p, stack) in running.items():
            with contextlib.suppress(Exception):
                fut.cancel()
            stack.close()
        pool.close()
        bar.close()
    result.wall_s = time.perf_counter() - start
    return result


def _from_entry(entry: Entry, cached: bool) -> Outcome:
    m = entry.manifest
    return Outcome("ok" if entry.ok else "failed", cached, m["key"], entry.error, m.get("point_s"), m.get("host", ""))


def _finish(fut, p: Point, store: Cache, chapter: str, scale: str, device: str, inputs: Mapping[str, str],
            out: Path) -> Outcome:
    """Store a finished point in the cache (lock held) and link it into the sweep folder."""
    try:
        res = fut.result()
    except Exception as e:  # the worker was lost, the task cancelled: not the chapter's fault, not cached
        return Outcome("failed", False, p.key, f"{e.__class__.__name__}: {e}".strip())
    if not res.get("cacheable", True):
        return Outcome("failed", False, p.key, res["error"], res.get("wall_s"), res.get("host", ""))
    files = dict(res["files"])
    error = res.get("error", "")
    status = executors.read_status(files)
    if error and not status.get("error"):  # the run died before writing its status: record why
        status = {"ok": False, "error": error, "wall_s": status.get("wall_s")}
        if res.get("stderr"):
            files["stderr.txt"] = res["stderr"].encode()
        files["status.json"] = (json.dumps(status, indent=2) + "\n").encode()
    if "params.json" not in files:
        files["params.json"] = (json.dumps({"chapter": chapter, "scale": scale, "given": p.params,
                                            "resolved": p.resolved}, indent=2) + "\n").encode()
    meta = {"chapter": chapter, "scale": scale, "params": p.resolved, "seed": p.seed, "device": device,
            "inputs": dict(inputs), "ok": not error, "error": error, "run_wall_s": status.get("wall_s"),
            "point_s": round(res.get("wall_s", 0.0), 3), "host": res.get("host", ""),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "run_id": uuid.uuid4().hex}
    entry = store.commit(p.key, files, meta)
    _link(out, p.name, entry.folder)
    return Outcome("ok" if not error else "failed", False, p.key, error, res.get("wall_s"), res.get("host", ""))
