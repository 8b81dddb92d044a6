"""Experiments of the sphere chapter: data, the SI model, projected SGD at a fixed ELR, the regime map,
conventional SGD + weight decay and the "better optima" schedule, with the tidy tables the claims read.

- :func:`regime_map`: every ELR × seed configuration trained on the sphere as one batched model
  (:func:`train_on_sphere`); :func:`summarise` and :func:`classify` turn its history into the regime map
  (:func:`regime_table`, the paper's Figure 1).
- :func:`conventional`: the same model trained by plain SGD + weight decay in the whole parameter space; its ELR
  moves, and it settles or destabilises at an ELR that the sphere map predicts (the paper's §6).
- :func:`better_optima`: first an ELR in the equilibrium regime, then fine-tuning at a small ELR, against the
  small ELR from the start (the paper's §6, "better optima").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from lrlab import data
from lrlab.config import Config
from lrlab.models import SIMLP, ConvNetSI, cross_entropy
from lrlab.optim import SGD
from lrlab.probes import scale_invariant as si
from lrlab.train import Batches, train

CHANCE = 0.1
"""Accuracy of a random guess on the ten Fashion-MNIST (or CIFAR-10) classes."""
REGIMES = ("convergence", "equilibrium", "divergence")
"""The three regimes, in the order they appear as the ELR grows (colours: :data:`lrlab.plots.REGIME_COLOURS`)."""
PAPER_ELRS = (1e-5, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 5e-2, 1e-1)
"""The ELR grid of the paper's Figure 1 (ConvNetSI-32, CIFAR-10)."""
BN_SAMPLES = 5000
"""Training images whose BN statistics serve for test accuracy (eval-mode BN)."""


# ---- data ---------------------------------------------------------------------------------------------------


@dataclass
class Data:
    """Training and test tensors (inputs flattened for the MLP, images for the ConvNet) and their checksums."""

    x: Tensor
    y: Tensor
    x_test: Tensor
    y_test: Tensor
    hashes: dict[str, str]


def load_data(cfg: Config, device: str = "cpu") -> Data:
    """The first ``n_train`` / ``n_test`` images. Fashion-MNIST: average-pooled by ``pool`` and standardised
    per pixel with the training statistics; CIFAR-10 (scale ``paper``): normalised as in the official code.
    Tensors are put on ``device`` (models follow their data); ``hashes`` are the checksums of the inputs the run
    trains and tests on, as prepared (:func:`lrlab.data.sha256`)."""
    if cfg.dataset == "fashion_mnist":
        x, y = data.fashion_mnist("train", n=cfg.n_train)
        xt, yt = data.fashion_mnist("test", n=cfg.n_test)

        def prep(a: np.ndarray) -> Tensor:
            img = torch.from_numpy(a).view(-1, 1, 28, 28)
            return torch.nn.functional.avg_pool2d(img, cfg.pool).flatten(1) if cfg.pool > 1 else img.flatten(1)

        xtr, xte = prep(x), prep(xt)
        mean, std = xtr.mean(0), xtr.std(0).clamp_min(1e-6)
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    else:
        x, y = data.cifar10("train")
        xt, yt = data.cifar10("test")
        xtr, xte = torch.from_numpy(x[: cfg.n_train]), torch.from_numpy(xt[: cfg.n_test])
    ytr, yte = torch.from_numpy(y[: cfg.n_train]), torch.from_numpy(yt[: cfg.n_test])
    xtr, xte = xtr.float(), xte.float()
    hashes = {f"{cfg.dataset}_train": data.sha256(xtr.numpy()), f"{cfg.dataset}_test": data.sha256(xte.numpy())}
    return Data(xtr.to(device), ytr.to(device), xte.to(device), yte.to(device), hashes)


def build_model(cfg: Config, d: int, seeds, device: torch.device | str = "cpu") -> torch.nn.Module:
    """The fully SI model of ``cfg`` (MLP ``d → width → width → 10`` or ConvNetSI), configuration k drawn from
    ``seeds[k]``, on ``device``."""
    if cfg.model == "convnet":
        return ConvNetSI(seeds, cfg.width, head_norm=cfg.head_norm).to(device)
    return SIMLP([d, cfg.width, cfg.width, 10], seeds, head_norm=cfg.head_norm).to(device)


# ---- the regime map -----------------------------------------------------------------------------------------


