"""Periodic behaviour of training with batch normalization and weight decay (Lobacheva et al. 2021).

Chapter ``chapters/periodic_bn_wd.ipynb``. A fully scale-invariant network (BN without affine parameters, a
frozen head of norm 10: :class:`lrlab.models.SIMLP`) is trained by plain SGD with coupled weight decay, no
momentum and a constant learning rate. The paper (NeurIPS 2021, arXiv 2106.15739) shows that training then
destabilises again and again: the loss converges, weight decay shrinks the norm ρ of the scale-invariant weights
exponentially so that the effective learning rate η/ρ² climbs, the optimisation blows up (loss and effective
gradient spike), the big gradient steps inflate ρ (the ELR is reset) and a new period begins (its Figure 2).

Every (lr, wd, seed) configuration of one experiment is trained at once as one batched model; a
:class:`lrlab.probes.periodic.StepRecorder` records every step, the destabilisation detector
(:func:`lrlab.probes.periodic.detect`) finds the events, and :func:`scorecard` judges claims C1–C9 seed by seed.
The paper's scale (ConvNetSI-32 on CIFAR-10, 1000 epochs, study notes §1.3) is the preset ``paper``; the book
runs a 64-wide two-hidden-layer SI MLP on 256 Fashion-MNIST images (14×14), where one step costs about half a
millisecond per configuration and a period lasts a few hundred steps (see the chapter for why 256 images).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from lrlab import data, optim
from lrlab.claims import Scorecard, verdict_from_seeds
from lrlab.config import Config, Param, Spec
from lrlab.models import SIMLP, ConvNetSI, cross_entropy
from lrlab.probes import periodic as pr
from lrlab.probes import scale_invariant as si
from lrlab.train import Batches, train

TITLE = "Periodic behaviour of training with batch normalization and weight decay"

# ---- criteria, fixed from the paper before any run of the book's experiment ---------------------------------

SLOPE_TOL = 0.3
"""C3: the fitted log–log slope of the mean period against ηλ must lie in [−1 − 0.3, −1 + 0.3]. From the paper's
Figure 2 (λ = 1e-3): the mean interval between destabilisations is ≈ 220 epochs at η = 0.01 and ≈ 65 epochs at
η = 0.03, a two-point slope of ≈ −1.1, with a spread of intervals within one run of about ±30 % that makes that
slope uncertain by ≈ ±0.2; the recursion predicts −1 when the ELR ratio of a period does not depend on ηλ."""
ORDER_MIN = 0.8
"""C2: at least this fraction of the complete periods shows the whole mechanism in order (the paper shows it in
every period of Figure 2; 0.8 leaves room for a period cut short by mini-batch noise at our tiny scale)."""
RATE_RANGE = (0.8, 1.05)
"""C7: late in a period ρ decays at this fraction of the weight-decay rate −ln(1 − ηλ). In the paper's Figure 2
(η = 0.01) ρ halves (12.6 → ≈ 6) in the first 200 epochs where weight decay alone gives ×0.46: ≈ 0.95 of the
rate. Above 1 is impossible for an exact SI model (the gradient only pushes ρ outwards) beyond noise."""
RESIDUAL_MAX = 1e-4
"""C8: the largest relative one-step error of the norm recursion over every step of every free-norm run; float32
rounding gives ~1e-7, a weight that BN's ε no longer makes scale-invariant gives ⟨∇L, w⟩ ≠ 0 and more."""
STATIONARY = 1.5
"""C6: in the equilibrium the median ELR of the last quarter of training is within this factor of the third
quarter's (the paper's η = 1.0 curve: ELR 7e-4–1.5e-3 with no trend after the first epochs)."""


def _epochs_fit(values: dict) -> None:
    for name in ("probe_every",):
        if values[name] > values["epochs"]:
            raise ValueError(
                f"parameter {name!r} = {values[name]!r} is not allowed: it must be <= epochs ({values['epochs']})"
            )
    if values["n_test"] < 1:
        raise ValueError(f"parameter 'n_test' = {values['n_test']!r} is not allowed: it must be >= 1")
    for lr in (*values["lrs"], *values["scan_lrs"], values["control_lr"]):
        if lr * values["wd"] >= 1:
            raise ValueError(f"parameter 'wd' = {values['wd']!r} is not allowed with lr = {lr:g}: lr * wd must be < 1")
    for name in ("gd", "all_trained"):
        if values[f"{name}_lr"] * values[f"{name}_wd"] >= 1:
            raise ValueError(f"parameter '{name}_wd' = {values[f'{name}_wd']!r} is not allowed: "
                             f"{name}_lr * {name}_wd must be < 1")
    if len(set(values["scan_lrs"])) < 2:
        raise ValueError(
            f"parameter 'scan_lrs' = {values['scan_lrs']!r} is not allowed: it needs >= 2 distinct values"
        )
    if len(values["lrs"]) < 2:
        raise ValueError(f"parameter 'lrs' = {values['lrs']!r} is not allowed: it needs >= 2 learning rates")


