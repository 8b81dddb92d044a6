"""The points of a sweep: the grid and seeds read from the command line, expanded into validated chapter runs."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lrlab.runs import parse_assignments as _parse_assignments
from lrlab.runs import read_value


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
