"""``lrlab report SWEEP_DIR``: a sweep as one tidy table and one summary figure.

The table has a row per run (point of the sweep) and these columns, in order:

- ``point`` (the point's name in the sweep folder), ``status`` (``ok`` / ``failed`` / ``pending``), ``seed``;
- the swept parameters (a list parameter swept with one value per point is shown as that number), then every
  other resolved parameter of the chapter (lists as ``"0.01,0.001"``);
- ``runtime_s`` (the chapter's own wall time, from ``status.json``), ``point_s`` (the point's wall time on its
  worker, process and kernel start included), ``cached`` (taken from the cache in the last sweep), ``error``,
  ``key`` (the cache key), ``folder`` (the run folder);
- per claim ``C1.verdict`` and ``C1.value`` — a claim whose value is a dict or a list gets one column per leaf,
  ``C1.value.test_mse.0.01``, so every cell is a number, a boolean or a string.

It is written as ``sweep.csv`` and, where pyarrow is installed (``pip install 'lrlab[parquet]'``), ``sweep.parquet``,
with ``summary.png``: per claim, the fraction of seeds
reproduced against the first swept parameter, and each numeric claim value against it, mean over seeds with the
range of the seeds as a band and each seed as a dot (a second swept parameter, if any, is the colour).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

META = ("point", "status", "seed")
TAIL = ("runtime_s", "point_s", "cached", "error", "key", "folder")
MAX_PANELS = 12
MAX_LINES = 10


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _flatten(f"{prefix}.{i}", v, out)
    else:
        out[prefix] = value


def _cell(value: Any) -> Any:
    """A parameter as one cell: a list of one as its value, a longer list as ``"a,b"``."""
    if isinstance(value, (list, tuple)):
        return value[0] if len(value) == 1 else ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return value


def _tidy_column(col: pd.Series) -> pd.Series:
    """One type per column (for Parquet): bool, number (with ``"nan"``/``"inf"`` strings read back), or text."""
    present = [v for v in col if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return pd.to_numeric(col, errors="coerce") if col.dtype == object else col
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return col.astype("boolean")
    special = {"nan", "inf", "-inf", "infinity", "-infinity"}

    def number(v: Any) -> bool:
        return (isinstance(v, (int, float, np.number)) and not isinstance(v, bool)) or (
            isinstance(v, str) and v.lower() in special)

    if all(number(v) for v in present):
        return pd.to_numeric(col.map(lambda v: float(v) if isinstance(v, str) else v), errors="coerce")
    return col.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)).astype(
        "string")


def load_sweep(folder: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep folder; ``ValueError`` if ``folder`` is not one."""
    folder = Path(folder)
    sweep = _read(folder / "sweep.json")
    if not isinstance(sweep, dict) or "points" not in sweep:
        raise ValueError(f"{str(folder)!r} is not a sweep folder (no readable sweep.json)")
    return sweep


