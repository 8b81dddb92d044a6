"""``lrlab sweep``: a grid of chapter runs, cached by content, resumable, on local processes or a Dask cluster.

Every point of a sweep is one chapter run exactly as ``lrlab run`` makes it (a ``lrlab run`` process per point,
one thread per library), so any point can be opened and read like a single run. Points are stored in a
**content-addressed cache**: the key of a point is the SHA-256 of

- the chapter's notebook (its bytes),
- the ``lrlab`` source the chapter depends on: the modules its study module, its notebook and ``lrlab.runs``
  import, followed transitively through static imports (other chapters' study modules and the sweep tooling are
  not part of it, so editing them recomputes nothing),
- the locked requirements (``requirements.txt``),
- the resolved parameters (the chapter's :class:`~lrlab.config.Config`, which holds the scale and the seed),
- the device class (``cpu`` or ``cuda``, from ``--device`` or ``$LRLAB_DEVICE``).

A sweep run twice recomputes nothing; a changed parameter recomputes only its points; a changed notebook,
library module or requirement recomputes what depends on it.

Nothing is lost. A point's folder is written into a private temporary folder of the cache and renamed into place
with its manifest (``entry.json``: the key, its inputs, the outcome, the SHA-256 and size of every file), so an
entry is either complete or absent; killing a sweep (even with SIGKILL) and starting it again resumes it with
every finished point kept. An entry whose files no longer match the manifest is detected, removed and
recomputed. Sweeps sharing one cache take a lock file per point (``flock``, released by the kernel when a process
dies), so two sweeps never compute or write the same point at once: the second waits and then reads the first's
result. A point whose notebook fails is recorded, with its error, and does not stop the others;
``--retry-failed`` reruns only those.

Points run in a local pool of ``--workers`` processes by default, on a Dask cluster when ``--scheduler ADDRESS``
is given (``dask.distributed``; a worker runs the point in its own scratch folder and sends the files back, so no
shared filesystem is needed), or on a ``LocalCluster`` started for the sweep with ``--dask-local``.

A sweep folder (``-o DIR``) holds ``sweep.json`` (the definition and every point's key), ``points.json`` (each
point's outcome, updated as points finish) and ``runs/<point>``, a link to the point's run folder in the cache.
``lrlab report DIR`` (:mod:`lrlab.report`) turns it into one tidy table and a summary figure.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lrlab.runs import parse_assignments as _parse_assignments
from lrlab.runs import read_value
from lrlab.runtime import write_json

FORMAT = 1
CACHE_ENV = "LRLAB_CACHE"
ENTRY = "entry.json"
WORKER_ENV = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "LRLAB_THREADS": "1",
    "LRLAB_PROGRESS": "0", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
"""The environment of every point: one thread per library (workers run side by side), no progress bars."""
REQUIRED_FILES = ("params.json", "status.json")
"""Files every cache entry holds; a finished (ok) entry also holds ``claims.json`` and the notebook."""


# ---- reading the command line ------------------------------------------------------------------------------


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``-p NAME=VALUE`` overrides shared by every point (as ``lrlab run -p``)."""
    return _parse_assignments(items)


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["lr=0.1,0.01", "optimizer=sgd,adam"]`` → ``{"lr": [0.1, 0.01], "optimizer": ["sgd", "adam"]}``.

    The values after ``=`` are read as one YAML list, so a point of a list parameter is written in brackets
    (``lrs=[0.1,0.01],[0.001]``); a single number for a list parameter means a list of one (see :func:`expand`).
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise ValueError(f"--grid {item!r} is not allowed: it must be NAME=V1,V2,..., e.g. --grid epochs=10,20")
        if name in ("seed", "seeds"):
            raise ValueError(f"--grid {item!r} is not allowed: give the seeds with --seeds, e.g. --seeds 0-4")
        if name == "scale":
            raise ValueError(f"--grid {item!r} is not allowed: a sweep runs one scale, given with --scale")
        if name in grid:
            raise ValueError(f"--grid {name!r} is given twice: give all its values in one --grid {name}=V1,V2")
        values = read_value(f"[{raw}]", f"--grid {item!r}")
        if not isinstance(values, list) or not values or any(v is None for v in values):
            raise ValueError(f"--grid {item!r} is not allowed: it must be NAME=V1,V2,... with no empty value")
        grid[name] = values
    return grid


