"""``lrlab run``: execute a chapter with papermill into a run folder that keeps what it produced.

A run folder holds the executed notebook ``<chapter>.ipynb``, ``params.json`` (the overrides given and the
resolved configuration), ``claims.json`` and ``provenance.json`` (written by the chapter itself, which finds the
folder through ``$LRLAB_RUN_DIR``), and ``status.json`` (ok / failed, wall time, the error if any). Parameters are
validated by the chapter's :class:`~lrlab.config.Spec` before a kernel starts, so a typo fails in seconds.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def run_chapter(
    chapter: str,
    scale: str = "book",
    params: Mapping[str, Any] | None = None,
    folder: str | Path | None = None,
    notebook: str | Path | None = None,
    log_output: bool = False,
) -> RunRecord:
    """Execute ``chapter`` at ``scale`` with ``params`` into ``folder`` and return its :class:`RunRecord`.

    The parameters are validated first (``ValueError`` before any kernel starts). The kernel runs with one
    thread per library (:data:`lrlab.runtime.SINGLE_THREAD_ENV`) and its working folder in the run folder.
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
    saved = {k: os.environ.get(k) for k in (RUN_DIR_ENV, *SINGLE_THREAD_ENV)}
    # one thread per library, unless the user asked this lone run for more torch threads ($LRLAB_THREADS)
    threads = {THREADS_ENV: os.environ[THREADS_ENV]} if os.environ.get(THREADS_ENV) else {}
    os.environ.update({RUN_DIR_ENV: str(out.resolve()), **SINGLE_THREAD_ENV, **threads})
    start = time.perf_counter()
    error = ""
    try:
        pm.execute_notebook(
            str(source), str(out / f"{chapter}.ipynb"), parameters=inject, kernel_name="python3",
            cwd=str(source.parent), progress_bar=False, log_output=log_output,
        )
    except pm.PapermillExecutionError as e:
        error = f"{e.ename}: {e.evalue} (cell {e.exec_count})"
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    wall = time.perf_counter() - start
    found = claims_mod.load(out / "claims.json") if (out / "claims.json").is_file() else []
    write_json(out / "status.json", {"ok": not error, "error": error, "wall_s": round(wall, 2)})
    return RunRecord(out, not error, found, wall, error)


def show(folder: str | Path) -> str:
    """A run folder's parameters, status and scorecard as text (``lrlab show``)."""
    folder = Path(folder)
    if not (folder / "params.json").is_file():
        raise ValueError(f"{str(folder)!r} is not a run folder (no params.json)")
    params = json.loads((folder / "params.json").read_text())
    status = json.loads((folder / "status.json").read_text()) if (folder / "status.json").is_file() else {}
    lines = [
        f"{params['chapter']} at scale {params['scale']}: "
        + ("ok" if status.get("ok") else f"FAILED {status.get('error', 'unfinished')}")
        + (f" in {status['wall_s']:.1f} s" if "wall_s" in status else ""),
        "parameters: " + ", ".join(f"{k}={v}" for k, v in params["resolved"].items()),
    ]
    if (folder / "claims.json").is_file():
        card = claims_mod.Scorecard(params["chapter"], params["scale"], claims_mod.load(folder / "claims.json"))
        lines.append(card.summary())
    return "\n".join(lines)