@dataclass
class SphereRun:
    """A batched run on the sphere: its history (one row per configuration and probe) and its set-up."""

    history: pd.DataFrame
    labels: pd.DataFrame
    rho0: np.ndarray
    lr: np.ndarray
    steps: int
    wall_s: float


def train_on_sphere(
    cfg: Config, d: Data, elrs, seeds, epochs: int, *, model=None, desc: str = "sphere", probe_every=None
) -> tuple[SphereRun, torch.nn.Module]:
    """Projected SGD at fixed ELR for every (ELR, seed) pair, as one batched model (the paper's ``--fix_elr``).

    lr_k = ELR_k · ρ₀,k²; after every step the SI weights of configuration k are rescaled to ρ₀,k
    (:class:`lrlab.probes.scale_invariant.Projector`, the optimiser's ``sphere``: update and rescaling in one pass).
    No weight decay, no momentum. ``model`` continues an existing model (fine-tuning); otherwise a new one is drawn
    with configuration k from ``seeds[k]``.
    """
    elrs = np.asarray(elrs, dtype=float)
    seeds = np.asarray(seeds, dtype=int)
    if len(elrs) != len(seeds):
        raise ValueError(f"elrs ({len(elrs)}) and seeds ({len(seeds)}) must have one value per configuration")
    net = model if model is not None else build_model(cfg, d.x.shape[1], seeds.tolist(), d.x.device)
    proj = si.Projector(net)
    lr = si.lr_for_elr(elrs, proj.rho0.double().cpu()).float()
    opt = SGD([p for p in net.parameters() if p.requires_grad], lr=lr, wd=0.0, sphere=proj)  # projected SGD
    probe = si.si_probe(
        lr, d.x, d.y, d.x_test, d.y_test, batch_size=cfg.batch_size, w0=si.snapshot(net), bn_from=d.x[:BN_SAMPLES]
    )
    labels = pd.DataFrame({"elr": elrs, "seed": seeds})
    res = train(
        net,
        cross_entropy,
        Batches(d.x, d.y, cfg.batch_size, seeds.tolist()),
        opt,
        epochs,
        probes=[probe],
        probe_every=probe_every or cfg.probe_every,
        labels=labels,
        desc=desc,
    )
    hist = res.history.rename(columns={"elr_x": "elr_measured", "elr_y": "elr"})
    run = SphereRun(hist, labels, proj.rho0.cpu().numpy(), lr.numpy(), res.steps, res.wall_s)
    return run, net


def regime_map(cfg: Config, d: Data) -> SphereRun:
    """Every ELR of ``cfg.elrs`` × ``cfg.n_seeds`` seeds on the sphere, trained as one batched model."""
    seeds = [cfg.seed + i for i in range(cfg.n_seeds)]
    grid_e, grid_s = np.meshgrid(cfg.elrs, seeds, indexing="ij")
    run, _ = train_on_sphere(cfg, d, grid_e.ravel(), grid_s.ravel(), cfg.epochs, desc="regime map")
    return run


def summarise(history: pd.DataFrame, keys=("elr", "seed")) -> pd.DataFrame:
    """One row per configuration: medians over the second half of training, the final values, the trend and the
    spikiness of the train loss.

    - ``trend`` = median train loss over the last quarter of the epochs / median over the second quarter;
    - ``spread`` = 90th / 10th percentile of the train loss over the second half (a chaotic run keeps jumping; the
      percentiles ignore an isolated spike).
    """
    rows = []
    for key, g in history.groupby(list(keys)):
        g = g.sort_values("epoch")
        last = g["epoch"].max()
        second = g[g["epoch"] > last / 2]
        q2 = g[(g["epoch"] > last / 4) & (g["epoch"] <= last / 2)]
        q4 = g[g["epoch"] > 3 * last / 4]
        row = dict(zip(keys, key))
        for col in ("train_loss", "train_acc", "test_acc", "eff_grad", "angle"):
            if col in g:
                row[col] = float(second[col].median())
                row[col + "_final"] = float(g[col].iloc[-1])
        row["loss_q2"] = float(q2["train_loss"].median()) if len(q2) else math.nan
        row["loss_q4"] = float(q4["train_loss"].median()) if len(q4) else math.nan
        row["trend"] = row["loss_q4"] / row["loss_q2"] if row["loss_q2"] > 0 else math.nan
        q10, q90 = (np.quantile(second["train_loss"], [0.1, 0.9]) if len(second) else (math.nan, math.nan))
        row["spread"] = float(q90 / q10) if q10 > 0 else math.nan
        row["status"] = g["status"].iloc[-1]
        rows.append(row)
    return pd.DataFrame(rows)