def parse_seeds(text: str | Sequence[int] | None) -> list[int]:
    """``"0-4"`` → ``[0, 1, 2, 3, 4]``; ``"0,3,7"`` → ``[0, 3, 7]``; ranges and lists mix (``"0-2,10"``)."""
    if text is None:
        return [0]
    if not isinstance(text, str):
        return [int(s) for s in text]
    seeds: list[int] = []
    bad = ValueError(f"--seeds {text!r} is not allowed: it must be seeds >= 0 like 0-4 or 0,3,7")
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise bad
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise bad
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} is not allowed: a seed is given twice")
    return seeds


# ---- the points of a sweep ---------------------------------------------------------------------------------


@dataclass
class Point:
    """One chapter run of a sweep: its overrides (grid values and ``-p``), seed, resolved parameters and key."""

    index: int
    name: str
    params: dict[str, Any]
    seed: int
    swept: dict[str, Any]
    resolved: dict[str, Any]
    key: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, "swept": self.swept, "params": self.params,
                "resolved": self.resolved, "key": self.key}


def _slug(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(_slug(v) for v in value)
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text)


def expand(chapter: str, scale: str, grid: Mapping[str, Sequence[Any]], seeds: Sequence[int],
           fixed: Mapping[str, Any] | None = None) -> list[Point]:
    """Every point of ``grid × seeds`` with the ``fixed`` overrides, each validated by the chapter's Spec.

    Raises ``ValueError`` naming the parameter and value (and the grid point) before anything runs. A list
    parameter (kind ``floats``/``ints``) given a single number in the grid runs with a list of that one value.
    """
    from lrlab import runs, studies

    spec = studies.load(chapter).SPEC
    fixed = dict(fixed or {})
    for name in ("seed", "scale"):
        if name in fixed:
            raise ValueError(f"-p {name}=… is not allowed in a sweep: give " +
                             ("the seeds with --seeds" if name == "seed" else "the scale with --scale"))
    for name in (*grid, *fixed):
        spec.param(name)  # an unknown name fails here, naming it
    both = sorted(set(grid) & set(fixed))
    if both:
        raise ValueError(f"parameter {both[0]!r} is given both with --grid and -p: give it once")
    if not seeds:
        raise ValueError("--seeds is empty: give at least one seed")
    spec.resolve(scale=scale)  # a bad scale fails here, naming it
    listy = {p.name for p in spec.params if p.kind in ("floats", "ints")}
    names = list(grid)
    combos = list(itertools.product(*(grid[n] for n in names))) if names else [()]
    points: list[Point] = []
    seen: set[str] = set()
    for combo in combos:
        swept = {n: ([v] if n in listy and not isinstance(v, (list, tuple)) else v) for n, v in zip(names, combo)}
        for seed in seeds:
            params = {**fixed, **swept}
            where = ", ".join(f"{n}={v}" for n, v in swept.items()) or "the chapter"
            try:
                cfg = runs.resolve(chapter, scale, {**params, "seed": seed})
            except ValueError as e:
                raise ValueError(f"{e} (grid point {where}, seed {seed})") from None
            index = len(points)
            label = "-".join(f"{n}={_slug(v)}" for n, v in swept.items())
            name = f"{index:03d}-{label + '-' if label else ''}seed{seed}"
            if name in seen:
                raise ValueError(f"grid point {where}, seed {seed} is given twice")
            seen.add(name)
            points.append(Point(index, name, params, seed, swept, cfg.as_dict()))
    return points


# ---- the key: what a run's result depends on ---------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lrlab_root() -> Path:
    import lrlab

    return Path(lrlab.__file__).resolve().parent


