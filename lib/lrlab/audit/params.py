"""Random parameter sets a chapter's presets allow, for the audit's robustness check.

A valid parameter set that ends in a traceback is a bug: the chapter either runs and shows its scorecard (a claim
it cannot judge says so, verdict ``not judged``) or refuses the set up front with a ``ValueError`` naming the
parameter. :func:`draw` makes such sets reproducibly: each changes one to three knobs of the ``quick`` preset to a
nearby value inside the knob's bounds (half, double, a sub-list, another choice), and keeps only those the
chapter's own validation accepts, so the audit tests the chapter rather than the validator. A set that needs data
this machine does not have (CIFAR-10 cannot be downloaded here) is skipped too: the chapter stops it with a message
saying where to get the data, which is right, not a bug the draws could find.
"""

from __future__ import annotations

import random
from typing import Any

from lrlab import data, studies
from lrlab.config import Param

FACTORS = (0.5, 0.75, 1.5, 2.0)
"""How far a number moves from its ``quick`` preset: near enough that a draw stays about as cheap as ``quick``
(a doubled count at most)."""


def _clip(p: Param, value: float) -> float:
    if p.low is not None:
        value = max(value, p.low + (1e-12 if p.low_open else 0.0))
    if p.high is not None:
        value = min(value, p.high)
    return value


def _number(p: Param, base: float, kind: str, rng: random.Random) -> Any:
    value = _clip(p, base * rng.choice(FACTORS) if base else rng.choice((0.5, 1.0)))
    if kind == "int":
        return int(max(round(value), int(p.low) if p.low is not None else 0))
    return float(f"{value:.4g}")


def nearby(p: Param, base: Any, rng: random.Random) -> Any:
    """A value of ``p`` near ``base`` (its ``quick`` preset) that the parameter's own bounds allow."""
    if p.choices is not None:
        return rng.choice(p.choices)
    if p.kind == "bool":
        return not base
    if p.kind == "str":
        return base
    if p.kind in ("floats", "ints"):
        items = list(base)
        scalar = "float" if p.kind == "floats" else "int"
        if len(items) > 1 and rng.random() < 0.5:  # a non-empty sub-list, order kept
            keep = sorted(rng.sample(range(len(items)), rng.randint(1, len(items) - 1)))
            return [items[i] for i in keep]
        return [_number(p, v, scalar, rng) for v in items]
    return _number(p, base, p.kind, rng)


def data_at_hand(dataset: str | None) -> bool:
    """Whether the data set a parameter set names can be read on this machine (a tiny read of its test split)."""
    readers = {"cifar10": lambda: data.cifar10("test"), "fashion_mnist": lambda: data.fashion_mnist("test", n=1)}
    if dataset not in readers:
        return True
    try:
        readers[dataset]()
    except FileNotFoundError:
        return False
    return True


def draw(chapter: str, n: int, seed: int = 0, max_tries: int = 50) -> list[dict[str, Any]]:
    """``n`` distinct parameter sets of ``chapter`` near its ``quick`` preset that its validation accepts."""
    spec = studies.load(chapter).SPEC
    preset = spec.preset("quick")
    rng = random.Random(f"{chapter}:{seed}")
    found: list[dict[str, Any]] = []
    tries = 0
    while len(found) < n and tries < n * max_tries:
        tries += 1
        knobs = rng.sample(spec.params, k=min(len(spec.params), rng.randint(1, 3)))
        params = {p.name: nearby(p, preset[p.name], rng) for p in knobs}
        same = {k for k, v in params.items()
                if v == preset[k] or (isinstance(v, list) and tuple(v) == tuple(preset[k]))}
        params = {k: v for k, v in params.items() if k not in same}
        if not params or params in found:
            continue
        try:
            cfg = spec.resolve(scale="quick", **params)
        except ValueError:
            continue
        if not data_at_hand(cfg.get("dataset")):
            continue
        found.append(params)
    return found
