"""Figures of the sphere chapter: the paper's toy and ours, the regime map, the step angle per regime, the training
curves per regime, conventional SGD + weight decay against the sphere's band, and the "better optima" schedule.
Regimes are coloured by :data:`lrlab.plots.REGIME_COLOURS`; ELRs outside the paper's range (shown, not judged)
sit on a grey background."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from lrlab import plots
from lrlab.probes.scale_invariant import angular_step_bound

from .experiments import CHANCE, PAPER_RANGE, REGIMES, boundaries, judged
from .groups import group_thresholds
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


def _beyond_range(ax, elrs) -> None:
    """Grey out the ELRs above the paper's range (shown, not judged)."""
    top = max(elrs)
    if top > PAPER_RANGE[1]:
        ax.axvspan(PAPER_RANGE[1] * 1.4, top * 1.4, color="0.92", lw=0, zorder=0)


def fig_groups(individual: pd.DataFrame, total: pd.DataFrame, trajectory: pd.DataFrame):
    """The paper's toy: final loss against ELR for each group on its own sphere and for all groups on one sphere,
    with the thresholds 1/αᵢ and 1/Σαᵢ; and the individual ELRs ηᵢαᵢ of one run above 1/Σαᵢ."""
    fig, axes = plots.figure(2, height=2.8)
    ax, bx = axes.flat
    alphas = individual.groupby("group")["alpha"].first().to_numpy()
    th = group_thresholds(alphas)
    pal = plots.lr_palette(alphas)
    floor = 1e-16
    for i, g in individual.groupby("group"):
        m = g.groupby("elr")["loss_group"].max().clip(lower=floor)
        ax.plot(m.index, m.to_numpy(), ".-", ms=3, lw=0.8, color=pal[alphas[i]], label=f"group α = {alphas[i]:g} alone")
        ax.axvline(th[f"group_{i}"], color=pal[alphas[i]], ls="--", lw=0.8)
    m = total.drop_duplicates(["elr", "seed"]).groupby("elr")["loss"].max().clip(lower=floor)
    ax.plot(m.index, m.to_numpy(), "s-", ms=3, lw=1, color="k", label="all groups on one sphere")
    ax.axvline(th["total"], color="k", ls="--", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="ELR", ylabel="final loss (max over seeds)",
           title="paper's toy: loss against ELR")
    ax.legend(fontsize="x-small")
    for i, g in trajectory.groupby("group"):
        bx.plot(g["step"], g["elr_x_alpha"], lw=0.8, color=pal[alphas[i]], label=f"α = {alphas[i]:g}")
    top = trajectory.groupby("step")["elr_x_alpha"].max()
    bx.plot(top.index, top.to_numpy(), color="k", lw=0.6, ls=":", label="largest")
    bx.axhline(1.0, color="0.4", ls="--", lw=0.8)
    elr = float(trajectory["elr"].iloc[0])
    bx.set(yscale="log", xlabel="step", ylabel=r"$\eta_i\alpha_i$ (1 = threshold)",
           title=f"one sphere, ELR = {elr:.3g} = {elr / th['total']:.2g}/Σα")
    bx.legend(fontsize="x-small")
    return fig


def fig_steps(table: pd.DataFrame):
    """The angle of one training step against the ELR, coloured by regime, with arctan(ELR·‖g̃‖) from the measured
    effective gradient and the 90° bound."""
    fig, axes = plots.figure(1, height=2.6, width=plots.WIDTH * 0.6)
    ax = axes
    for r in REGIMES:
        sub = table[table["regime"] == r]
        ax.scatter(sub["elr"], np.degrees(sub["step_angle"]), s=14, color=plots.REGIME_COLOURS[r], label=r, zorder=3)
    med = table.groupby("elr")[["eff_grad"]].median()
    ax.plot(med.index, np.degrees(angular_step_bound(med.index.to_numpy(), med["eff_grad"].to_numpy())), color="0.3",
            lw=0.8, ls="--", label=r"$\arctan(\mathrm{ELR}\cdot\|\tilde g\|)$")
    ax.axhline(90, color="0.5", ls=":", lw=0.8)
    _beyond_range(ax, table["elr"])
    ax.set(xscale="log", xlabel="ELR", ylabel="step angle (degrees)", ylim=(-3, 95))
    ax.legend(fontsize="x-small", loc="upper left")
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
        _beyond_range(ax, table["elr"])
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
    bnd = boundaries(judged(table))
    lo, hi = (float(bnd["conv_max"].median()), float(bnd["div_min"].median())) if len(bnd) else (np.nan, np.nan)
    for j, wd in enumerate(wds):
        for seed, g in history[history["wd"] == wd].groupby("seed"):
            g = g.sort_values("epoch")
            axes[0, j].plot(g["epoch"], g["train_loss"], lw=0.8, label=f"seed {seed}")
            axes[1, j].plot(g["epoch"], g["elr"], lw=0.8)
        if np.isfinite(lo) and np.isfinite(hi):
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