def _module_files(root: Path) -> dict[str, Path]:
    """``lrlab.probes.neurons`` → its file, for every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules (and module attributes) a syntax tree imports, anywhere in it."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _notebook_code(path: Path) -> str:
    nb = json.loads(path.read_bytes())
    lines = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = "".join(cell.get("source", []))
            lines += [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


_AST_LOCK = threading.Lock()
"""``ast.parse`` from two threads at once can raise a spurious ``SystemError: AST constructor recursion depth
mismatch`` on CPython 3.11 before 3.11.8 (python/cpython#106905); a local sweep hashes sources from its worker
threads, so every parse here takes this lock."""


def _parse(source: str | bytes, filename: str = "<unknown>") -> ast.AST:
    with _AST_LOCK:
        return ast.parse(source, filename=filename)


def source_files(chapter: str) -> list[Path]:
    """The ``lrlab`` files a chapter's runs depend on: the static-import closure of its study module, its
    notebook's imports and ``lrlab.runs``, with their parent packages. The whole package if a file does not parse.
    """
    from lrlab import studies

    root = _lrlab_root()
    modules = _module_files(root)
    todo = [studies.CHAPTERS[chapter], "lrlab.runs", "lrlab"]
    try:
        nb_tree = _parse(_notebook_code(studies.notebook(chapter)))
        todo += sorted(m for m in _imported(nb_tree, "__notebook__", False) if m in modules)
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in modules:
                continue
            seen.add(name)
            parts = name.split(".")
            todo += [".".join(parts[:i]) for i in range(1, len(parts))]
            path = modules[name]
            tree = _parse(path.read_bytes(), filename=str(path))
            todo += [m for m in _imported(tree, name, path.name == "__init__.py") if m in modules]
    except (SyntaxError, ValueError, json.JSONDecodeError):
        return sorted(modules.values())
    return sorted(modules[n] for n in seen)


def source_hash(chapter: str) -> str:
    """SHA-256 over the relative path and bytes of every file of :func:`source_files`."""
    root = _lrlab_root().parent
    h = hashlib.sha256()
    for path in source_files(chapter):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + _sha256(path.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def notebook_hash(chapter: str) -> str:
    """SHA-256 of the chapter notebook's bytes."""
    from lrlab import studies

    return _sha256(studies.notebook(chapter).read_bytes())


def requirements_hash() -> str:
    """SHA-256 of the book's ``requirements.txt``; of the installed distributions' versions outside a checkout."""
    from lrlab import studies

    root = studies.book_root()
    if root is not None and (root / "requirements.txt").is_file():
        return _sha256((root / "requirements.txt").read_bytes())
    from importlib import metadata

    dists = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions())
    return _sha256("\n".join(dists).encode())


def device_class(device: str | None = None) -> str:
    """``cpu`` or ``cuda``: ``device``, else ``$LRLAB_DEVICE``, else ``cpu``."""
    want = (device or os.environ.get("LRLAB_DEVICE") or "cpu").lower()
    if want not in ("cpu", "cuda"):
        raise ValueError(f"device = {want!r} is not allowed: it must be 'cpu' or 'cuda'")
    return want


def key_inputs(chapter: str) -> dict[str, str]:
    """The hashed inputs every point of ``chapter`` shares: notebook, lrlab source, requirements."""
    return {"notebook": notebook_hash(chapter), "source": source_hash(chapter), "requirements": requirements_hash()}


def point_key(chapter: str, inputs: Mapping[str, str], resolved: Mapping[str, Any], device: str) -> str:
    """The cache key of one run: SHA-256 of the chapter, its inputs, the resolved parameters and the device."""
    blob = json.dumps({"format": FORMAT, "chapter": chapter, "inputs": dict(inputs), "device": device,
                       "params": dict(resolved)}, sort_keys=True, separators=(",", ":"), default=str)
    return _sha256(blob.encode())


# ---- the cache -----------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """A cache entry that passed its checks: its folder and manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.manifest.get("ok"))

    @property
    def error(self) -> str:
        return str(self.manifest.get("error", ""))

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))


class CorruptEntryError(Exception):
    """A cache entry whose files do not match its manifest."""


