"""The fluctuations chapter's experiments: the shapes, the autoencoder, the (η, seed) grids and their tables.

Every (η, seed) of a grid trains at once, as one batched model (:class:`lrlab.nn.BMLP`); a
:class:`lrlab.probes.neurons.NeuronRecorder` snapshots every hidden unit during training, and :func:`neuron_table`
and :func:`final_table` turn a grid into tidy tables (one row per configuration and hidden layer, one row per
configuration). :func:`run` trains the main optimiser's grid and the contrast optimiser's and returns both tables
as :class:`Results`.
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


@dataclass
class Dataset:
    """Training and held-out images (N × 784 tensors in {0, 1}) and their labels."""

    x: Tensor
    labels: np.ndarray
    x_test: Tensor
    labels_test: np.ndarray


def load_data(cfg: Config, device: torch.device | str = "cpu") -> Dataset:
    """Eight shapes, ``per_class`` each for training and a quarter as many (at least 4) held out, on ``device``
    (the models of :func:`run_grid` follow their data)."""
    x, lab = data.shapes(cfg.per_class, seed=cfg.seed)
    xt, labt = data.shapes(max(4, cfg.per_class // 4), seed=cfg.seed + 10_000)
    return Dataset(torch.from_numpy(x).to(device), lab, torch.from_numpy(xt).to(device), labt)


def autoencoder(widths: tuple[int, ...], seeds: list[int]) -> BMLP:
    """Dense ReLU autoencoder 784 → widths → mirrored → 784 with a sigmoid output, one per seed."""
    sizes = (784, *widths, *reversed(widths[:-1]), 784)
    return BMLP(sizes, seeds, activation=nn.ReLU, out_activation=nn.Sigmoid())


def training_loss(model: nn.Module, x: Tensor, _y: Tensor) -> Tensor:
    """The default loss trained on: squared error summed over an image's pixels, averaged over the batch.

    Our choice (the paper does not state its loss): with the pixel mean (:func:`reconstruction_loss`, parameter
    ``loss="mean"``) SGD's gradients are 784 times smaller and at η ≤ 1e-3 the autoencoder barely leaves its
    initialisation within 1000 epochs.
    """
    out = model(x)
    target = x if x.dim() == 3 else x.unsqueeze(0)
    return (out - target).square().sum(dim=2).mean(dim=1)


def reconstruction_loss(model: nn.Module, x: Tensor, _y: Tensor) -> Tensor:
    """Reconstruction error reported in the chapter: pixel-mean squared error per configuration (K values)."""
    out = model(x)
    target = x if x.dim() == 3 else x.unsqueeze(0)
    return (out - target).square().mean(dim=(1, 2))


@dataclass
class GridRun:
    """One optimiser's grid: per-configuration labels, the training history and the neuron recorder."""

    optimizer: str
    labels: pd.DataFrame
    history: pd.DataFrame
    recorder: neurons.NeuronRecorder
    model: BMLP
    wall_s: float
    status: list[str]


def run_grid(cfg: Config, ds: Dataset, optimizer: str, n_seeds: int | None = None) -> GridRun:
    """Train every (η, seed) of the grid at once with ``optimizer``, recording every hidden unit.

    ``n_seeds`` defaults to ``cfg.n_seeds`` (seeds ``seed, seed+1, …``).
    """
    n_seeds = cfg.n_seeds if n_seeds is None else n_seeds
    grid = [(lr, cfg.seed + s) for lr in cfg.lrs for s in range(n_seeds)]
    labels = pd.DataFrame(grid, columns=["lr", "seed"])
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