def table(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a sweep folder (see the module docstring for its columns)."""
    folder = Path(folder)
    sweep = load_sweep(folder)
    outcomes = _read(folder / "points.json") or {}
    swept = list(sweep.get("grid", {}))
    rows = []
    claim_ids: list[str] = []
    for point in sweep["points"]:
        name = point["name"]
        out = outcomes.get(name, {})
        run = folder / "runs" / name
        if not (run / "status.json").is_file() and sweep.get("cache"):
            key = point["key"]
            candidate = Path(sweep["cache"]) / "objects" / key[:2] / key
            run = candidate if (candidate / "status.json").is_file() else run
        status_json = _read(run / "status.json") or {}
        if status_json:
            status = "ok" if status_json.get("ok") else "failed"
        else:
            status = out.get("status", "pending")
        row: dict[str, Any] = {"point": name, "status": status, "seed": point["seed"]}
        resolved = point.get("resolved", {})
        for p in swept:
            row[p] = _cell(resolved.get(p, point.get("swept", {}).get(p)))
        for p, v in resolved.items():
            if p not in row and p not in ("scale", "seed"):
                row[p if p not in META + TAIL else f"param.{p}"] = _cell(v)
        row.update({
            "runtime_s": status_json.get("wall_s"), "point_s": out.get("wall_s"), "cached": out.get("cached"),
            "error": status_json.get("error") or out.get("error") or "", "key": point["key"],
            "folder": str(run.resolve()) if run.exists() else "",
        })
        claims = _read(run / "claims.json") if status_json else None
        for c in claims or []:
            cid = str(c.get("id"))
            if cid not in claim_ids:
                claim_ids.append(cid)
            row[f"{cid}.verdict"] = c.get("verdict")
            _flatten(f"{cid}.value", c.get("value"), row)
        rows.append(row)
    df = pd.DataFrame(rows)
    claim_cols = [c for cid in claim_ids for c in df.columns if c == f"{cid}.verdict"] + [
        c for cid in claim_ids for c in df.columns if c == f"{cid}.value" or c.startswith(f"{cid}.value.")]
    front = [c for c in df.columns if c not in claim_cols and c not in TAIL]
    df = df[front + list(TAIL) + claim_cols]
    for c in df.columns:
        if c not in ("point", "status", "error", "key", "folder"):
            df[c] = _tidy_column(df[c])
    df["seed"] = df["seed"].astype(int)
    return df


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _panels(df: pd.DataFrame, by_leaf: bool) -> list[tuple[str, list[str]]]:
    """``(title, columns)`` per panel: one per claim (its numeric leaves as lines), or one per leaf."""
    claims: dict[str, list[str]] = {}
    for c in df.columns:
        if ".value" in c and _numeric(df[c]) and df[c].notna().any():
            claims.setdefault(c.split(".value")[0], []).append(c)
    if by_leaf:
        return [(c, [c]) for cols in claims.values() for c in cols]
    return [(cid if len(cols) > 1 else cols[0], cols[:MAX_LINES]) for cid, cols in claims.items()]


def summary_figure(df: pd.DataFrame, swept: list[str]):
    """Claims against the first swept parameter: verdicts (fraction of seeds reproduced) and numeric values.

    Each value panel shows the mean over seeds (line), the range over seeds (band) and every seed (dots). Without
    a second swept parameter a claim gets one panel with a line per leaf of its value (``test_mse`` at each η);
    with one, every leaf gets its own panel and the second parameter is the colour.
    """
    from lrlab import plots

    plots.use_style()
    x = swept[0] if swept else "seed"
    hue = swept[1] if len(swept) > 1 else None
    ok = df[df["status"] == "ok"]
    verdicts = [c for c in df.columns if c.endswith(".verdict")]
    panels = ([("verdicts over seeds", verdicts)] if verdicts else []) + _panels(df, by_leaf=hue is not None)
    panels = panels[:MAX_PANELS]
    ncols = min(3, max(1, len(panels)))
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig, axes = plots.figure(ncols, nrows, height=2.4)
    axes = np.atleast_1d(axes).ravel()
    numeric_x = _numeric(df[x])
    order = sorted(df[x].dropna().unique()) if numeric_x else list(dict.fromkeys(df[x].dropna()))
    pos = (lambda s: s) if numeric_x else (lambda s: s.map({v: i for i, v in enumerate(order)}))
    logx = numeric_x and len(order) > 1 and min(order) > 0 and max(order) / min(order) >= 50

    def band(ax, frame: pd.DataFrame, column: str, colour, label: str | None) -> None:
        stats = frame.groupby(x)[column].agg(["mean", "min", "max"]).dropna()
        xs = pos(pd.Series(stats.index, index=stats.index)).to_numpy(dtype=float)
        ax.plot(xs, stats["mean"].to_numpy(), color=colour, marker="o", ms=3, label=label)
        ax.fill_between(xs, stats["min"].to_numpy(), stats["max"].to_numpy(), color=colour, alpha=0.2, lw=0)
        ax.scatter(pos(frame[x]).to_numpy(dtype=float), frame[column].to_numpy(dtype=float), color=colour, s=6,
                   alpha=0.6)

    for ax, (title, columns) in zip(axes, panels):
        if title == "verdicts over seeds":
            for i, col in enumerate(columns):
                frac = ok.assign(r=(ok[col] == "reproduced").astype(float)).groupby(x)["r"].mean()
                ax.plot(pos(pd.Series(frac.index, index=frac.index)), frac.to_numpy(), marker="o",
                        label=col.removesuffix(".verdict"), color=f"C{i % 10}", alpha=0.8)
            ax.set_ylim(-0.05, 1.05)
            ax.set_ylabel("fraction reproduced")
        elif hue is not None:
            groups = list(ok.groupby(hue, sort=True))
            colours = plots.lr_palette([g for g, _ in groups])
            for g, frame in groups:
                band(ax, frame, columns[0], colours[g], f"{hue} = {g}")
        else:
            leaves = [c.split(".value", 1)[1].lstrip(".") for c in columns]
            colours = sns_colours(len(columns))
            for col, leaf, colour in zip(columns, leaves, colours):
                band(ax, ok, col, colour, leaf if len(columns) > 1 else None)
        ax.set_title(title, fontsize="small")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small", ncols=2 if len(columns) > 3 else 1)
        ax.set_xlabel(x)
        if logx:
            ax.set_xscale("log")
        if not numeric_x:
            ax.set_xticks(range(len(order)), [str(v) for v in order])
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if not panels:
        axes[0].text(0.5, 0.5, "no finished run with claims", ha="center", va="center", transform=axes[0].transAxes)
    return fig


def sns_colours(n: int) -> list:
    """``n`` colours of the book's sequential palette."""
    import seaborn as sns

    from lrlab import plots

    return sns.color_palette(plots.PALETTE, n_colors=max(n, 2))[:n]


PARQUET_MISSING = "no sweep.parquet: pyarrow is not installed (pip install 'lrlab[parquet]'); the table is in sweep.csv"


def parquet_available() -> bool:
    """True when pyarrow, which writes ``sweep.parquet``, can be imported (it is an optional dependency)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Report:
    """What :func:`report` wrote and the table it wrote (``parquet`` is ``None`` without pyarrow)."""

    table: pd.DataFrame
    csv: Path
    parquet: Path | None
    figure: Path

    @property
    def written(self) -> list[Path]:
        """The files written: the CSV, the Parquet table where pyarrow is installed, the figure."""
        return [p for p in (self.csv, self.parquet, self.figure) if p is not None]

    def summary(self) -> str:
        df = self.table
        counts = df["status"].value_counts()
        lines = [f"{len(df)} runs: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
        for col in (c for c in df.columns if c.endswith(".verdict")):
            vc = df[col].value_counts()
            lines.append(f"{col.removesuffix('.verdict'):<5}" + ", ".join(f"{n} {v}" for v, n in vc.items()))
        if self.parquet is None:
            lines.append(PARQUET_MISSING)
        return "\n".join(lines)


def report(folder: str | Path, out: str | Path | None = None) -> Report:
    """Write ``sweep.csv``, ``sweep.parquet`` (where pyarrow is installed) and ``summary.png`` of a sweep folder into
    ``out``."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    sweep = load_sweep(folder)
    df = table(folder)
    dest = Path(out) if out else folder / "report"
    dest.mkdir(parents=True, exist_ok=True)
    paths = Report(df, dest / "sweep.csv", dest / "sweep.parquet" if parquet_available() else None,
                   dest / "summary.png")
    writers = [(paths.csv, lambda p: df.to_csv(p, index=False))]
    if paths.parquet is not None:
        writers.append((paths.parquet, lambda p: df.to_parquet(p, index=False)))
    for path, write in writers:
        tmp = path.with_name(f".{path.name}.tmp")
        write(tmp)
        tmp.replace(path)
    fig = summary_figure(df, list(sweep.get("grid", {})))
    fig.suptitle(f"{sweep['chapter']} at scale {sweep['scale']}: {len(df)} runs", fontsize="medium")
    tmp = paths.figure.with_name(".summary.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(paths.figure)
    return paths
