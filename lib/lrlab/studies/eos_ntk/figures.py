"""The figures of chapter ``eos_ntk``: one ``fig_*`` function per figure, each returning a matplotlib figure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import plots

from .experiments import Results, edge_table


def _one(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    return df[df["seed"] == seed]


def _lr_axis(ax, lrs) -> None:
    """A log η axis with a tick at each learning rate of the grid, labelled plainly."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(lrs)), [f"{v:g}" for v in sorted(set(lrs))])
    ax.minorticks_off()


def fig_training(res: Results, seed: int):
    """Cohen et al.'s Figure 1 for one seed: training loss and sharpness against step, 2/η dashed per η."""
    fig, axes = plots.figure(2, 1, height=2.8)
    ax_loss, ax_sharp = axes.flat
    h = _one(res.history, seed)
    colours = plots.lr_palette(h["lr"].unique())
    for lr, g in h.groupby("lr"):
        ax_loss.plot(g["step"] + 1, g["loss"], color=colours[lr], lw=0.9, label=plots.lr_label(lr))
        m = g.dropna(subset=["sharpness"])
        ax_sharp.plot(m["step"] + 1, m["sharpness"], "o-", ms=2.5, lw=0.9, color=colours[lr])
        ax_sharp.axhline(2 / lr, color=colours[lr], ls="--", lw=0.8)
    ax_loss.set(yscale="log", xscale="log", xlabel="step + 1", ylabel="training loss", title="loss (½·MSE)")
    ax_sharp.set(xscale="log", xlabel="step + 1", ylabel="sharpness λ_max(∇²L)", title="sharpness; dashed: 2/η")
    ax_sharp.set_ylim(0, 1.25 * h["sharpness"].max())
    ax_loss.legend(fontsize="small")
    return fig


def fig_alignment(res: Results, k: int):
    """Jiang et al.'s Figure 1a: final KTA and A_k against η, one line per seed; dotted: at initialisation."""
    fig, axes = plots.figure(2, 1, height=2.6)
    ax1, ax2 = axes.flat
    runs = res.runs[res.runs["status"] == "stopped"]
    for ax, col, label in ((ax1, "kta", "KTA"), (ax2, f"A{k}", f"A_{k} (top-{k} alignment)")):
        for seed, g in runs.groupby("seed"):
            line = ax.plot(g["lr"], g[f"{col}_final"], "o-", ms=4, lw=1, label=f"seed {seed}")[0]
            ax.axhline(g[f"{col}_init"].iloc[0], color=line.get_color(), ls=":", lw=0.8)
        _lr_axis(ax, runs["lr"])
        ax.set(xlabel="η", ylabel=label, title=f"final {label.split(' ')[0]}, matched loss")
    ax1.legend(fontsize="small")
    return fig


def fig_spectrum(res: Results, seed: int, top: int = 20):
    """Jiang et al.'s Figure 1b for one seed: λ_i/‖λ‖₂ and the cumulative alignment A_i of the top eigenvectors."""
    fig, axes = plots.figure(2, 1, height=2.6)
    ax1, ax2 = axes.flat
    sp = _one(res.spectra, seed)
    sp = sp[sp["i"] <= top]
    colours = plots.lr_palette(sp["lr"].dropna().unique())
    init = sp[sp["when"] == "init"]
    ax1.plot(init["i"], init["normalized"], "k:", lw=1, label="init")
    ax2.plot(init["i"], init["cumulative"], "k:", lw=1, label="init")
    for lr, g in sp[sp["when"] == "final"].groupby("lr"):
        ax1.plot(g["i"], g["normalized"], "o-", ms=2.5, lw=0.9, color=colours[lr], label=plots.lr_label(lr))
        ax2.plot(g["i"], g["cumulative"], "o-", ms=2.5, lw=0.9, color=colours[lr])
    ax1.set(yscale="log", xlabel="eigenvalue index i", ylabel="λ_i / ‖λ‖₂", title="NTK spectrum (normalised)")
    ax2.set(xlabel="k", ylabel="A_k", title="target mass on the top-k eigenvectors", ylim=(0, 1))
    ax1.legend(fontsize="small")
    return fig