def neuron_table(grid: GridRun, cfg: Config) -> pd.DataFrame:
    """One row per (configuration, hidden layer): participation at the end and the fluctuation statistics.

    Columns: ``participating`` and ``inactive`` units at the final snapshot; ``spread_bias`` / ``spread_wnorm`` /
    ``spread_gnorm`` = mean over units of the per-unit spread of the bias, incoming-weight norm and gradient norm;
    ``sos_bias`` = spread of the spread of the biases and ``cv_bias`` its scale-free form.
    """
    rows = []
    names = layer_names(cfg.widths)
    bias, wnorm, gnorm, active = (grid.recorder.arrays(q) for q in ("bias", "wnorm", "gnorm", "active"))
    for li, name in enumerate(names):
        s_bias = neurons.spread(bias[li])
        s_w = neurons.spread(wnorm[li])
        s_g = neurons.spread(gnorm[li])
        final_active = active[li][-1]
        for c, (lr, seed) in enumerate(grid.labels.itertuples(index=False)):
            rows.append({
                "optimizer": grid.optimizer, "lr": lr, "seed": seed, "layer": name, "units": bias[li].shape[-1],
                "participating": int(neurons.participating(final_active[c], cfg.tau)),
                "inactive": int(neurons.inactive(final_active[c])),
                "spread_bias": float(s_bias[c].mean()), "spread_wnorm": float(s_w[c].mean()),
                "spread_gnorm": float(s_g[c].mean()),
                "sos_bias": float(neurons.spread_of_spread(s_bias[c])), "cv_bias": float(neurons.spread_cv(s_bias[c])),
            })
    return pd.DataFrame(rows)


def final_table(grid: GridRun) -> pd.DataFrame:
    """One row per configuration: final train and held-out reconstruction MSE and the run's status."""
    last = grid.history.sort_values("epoch").groupby("config").tail(1).sort_values("config")
    out = last[["lr", "seed", "probe_loss", "test_loss"]].rename(columns={"probe_loss": "train_mse",
                                                                         "test_loss": "test_mse"})
    out.insert(0, "optimizer", grid.optimizer)
    out["status"] = [grid.status[c] for c in last["config"]]
    return out.reset_index(drop=True)


@dataclass
class Results:
    """The chapter's grids and their tables, keyed or labelled by optimiser (main first, then the contrast).

    ``finals`` holds one row per configuration (:func:`final_table`), ``neurons`` one row per configuration and
    hidden layer (:func:`neuron_table`).
    """

    runs: dict[str, GridRun]
    finals: pd.DataFrame
    neurons: pd.DataFrame


def contrast_optimizer(optimizer: str) -> str:
    """The optimiser the chapter sets against ``optimizer`` (claim C1'): Adam for SGD, SGD for Adam."""
    return "adam" if optimizer == "sgd" else "sgd"


def run(cfg: Config, ds: Dataset) -> Results:
    """Train the main optimiser's grid (``n_seeds`` seeds per η) and, when ``contrast_seeds`` > 0, the contrast
    optimiser's on the same η with ``contrast_seeds`` seeds; tabulate both."""
    runs = {cfg.optimizer: run_grid(cfg, ds, cfg.optimizer)}
    if cfg.contrast_seeds:
        other = contrast_optimizer(cfg.optimizer)
        runs[other] = run_grid(cfg, ds, other, n_seeds=cfg.contrast_seeds)
    finals = pd.concat([final_table(r) for r in runs.values()], ignore_index=True)
    table = pd.concat([neuron_table(r, cfg) for r in runs.values()], ignore_index=True)
    return Results(runs, finals, table)


def reconstruction_grid(grid: GridRun, ds: Dataset, cfg: Config) -> tuple[np.ndarray, list[str]]:
    """Held-out images (first of each shape) and their reconstructions by the first seed of each η.

    Returns an array ``(1 + len(lrs), 8, 28, 28)`` and the row labels, for :func:`lrlab.plots.image_grid`.
    """
    first = [int((ds.labels_test == k).argmax()) for k in range(len(data.SHAPE_NAMES))]
    x = ds.x_test[first]
    with torch.no_grad():
        out = grid.model(x).cpu().numpy().reshape(grid.model.k, len(first), 28, 28)
    n_seeds = len(grid.labels) // len(cfg.lrs)
    rows = [cfg.lrs.index(lr) * n_seeds for lr in cfg.lrs]
    images = np.concatenate([x.cpu().numpy().reshape(1, len(first), 28, 28), out[rows]])
    return images, ["input"] + [f"η = {lr:g}" for lr in cfg.lrs]