class Cache:
    """A folder of run folders keyed by content: ``objects/<k[:2]>/<key>/`` with ``entry.json`` inside.

    ``locks/<key>.lock`` serialise work on a key across processes and machines sharing the folder (``flock``);
    ``tmp/`` holds entries being written, renamed into ``objects/`` when complete.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        for sub in ("objects", "locks", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def folder(self, key: str) -> Path:
        return self.root / "objects" / key[:2] / key

    def check(self, key: str) -> Entry | None:
        """The entry of ``key`` if present and intact; ``None`` if absent; ``CorruptEntryError`` if damaged."""
        folder = self.folder(key)
        if not folder.is_dir():
            return None
        try:
            manifest = json.loads((folder / ENTRY).read_bytes())
        except FileNotFoundError:
            raise CorruptEntryError("no manifest entry.json") from None
        except (OSError, ValueError) as e:
            raise CorruptEntryError(f"unreadable manifest ({e.__class__.__name__})") from None
        if not isinstance(manifest, dict) or manifest.get("key") != key or not isinstance(manifest.get("files"), dict):
            raise CorruptEntryError("manifest does not belong to this key")
        files = manifest["files"]
        missing = [f for f in REQUIRED_FILES if f not in files]
        if missing:
            raise CorruptEntryError(f"manifest lists no {missing[0]}")
        for name, meta in files.items():
            path = folder / name
            try:
                data = path.read_bytes()
            except OSError:
                raise CorruptEntryError(f"{name} is missing") from None
            if len(data) != meta.get("size") or _sha256(data) != meta.get("sha256"):
                raise CorruptEntryError(f"{name} does not match its checksum")
        return Entry(folder, manifest)

    def lookup(self, key: str) -> Entry | None:
        """:meth:`check`, with a damaged entry reported as absent."""
        try:
            return self.check(key)
        except CorruptEntryError:
            return None

    @contextlib.contextmanager
    def try_lock(self, key: str):
        """Yield True holding the key's lock, or False at once when another process holds it."""
        fd = os.open(self.root / "locks" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            os.ftruncate(fd, 0)
            os.write(fd, f"{socket.gethostname()} {os.getpid()} {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def discard(self, key: str) -> None:
        """Remove the entry of ``key`` (call with its lock held): renamed away first, so it vanishes at once."""
        folder = self.folder(key)
        if folder.exists():
            trash = self.root / "tmp" / f"{key}.trash.{uuid.uuid4().hex[:8]}"
            folder.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)

    def clean_tmp(self, key: str) -> None:
        """Remove what a killed writer of ``key`` left in ``tmp/`` (call with its lock held)."""
        for stale in (self.root / "tmp").glob(f"{key}.*"):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)

    def commit(self, key: str, files: Mapping[str, bytes], meta: Mapping[str, Any]) -> Entry:
        """Write ``files`` and the manifest into ``tmp/``, then rename the folder into place (lock held)."""
        tmp = self.root / "tmp" / f"{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        listing = {}
        for name, data in sorted(files.items()):
            path = tmp / name
            if path.resolve().parent != tmp.resolve() and tmp.resolve() not in path.resolve().parents:
                raise ValueError(f"file name {name!r} leaves the entry folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            listing[name] = {"sha256": _sha256(data), "size": len(data)}
        manifest = {**meta, "format": FORMAT, "key": key, "files": listing}
        (tmp / ENTRY).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        final = self.folder(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.discard(key)
        tmp.rename(final)
        return Entry(final, manifest)


def default_cache() -> Path:
    """``$LRLAB_CACHE``, else ``runs/cache`` under the current folder."""
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / "runs" / "cache")


# ---- running one point (on a worker) ---------------------------------------------------------------------


def point_command(chapter: str, scale: str) -> list[str]:
    """The command a worker runs for a point: ``lrlab run`` with placeholders ``{python}``, ``{params}``
    (a JSON file of the point's overrides and seed) and ``{out}`` (the run folder) filled in on the worker."""
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
    here = key_inputs(payload["chapter"])
    differ = [k for k, v in payload["inputs"].items() if here.get(k) != v]
    if differ:
        return {"rc": None, "files": {}, "wall_s": time.perf_counter() - start, "host": host, "cacheable": False,
                "error": f"the worker's {' and '.join(differ)} hash differently from the coordinator's (host {host}): "
                         "every worker needs the same checkout and requirements"}
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
    status = _status_of(files)
    if not error and rc != 0:
        error = status.get("error") or _last_error(tail) or f"the run exited with code {rc}"
    if not error and not status.get("ok"):
        error = status.get("error") or "the run left no status.json"
    return {"rc": rc, "files": files, "error": error, "stderr": tail if error else "",
            "wall_s": time.perf_counter() - start, "host": host, "cacheable": True}


def _status_of(files: Mapping[str, bytes]) -> dict[str, Any]:
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


# ---- executors ------------------------------------------------------------------------------------------------


class _LocalPool:
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


class _DaskPool:
    """Points as tasks of a ``dask.distributed`` cluster: at ``address``, or a ``LocalCluster`` of ``workers``."""

    def __init__(self, address: str | None, workers: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("--scheduler/--dask-local need dask.distributed: pip install 'dask[distributed]'") \
                from None
        self.cluster = None
        if address:
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
        futures = list(futures)
        deadline = time.monotonic() + timeout
        while True:
            ready = [f for f in futures if f.done()]
            if ready or time.monotonic() >= deadline:
                return ready
            time.sleep(0.05)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ---- the sweep ----------------------------------------------------------------------------------------------


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
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = os.environ.get("LRLAB_PROGRESS", "1") not in ("0", "false", "no")
    return tqdm(total=total, desc=desc, unit="point", disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def default_folder(chapter: str, scale: str, points: Sequence[Point], root: Path | None = None) -> Path:
    """``runs/sweeps/<chapter>-<scale>-<hash of the point keys>``: the same sweep lands in the same folder."""
    digest = _sha256("".join(p.key for p in points).encode())[:10]
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
    retry_failed: bool = False,
    timeout: float | None = None,
    device: str | None = None,
    progress: bool | None = None,
    log=None,
) -> SweepResult:
    """Run every point of ``grid × seeds`` of ``chapter`` at ``scale`` (see the module docstring).

    Everything is validated before anything runs (``ValueError`` naming the parameter and value). Returns the
    :class:`SweepResult`; the sweep folder holds ``sweep.json``, ``points.json`` and ``runs/<point>``.
    """
    start = time.perf_counter()
    if scheduler and dask_local:
        raise ValueError("give either --scheduler ADDRESS or --dask-local, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers {workers!r} is not allowed: it must be an integer >= 1")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"--timeout {timeout!r} is not allowed: it must be a number of seconds > 0")
    device = device_class(device)
    points = expand(chapter, scale, grid or {}, seeds, fixed)
    inputs = key_inputs(chapter)
    for p in points:
        p.key = point_key(chapter, inputs, p.resolved, device)
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        dup = next(p for p in points if keys.count(p.key) > 1)
        raise ValueError(f"grid point {dup.name} resolves to the same parameters as another point: "
                         "a grid value equal to the preset is given twice")
    out = Path(folder) if folder else default_folder(chapter, scale, points)
    store = Cache(cache or default_cache())
    workers = workers or max(1, min(len(points), os.cpu_count() or 1))
    out.mkdir(parents=True, exist_ok=True)
    source = [str(p.relative_to(_lrlab_root().parent)) for p in source_files(chapter)]
    write_json(out / "sweep.json", {
        "format": FORMAT, "chapter": chapter, "scale": scale, "grid": dict(grid or {}), "seeds": list(seeds),
        "fixed": dict(fixed or {}), "device": device, "cache": str(store.root), "inputs": inputs,
        "source_files": source, "points": [p.as_json() for p in points],
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

    argv = point_command(chapter, scale)
    env = {**WORKER_ENV, "LRLAB_DEVICE": device}
    pool = _DaskPool(scheduler, workers) if (scheduler or dask_local) else _LocalPool(workers)
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
                           "env": env, "timeout": timeout, "inputs": inputs}
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
    status = _status_of(files)
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
