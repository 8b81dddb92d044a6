"""The chapter's data, model and batched training runs.

Every configuration of one experiment is trained at once as one batched model; a
:class:`lrlab.probes.periodic.StepRecorder` records every step. :func:`run_all` gives the four runs of the chapter
(:class:`Results`): the main SGD run (:func:`grid`: the panels, the period scan but its smallest ηλ, and the
controls), the long run at the scan's smallest ηλ, full-batch gradient descent and the all-parameters-trained
variant. Every SGD step goes through :func:`make_optimizer`, the one place where weight decay and the fixed norm
are set up (the chapter's mutants replace it).
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


class PlainMLP(SIMLP):
    """:class:`lrlab.models.SIMLP` in which the configurations with ``plain[k]`` skip BN: the no-BN control.

    Without BN nothing normalises the hidden layers, so the loss is not scale-invariant in their weights, the
    gradient has a radial component and the norm recursion fails; everything else (initialisation, frozen head of
    norm 10, the batch order) is that of the scale-invariant configurations beside it.
    """

    def __init__(self, sizes, seeds, plain, **kw):
        super().__init__(sizes, seeds, **kw)
        self.plain = torch.as_tensor(np.asarray(plain, dtype=bool))

    def forward(self, x: Tensor) -> Tensor:
        if not bool(self.plain.any()):
            return super().forward(x)
        keep = self.plain.to(x.device).view(-1, 1, 1)
        h = x
        for lin, norm in zip(self.hidden, self.norms):
            z = lin(h)
            h = torch.where(keep, torch.relu(z), norm.relu_after(z))
        return self.head(h)


def build_model(cfg: Config, seeds: list[int], in_dim: int, all_trained: bool = False,
                plain: np.ndarray | None = None) -> nn.Module:
    """The fully SI model of the chapter: ``SIMLP([in, width, width, 10])`` or ConvNetSI (scale ``paper``).

    ``all_trained=True`` gives the "all parameters trained" variant (BN with affine, trainable head); ``plain``
    (one bool per configuration) removes BN from some MLP configurations (:class:`PlainMLP`).
    """
    if cfg.model == "mlp":
        if plain is not None and plain.any():
            return PlainMLP([in_dim, cfg.width, cfg.width, 10], seeds, plain, eps=cfg.bn_eps)
        return SIMLP([in_dim, cfg.width, cfg.width, 10], seeds, eps=cfg.bn_eps, all_trained=all_trained)
    if all_trained:
        raise ValueError("model = 'convnet' has no all-parameters-trained variant in lrlab.models; use 'mlp'")
    if plain is not None and plain.any():
        raise ValueError("model = 'convnet' has no variant without BN here; the no-BN control needs model = 'mlp'")
    return ConvNetSI(seeds, cfg.width, eps=cfg.bn_eps)


# ---- experiments ---------------------------------------------------------------------------------------------

COLUMNS = ("lr", "wd", "fixed", "bn", "elr0", "seed", "panel", "scan", "series", "control", "twin", "run")


def scan_configs(cfg: Config) -> pd.DataFrame:
    """The period scan, one row per (η, λ): ``eta_lambda``, ``series`` (``lambda``: λ varied at η = ``scan_lr``;
    ``eta``: η varied at λ = ``scan_wd``; ``both`` where they meet). Each ηλ reached by both series is a pair of
    configurations with equal ηλ but different η and λ."""
    rows: dict[tuple[float, float], dict] = {}
    for x in cfg.scan_etalambdas:
        for lr, wd, series in ((cfg.scan_lr, x / cfg.scan_lr, "lambda"), (x / cfg.scan_wd, cfg.scan_wd, "eta")):
            key = (round(lr, 12), round(wd, 12))
            if key in rows:
                rows[key]["series"] = "both"
            else:
                rows[key] = {"lr": key[0], "wd": key[1], "eta_lambda": x, "series": series}
    return pd.DataFrame(list(rows.values()))


def grid(cfg: Config) -> pd.DataFrame:
    """Every SGD configuration of the chapter, one row per configuration and seed (columns ``COLUMNS``).

    ``fixed``: the norm is held (at the norm that gives the ELR ``elr0``, or at ρ₀ without one); ``bn`` False: the no-BN
    control; roles ``panel`` (the runs at several η, λ = ``wd``), ``scan`` and ``series`` (the period scan),
    ``control`` (``fixed_destab``: the norm held where the ELR is ``control_elr``; ``no_wd``; for the MLP
    ``no_bn``) and ``twin`` (the
    free-norm run the controls are compared with). ``run``: ``sgd`` (the main run, ``epochs``) or ``long`` (the
    scan's smallest ηλ, ``scan_epochs``). Panels and controls have ``n_seeds`` seeds, the scan ``scan_seeds``.
    """
    nan = float("nan")
    rows: dict[tuple, dict] = {}

    def add(lr, wd, *, fixed=False, bn=True, elr0=nan, run="sgd", **roles):
        key = (round(lr, 12), round(wd, 12), fixed, bn, None if elr0 != elr0 else elr0, run)
        row = rows.setdefault(key, {"lr": key[0], "wd": key[1], "fixed": fixed, "bn": bn, "elr0": elr0,
                                    "panel": False, "scan": False, "series": "", "control": "", "twin": False,
                                    "run": run})
        for k, v in roles.items():
            row[k] = v if not isinstance(v, bool) else row[k] or v

    for lr in cfg.lrs:
        add(lr, cfg.wd, panel=True)
    smallest = min(cfg.scan_etalambdas)
    for r in scan_configs(cfg).itertuples():
        add(r.lr, r.wd, scan=True, series=r.series, run="long" if r.eta_lambda == smallest else "sgd")
    add(cfg.control_lr, cfg.wd, twin=True)
    add(cfg.control_lr, cfg.wd, fixed=True, elr0=cfg.control_elr, control="fixed_destab")
    add(cfg.control_lr, 0.0, control="no_wd")
    if cfg.model == "mlp":  # the no-BN variant exists for the MLP only
        add(cfg.control_lr, cfg.wd, bn=False, control="no_bn")
    out = []
    for row in rows.values():
        n = cfg.scan_seeds if row["scan"] else cfg.n_seeds
        if row["scan"] and (row["panel"] or row["twin"]):
            n = max(n, cfg.n_seeds)
        out += [{**row, "seed": cfg.seed + s} for s in range(n)]
    return pd.DataFrame(out, columns=list(COLUMNS))


def make_optimizer(model: nn.Module, params: list[Tensor], labels: pd.DataFrame) -> optim.SGD:
    """SGD with coupled weight decay, no momentum, one (η, λ) per configuration; the configurations with
    ``fixed`` have their scale-invariant weights held at their initial norm (a masked
    :class:`lrlab.probes.scale_invariant.Projector`, the official code's ``fix_si_pnorm``)."""
    fixed = labels["fixed"].to_numpy(bool) if "fixed" in labels else np.zeros(len(labels), bool)
    return optim.SGD(params, lr=labels["lr"].tolist(), wd=labels["wd"].tolist(),
                     sphere=si.Projector(model, mask=fixed))


def set_elr_(model: nn.Module, labels: pd.DataFrame) -> None:
    """Rescale the scale-invariant weights of the configurations with a finite ``elr0`` so that η/ρ² = ``elr0``
    (the network's function is unchanged: only where the run starts on the norm axis)."""
    if "elr0" not in labels:
        return
    target = labels["elr0"].to_numpy(float)
    mask = np.isfinite(target)
    if not mask.any():
        return
    rho0 = np.where(mask, np.sqrt(labels["lr"].to_numpy(float) / np.where(mask, target, 1.0)), 1.0)
    with torch.no_grad():
        optim.rescale_to_sphere_(si.si_parameters(model), torch.as_tensor(rho0, dtype=torch.float64),
                                 torch.as_tensor(mask))


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
        all_trained: bool = False, probe_every: int | None = None, progress: bool | None = None) -> Run:
    """Train every configuration of ``labels`` (columns ``lr``, ``wd``, ``seed``, optional ``fixed``, ``bn``,
    ``elr0``) at once.

    SGD from :func:`make_optimizer`, constant learning rate; a :class:`~lrlab.probes.periodic.StepRecorder` records
    every step; the SI probe (:func:`lrlab.probes.scale_invariant.si_probe`) measures full-train-set
    loss/accuracy (train-mode BN) and test accuracy (eval-mode BN) every ``probe_every`` epochs (default
    ``cfg.probe_every``).
    """
    labels = labels.reset_index(drop=True)
    seeds = labels["seed"].tolist()
    if cfg.model == "mlp" and ds.x.dim() > 2:  # images for an MLP: flatten them
        ds = Dataset(ds.x.flatten(1), ds.y, ds.x_test.flatten(1), ds.y_test, ds.name)
    in_dim = int(np.prod(ds.x.shape[1:]))
    plain = ~labels["bn"].to_numpy(bool) if "bn" in labels else None
    model = build_model(cfg, seeds, in_dim, all_trained=all_trained, plain=plain).to(ds.x.device)
    set_elr_(model, labels)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(model, params, labels)
    rec = pr.StepRecorder(model, cross_entropy)
    probe = si.si_probe(labels["lr"].tolist(), ds.x, ds.y, ds.x_test, ds.y_test, batch_size=cfg.batch_size,
                        grad=False)
    res = train(model, rec.loss_fn, Batches(ds.x, ds.y, batch_size, seeds), opt, epochs, probes=[probe],
                probe_every=min(probe_every or cfg.probe_every, epochs), after_step=[rec], labels=labels,
                progress=progress, desc=f"periodic/{name}")
    rec.remove()
    spe = -(-len(ds.x) // batch_size)
    every = max(1, min(cfg.every, rec.steps))
    series = rec.frame(every, labels["lr"].tolist(), labels)
    return Run(name, labels, series, res.history, rec.arrays(), res.status, res.wall_s, spe)


@dataclass
class Results:
    """Everything the chapter measures: the main SGD run, the long scan run, the full-batch GD and the
    all-parameters runs."""

    sgd: Run
    long: Run
    gd: Run
    all_trained: Run

    @property
    def runs(self) -> dict[str, Run]:
        """The two SGD runs by the name ``grid`` gives them (``sgd``, ``long``)."""
        return {"sgd": self.sgd, "long": self.long}

    @property
    def wall_s(self) -> float:
        return self.sgd.wall_s + self.long.wall_s + self.gd.wall_s + self.all_trained.wall_s


def run_all(cfg: Config, ds: Dataset, progress: bool | None = None) -> Results:
    """The chapter's four batched runs."""
    g = grid(cfg)
    sgd = run(cfg, ds, g[g.run == "sgd"], name="sgd", epochs=cfg.epochs, batch_size=cfg.batch_size,
              progress=progress)
    long = run(cfg, ds, g[g.run == "long"], name="long", epochs=cfg.scan_epochs, batch_size=cfg.batch_size,
               probe_every=cfg.scan_epochs, progress=progress)  # the chapter reads no test accuracy of it
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
    return Results(sgd, long, gd, at)