def _p(name, kind, quick, book, paper, doc, **kw) -> Param:
    return Param(name, kind, {"quick": quick, "book": book, "paper": paper}, doc, **kw)


SPEC = Spec(
    "periodic_bn_wd",
    (
        _p("dataset", "str", "fashion_mnist", "fashion_mnist", "cifar10", "training data",
           choices=("fashion_mnist", "cifar10")),
        _p("model", "str", "mlp", "mlp", "convnet", "SI MLP (2 hidden layers) or the official ConvNetSI",
           choices=("mlp", "convnet")),
        _p("width", "int", 64, 64, 32, "hidden width of the MLP / channel width of ConvNetSI", low=1, high=4096),
        _p("n_train", "int", 256, 256, 50_000, "training images (the first n of the train split)", low=2,
           high=60_000),
        _p("n_test", "int", 1000, 1000, 10_000, "test images (the first n of the test split)", low=1, high=10_000),
        _p("pool", "int", 2, 2, 1, "average-pool Fashion-MNIST images by this factor (2: 14×14)",
           low=1, high=28),
        _p("batch_size", "int", 128, 128, 128, "mini-batch size (the paper: 128)", low=1, high=100_000),
        _p("epochs", "int", 400, 2000, 1000, "training epochs of the SGD runs", low=1, high=1_000_000),
        _p("lrs", "floats", (0.4, 2.0), (0.02, 0.2, 0.4, 2.0), (0.001, 0.01, 0.03, 1.0),
           "learning rates of the Figure 2 panels, at weight decay wd", low=0.0, low_open=True, high=100.0),
        _p("wd", "float", 0.01, 0.01, 1e-3, "weight decay λ of the panels (coupled L2, as torch's SGD)",
           low=0.0, high=1.0),
        _p("scan_lrs", "floats", (0.2, 0.4), (0.1, 0.15, 0.2, 0.3, 0.4), (0.005, 0.01, 0.02, 0.03),
           "learning rates of the period-vs-ηλ scan, at weight decay wd", low=0.0, low_open=True, high=100.0),
        _p("control_lr", "float", 0.1, 0.1, 0.01, "learning rate of the fixed-norm control and of its free-norm twin",
           low=0.0, low_open=True, high=100.0),
        _p("n_seeds", "int", 1, 3, 3, "seeds per configuration (seed, seed+1, ...)", low=1, high=64),
        _p("gd_n", "int", 256, 256, 5_000, "training images of the full-batch GD control", low=2, high=60_000),
        _p("gd_epochs", "int", 400, 1000, 1000, "epochs (= steps) of the full-batch GD control", low=1,
           high=1_000_000),
        _p("gd_lr", "float", 0.1, 0.1, 0.01, "learning rate of the full-batch GD control", low=0.0, low_open=True,
           high=100.0),
        _p("gd_wd", "float", 0.05, 0.05, 1e-2, "weight decay of the full-batch GD control", low=0.0, high=1.0),
        _p("all_trained_lr", "float", 2.0, 2.0, 0.01, "learning rate of the all-parameters-trained variant",
           low=0.0, low_open=True, high=100.0),
        _p("all_trained_wd", "float", 1e-3, 1e-3, 1e-3, "weight decay of the all-parameters-trained variant",
           low=0.0, high=1.0),
        _p("all_trained_epochs", "int", 300, 2000, 1000, "epochs of the all-parameters-trained variant", low=1,
           high=1_000_000),
        _p("every", "int", 10, 10, 391, "steps per recorded block (the paper: one epoch = 391 steps)", low=1,
           high=100_000),
        _p("probe_every", "int", 25, 25, 1, "epochs between test-accuracy probes", low=1, high=100_000),
        _p("bn_eps", "float", 1e-5, 1e-5, 1e-5, "BN's ε (torch's default 1e-5)", low=0.0, high=1.0),
        _p("window", "int", 50, 50, 3_910, "steps within which loss spike, gradient spike and norm jump coincide",
           low=1, high=1_000_000),
        _p("loss_factor", "float", 100.0, 100.0, 100.0, "loss spike: rise above the minimum since the last event",
           low=1.0, low_open=True, high=1e12),
        _p("grad_factor", "float", 100.0, 100.0, 100.0, "effective-gradient spike: rise above its minimum",
           low=1.0, low_open=True, high=1e12),
        _p("elr_drop", "float", 2.0, 2.0, 2.0, "norm jump: the ELR falls at least this factor", low=1.0,
           low_open=True, high=1e6),
    ),
    checks=(_epochs_fit,),
)


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


# ---- analysis ------------------------------------------------------------------------------------------------


def periodic_lrs(cfg: Config) -> list[float]:
    """The panel learning rates expected to be periodic: all but the smallest and the largest (the paper's
    η = 0.001 is too slow to destabilise within its budget and η = 1.0 sits in an equilibrium)."""
    lrs = sorted(cfg.lrs)
    return lrs[1:-1] if len(lrs) > 2 else lrs[:1]


def detector(cfg: Config) -> pr.Detector:
    return pr.Detector(cfg.window, cfg.loss_factor, cfg.grad_factor, cfg.elr_drop)