TREND_MAX = 0.7
"""Convergence: the last-quarter median loss is at most 0.7× the second-quarter median (still falling)."""
SPREAD_MAX = 10.0
"""Convergence: no chaotic fluctuation, the second-half loss percentiles 90/10 stay within a factor 10."""
FIT_MIN = 0.97
"""Convergence: the network fits the training set, median second-half train accuracy >= 0.97."""


def classify(summary: pd.DataFrame, chance: float = CHANCE) -> pd.Series:
    """The regime of each configuration, by rules fixed from the paper's description (its Figure 1):

    - ``divergence``: random-guess performance, median second-half train accuracy < chance + 0.1 (or a NaN loss);
    - ``convergence``: the loss keeps falling toward zero without chaotic jumps while the training set is fit:
      ``trend`` ≤ 0.7, ``spread`` ≤ 10 (see :func:`summarise`) and train accuracy ≥ 0.97;
    - ``equilibrium``: neither, i.e. above chance with a loss that has stopped falling or keeps spiking.
    """
    out = []
    for _, r in summary.iterrows():
        if r["status"] == "diverged" or not np.isfinite(r["train_loss"]) or r["train_acc"] < chance + 0.1:
            out.append("divergence")
        elif r["trend"] <= TREND_MAX and r["spread"] <= SPREAD_MAX and r["train_acc"] >= FIT_MIN:
            out.append("convergence")
        else:
            out.append("equilibrium")
    return pd.Series(out, index=summary.index, name="regime")


def regime_table(run: SphereRun) -> pd.DataFrame:
    """:func:`summarise` + :func:`classify` for a sphere run."""
    s = summarise(run.history)
    s["regime"] = classify(s)
    return s


def boundaries(table: pd.DataFrame) -> pd.DataFrame:
    """Per seed: the highest converging ELR, the lowest divergent ELR, and the equilibrium ELRs between."""
    rows = []
    for seed, g in table.groupby("seed"):
        g = g.sort_values("elr")
        conv = g.loc[g["regime"] == "convergence", "elr"]
        div = g.loc[g["regime"] == "divergence", "elr"]
        rows.append(
            {
                "seed": seed,
                "conv_max": float(conv.max()) if len(conv) else math.nan,
                "div_min": float(div.min()) if len(div) else math.nan,
                "n_equilibrium": int((g["regime"] == "equilibrium").sum()),
            }
        )
    return pd.DataFrame(rows)


def ordered(regimes) -> bool:
    """True when the regimes along increasing ELR never go back (convergence ≤ equilibrium ≤ divergence)."""
    rank = [REGIMES.index(r) for r in regimes]
    return all(a <= b for a, b in zip(rank[:-1], rank[1:]))


# ---- conventional training: SGD + weight decay -----------------------------------------------------------------


def conventional(cfg: Config, d: Data) -> pd.DataFrame:
    """The same SI model trained by plain SGD + coupled weight decay in the whole parameter space (no projection).

    One batched model: every weight decay of ``cfg.wds`` × ``cfg.n_seeds`` seeds, lr ``cfg.wd_lr``. Probed every
    epoch, so the ELR η/ρ² and the destabilisations can be read off (Lobacheva et al. 2021; Kodryan et al. 2022,
    §6).
    """
    seeds = [cfg.seed + i for i in range(cfg.n_seeds)]
    grid_w, grid_s = np.meshgrid(cfg.wds, seeds, indexing="ij")
    net = build_model(cfg, d.x.shape[1], grid_s.ravel().tolist(), d.x.device)
    k = grid_w.size
    lr = torch.full((k,), cfg.wd_lr)
    opt = SGD([p for p in net.parameters() if p.requires_grad], lr=lr, wd=torch.as_tensor(grid_w.ravel()).float())
    probe = si.si_probe(lr, d.x, d.y, batch_size=cfg.batch_size, grad=False)
    labels = pd.DataFrame({"wd": grid_w.ravel(), "seed": grid_s.ravel()})
    res = train(
        net, cross_entropy, Batches(d.x, d.y, cfg.batch_size, grid_s.ravel().tolist()), opt, cfg.wd_epochs,
        probes=[probe], probe_every=1, labels=labels, desc="SGD + WD",
    )
    return res.history


