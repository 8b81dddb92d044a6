"""The chapter's data, model and batched training runs.

Every (lr, wd, seed) configuration of one experiment is trained at once as one batched model; a
:class:`lrlab.probes.periodic.StepRecorder` records every step. :func:`run_all` gives the three runs of the
chapter (:class:`Results`): the main SGD grid (:func:`sgd_grid`), full-batch gradient descent and the
all-parameters-trained variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lrlab import data, optim
from lrlab.config import Config
from lrlab.models import SIMLP, ConvNetSI, cross_entropy
from lrlab.probes import periodic as pr
from lrlab.probes import scale_invariant as si
from lrlab.train import Batches, train

from .presets import SPEC

# ---- data and models -----------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """Training and test tensors; features standardised with the training set's statistics."""

    x: Tensor
    y: Tensor
    x_test: Tensor
    y_test: Tensor
    name: str

    def checksums(self) -> dict[str, str]:
        return {f"{self.name}-train": data.sha256(self.x.cpu().numpy()),
                f"{self.name}-test": data.sha256(self.x_test.cpu().numpy())}


def _pool(x: np.ndarray, k: int) -> np.ndarray:
    if k == 1:
        return x
    if 28 % k:
        raise ValueError(f"pool = {k!r} is not allowed: it must divide 28")
    n = len(x)
    return x.reshape(n, 28 // k, k, 28 // k, k).mean((2, 4)).reshape(n, -1)


def dataset(cfg: Config, n_train: int | None = None, device: torch.device | str = "cpu") -> Dataset:
    """The first ``n_train`` training and ``n_test`` test images of ``cfg.dataset``, on ``device`` (the models of
    :func:`run` follow their data).

    Fashion-MNIST is average-pooled by ``cfg.pool`` and standardised per pixel with the training statistics;
    CIFAR-10 is normalised per channel as in the official code (scale ``paper``).
    """
    n = cfg.n_train if n_train is None else n_train
    if cfg.dataset == "fashion_mnist":
        x, y = data.fashion_mnist("train", n=n)
        xt, yt = data.fashion_mnist("test", n=cfg.n_test)
        if n > len(x):
            raise ValueError(f"n_train = {n!r} is not allowed: Fashion-MNIST has {len(x)} training images")
        x, xt = _pool(x, cfg.pool), _pool(xt, cfg.pool)  # the first n and n_test already
        mu, sd = x.mean(0), x.std(0) + 1e-6
        x, xt = (x - mu) / sd, (xt - mu) / sd
    else:
        x, y = data.cifar10("train")
        xt, yt = data.cifar10("test")
        x, y, xt, yt = x[:n], y[:n], xt[: cfg.n_test], yt[: cfg.n_test]
    f = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(device)  # noqa: E731
    return Dataset(f(x), torch.from_numpy(y).to(device), f(xt), torch.from_numpy(yt).to(device), cfg.dataset)


def build_model(cfg: Config, seeds: list[int], in_dim: int, all_trained: bool = False) -> nn.Module:
    """The fully SI model of the chapter: ``SIMLP([in, width, width, 10])`` or ConvNetSI (scale ``paper``).

    ``all_trained=True`` gives the papers' "all parameters trained" variant (BN with affine, trainable head).
    """
    if cfg.model == "mlp":
        return SIMLP([in_dim, cfg.width, cfg.width, 10], seeds, eps=cfg.bn_eps, all_trained=all_trained)
    if all_trained:
        raise ValueError("model = 'convnet' has no all-parameters-trained variant in lrlab.models; use 'mlp'")
    return ConvNetSI(seeds, cfg.width, eps=cfg.bn_eps)


# ---- experiments ---------------------------------------------------------------------------------------------


def sgd_grid(cfg: Config) -> pd.DataFrame:
    """The configurations of the main batched SGD run, one row each: ``lr``, ``wd``, ``fixed`` (norm projected
    back to ρ₀), ``seed``, and the roles ``panel`` (Figure 2 panels), ``scan`` (period vs ηλ) and ``control``
    (the fixed-norm control at ``control_lr``; its free-norm twin is always in the grid). All at λ = ``wd``."""
    rows: dict[tuple[float, float, bool], set[str]] = {}
    for lr in cfg.lrs:
        rows.setdefault((lr, cfg.wd, False), set()).add("panel")
    for lr in cfg.scan_lrs:
        rows.setdefault((lr, cfg.wd, False), set()).add("scan")
    rows.setdefault((cfg.control_lr, cfg.wd, False), set()).add("twin")
    rows.setdefault((cfg.control_lr, cfg.wd, True), set()).add("control")
    out = []
    for (lr, wd, fixed), roles in rows.items():
        for s in range(cfg.n_seeds):
            out.append({"lr": lr, "wd": wd, "fixed": fixed, "seed": cfg.seed + s, "panel": "panel" in roles,
                        "scan": "scan" in roles, "control": "control" in roles})
    return pd.DataFrame(out)


@dataclass
class Run:
    """One batched training run: its configurations, the recorded blocks, the probes, the per-step arrays."""

    name: str
    labels: pd.DataFrame
    series: pd.DataFrame
    probes: pd.DataFrame
    steps: dict[str, np.ndarray]
    status: list[str]
    wall_s: float
    steps_per_epoch: int

    def series_of(self, config: int) -> pd.DataFrame:
        """The recorded blocks of configuration ``config`` (a row of ``labels``), in step order."""
        return self.series[self.series.config == config].sort_values("step")


def run(cfg: Config, ds: Dataset, labels: pd.DataFrame, *, name: str, epochs: int, batch_size: int,
        all_trained: bool = False, progress: bool | None = None) -> Run:
    """Train every configuration of ``labels`` (columns ``lr``, ``wd``, ``seed``, optional ``fixed``) at once.

    SGD with coupled weight decay and no momentum (:class:`lrlab.optim.SGD`), constant learning rate; its
    ``sphere``, a :class:`lrlab.probes.scale_invariant.Projector` with a mask, holds the norm of the ``fixed``
    configurations; a :class:`~lrlab.probes.periodic.StepRecorder` records every step; the SI probe
    (:func:`lrlab.probes.scale_invariant.si_probe`) measures full-train-set loss/accuracy (train-mode BN) and
    test accuracy (eval-mode BN) every ``cfg.probe_every`` epochs.
    """
    seeds = labels["seed"].tolist()
    if cfg.model == "mlp" and ds.x.dim() > 2:  # images for an MLP: flatten them
        ds = Dataset(ds.x.flatten(1), ds.y, ds.x_test.flatten(1), ds.y_test, ds.name)
    in_dim = int(np.prod(ds.x.shape[1:]))
    model = build_model(cfg, seeds, in_dim, all_trained=all_trained).to(ds.x.device)
    params = [p for p in model.parameters() if p.requires_grad]
    fixed = labels["fixed"].to_numpy(bool) if "fixed" in labels else np.zeros(len(labels), bool)
    opt = optim.SGD(params, lr=labels["lr"].tolist(), wd=labels["wd"].tolist(),
                    sphere=si.Projector(model, mask=fixed))
    rec = pr.StepRecorder(model, cross_entropy)
    hooks = [rec]
    probe = si.si_probe(labels["lr"].tolist(), ds.x, ds.y, ds.x_test, ds.y_test, batch_size=cfg.batch_size,
                        grad=False)
    res = train(model, rec.loss_fn, Batches(ds.x, ds.y, batch_size, seeds), opt, epochs, probes=[probe],
                probe_every=cfg.probe_every, after_step=hooks, labels=labels, progress=progress,
                desc=f"periodic/{name}")
    rec.remove()
    spe = -(-len(ds.x) // batch_size)
    every = max(1, min(cfg.every, rec.steps))
    series = rec.frame(every, labels["lr"].tolist(), labels)
    return Run(name, labels, series, res.history, rec.arrays(), res.status, res.wall_s, spe)


@dataclass
class Results:
    """Everything the chapter measures: the main SGD run, the full-batch GD and the all-parameters runs."""

    sgd: Run
    gd: Run
    all_trained: Run

    @property
    def wall_s(self) -> float:
        return self.sgd.wall_s + self.gd.wall_s + self.all_trained.wall_s


def run_all(cfg: Config, ds: Dataset, progress: bool | None = None) -> Results:
    """The chapter's three batched runs."""
    sgd = run(cfg, ds, sgd_grid(cfg), name="sgd", epochs=cfg.epochs, batch_size=cfg.batch_size,
              progress=progress)
    seeds = [cfg.seed + s for s in range(cfg.n_seeds)]
    gd_ds = ds if cfg.gd_n == len(ds.x) else dataset(cfg, cfg.gd_n, ds.x.device)
    gd_labels = pd.DataFrame({"lr": cfg.gd_lr, "wd": cfg.gd_wd, "seed": seeds})
    gd = run(cfg, gd_ds, gd_labels, name="gd", epochs=cfg.gd_epochs, batch_size=len(gd_ds.x), progress=progress)
    at_labels = pd.DataFrame({"lr": cfg.all_trained_lr, "wd": cfg.all_trained_wd, "seed": seeds})
    at_model = cfg if cfg.model == "mlp" else None
    if at_model is None:  # ConvNetSI has no affine variant here: the control falls back to the MLP
        at_model = SPEC.resolve(**{**cfg.as_dict(), "model": "mlp"})
    at = run(at_model, ds, at_labels, name="all_trained", epochs=cfg.all_trained_epochs, batch_size=cfg.batch_size,
             all_trained=True, progress=progress)
    return Results(sgd, gd, at)
