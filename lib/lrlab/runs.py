"""``lrlab run``: execute a chapter with papermill into a run folder that keeps what it produced.

A run folder holds the executed notebook ``<chapter>.ipynb``, ``params.json`` (the overrides given and the
resolved configuration), ``claims.json`` and ``provenance.json`` (written by the chapter itself, which finds the
folder through ``$LRLAB_RUN_DIR``), and ``status.json`` (``status``: ok / failed / interrupted, wall time, the
error if any). Parameters are validated by the chapter's :class:`~lrlab.config.Spec` before a kernel starts, so a
typo fails in seconds.

On a terminal a run shows one updating line on stderr (:class:`lrlab.runs.Progress`: cells done of the total, elapsed
time, the section being run), fed by nbclient's cell hooks; it stays quiet when stderr is not a terminal, ``$CI`` is set
or ``LRLAB_PROGRESS=0``. Ctrl-C stops the kernel, marks ``status.json`` ``interrupted`` (the executed notebook keeps
the cells that finished) and raises :class:`lrlab.runs.RunInterrupted`, which ``lrlab run`` reports in one line (exit
130).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from lrlab import claims as claims_mod
from lrlab import studies
from lrlab.config import Config
from lrlab.runtime import RUN_DIR_ENV, SINGLE_THREAD_ENV, THREADS_ENV, write_json


class _Loader(yaml.SafeLoader):
    """YAML as ``-p`` reads it, but ``1e-3`` is a number (PyYAML's YAML 1.1 floats need a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                   |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def read_value(raw: str, what: str) -> Any:
    """A command-line value read as YAML (``0.1``, ``1e-3``, ``[0.1,0.01]``, ``adam``, ``false``)."""
    try:
        return yaml.load(raw, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as e:
        raise ValueError(f"{what}: the value is not readable ({e.__class__.__name__})") from None


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["lrs=[0.1,0.01]", "epochs=50"]`` → ``{"lrs": [0.1, 0.01], "epochs": 50}`` (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"-p {item!r} is not allowed: it must be NAME=VALUE, e.g. -p epochs=50")
        out[name.strip()] = read_value(raw, f"-p {item!r}")
    return out


def load_params_file(path: str | Path) -> dict[str, Any]:
    """A YAML (or JSON) mapping of parameter names to values."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"params file {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"params file {str(path)!r} must hold a mapping NAME: VALUE, got {type(data).__name__}")
    return data


def resolve(chapter: str, scale: str = "book", params: Mapping[str, Any] | None = None) -> Config:
    """Validate ``params`` for ``chapter`` at ``scale`` (``ValueError`` naming what is wrong)."""
    module = studies.load(chapter)
    params = dict(params or {})
    if "scale" in params:
        raise ValueError("give the scale with --scale, not as a parameter")
    seed = params.pop("seed", 0)
    return module.SPEC.resolve(scale=scale, seed=seed, **params)


def default_folder(chapter: str, scale: str, root: Path | None = None) -> Path:
    """``runs/<chapter>/<YYYYmmdd-HHMMSS>-<scale>`` under ``root`` (the current folder by default)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = (root or Path.cwd()) / "runs" / chapter
    folder = base / f"{stamp}-{scale}"
    n = 1
    while folder.exists():
        n += 1
        folder = base / f"{stamp}-{scale}-{n}"
    return folder


PROGRESS_ENV = "LRLAB_PROGRESS"
_OFF = ("0", "false", "no", "off")


def progress_wanted(stream: Any = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a run shows its progress line: only on a terminal, not under CI, not with ``LRLAB_PROGRESS=0``.

    ``LRLAB_PROGRESS=1`` shows it even when ``stream`` (stderr by default) is not a terminal.
    """
    env = os.environ if environ is None else environ
    setting = env.get(PROGRESS_ENV, "").strip().lower()
    if setting in _OFF:
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    if env.get("CI", "").strip().lower() not in ("", *_OFF):
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def _heading(markdown: str) -> str | None:
    """The last heading of a markdown cell, as plain text (``## The *sphere* `rho` `` → ``The sphere rho``)."""
    found = _HEADING.findall(markdown)
    if not found:
        return None
    text = re.sub(r"\{[a-z:]+\}`([^`<]*)(?:<[^>]*>)?`", r"\1", found[-1][1])  # {term}`x <y>` → x
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](link) → text
    return " ".join(re.sub(r"[`*$]", "", text).split()) or None  # no code, emphasis or math marks; names keep _


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """One line on ``stream`` (stderr), rewritten in place: ``fluctuations  12/40 cells  1:23  § Section``.

    Fed by nbclient's hooks (:meth:`hooks`): ``on_notebook_start`` counts the code cells, ``on_cell_start`` sees
    every cell (markdown too, for the section), ``on_cell_executed`` counts a finished code cell. A thread redraws
    the line every second so the elapsed time moves during a long cell. :meth:`close` erases the line.
    """

    def __init__(self, chapter: str, stream: Any = None, interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.chapter = chapter
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.start = clock()
        self.done, self.total, self.section = 0, 0, "starting the kernel"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._shown = False
        self.draw()
        self._ticker = threading.Thread(target=self._tick, args=(interval,), daemon=True, name="lrlab-progress")
        self._ticker.start()

    def hooks(self) -> dict[str, Callable[..., None]]:
        """nbclient's ``NotebookClient`` hooks, passed through papermill's engine keyword arguments."""
        return {"on_notebook_start": self.notebook_start, "on_cell_start": self.cell_start,
                "on_cell_executed": self.cell_executed}

    def notebook_start(self, notebook=None, **_: Any) -> None:
        cells = (notebook or {}).get("cells", [])
        with self._lock:
            self.total = sum(c.get("cell_type") == "code" and bool("".join(c.get("source", "")).strip())
                             for c in cells)
            self.section = ""
        self.draw()

    def cell_start(self, cell=None, cell_index=None, **_: Any) -> None:
        if cell is not None and cell.get("cell_type") == "markdown":
            heading = _heading("".join(cell.get("source", "")))
            if heading:
                with self._lock:
                    self.section = heading
                self.draw()

    def cell_executed(self, cell=None, cell_index=None, execute_reply=None, **_: Any) -> None:
        with self._lock:
            self.done += 1
        self.draw()

    def line(self) -> str:
        with self._lock:
            count = f"{self.done}/{self.total} cells" if self.total else "…"
            parts = [self.chapter, count, _clock(self.clock() - self.start)]
            if self.section:
                parts.append(f"§ {self.section}")
        return "  ".join(parts)

    def draw(self) -> None:
        if self._stop.is_set():
            return
        width = shutil.get_terminal_size((100, 24)).columns - 1
        text = self.line()
        if len(text) > width:
            text = text[: max(width - 1, 0)] + "…"
        with self._lock, contextlib.suppress(OSError, ValueError):
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
            self._shown = True

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.draw()

    def close(self) -> None:
        """Stop redrawing and erase the line (what is printed next starts at the left margin)."""
        self._stop.set()
        self._ticker.join(timeout=2)
        with self._lock, contextlib.suppress(OSError, ValueError):
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()


@dataclass
class RunRecord:
    """What a run left: its folder, whether the notebook ran through, its claims."""

    folder: Path
    ok: bool
    claims: list[claims_mod.Claim]
    wall_s: float
    error: str = ""

    @property
    def strict_ok(self) -> bool:
        """True when the notebook ran and every claim expected at this scale is reproduced."""
        return self.ok and all(c.ok for c in self.claims)


class RunInterrupted(KeyboardInterrupt):
    """``lrlab run`` stopped by Ctrl-C (SIGINT): the run folder is marked ``interrupted``."""

    def __init__(self, folder: Path, wall_s: float):
        super().__init__(f"interrupted after {wall_s:.1f} s: {folder} keeps the cells that finished "
                         "(status.json says interrupted)")
        self.folder = folder
        self.wall_s = wall_s


def execute(source: Path, output: Path, parameters: Mapping[str, Any], cwd: Path, log_output: bool = False,
            hooks: Mapping[str, Callable[..., Any]] | None = None) -> None:
    """Run the notebook ``source`` into ``output`` with papermill (the one place a kernel is started).

    ``hooks`` are nbclient's ``on_notebook_start`` / ``on_cell_start`` / ``on_cell_executed`` callbacks; papermill
    hands its extra keyword arguments to the engine, which gives them to the notebook client.
    """
    import papermill as pm

    with open(output.parent / "kernel.log", "ab") as log:
        pm.execute_notebook(str(source), str(output), parameters=dict(parameters), kernel_name="python3",
                            cwd=str(cwd), progress_bar=False, log_output=log_output,
                            kernel_manager_class=_kernel_manager(log), **dict(hooks or {}))


def _kernel_manager(log: BinaryIO) -> type:
    """nbclient's kernel manager, with the kernel process's own stderr sent to ``log`` (the run folder's
    ``kernel.log``): what the kernel says about itself (transport warnings, a reply it could not send because
    Ctrl-C closed its sockets) is not the reader's output, which reaches the notebook through the kernel's
    messages either way."""
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw.setdefault("stderr", log)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


@contextlib.contextmanager
def _one_interrupt():
    """The first Ctrl-C stops the run (KeyboardInterrupt); more are ignored until the run folder is marked, so
    an impatient second Ctrl-C cannot cut the clean-up short. Only in the main thread (elsewhere: no change)."""
    def first(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_chapter(
    chapter: str,
    scale: str = "book",
    params: Mapping[str, Any] | None = None,
    folder: str | Path | None = None,
    notebook: str | Path | None = None,
    log_output: bool = False,
    progress: bool | None = None,
) -> RunRecord:
    """Execute ``chapter`` at ``scale`` with ``params`` into ``folder`` and return its :class:`RunRecord`.

    The parameters are validated first (``ValueError`` before any kernel starts). The kernel runs with one
    thread per library (:data:`lrlab.runtime.SINGLE_THREAD_ENV`) and its working folder in the run folder.
    ``progress`` shows the progress line (default: :func:`~lrlab.runs.progress_wanted`; never with ``log_output``).
    Ctrl-C
    marks ``status.json`` ``interrupted`` and raises :class:`lrlab.runs.RunInterrupted`.
    """
    import papermill as pm

    cfg = resolve(chapter, scale, params)
    source = Path(notebook) if notebook else studies.notebook(chapter)
    out = Path(folder) if folder else default_folder(chapter, scale)
    out.mkdir(parents=True, exist_ok=True)
    given = dict(params or {})
    write_json(out / "params.json", {"chapter": chapter, "scale": scale, "given": given, "resolved": cfg.as_dict()})
    for stale in ("claims.json", "provenance.json", "status.json"):
        (out / stale).unlink(missing_ok=True)
    inject = {"scale": scale, **{k: list(v) if isinstance(v, tuple) else v for k, v in given.items()}}
    if progress is None:
        progress = progress_wanted() and not log_output  # asked before the environment below turns it off
    saved = {k: os.environ.get(k) for k in (RUN_DIR_ENV, *SINGLE_THREAD_ENV)}
    # one thread per library, unless the user asked this lone run for more torch threads ($LRLAB_THREADS)
    threads = {THREADS_ENV: os.environ[THREADS_ENV]} if os.environ.get(THREADS_ENV) else {}
    start = time.perf_counter()
    error, interrupted = "", False
    bar = Progress(chapter) if progress else None
    with _one_interrupt():
        try:
            os.environ.update({RUN_DIR_ENV: str(out.resolve()), **SINGLE_THREAD_ENV, **threads})
            execute(source, out / f"{chapter}.ipynb", inject, source.parent, log_output, bar.hooks() if bar else None)
        except pm.PapermillExecutionError as e:
            if e.ename == "KeyboardInterrupt":  # the kernel itself was interrupted
                interrupted = True
            error = f"{e.ename}: {e.evalue} (cell {e.exec_count})"
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if bar is not None:
                bar.close()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        wall = time.perf_counter() - start
        if interrupted:
            write_json(out / "status.json", {"ok": False, "status": "interrupted",
                                             "error": "KeyboardInterrupt: interrupted by the user",
                                             "wall_s": round(wall, 2)})
            raise RunInterrupted(out, wall)
    found = claims_mod.load(out / "claims.json") if (out / "claims.json").is_file() else []
    write_json(out / "status.json", {"ok": not error, "status": "failed" if error else "ok", "error": error,
                                     "wall_s": round(wall, 2)})
    return RunRecord(out, not error, found, wall, error)


def show(folder: str | Path) -> str:
    """A run folder's parameters, status and scorecard as text (``lrlab show``)."""
    folder = Path(folder)
    if not (folder / "params.json").is_file():
        raise ValueError(f"{str(folder)!r} is not a run folder (no params.json)")
    params = json.loads((folder / "params.json").read_text())
    status = json.loads((folder / "status.json").read_text()) if (folder / "status.json").is_file() else {}
    state = "ok" if status.get("ok") else status.get("status", "failed")
    lines = [
        f"{params['chapter']} at scale {params['scale']}: "
        + ("ok" if state == "ok" else "INTERRUPTED" if state == "interrupted"
           else f"FAILED {status.get('error', 'unfinished')}")
        + (f" in {status['wall_s']:.1f} s" if "wall_s" in status else ""),
        "parameters: " + ", ".join(f"{k}={v}" for k, v in params["resolved"].items()),
    ]
    if (folder / "claims.json").is_file():
        card = claims_mod.Scorecard(params["chapter"], params["scale"], claims_mod.load(folder / "claims.json"))
        lines.append(card.summary())
    return "\n".join(lines)
