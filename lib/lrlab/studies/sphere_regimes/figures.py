"""Figures of the sphere chapter: the toy example, the regime map, the training curves per regime, conventional
SGD + weight decay against the sphere's band, and the "better optima" schedule. Regimes are coloured by
:data:`lrlab.plots.REGIME_COLOURS`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from lrlab import plots

from .experiments import CHANCE, REGIMES, boundaries
from .toy import toy_cycle_loss, toy_thresholds


def _regime_legend(ax) -> None:
    ax.legend(handles=[Patch(color=plots.REGIME_COLOURS[r], label=r) for r in REGIMES], loc="best", fontsize="small")


def fig_toy(runs: pd.DataFrame, trajectories: pd.DataFrame, a: float = 1.0):
    """Toy example: stationary loss against ELR with the analytic thresholds and 2-cycle loss; trajectories."""
    fig, axes = plots.figure(2, height=2.8)
    ax, bx = axes.flat
    th = toy_thresholds(a)
    g = runs.groupby("elr").agg(mean=("loss_mean", "mean"), lo=("loss_min", "min"), hi=("loss_max", "max"),
                                regime=("regime", "first")).reset_index()
    ax.fill_between(g["elr"], g["lo"], g["hi"], color="0.85", label="min–max (2nd half)")
    for r in REGIMES:
        sub = g[g["regime"] == r]
        ax.scatter(sub["elr"], sub["mean"], s=12, color=plots.REGIME_COLOURS[r], label=r, zorder=3)
    e = np.geomspace(th["converge"], th["cycle"], 100)
    ax.plot(e, toy_cycle_loss(e * 0.9999, a), color="k", lw=1, label="2-cycle loss $L^*$ (theory)")
    for name, v in th.items():
        ax.axvline(v, color="0.4", ls=":" if name == "cycle" else "--", lw=0.8)
    ax.set(xscale="log", xlabel="ELR", ylabel="loss (2nd half)", title="toy: loss against ELR")
    ax.legend(fontsize="x-small")
    pal = [plots.REGIME_COLOURS[r] for r in REGIMES]
    for colour, (elr, t) in zip(pal, trajectories.groupby("elr")):
        bx.plot(t["step"], np.degrees(t["theta"]), ".-", ms=2, lw=0.5, color=colour, label=f"ELR = {elr:g}")
    for k in range(-2, 3):
        bx.axhline(45 + 90 * k, color="0.8", lw=0.6)
    bx.set(xlabel="step", ylabel="angle θ (degrees)", title="toy: trajectories", ylim=(-185, 185))
    bx.legend(fontsize="x-small")
    return fig


def fig_map(table: pd.DataFrame):
    """The regime map: train loss, accuracies and effective gradient against ELR, coloured by regime."""
    fig, axes = plots.figure(3, height=2.6)
    med = table.groupby("elr").median(numeric_only=True).reset_index()
    cols = [("train_loss", "train loss (2nd-half median)", "log"), ("train_acc", "accuracy", "linear"),
            ("eff_grad", "effective gradient", "log")]
    for ax, (col, label, yscale) in zip(axes.flat, cols):
        ax.plot(med["elr"], med[col], color="0.5", lw=0.8)
        for r in REGIMES:
            sub = table[table["regime"] == r]
            ax.scatter(sub["elr"], sub[col], s=14, color=plots.REGIME_COLOURS[r], label=r, zorder=3)
        if col == "train_acc":
            ax.plot(med["elr"], med["test_acc"], color="0.2", ls="--", lw=0.8, label="test (median)")
            ax.axhline(CHANCE, color="0.6", ls=":", lw=0.8)
        ax.set(xscale="log", yscale=yscale, xlabel="ELR", ylabel=label)
    _regime_legend(axes.flat[0])
    return fig


def fig_curves(history: pd.DataFrame, table: pd.DataFrame, seed: int):
    """The paper's Figure 1 panels for one seed: train loss, test error, effective gradient against epoch, and
    effective gradient against train loss; one line per ELR, line style by regime."""
    fig, axes = plots.figure(2, 2, height=2.5)
    h = history[history["seed"] == seed]
    regime = table[table["seed"] == seed].set_index("elr")["regime"]
    pal = plots.lr_palette(h["elr"].unique())
    styles = {"convergence": "-", "equilibrium": "--", "divergence": ":"}
    for elr, g in h.groupby("elr"):
        g = g.sort_values("epoch")
        kw = dict(color=pal[elr], ls=styles[regime[elr]], lw=1, label=f"{elr:g} ({regime[elr][:3]})")
        axes[0, 0].plot(g["epoch"], g["train_loss"], **kw)
        axes[0, 1].plot(g["epoch"], 100 * (1 - g["test_acc"]), **kw)
        axes[1, 0].plot(g["epoch"], g["eff_grad"], **kw)
        axes[1, 1].plot(g["train_loss"], g["eff_grad"], marker=".", ms=2, **kw)
    axes[0, 0].set(yscale="log", xlabel="epoch", ylabel="train loss")
    axes[0, 1].set(xlabel="epoch", ylabel="test error (%)")
    axes[1, 0].set(yscale="log", xlabel="epoch", ylabel="mean eff. gradient")
    axes[1, 1].set(xscale="log", yscale="log", xlabel="train loss", ylabel="mean eff. gradient")
    axes[0, 1].legend(title="ELR (regime)", fontsize="x-small", ncol=2)
    return fig


def fig_conventional(history: pd.DataFrame, table: pd.DataFrame):
    """SGD + WD: train loss and ELR against epoch per weight decay (seed lines), the sphere's band shaded."""
    wds = sorted(history["wd"].unique())
    fig, axes = plots.figure(len(wds), 2, height=2.3)
    axes = np.asarray(axes).reshape(2, len(wds))
    bnd = boundaries(table)
    lo, hi = float(bnd["conv_max"].median()), float(bnd["div_min"].median())
    for j, wd in enumerate(wds):
        for seed, g in history[history["wd"] == wd].groupby("seed"):
            g = g.sort_values("epoch")
            axes[0, j].plot(g["epoch"], g["train_loss"], lw=0.8, label=f"seed {seed}")
            axes[1, j].plot(g["epoch"], g["elr"], lw=0.8)
        axes[1, j].axhspan(lo, hi, color=plots.REGIME_COLOURS["equilibrium"], alpha=0.15,
                           label="sphere map: above convergence, below divergence")
        axes[0, j].set(yscale="log", title=f"SGD + WD, λ = {wd:g}", xlabel="epoch", ylabel="train loss")
        axes[1, j].set(yscale="log", xlabel="epoch", ylabel="ELR = η/ρ²")
    axes[0, 0].legend(fontsize="x-small")
    axes[1, 0].legend(fontsize="x-small")
    return fig


def fig_optima(hist: pd.DataFrame, switch: int):
    """Better optima: test accuracy and train loss against epoch for the two schedules (seed lines)."""
    fig, axes = plots.figure(2, height=2.5)
    ax, bx = axes.flat
    colours = {"high→low": plots.REGIME_COLOURS["equilibrium"], "low": plots.REGIME_COLOURS["convergence"]}
    for (sched, seed), g in hist.groupby(["schedule", "seed"]):
        g = g.sort_values("epoch")
        lab = sched if seed == hist["seed"].min() else None
        ax.plot(g["epoch"], g["test_acc"], color=colours[sched], lw=0.8, label=lab)
        bx.plot(g["epoch"], g["train_loss"], color=colours[sched], lw=0.8, label=lab)
    for x in (ax, bx):
        x.axvline(switch, color="0.5", ls="--", lw=0.8)
    ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(max(0.0, hist["test_acc"].min() - 0.02), None))
    bx.set(yscale="log", xlabel="epoch", ylabel="train loss")
    ax.legend(fontsize="small")
    return fig
