"""One training loop for every torch chapter.

:func:`train` runs K configurations at once (a batched model, see :mod:`lrlab.nn`), calls probes every
``probe_every`` epochs and records what they return in a tidy table (one row per configuration and probe time),
freezes a configuration whose loss turns NaN/Inf and records it as ``diverged`` (the others go on), stops a
configuration when its ``stop`` criterion says so (``stopped``), and shows a tqdm progress bar.

Full-batch gradient descent is the special case ``batch_size >= n``: one step per epoch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from tqdm import tqdm

from lrlab.nn import generators
from lrlab.optim import BatchedOptimizer

Probe = Callable[[nn.Module, int], dict[str, Sequence[float] | Tensor | np.ndarray]]
"""A probe takes ``(model, epoch)`` and returns ``{name: K values}``."""

LossFn = Callable[[nn.Module, Tensor, Tensor], Tensor]
"""``loss_fn(model, x, y)`` returns the K per-configuration losses of one batch."""

STATUSES = ("finished", "diverged", "stopped")


@dataclass
class Batches:
    """Mini-batches of a tensor dataset with an independent shuffle per configuration.

    Configuration ``k`` shuffles with a generator seeded from ``seeds[k]``, so its batch order does not depend on
    its neighbours. With ``batch_size >= len(x)`` every epoch is one full batch (gradient descent).
    """

    x: Tensor
    y: Tensor
    batch_size: int
    seeds: Sequence[int]
    _gens: list[torch.Generator] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size = {self.batch_size!r} is not allowed: it must be an integer >= 1")
        self._gens = generators(self.seeds, offset=1_000_003)

    @property
    def full(self) -> bool:
        return self.batch_size >= len(self.x)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self.full:
            yield self.x, self.y
            return
        n = len(self.x)
        order = torch.stack([torch.randperm(n, generator=g) for g in self._gens]).to(self.x.device)
        for start in range(0, n, self.batch_size):
            idx = order[:, start : start + self.batch_size]
            flat = idx.reshape(-1)  # index_select copies whole rows: ~4× faster than x[idx] for a (K, B) index
            yield (self.x.index_select(0, flat).view(*idx.shape, *self.x.shape[1:]),
                   self.y.index_select(0, flat).view(*idx.shape, *self.y.shape[1:]))


@dataclass
class TrainResult:
    """What :func:`train` returns: the tidy probe table and one status per configuration."""

    history: pd.DataFrame
    status: list[str]
    last_epoch: list[int]
    steps: int
    wall_s: float

    @property
    def diverged(self) -> list[bool]:
        return [s == "diverged" for s in self.status]


def _as_array(v: Sequence[float] | Tensor | np.ndarray, k: int, name: str) -> np.ndarray:
    a = v.detach().cpu().double().numpy() if isinstance(v, Tensor) else np.asarray(v, dtype=float)
    a = np.broadcast_to(a.reshape(-1) if a.size != 1 else a.reshape(1), (k,)) if a.size in (1, k) else a
    if a.shape != (k,):
        raise ValueError(f"probe {name!r} returned {a.shape} values, expected {k}")
    return a


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return os.environ.get("LRLAB_PROGRESS", "1") not in ("0", "false", "no")


def train(
    model: nn.Module,
    loss_fn: LossFn,
    batches: Batches,
    optimizer: BatchedOptimizer,
    epochs: int,
    *,
    probes: Sequence[Probe] = (),
    probe_every: int = 1,
    after_step: Sequence[Callable[[nn.Module], None]] = (),
    stop: Callable[[pd.DataFrame], np.ndarray] | None = None,
    labels: pd.DataFrame | None = None,
    progress: bool | None = None,
    desc: str = "train",
) -> TrainResult:
    """Train K configurations for ``epochs`` epochs; probe at epoch 0, every ``probe_every`` epochs and at the end.

    - ``after_step`` hooks run after every optimiser step (e.g. projection back onto the sphere).
    - ``stop(rows)`` gets the probe rows of the current epoch (one per configuration) and returns a boolean
      array: ``True`` stops that configuration (status ``stopped``), e.g. a matched training loss.
    - ``labels`` (one row per configuration, e.g. ``lr`` and ``seed``) are joined onto the history.
    - A configuration whose batch loss is NaN/Inf is frozen and recorded as ``diverged``; its later probe rows
      are not recorded. Training ends early when no configuration is left running.
    """
    if epochs < 0:
        raise ValueError(f"epochs = {epochs!r} is not allowed: it must be an integer >= 0")
    if probe_every < 1:
        raise ValueError(f"probe_every = {probe_every!r} is not allowed: it must be an integer >= 1")
    k = optimizer.k
    status = ["running"] * k
    last_epoch = [0] * k
    rows: list[dict] = []
    steps = 0
    start = time.perf_counter()

    closed: set[int] = set()  # configurations whose last row is written
    recorded = [-1]  # the last epoch probed

    def record(epoch: int) -> None:
        recorded[0] = epoch
        values: dict[str, np.ndarray] = {}
        for probe in probes:
            values.update({n: _as_array(v, k, n) for n, v in probe(model, epoch).items()})
        new = []
        for c in range(k):
            if c in closed:
                continue
            if status[c] != "running":
                closed.add(c)
            row = {"config": c, "epoch": epoch, "step": steps, "status": status[c]}
            row.update({n: float(v[c]) for n, v in values.items()})
            new.append(row)
        rows.extend(new)
        if stop is not None and new:
            frame = pd.DataFrame(new)
            done = np.asarray(stop(frame), dtype=bool)
            for c, flag in zip(frame["config"], done):
                if flag and status[c] == "running":
                    closed.add(c)
                    status[c] = "stopped"
                    last_epoch[c] = epoch
                    optimizer.active[c] = False

    record(0)
    epoch = 0
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not _progress_enabled(progress), mininterval=2.0)
    for epoch in bar:
        for xb, yb in batches:
            optimizer.zero_grad()
            losses = loss_fn(model, xb, yb)
            finite = torch.isfinite(losses.detach())
            if not bool(finite.all()):  # one check per step; the mask only when a loss is NaN/Inf
                bad = ~finite.cpu()
                for c in torch.nonzero(bad & optimizer.active).flatten().tolist():
                    status[c] = "diverged"
                    last_epoch[c] = epoch
                    optimizer.active[c] = False
                losses = losses.masked_fill(bad.to(losses.device), 0.0)
            losses.sum().backward()
            optimizer.step()
            for hook in after_step:
                hook(model)
            steps += 1
            if not optimizer.active.any():
                break
        for c in range(k):
            if status[c] == "running":
                last_epoch[c] = epoch
        if epoch % probe_every == 0 or epoch == epochs:
            record(epoch)
        if not bar.disable:
            bar.set_postfix(running=int(optimizer.active.sum()), refresh=False)
        if not optimizer.active.any():
            break
    if recorded[0] != epoch or len(closed) < sum(s != "running" for s in status):
        record(epoch)
    final = [s if s != "running" else "finished" for s in status]
    history = pd.DataFrame(rows)
    if len(history):
        history["status"] = [final[c] for c in history["config"]]
        if labels is not None:
            history = history.merge(labels.reset_index(drop=True).rename_axis("config").reset_index(), on="config")
    return TrainResult(history, final, last_epoch, steps, time.perf_counter() - start)
