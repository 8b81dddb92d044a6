"""The fluctuations chapter's experiments: the shapes, the autoencoder, the (η, seed) grids and their tables.

Every (η, seed) of an optimiser trains at once, as one batched model (:class:`lrlab.nn.BMLP`): the paper's grid
``lrs`` with ``n_seeds`` seeds and, for the main optimiser's side of the map of where the trade-off holds, the
extra rates ``map_lrs`` with ``map_seeds`` seeds. A :class:`lrlab.probes.neurons.NeuronRecorder` snapshots every
hidden unit during training; :func:`neuron_table`, :func:`participation_table` and :func:`final_table` turn a
grid into tidy tables (one row per configuration and hidden layer, per configuration, layer and threshold τ, per
configuration). :func:`run` trains the main optimiser and the contrast optimiser and returns the tables as
:class:`Results`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lrlab import data, optim
from lrlab.config import Config
from lrlab.nn import BMLP
from lrlab.probes import neurons
from lrlab.train import Batches, train

TAUS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Thresholds τ at which participation is counted for :func:`participation_table` (the run's ``tau`` is added):
from "active on any input" to "active on nearly all"."""


@dataclass
class Dataset:
    """Training and held-out images (N × 784 tensors in {0, 1}) and their labels.

    ``blind_mse`` is the held-out error of the mean training image: the best a network can do that ignores its
    input. A run that did not get clearly below it has learned nothing about the image it is given.
    """

    x: Tensor
    labels: np.ndarray
    x_test: Tensor
    labels_test: np.ndarray
    blind_mse: float


def load_data(cfg: Config, device: torch.device | str = "cpu") -> Dataset:
    """Eight shapes, ``per_class`` each for training and ``test_per_class`` each held out (drawn with another
    seed), on ``device`` (the models of :func:`run_grid` follow their data)."""
    x, lab = data.shapes(cfg.per_class, seed=cfg.seed)
    xt, labt = data.shapes(cfg.test_per_class, seed=cfg.seed + 10_000)
    blind = float(np.mean((xt - x.mean(axis=0, keepdims=True)) ** 2))
    return Dataset(torch.from_numpy(x).to(device), lab, torch.from_numpy(xt).to(device), labt, blind)


def autoencoder(widths: tuple[int, ...], seeds: list[int]) -> BMLP:
    """Dense ReLU autoencoder 784 → widths → mirrored → 784 with a sigmoid output, one per seed."""
    sizes = (784, *widths, *reversed(widths[:-1]), 784)
    return BMLP(sizes, seeds, activation=nn.ReLU, out_activation=nn.Sigmoid())


def _target(y: Tensor) -> Tensor:
    return y if y.dim() == 3 else y.unsqueeze(0)


def training_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """The default loss trained on: squared error between the output and the target ``y`` (the image itself),
    summed over an image's pixels, averaged over the batch.

    Our choice (the paper does not state its loss): with the pixel mean (:func:`reconstruction_loss`, parameter
    ``loss="mean"``) every SGD step is 784 times smaller, which is the same run as the summed loss at η/784.
    """
    return (model(x) - _target(y)).square().sum(dim=2).mean(dim=1)