def spikes(r: Run, cfg: Config) -> pd.DataFrame:
    """Every spike of every configuration of a run (see :func:`lrlab.probes.periodic.detect`), with labels."""
    t = pr.detect_runs(r.series, ("config",), detector(cfg))
    return t.merge(r.labels.reset_index(drop=True).rename_axis("config").reset_index(), on="config")


def _one(r: Run, c: int) -> pd.DataFrame:
    return r.series[r.series.config == c].sort_values("step")


def period_table(r: Run, cfg: Config, sp: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per configuration: ``events`` (destabilisations), ``spikes``, ``periods`` (complete ones),
    ``mean_period`` (steps), ``eta_lambda`` = ηλ, the labels, and the predicted period of weight decay alone
    for the run's median ELR ratio (:func:`lrlab.probes.periodic.predicted_period`)."""
    sp = spikes(r, cfg) if sp is None else sp
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        s = sp[sp.config == c]
        ev = pr.events(s)
        per = pr.periods(ev["step"])
        ratio = float(np.median(ev["elr_before"] / ev["elr_after"])) if len(ev) else float("nan")
        rows.append({
            "config": c, **lab.to_dict(), "eta_lambda": lab["lr"] * lab["wd"], "spikes": len(s),
            "events": len(ev), "periods": len(per),
            "mean_period": float(per.mean()) if len(per) else float("nan"),
            "elr_ratio": ratio,
            "wd_period": float(pr.predicted_period(lab["lr"], lab["wd"], ratio)) if len(ev) and lab["wd"] > 0
            else float("nan"),
        })
    return pd.DataFrame(rows)


def phases(r: Run, cfg: Config, sp: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decay rates (:func:`~lrlab.probes.periodic.decay_phases`) and mechanism order
    (:func:`~lrlab.probes.periodic.mechanism`) of every complete period of every free-norm configuration."""
    sp = spikes(r, cfg) if sp is None else sp
    rates, order = [], []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if lab.get("fixed", False) or lab["wd"] == 0:
            continue
        ev = pr.events(sp[sp.config == c])
        s = _one(r, c)
        rt = pr.decay_phases(s["step"], s["rho"], s["elr"], ev, lab["lr"], lab["wd"])
        mo = pr.mechanism(s["step"], s["rho"], s["elr"], s["eff_grad"], ev, detector(cfg))
        for t, out in ((rt, rates), (mo, order)):
            if len(t):
                t = t.assign(config=c, **{k: lab[k] for k in ("lr", "wd", "seed")})
                out.append(t)
    extra = ["config", "lr", "wd", "seed"]
    rate_cols = ["period", "start", "end", "rho_rate", "elr_rate", "wd_rate", "ratio", "elr_ratio", *extra]
    order_cols = ["period", "spike_before_jump", "reset", "converges", "decays", "ordered", *extra]
    return (pd.concat(rates, ignore_index=True) if rates else pd.DataFrame(columns=rate_cols),
            pd.concat(order, ignore_index=True) if order else pd.DataFrame(columns=order_cols))


def fits(table: pd.DataFrame) -> dict[int, pr.PowerLaw]:
    """Per seed, the power law of the mean period against ηλ over the scan configurations with a period."""
    out = {}
    for seed, g in table[table.scan].groupby("seed"):
        g = g[g.periods > 0]
        if g["eta_lambda"].nunique() >= 2:
            out[int(seed)] = pr.fit_loglog(g["eta_lambda"], g["mean_period"])
    return out


def recursion(r: Run) -> pd.DataFrame:
    """Per free-norm configuration: the largest one-step error of the norm recursion and the smallest pre-BN
    variance reached (compare with BN's ε)."""
    a = r.steps
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if lab.get("fixed", False):
            continue
        res = pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], lab["lr"],
                                   lab["wd"])
        rows.append({"config": c, **lab.to_dict(), "max_residual": float(np.nanmax(np.abs(res))),
                     "min_bn_var": float(np.nanmin(a["bn_var"][:, c])), "min_rho": float(a["rho_after"][:, c].min())})
    return pd.DataFrame(rows)


def recursion_trace(r: Run, c: int) -> pd.DataFrame:
    """Measured ρ of configuration ``c`` at every step next to the recursion driven by the measured gradient
    norms from ρ₀ (:func:`~lrlab.probes.periodic.predict_rho`) and weight decay alone from each block start."""
    a, lab = r.steps, r.labels.iloc[c]
    pred = pr.predict_rho(a["rho_before"][0, c], lab["lr"], lab["wd"], a["grad_norm"][:, c])
    return pd.DataFrame({"step": np.arange(len(pred)), "measured": np.r_[a["rho_before"][0, c], a["rho_after"][:, c]],
                         "recursion": pred})


def equilibrium(r: Run, c: int) -> dict[str, float]:
    """Median ELR of the third and last quarter of training, their ratio, and the median loss of the last half."""
    s = _one(r, c)
    n = len(s)
    q3, q4 = s["elr"].iloc[n // 2: 3 * n // 4].median(), s["elr"].iloc[3 * n // 4:].median()
    return {"elr_q3": float(q3), "elr_q4": float(q4), "ratio": float(q4 / q3),
            "loss_late": float(s["loss"].iloc[n // 2:].median())}


# ---- claims --------------------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """Tables derived from :class:`Results` that the chapter and the scorecard use."""

    spikes: pd.DataFrame
    table: pd.DataFrame
    rates: pd.DataFrame
    order: pd.DataFrame
    fits: dict[int, pr.PowerLaw]
    recursion: pd.DataFrame
    gd_table: pd.DataFrame
    at_table: pd.DataFrame
    at_recursion: pd.DataFrame


def analyse(cfg: Config, res: Results) -> Analysis:
    sp = spikes(res.sgd, cfg)
    table = period_table(res.sgd, cfg, sp)
    rates, order = phases(res.sgd, cfg, sp)
    return Analysis(sp, table, rates, order, fits(table), recursion(res.sgd), period_table(res.gd, cfg),
                    period_table(res.all_trained, cfg), recursion(res.all_trained))


def event_elrs(cfg: Config, an: Analysis) -> dict[str, dict[str, list[float]]]:
    """Per learning rate of the free-norm SGD runs at ``cfg.wd`` that destabilise, and per seed: the median ELR
    just before and just after its destabilisations (NaN for a seed without one). The book's synthesis
    (:mod:`lrlab.synthesis`) sets these against the sphere chapter's regime boundaries."""
    t, sp = an.table, an.spikes
    free = t[~t.fixed & (t.wd == cfg.wd)]
    seeds = sorted(free.seed.unique())
    out: dict[str, dict[str, list[float]]] = {"elr_before": {}, "elr_after": {}}
    for lr, g in free.groupby("lr"):
        if not (g.events > 0).any():
            continue
        per_seed = [pr.events(sp[sp.config.isin(g[g.seed == s].config)]) for s in seeds]
        for key, by_lr in out.items():
            by_lr[f"{lr:g}"] = [float(np.median(ev[key])) if len(ev) else float("nan") for ev in per_seed]
    return out


def scorecard(cfg: Config, res: Results, an: Analysis | None = None) -> Scorecard:
    """Claims C1–C9 of the chapter, each judged seed by seed (criteria: the module constants above)."""
    an = analyse(cfg, res) if an is None else an
    card = Scorecard("periodic_bn_wd", cfg.scale)

    def verdict(holds: list[bool]) -> str:  # no run to judge counts as not reproduced
        return verdict_from_seeds(holds) if holds else "not reproduced"

    t = an.table
    seeds = sorted(t.seed.unique())
    free = t[~t.fixed]
    lrs = sorted(cfg.lrs)
    mid = periodic_lrs(cfg)
    src = "Lobacheva et al. 2021"

    # C1
    pan = free[free.panel & free.lr.isin(mid) & (free.wd == cfg.wd)]
    c1 = [bool((g.events >= 3).all()) for _, g in pan.groupby("seed")]
    card.add(
        "C1", "Training with BN and weight decay destabilises repeatedly without diverging.",
        paper="η = 0.01: destabilisations at ≈ epochs 200, 400, 555, 860 of 1000 (Figure 2)",
        criterion=f"every seed: at each intermediate panel η ({', '.join(f'{v:g}' for v in mid)}) ≥ 3 "
        "destabilisations (≥ 2 complete periods), no run diverged",
        value={"events": {f"{lr:g}": pan[pan.lr == lr].events.tolist() for lr in mid}, **event_elrs(cfg, an)},
        measured="destabilisations per seed: " + "; ".join(
            f"η={lr:g}: {pan[pan.lr == lr].events.tolist()}" for lr in mid),
        verdict=verdict([a and "diverged" not in res.sgd.status for a in c1]), source=f"{src}, §3, Fig. 2",
    )
    # C2
    o = an.order
    frac = {int(s): float(o[o.seed == s].ordered.mean()) if (o.seed == s).any() else float("nan") for s in seeds}
    card.add(
        "C2", "Inside each period: convergence, exponential norm decay, spike of loss and effective gradient, "
        "norm jump, ELR reset.",
        paper="every period of Figure 2 follows this order (§3)",
        criterion=f"every seed: ≥ {ORDER_MIN:.0%} of the complete periods of the free-norm SGD runs have the "
        "gradient spike no later than the norm peak, an ELR reset ≥ elr_drop, a gradient fall ≥ grad_factor and "
        "the ELR climbing back ≥ elr_drop before the next event",
        value=frac,
        measured="fraction of periods in order per seed: " + ", ".join(
            f"{v:.2f} of {int((o.seed == s).sum()) if len(o) else 0}" for s, v in frac.items()),
        verdict=verdict([np.isfinite(v) and v >= ORDER_MIN for v in frac.values()]),
        source=f"{src}, §3",
    )
    # C3
    slopes = {s: an.fits[s].slope if s in an.fits else float("nan") for s in seeds}
    npts = {s: an.fits[s].n if s in an.fits else 0 for s in seeds}
    card.add(
        "C3", "The period scales like 1/(ηλ).",
        paper="mean period ≈ 220 epochs at η = 0.01 and ≈ 65 at η = 0.03 (λ = 1e-3): slope ≈ −1.1 (Figure 2); "
        "weight decay alone predicts −1",
        criterion=f"every seed: log–log slope of the mean period against ηλ over ≥ 4 scan values in "
        f"[{-1 - SLOPE_TOL:.1f}, {-1 + SLOPE_TOL:.1f}]",
        value={int(s): v for s, v in slopes.items()},
        measured="slope per seed: " + ", ".join(f"{v:.2f} ({npts[s]} points)" for s, v in slopes.items()),
        verdict=verdict([npts[s] >= 4 and abs(v + 1) <= SLOPE_TOL for s, v in slopes.items()]),
        source=f"{src}, Fig. 2; study notes §0",
        expected_at=(),
        note="not asserted: at scale book each mean period rests on two or three periods, and the timing of a "
        "destabilisation is sensitive to float rounding; replacing the written-out batch-norm formula by torch's "
        "fused kernel (equal to 1e-6) moved seed 0's slope from −0.81 to −0.59, so the verdict is reported, not "
        "asserted",
    )
    # C4
    ctl = t[t.control]
    ref = free[(free.lr == cfg.control_lr) & (free.wd == cfg.wd)]
    c4 = []
    for s in seeds:
        a, b = ctl[ctl.seed == s], ref[ref.seed == s]
        c4.append(bool(len(a) and (a.spikes == 0).all() and len(b) and (b.events >= 2).all()))
    card.add(
        "C4", "With the norm fixed the periods vanish.",
        paper="training with the SI norm fixed at its initial value shows no destabilisations (§5, fix_si_pnorm)",
        criterion="every seed: no loss-and-gradient spike at all in the fixed-norm run, while the free-norm run at "
        "the same (η, λ) has ≥ 2 destabilisations",
        value={"fixed_spikes": ctl.spikes.tolist(), "free_events": ref.events.tolist(),
               "fixed_elr": [float(_one(res.sgd, int(c)).elr.median()) for c in ctl.config]},
        measured=f"spikes at fixed norm: {ctl.spikes.tolist()}; destabilisations with free norm: "
        f"{ref.events.tolist()}",
        verdict=verdict(c4), source=f"{src}, §5",
    )
    # C5
    gd = an.gd_table
    c5 = [bool(r.events >= 2) for r in gd.itertuples()]
    card.add(
        "C5", "Periodic behaviour persists with full-batch gradient descent.",
        paper="periodic behaviour is not caused by stochasticity: it also appears with full-batch GD (§5, --fbgd)",
        criterion="every seed: ≥ 2 destabilisations in the full-batch GD run",
        value=gd.events.tolist(),
        measured=f"destabilisations per seed: {gd.events.tolist()}; mean period "
        + ", ".join(f"{v:.0f}" for v in gd.mean_period) + " steps",
        verdict=verdict(c5), source=f"{src}, §5",
    )
    # C6
    big = free[free.panel & (free.lr == lrs[-1]) & (free.wd == cfg.wd)]
    eq = {int(r.seed): equilibrium(res.sgd, int(r.config)) for r in big.itertuples()}
    c6 = [bool(r.events == 0 and 1 / STATIONARY <= eq[int(r.seed)]["ratio"] <= STATIONARY) for r in big.itertuples()]
    card.add(
        "C6", "A large learning rate settles into an equilibrium without periods.",
        paper="η = 1.0: ρ settles near 35, ELR ≈ 7e-4–1.5e-3, loss flat ≈ 0.3–0.5, no destabilisation (Figure 2)",
        criterion=f"every seed, at the largest panel η = {lrs[-1]:g}: no destabilisation and the median ELR of the "
        f"last quarter within ×{STATIONARY} of the third quarter's",
        value={s: {"events": int(big[big.seed == s].events.iloc[0]), **v} for s, v in eq.items()},
        measured="; ".join(f"seed {s}: {int(big[big.seed == s].events.iloc[0])} events, ELR ratio "
                           f"{v['ratio']:.2f}, late loss {v['loss_late']:.2f}" for s, v in eq.items()),
        verdict=verdict(c6), source=f"{src}, Fig. 2",
    )
    # C7
    rt = an.rates
    med = {int(s): float(rt[rt.seed == s].ratio.median()) if len(rt) and (rt.seed == s).any() else float("nan")
           for s in seeds}
    card.add(
        "C7", "Between events ρ decays exponentially at the weight-decay rate of the recursion.",
        paper="ρ 12.6 → ≈ 6 over the first 200 epochs at η = 0.01 where (1 − ηλ) alone gives ×0.46: ≈ 0.95 of the "
        "rate (Figure 2; recursion of §3)",
        criterion=f"every seed: median over periods of (fitted decay rate of ρ in the late half of the period) / "
        f"−ln(1 − ηλ) in [{RATE_RANGE[0]}, {RATE_RANGE[1]}]",
        value=med,
        measured="median rate ratio per seed: " + ", ".join(f"{v:.3f}" for v in med.values()),
        verdict=verdict([RATE_RANGE[0] <= v <= RATE_RANGE[1] for v in med.values()]),
        source=f"{src}, §3; study notes §0",
    )
    # C8
    rc = an.recursion
    per_seed = {int(s): (float(g.max_residual.max()), float(g.min_bn_var.min())) for s, g in rc.groupby("seed")}
    card.add(
        "C8", "Scale invariance holds in these runs: BN's ε is never reached and the norm recursion is exact.",
        paper="the mechanism needs exact scale invariance; ε is what the instability literature blames (§2, §6)",
        criterion=f"every seed: the norm recursion holds at every step of every free-norm run to "
        f"{RESIDUAL_MAX:g} (relative), which needs the smallest pre-BN variance ≫ ε = {cfg.bn_eps:g}",
        value={s: {"max_residual": a, "min_bn_var": b} for s, (a, b) in per_seed.items()},
        measured="; ".join(f"seed {s}: residual {a:.1e}, smallest pre-BN variance {b:.1e}"
                           for s, (a, b) in per_seed.items()),
        verdict=verdict([a <= RESIDUAL_MAX for a, _ in per_seed.values()]),
        source=f"{src}, §6; study notes §1.7",
    )
    # C9
    at = an.at_table
    c9 = [bool(r.events >= 2) for r in at.itertuples()]
    card.add(
        "C9", "The all-parameters-trained variant (BN affine, trainable head, all decayed) is periodic too.",
        paper="periodic behaviour in practical settings with all parameters trained (Figure 1)",
        criterion="every seed: ≥ 2 destabilisations of the SI weights' norm",
        value=at.events.tolist(),
        measured=f"destabilisations per seed: {at.events.tolist()}",
        verdict=verdict(c9), source=f"{src}, Fig. 1",
    )
    return card





def numbers(cfg: Config, res: Results, an: Analysis) -> dict[str, float | str]:
    """The numbers the chapter's prose quotes (glued as ``pb-<key>``), all measured, none typed in."""
    t, sp = an.table, an.spikes
    free = t[~t.fixed]
    mid = periodic_lrs(cfg)
    ev = pr.events(sp[sp.config.isin(free[free.lr.isin(mid) & (free.wd == cfg.wd)].config)])
    big = free[(free.lr == max(cfg.lrs)) & (free.wd == cfg.wd)]
    late = pd.concat([_one(res.sgd, int(c)).iloc[len(_one(res.sgd, int(c))) // 2:] for c in big.config])
    eq_pred = float(np.median(pr.equilibrium_elr(max(cfg.lrs), cfg.wd, late.eff_grad)))
    rc = an.recursion
    slopes = [an.fits[s].slope for s in sorted(an.fits)]
    gd_ev = pr.events(spikes(res.gd, cfg))
    return {
        "configs": int(len(res.sgd.labels)),
        "steps": int(res.sgd.series.step.max()),
        "wall": float(res.wall_s),
        "mid-lrs": ", ".join(f"{v:g}" for v in mid),
        "events-mid": "; ".join(
            ", ".join(str(int(v)) for v in free[(free.lr == lr) & (free.wd == cfg.wd)].events) + f" at η = {lr:g}"
            for lr in mid),
        "loss-spike": float(np.median(ev.loss_peak / ev.loss_base)) if len(ev) else float("nan"),
        "grad-spike": float(np.median(ev.grad_peak / ev.grad_base)) if len(ev) else float("nan"),
        "elr-before": float(np.median(ev.elr_before)) if len(ev) else float("nan"),
        "elr-after": float(np.median(ev.elr_after)) if len(ev) else float("nan"),
        "order-frac": float(an.order.ordered.mean()) if len(an.order) else float("nan"),
        "n-periods": int(len(an.order)),
        "rate-ratio": float(an.rates.ratio.median()) if len(an.rates) else float("nan"),
        "max-residual": float(rc.max_residual.max()),
        "min-bn-var": float(rc.min_bn_var.min()),
        "at-min-bn-var": float(an.at_recursion.min_bn_var.min()),
        "at-max-residual": float(an.at_recursion.max_residual.max()),
        "slopes": ", ".join(f"{v:.2f}" for v in slopes),
        "slope-mean": float(np.mean(slopes)) if slopes else float("nan"),
        "slope-sd": float(np.std(slopes, ddof=1)) if len(slopes) > 1 else float("nan"),
        "fixed-spikes": int(t[t.control].spikes.sum()),
        "gd-events": ", ".join(str(int(v)) for v in an.gd_table.events),
        "gd-elr-before": float(np.median(gd_ev.elr_before)) if len(gd_ev) else float("nan"),
        "at-events": ", ".join(str(int(v)) for v in an.at_table.events),
        "big-events": int(big.events.sum()),
        "eq-elr": float(late.elr.median()),
        "eq-elr-pred": eq_pred,
        "eq-loss": float(late.loss.median()),
    }


# ---- figures -------------------------------------------------------------------------------------------------


def _seed_rows(r: Run, seed: int, **match) -> pd.DataFrame:
    lab = r.labels.reset_index(drop=True)
    keep = lab.seed == seed
    for k, v in match.items():
        keep &= lab[k] == v
    return lab[keep]


def _mark_events(ax, ev: pd.DataFrame, color) -> None:
    for s in ev["step"]:
        ax.axvline(s, color=color, lw=0.6, ls=":", alpha=0.8)


def fig_panels(res: Results, an: Analysis, cfg: Config, seed: int | None = None):
    """The paper's Figure 2 for the panel learning rates (one seed): train loss, test error, ρ, and the phase
    diagram (mean effective gradient against ELR, log–log) in which every period is a loop."""
    from lrlab import plots

    seed = cfg.seed if seed is None else seed
    r = res.sgd
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=2, nrows=2, height=2.5)
    (a_loss, a_err), (a_rho, a_phase) = axes
    for c, lab in _seed_rows(r, seed, wd=cfg.wd, fixed=False).iterrows():
        if lab.lr not in cfg.lrs:
            continue
        s, col, name = _one(r, c), pal[lab.lr], plots.lr_label(lab.lr)
        p = r.probes[r.probes.config == c]
        a_loss.plot(s.step, s.loss, color=col, lw=0.8, label=name)
        a_err.plot(p.step, 100 * (1 - p.test_acc), color=col, lw=0.9)
        a_rho.plot(s.step, s.rho, color=col, lw=0.9)
        a_phase.plot(s.elr, s.eff_grad, color=col, lw=0.5, alpha=0.8)
        a_phase.plot(s.elr.iloc[:1], s.eff_grad.iloc[:1], "o", color=col, ms=3)
    a_loss.set(yscale="log", ylabel="train loss", xlabel="step")
    a_err.set(ylabel="test error (%)", xlabel="step")
    a_rho.set(yscale="log", ylabel="ρ (SI weight norm)", xlabel="step")
    a_phase.set(xscale="log", yscale="log", xlabel="ELR η/ρ²", ylabel="mean effective gradient")
    a_loss.legend(fontsize="small", ncols=2)
    return fig


def fig_mechanism(res: Results, an: Analysis, cfg: Config, lr: float, seed: int | None = None):
    """One run between its events: loss and effective gradient, ρ against the norm recursion driven by the
    measured gradient norms and against weight decay alone, and the ELR; dotted lines mark the events."""
    from lrlab import plots

    seed = cfg.seed if seed is None else seed
    r = res.sgd
    c = int(_seed_rows(r, seed, lr=lr, wd=cfg.wd, fixed=False).index[0])
    s = _one(r, c)
    ev = pr.events(an.spikes[an.spikes.config == c])
    rt = an.rates[an.rates.config == c] if len(an.rates) else an.rates
    tr = recursion_trace(r, c)
    fig, axes = plots.figure(ncols=1, nrows=3, height=1.7, sharex=True)
    a1, a2, a3 = axes[:, 0]
    a1.plot(s.step, s.loss, color="C0", lw=0.8, label="train loss")
    a1.plot(s.step, s.eff_grad, color="C3", lw=0.8, label="effective gradient")
    a1.set(yscale="log")
    a1.legend(fontsize="small", ncols=2, loc="lower left")
    a2.plot(tr.step, tr.measured, color="k", lw=2.2, alpha=0.35, label="ρ measured")
    a2.plot(tr.step, tr.recursion, color="C1", lw=0.9, label="recursion with measured ‖∇L‖")
    rate = float(pr.wd_rate(lr, cfg.wd))
    for i, row in enumerate(rt.itertuples()):  # anchored at the smallest ρ before the next jump, drawn back
        seg = tr[(tr.step >= row.start) & (tr.step <= row.end)]
        low = seg.loc[seg.measured.idxmin()]
        t = np.linspace(row.start, low.step, 20)
        a2.plot(t, low.measured * np.exp(rate * (low.step - t)), color="C2", lw=1.0, ls="--",
                label="weight decay alone, (1 − ηλ)ᵗ" if i == 0 else None)
    a2.set(yscale="log", ylabel="ρ")
    a2.legend(fontsize="small", loc="lower left")
    a3.plot(s.step, s.elr, color="C4", lw=0.9)
    a3.set(yscale="log", ylabel="ELR", xlabel="step")
    for ax in (a1, a2, a3):
        _mark_events(ax, ev, "0.4")
    a1.set_title(f"η = {lr:g}, λ = {cfg.wd:g}, seed {seed}", fontsize="small")
    return fig


def fig_periods(an: Analysis, cfg: Config):
    """Mean period against ηλ (log–log): one point per scan run, a fitted line per seed, slope −1 for reference,
    and the period weight decay alone would need for the run's measured ELR ratio (open markers)."""
    from lrlab import plots

    t = an.table[an.table.scan & (an.table.periods > 0) & (an.table.mean_period > 0)]
    fig, ax = plots.figure(height=3.0, width=4.6)
    if not len(t):  # no scan run completed a period: nothing to put on log axes
        ax.text(0.5, 0.5, "no scan run completed a period", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel="ηλ", ylabel="mean period (steps)", xticks=[], yticks=[])
        return fig
    seeds = sorted(an.table.seed.unique())
    x = np.geomspace(t.eta_lambda.min() * 0.85, t.eta_lambda.max() * 1.15, 20)
    for i, s in enumerate(seeds):
        g = t[t.seed == s]
        col = f"C{i}"
        ax.plot(g.eta_lambda, g.mean_period, "o", color=col, ms=5, label=f"seed {s}")
        wd = g[g.wd_period > 0]
        ax.plot(wd.eta_lambda, wd.wd_period, "o", mfc="none", color=col, ms=5)
        if s in an.fits:
            ax.plot(x, an.fits[s](x), "-", color=col, lw=1, label=f"fit, slope {an.fits[s].slope:.2f}")
    ref = float(np.exp(np.log(t.mean_period * t.eta_lambda).mean()))
    ax.plot(x, ref / x, "k--", lw=1.2, label="slope −1")
    ax.set(xscale="log", yscale="log", xlabel="ηλ", ylabel="mean period (steps)")
    ax.legend(fontsize="x-small")
    return fig


def fig_controls(res: Results, an: Analysis, cfg: Config, seed: int | None = None):
    """Four controls, train loss (top) and ρ (bottom): fixed norm against its free twin, full-batch GD, the
    all-parameters-trained variant, and the largest learning rate (equilibrium)."""
    from lrlab import plots

    seed = cfg.seed if seed is None else seed
    fig, axes = plots.figure(ncols=4, nrows=2, height=2.0, sharex="col")
    r = res.sgd

    def draw(col, run, c, colour, label, sp):
        s = _one(run, c)
        axes[0, col].plot(s.step, s.loss, color=colour, lw=0.8, label=label)
        axes[1, col].plot(s.step, s.rho, color=colour, lw=0.9)
        for ax in axes[:, col]:
            _mark_events(ax, pr.events(sp[sp.config == c]), colour)

    free = int(_seed_rows(r, seed, lr=cfg.control_lr, wd=cfg.wd, fixed=False).index[0])
    fixed = int(_seed_rows(r, seed, lr=cfg.control_lr, wd=cfg.wd, fixed=True).index[0])
    draw(0, r, free, "C0", "free norm", an.spikes)
    draw(0, r, fixed, "C3", "norm fixed at ρ₀", an.spikes)
    gd_sp, at_sp = spikes(res.gd, cfg), spikes(res.all_trained, cfg)
    draw(1, res.gd, int(_seed_rows(res.gd, seed).index[0]), "C2", "full-batch GD", gd_sp)
    draw(2, res.all_trained, int(_seed_rows(res.all_trained, seed).index[0]), "C4", "all parameters trained", at_sp)
    big = int(_seed_rows(r, seed, lr=max(cfg.lrs), wd=cfg.wd, fixed=False).index[0])
    draw(3, r, big, "C5", f"η = {max(cfg.lrs):g}", an.spikes)
    titles = [f"fixed norm (η = {cfg.control_lr:g})", f"full batch (η = {cfg.gd_lr:g}, λ = {cfg.gd_wd:g})",
              f"all trained (η = {cfg.all_trained_lr:g}, λ = {cfg.all_trained_wd:g})", f"large η = {max(cfg.lrs):g}"]
    for col, title in enumerate(titles):
        axes[0, col].set(yscale="log", title=title)
        axes[1, col].set(yscale="log", xlabel="step")
        axes[0, col].title.set_fontsize("x-small")
    axes[0, 0].legend(fontsize="x-small")
    axes[0, 0].set_ylabel("train loss")
    axes[1, 0].set_ylabel("ρ")
    return fig


def fig_bn_var(res: Results, cfg: Config, seed: int | None = None):
    """Smallest pre-BN variance of a unit in each block of steps, for the panel runs and the all-trained variant,
    against BN's ε: scale invariance holds while the curves stay far above it."""
    from lrlab import plots

    seed = cfg.seed if seed is None else seed
    pal = plots.lr_palette(cfg.lrs)
    fig, ax = plots.figure(height=2.4, width=5.0)
    r = res.sgd
    for c, lab in _seed_rows(r, seed, wd=cfg.wd, fixed=False).iterrows():
        if lab.lr in cfg.lrs:
            s = _one(r, c)
            ax.plot(s.step, s.bn_var, color=pal[lab.lr], lw=0.8, label=plots.lr_label(lab.lr))
    s = _one(res.all_trained, int(_seed_rows(res.all_trained, seed).index[0]))
    ax.plot(s.step, s.bn_var, color="C4", lw=0.8, ls="--", label="all trained")
    ax.axhline(cfg.bn_eps, color="k", lw=1, ls=":", label="BN's ε")
    ax.set(yscale="log", xlabel="step", ylabel="smallest pre-BN variance")
    ax.legend(fontsize="x-small", ncols=2)
    return fig