def destabilisations(history: pd.DataFrame, jump: float = 10.0) -> pd.DataFrame:
    """Loss spikes of a conventional run: probe times where the train loss rises by a factor ``jump`` or more above the
    running minimum since the previous spike. Returns one row per spike with the ELR just before it."""
    rows = []
    for (wd, seed), g in history.groupby(["wd", "seed"]):
        g = g.sort_values("epoch").reset_index(drop=True)
        low = math.inf
        armed = True
        for i in range(1, len(g)):
            prev = g.loc[i - 1]
            low = min(low, prev["train_loss"])
            if armed and g.loc[i, "train_loss"] > jump * low:
                rows.append({"wd": wd, "seed": seed, "epoch": int(g.loc[i, "epoch"]), "elr_before": prev["elr"],
                             "loss_before": low, "loss_spike": g.loc[i, "train_loss"]})
                armed = False
            elif not armed and g.loc[i, "train_loss"] < low * 2:
                armed, low = True, g.loc[i, "train_loss"]
    return pd.DataFrame(rows, columns=["wd", "seed", "epoch", "elr_before", "loss_before", "loss_spike"])


def settled_elr(history: pd.DataFrame) -> pd.DataFrame:
    """Median ELR and train loss over the last quarter of each conventional run (where the ELR settles)."""
    rows = []
    for (wd, seed), g in history.groupby(["wd", "seed"]):
        last = g["epoch"].max()
        tail = g[g["epoch"] > 0.75 * last]
        rows.append({"wd": wd, "seed": seed, "elr": float(tail["elr"].median()),
                     "elr_low": float(tail["elr"].min()), "elr_high": float(tail["elr"].max()),
                     "train_loss": float(tail["train_loss"].median())})
    return pd.DataFrame(rows)


# ---- better optima ------------------------------------------------------------------------------------------------


def better_optima(cfg: Config, d: Data) -> pd.DataFrame:
    """High-then-low ELR against low ELR from the start, same total epochs (the paper's §6).

    Phase 1 (``pretrain_frac`` of ``optima_epochs``): half the configurations at ``pretrain_elr`` (inside the
    equilibrium regime), half at ``finetune_elr``. Phase 2: every configuration at ``finetune_elr``. One batched
    model; both arms start from the same initial weights per seed. Returns the history with a ``schedule``
    column (``high→low`` / ``low``) and a ``phase`` column.
    """
    seeds = [cfg.seed + i for i in range(cfg.n_seeds)]
    sched = ["high→low"] * len(seeds) + ["low"] * len(seeds)
    all_seeds = seeds + seeds
    e1 = [cfg.pretrain_elr] * len(seeds) + [cfg.finetune_elr] * len(seeds)
    n1 = max(1, round(cfg.pretrain_frac * cfg.optima_epochs))
    n2 = cfg.optima_epochs - n1
    every = max(1, min(cfg.probe_every, n1, max(n2, 1)))
    run1, net = train_on_sphere(cfg, d, e1, all_seeds, n1, desc="pretrain", probe_every=every)
    # phase 2 keeps the same sphere (the projector of phase 1 fixed rho0 at the initial norm)
    h1 = run1.history.assign(phase=1)
    run2, _ = train_on_sphere(cfg, d, [cfg.finetune_elr] * len(all_seeds), all_seeds, n2, model=net,
                              desc="fine-tune", probe_every=every)
    h2 = run2.history.assign(phase=2, epoch=run2.history["epoch"] + n1)
    h2 = h2[h2["epoch"] > n1]
    hist = pd.concat([h1, h2], ignore_index=True)
    hist["schedule"] = [sched[c] for c in hist["config"]]
    hist["n_test"] = len(d.x_test)
    return hist


def optima_table(hist: pd.DataFrame) -> pd.DataFrame:
    """Final train loss and test accuracy per schedule and seed (last probe)."""
    last = hist[hist["epoch"] == hist["epoch"].max()]
    return last.pivot_table(index="seed", columns="schedule", values=["test_acc", "train_loss", "train_acc"])


# ---- what the claims read ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the scorecard needs."""

    toy: pd.DataFrame
    table: pd.DataFrame
    wd_history: pd.DataFrame
    optima: pd.DataFrame
    a: float = 1.0