def reconstruction_loss(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Pixel-mean squared error per configuration (K values): the reconstruction error the chapter reports, and
    the loss trained on with ``loss="mean"``."""
    return (model(x) - _target(y)).square().mean(dim=(1, 2))


@dataclass
class GridRun:
    """One optimiser's runs: per-configuration labels (``lr``, ``seed``, ``grid``: "paper" for the paper's η,
    "map" for the map's extra η), the training history, the neuron recorder and the trained model."""

    optimizer: str
    labels: pd.DataFrame
    history: pd.DataFrame
    recorder: neurons.NeuronRecorder
    model: BMLP
    wall_s: float
    status: list[str]


def grid_labels(cfg: Config, n_seeds: int, map_seeds: int) -> pd.DataFrame:
    """The configurations of one optimiser: every η of ``lrs`` with ``n_seeds`` seeds, then every η of
    ``map_lrs`` not already in ``lrs`` with ``map_seeds`` seeds (seeds ``seed, seed+1, …``)."""
    rows = [(lr, cfg.seed + s, "paper") for lr in dict.fromkeys(cfg.lrs) for s in range(n_seeds)]
    extra = [lr for lr in dict.fromkeys(cfg.map_lrs) if lr not in cfg.lrs]
    rows += [(lr, cfg.seed + s, "map") for lr in extra for s in range(map_seeds)]
    return pd.DataFrame(rows, columns=["lr", "seed", "grid"])


def run_grid(cfg: Config, ds: Dataset, optimizer: str, n_seeds: int | None = None,
             map_seeds: int | None = None) -> GridRun:
    """Train every configuration of :func:`grid_labels` at once with ``optimizer``, recording every hidden unit.

    ``n_seeds`` and ``map_seeds`` default to the configuration's.
    """
    n_seeds = cfg.n_seeds if n_seeds is None else n_seeds
    map_seeds = cfg.map_seeds if map_seeds is None else map_seeds
    labels = grid_labels(cfg, n_seeds, map_seeds)
    seeds = labels["seed"].tolist()
    model = autoencoder(cfg.widths, seeds).to(ds.x.device)
    opt = optim.make(optimizer, model.parameters(), labels["lr"].tolist())
    recorder = neurons.NeuronRecorder(model, ds.x, ds.x, reconstruction_loss)
    loss_fn = training_loss if cfg.loss == "sum" else reconstruction_loss
    result = train(
        model, loss_fn, Batches(ds.x, ds.x, cfg.batch_size, seeds), opt, cfg.epochs,
        probes=[recorder, _test_loss(ds.x_test)], probe_every=cfg.probe_every, labels=labels,
        desc=f"fluctuations/{optimizer}",
    )
    return GridRun(optimizer, labels, result.history, recorder, model, result.wall_s, result.status)


def _test_loss(x_test: Tensor):
    def probe(model: nn.Module, _epoch: int) -> dict[str, Tensor]:
        with torch.no_grad():
            return {"test_loss": reconstruction_loss(model, x_test, x_test)}

    return probe


def layer_names(widths: tuple[int, ...]) -> list[str]:
    """Names of the hidden layers: encoder-128, latent-16, decoder-128 for the default widths."""
    enc = [f"encoder{i + 1}-{w}" if len(widths) > 2 else f"encoder-{w}" for i, w in enumerate(widths[:-1])]
    dec = [f"decoder{i + 1}-{w}" if len(widths) > 2 else f"decoder-{w}" for i, w in enumerate(reversed(widths[:-1]))]
    return [*enc, f"latent-{widths[-1]}", *dec]


def late_snapshots(epochs: list[int], total: int, every: int) -> list[int]:
    """Indices of the snapshots where the fluctuation is measured: the second half of training (late enough that
    the fast early drift is over), at the regular spacing ``every`` only, so every increment spans as many steps (the
    final snapshot of a run whose length is not a multiple of ``every`` is left out)."""
    return [i for i, e in enumerate(epochs) if e >= total / 2 and e % every == 0]


def neuron_table(grid: GridRun, cfg: Config) -> pd.DataFrame:
    """One row per (configuration, hidden layer): participation at the end and the fluctuation statistics.

    Columns: ``participating`` (active on more than a fraction τ of the training images) and ``inactive`` (active
    on none) at the final snapshot; ``spread_*`` = mean over units of the per-unit spread (std over all snapshots)
    of the bias, incoming-weight norm and gradient norm; ``fluct_*`` = mean over units of the fluctuation around
    the unit's own trajectory (:func:`lrlab.probes.neurons.fluctuation`, second half of training);
    ``sos_bias`` / ``cv_bias`` = the spread of the spread of the bias spreads and its coefficient of variation;
    ``cv_fluct`` = the coefficient of variation across units of the bias fluctuation.
    """
    rows = []
    late = late_snapshots(grid.recorder.epochs, cfg.epochs, cfg.probe_every)
    bias, wnorm, gnorm, active = (grid.recorder.arrays(q) for q in ("bias", "wnorm", "gnorm", "active"))
    for li, name in enumerate(layer_names(cfg.widths)):
        s_bias, s_w, s_g = (neurons.spread(q[li]) for q in (bias, wnorm, gnorm))
        f_bias, f_w = (neurons.fluctuation(q[li][late]) for q in (bias, wnorm))
        final_active = active[li][-1]
        for c, (lr, seed, where) in enumerate(grid.labels.itertuples(index=False)):
            rows.append({
                "optimizer": grid.optimizer, "lr": lr, "seed": seed, "grid": where, "layer": name,
                "units": bias[li].shape[-1],
                "participating": int(neurons.participating(final_active[c], cfg.tau)),
                "inactive": int(neurons.inactive(final_active[c])),
                "spread_bias": float(s_bias[c].mean()), "spread_wnorm": float(s_w[c].mean()),
                "spread_gnorm": float(s_g[c].mean()),
                "fluct_bias": float(f_bias[c].mean()), "fluct_wnorm": float(f_w[c].mean()),
                "sos_bias": float(neurons.spread_of_spread(s_bias[c])), "cv_bias": float(neurons.spread_cv(s_bias[c])),
                "cv_fluct": float(neurons.spread_cv(f_bias[c])),
            })
    return pd.DataFrame(rows)


def participation_table(grid: GridRun, cfg: Config) -> pd.DataFrame:
    """Participating units per (configuration, hidden layer, τ) at the final snapshot, τ over :data:`TAUS` and
    the run's ``tau``: how a count depends on its threshold."""
    taus = np.array(sorted({*TAUS, cfg.tau}))
    rows = []
    for li, name in enumerate(layer_names(cfg.widths)):
        counts = neurons.participation_curve(grid.recorder.arrays("active")[li][-1], taus)  # (taus, K)
        for c, (lr, seed, where) in enumerate(grid.labels.itertuples(index=False)):
            rows += [{"optimizer": grid.optimizer, "lr": lr, "seed": seed, "grid": where, "layer": name,
                      "tau": float(t), "participating": int(counts[i, c])} for i, t in enumerate(taus)]
    return pd.DataFrame(rows)


def final_table(grid: GridRun, ds: Dataset) -> pd.DataFrame:
    """One row per configuration: held-out error at the start (``init_mse``) and the end (``test_mse``), the final
    training error, the mean image's held-out error (``blind_mse``) and the run's status."""
    hist = grid.history.sort_values("epoch")
    first = hist.groupby("config").head(1).set_index("config")["test_loss"]
    last = hist.groupby("config").tail(1).sort_values("config")
    out = last[["config", "lr", "seed", "grid", "probe_loss", "test_loss"]].rename(
        columns={"probe_loss": "train_mse", "test_loss": "test_mse"})
    out.insert(0, "optimizer", grid.optimizer)
    out["init_mse"] = first.loc[out["config"]].to_numpy()
    out["blind_mse"] = ds.blind_mse
    out["status"] = [grid.status[c] for c in out["config"]]
    return out.drop(columns="config").reset_index(drop=True)


@dataclass
class Results:
    """The chapter's grids and their tables, keyed or labelled by optimiser (main first, then the contrast).

    ``finals`` holds one row per configuration (:func:`final_table`), ``neurons`` one row per configuration and
    hidden layer (:func:`neuron_table`), ``participation`` one row per configuration, layer and τ
    (:func:`participation_table`).
    """

    runs: dict[str, GridRun]
    finals: pd.DataFrame
    neurons: pd.DataFrame
    participation: pd.DataFrame


def contrast_optimizer(optimizer: str) -> str:
    """The optimiser the chapter sets against ``optimizer`` (claim C1'): Adam for SGD, SGD for Adam."""
    return "adam" if optimizer == "sgd" else "sgd"


def run(cfg: Config, ds: Dataset) -> Results:
    """Train the main optimiser's configurations (the paper's η and the map's) and, when ``contrast_seeds`` > 0,
    the contrast optimiser's on the paper's η with ``contrast_seeds`` seeds; tabulate both."""
    runs = {cfg.optimizer: run_grid(cfg, ds, cfg.optimizer)}
    if cfg.contrast_seeds:
        other = contrast_optimizer(cfg.optimizer)
        runs[other] = run_grid(cfg, ds, other, n_seeds=cfg.contrast_seeds, map_seeds=0)
    return Results(
        runs,
        pd.concat([final_table(r, ds) for r in runs.values()], ignore_index=True),
        pd.concat([neuron_table(r, cfg) for r in runs.values()], ignore_index=True),
        pd.concat([participation_table(r, cfg) for r in runs.values()], ignore_index=True),
    )


def reconstruction_grid(grid: GridRun, ds: Dataset, cfg: Config, per_shape: int = 2) -> tuple[np.ndarray, list[str]]:
    """Held-out images (the first ``per_shape`` of each shape) and their reconstructions by the first seed of each
    of the paper's η.

    Returns an array ``(1 + len(lrs), 8 · per_shape, 28, 28)`` and the row labels, for
    :func:`lrlab.plots.image_grid`.
    """
    picks = [int(i) for k in range(len(data.SHAPE_NAMES)) for i in np.flatnonzero(ds.labels_test == k)[:per_shape]]
    x = ds.x_test[picks]
    with torch.no_grad():
        out = grid.model(x).cpu().numpy().reshape(grid.model.k, len(picks), 28, 28)
    lrs = list(dict.fromkeys(cfg.lrs))
    first = grid.labels.reset_index(drop=True)
    rows = [int(first.index[(first.lr == lr) & (first.grid == "paper")][0]) for lr in lrs]
    images = np.concatenate([x.cpu().numpy().reshape(1, len(picks), 28, 28), out[rows]])
    return images, ["input"] + [f"η = {lr:g}" for lr in lrs]


def unit_traces(grid: GridRun, cfg: Config, layer: int = 0, units: int = 6) -> pd.DataFrame:
    """The bias and incoming-weight norm of the first ``units`` units of hidden layer ``layer`` at every snapshot,
    for the first seed of each of the paper's η: the paper's views of individual neurons.

    All η share that seed's initialisation, so unit j starts from the same weights under every η. One row per
    (η, unit, epoch).
    """
    bias, wnorm = (grid.recorder.arrays(q)[layer] for q in ("bias", "wnorm"))
    labels = grid.labels.reset_index(drop=True)
    rows = []
    for lr in dict.fromkeys(cfg.lrs):
        c = int(labels.index[(labels.lr == lr) & (labels.grid == "paper")][0])
        for j in range(min(units, bias.shape[-1])):
            rows += [{"lr": lr, "unit": j, "epoch": e, "bias": float(bias[t, c, j]), "wnorm": float(wnorm[t, c, j])}
                     for t, e in enumerate(grid.recorder.epochs)]
    return pd.DataFrame(rows)