def fig_trace(res: Results, seed: int):
    """Jiang et al.'s Figure 1c: sharpness and KTA along the EoS phase, and their changes against each other."""
    fig, axes = plots.figure(3, 1, height=2.5)
    ax1, ax2, ax3 = axes.flat
    tr = _one(res.trace, seed)
    lr = float(tr["lr"].iloc[0])
    ax1.plot(tr["step"], tr["sharpness"], "-", color="C0", lw=1)
    ax1.axhline(2 / lr, color="k", ls="--", lw=0.8)
    ax1.set(xlabel="step", ylabel="sharpness", title=f"η = {lr:g}: sharpness (dashed 2/η)")
    ax2.plot(tr["step"], tr["kta"], "-", color="C1", lw=1)
    ax2.set(xlabel="step", ylabel="KTA", title="KTA (trace subset)")
    for s, g in res.trace.groupby("seed"):
        g = g.sort_values("step")
        ax3.scatter(np.diff(g["sharpness"]), np.diff(g["kta"]), s=8, alpha=0.7, label=f"seed {s}")
    ax3.axhline(0, color="grey", lw=0.6)
    ax3.axvline(0, color="grey", lw=0.6)
    ax3.set(xlabel="Δ sharpness", ylabel="Δ KTA", title="changes per interval")
    ax3.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def fig_linear(res: Results, seed: int, k: int):
    """The two-layer linear network: sharpness against step (dashed 2/η) and final alignment against η."""
    fig, axes = plots.figure(2, 1, height=2.6)
    ax1, ax2 = axes.flat
    h = _one(res.linear_history, seed)
    colours = plots.lr_palette(h["lr"].unique())
    for lr, g in h.groupby("lr"):
        m = g.dropna(subset=["sharpness"])
        ax1.plot(m["step"] + 1, m["sharpness"], lw=0.9, color=colours[lr], label=plots.lr_label(lr))
        ax1.axhline(2 / lr, color=colours[lr], ls="--", lw=0.7)
    ax1.set(xscale="log", xlabel="step + 1", ylabel="sharpness", ylim=(0, 1.5 * h["sharpness"].max()),
            title="two-layer linear network")
    ax1.legend(fontsize="small")
    lin = res.linear[res.linear["status"] == "stopped"]
    for i, (s, g) in enumerate(lin.groupby("seed")):
        ax2.plot(g["lr"], g[f"A{k}_final"], "o-", ms=4, lw=1, color=f"C{i}", label=f"seed {s}")
        ax2.plot(g["lr"], g["kta_final"], "s--", ms=3, lw=0.8, color=f"C{i}")
    ax2.set(xlabel="η", ylabel="alignment", title=f"final A_{k} (solid) and KTA (dashed)")
    ax2.legend(fontsize="small")
    return fig


def fig_catapult(res: Results, seed: int, steps: int = 60):
    """The catapult side: loss and sharpness·η/2 over the first steps, for each η with 2/η below the initial
    sharpness (measured at every one of the first ``catapult_steps`` steps)."""
    fig, axes = plots.figure(2, 1, height=2.5)
    ax1, ax2 = axes.flat
    e = _one(edge_table(res), seed)
    show = list(e.loc[e["catapult"], "lr"])
    colours = plots.lr_palette(e["lr"].unique())
    h = _one(res.history, seed)
    for lr in sorted(show):
        g = h[(h["lr"] == lr) & (h["step"] <= steps)]
        ax1.plot(g["step"], g["loss"], lw=1, color=colours[lr], label=plots.lr_label(lr))
        m = g.dropna(subset=["sharpness"])
        ax2.plot(m["step"], m["sharpness"] * lr / 2, "o-", ms=2.5, lw=0.9, color=colours[lr])
    ax2.axhline(1, color="k", ls="--", lw=0.8)
    ax1.set(xlabel="step", ylabel="training loss", title="loss, first steps")
    ax2.set(xlabel="step", ylabel="sharpness · η/2", title="sharpness relative to 2/η (dashed: the edge)")
    ax1.legend(fontsize="small")
    return fig
