"""The figures of chapter ``eos_ntk``: one ``fig_*`` function per figure, each returning a matplotlib figure.

Every function draws what the run has and says so in the panel when it has nothing to draw (no rate at the edge,
no trace, a setting not run): a valid parameter set gives a figure, never a traceback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import ticker

from lrlab import plots

from .analysis import classified, effects, ntk_edge, summary
from .experiments import BAND, Results

REGIME_STYLE = {"sub-edge": ("o", "none"), "edge": ("o", None), "catapult": ("X", None), "near the edge": ("s", None),
                "unmeasured": ("d", "none")}
"""Marker and face colour per regime (None: filled with the line's colour)."""


def _one(df: pd.DataFrame, seed: int, setting: str | None = None) -> pd.DataFrame:
    out = df[df["seed"] == seed]
    return out if setting is None else out[out["setting"] == setting]


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize="small", wrap=True)
    ax.set(xticks=[], yticks=[])


def _lr_axis(ax, lrs) -> None:
    """A log η axis with a tick at each learning rate of the grid, labelled plainly."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(lrs)), [f"{v:g}" for v in sorted(set(lrs))])
    ax.minorticks_off()


def fig_training(res: Results, seed: int, setting: str = "tanh"):
    """Cohen et al.'s Figure 1 for one seed and setting: training loss and sharpness against step, 2/η dashed."""
    fig, axes = plots.figure(2, 1, height=2.8)
    ax_loss, ax_sharp = axes.flat
    h = _one(res.history, seed, setting)
    if not len(h):
        for ax in axes.flat:
            _empty(ax, f"no run of setting '{setting}'")
        return fig
    colours = plots.lr_palette(h["lr"].unique())
    for lr, g in h.groupby("lr"):
        ax_loss.plot(g["step"] + 1, g["loss"], color=colours[lr], lw=0.9, label=plots.lr_label(lr))
        m = g[g["probe"].isin(["stride", "final"])]
        ax_sharp.plot(m["step"] + 1, m["sharpness"], "o-", ms=2.5, lw=0.9, color=colours[lr])
        ax_sharp.axhline(2 / lr, color=colours[lr], ls="--", lw=0.8)
    ax_loss.set(yscale="log", xscale="log", xlabel="step + 1", ylabel="training loss", title="loss (½·MSE)")
    ax_sharp.set(xscale="log", xlabel="step + 1", ylabel="sharpness λ_max(∇²L)", title="sharpness; dashed: 2/η")
    top = np.nanmax(h["sharpness"].to_numpy()) if h["sharpness"].notna().any() else 1.0
    ax_sharp.set_ylim(0, 1.25 * top)
    ax_loss.legend(fontsize="small")
    return fig


def fig_effects(res: Results, labels: dict[str, str] | None = None):
    """The edge-versus-sub-edge comparison: per setting, the final KTA (left) and A_k (right) of the runs that
    reach the edge minus those that stay below it, one dot per seed, with the mean and its bootstrap interval over
    seeds (black, ``LEVEL`` interval); in grey the spread among a seed's sub-edge runs (the tie gradient flow
    predicts)."""
    fig, axes = plots.figure(2, 1, height=2.9)
    eff = effects(res)
    names = list(dict.fromkeys(eff["setting"])) if len(eff) else []
    labels = {"linear": "two-layer\nlinear", **(labels or {})}
    for ax, metric in zip(axes.flat, ("KTA", "A_k")):
        e = eff[eff["metric"] == metric]
        shown = [s for s in names if e.loc[e["setting"] == s, "effect"].notna().any()
                 or e.loc[e["setting"] == s, "sub_spread"].notna().any()]
        if not shown:
            _empty(ax, "no seed has runs both at the edge and below it")
            continue
        for i, setting in enumerate(shown):
            g = e[e["setting"] == setting]
            jitter = np.linspace(-0.08, 0.08, max(len(g), 1))
            ax.plot(i - 0.12 + jitter, g["effect"], "o", ms=4, color=f"C{i}", alpha=0.6)
            s = summary(g)
            if s["seeds"]:
                ax.errorbar(i - 0.12, s["mean"], yerr=[[s["mean"] - s["lo"]], [s["hi"] - s["mean"]]], fmt="D",
                            ms=5, color="k", capsize=3, lw=1.2)
            t = summary(g, "sub_spread")
            if t["seeds"]:
                ax.plot(i + 0.2 + jitter, g["sub_spread"], "o", ms=3, mfc="none", color="0.5")
                ax.errorbar(i + 0.2, t["mean"], yerr=[[t["mean"] - t["lo"]], [t["hi"] - t["mean"]]], fmt="s",
                            ms=4, mfc="none", color="0.4", capsize=2, lw=0.9)
        ax.axhline(0, color="0.6", lw=0.7)
        ax.set_xticks(range(len(shown)), [labels.get(s, s).replace(", ", "\n") for s in shown], fontsize="small")
        ax.set(ylabel=f"Δ final {metric}", title=f"{metric}: edge − sub-edge")
    return fig


def fig_alignment(res: Results, setting: str = "tanh"):
    """Jiang et al.'s Figure 1a for one setting: final KTA and A_k against η, one line per seed; hollow: the run
    stayed below the edge, filled: it reached it, cross: the catapult side; dotted: at initialisation."""
    fig, axes = plots.figure(2, 1, height=2.6)
    t = classified(res.runs[res.runs["setting"] == setting], res.history[res.history["setting"] == setting]) \
        if len(res.runs) and setting in set(res.runs["setting"]) else pd.DataFrame()
    if not len(t) or not t["matched"].any():
        for ax in axes.flat:
            _empty(ax, f"no run of setting '{setting}' reached the matched loss")
        return fig
    runs = t[t["matched"]]
    k = int(runs["k"].iloc[0])
    for ax, col, label in zip(axes.flat, ("kta", "A"), ("KTA", f"A_{k}")):
        for i, (seed, g) in enumerate(runs.groupby("seed")):
            ax.plot(g["lr"], g[f"{col}_final"], "-", lw=1, color=f"C{i}", label=f"seed {seed}")
            for r in g.itertuples():
                marker, face = REGIME_STYLE.get(r.regime, ("o", None))
                ax.plot(r.lr, getattr(r, f"{col}_final"), marker, ms=5, color=f"C{i}", mfc=face or f"C{i}")
            ax.axhline(g[f"{col}_init"].iloc[0], color=f"C{i}", ls=":", lw=0.8)
        _lr_axis(ax, runs["lr"])
        ax.set(xlabel="η", ylabel=label, title=f"final {label}, matched loss")
    axes.flat[0].legend(fontsize="small")
    return fig


def fig_spectrum(res: Results, seed: int, setting: str = "tanh", top: int = 20):
    """Jiang et al.'s Figure 1b for one seed: λ_i/‖λ‖₂ and the cumulative alignment A_i of the top eigenvectors."""
    fig, axes = plots.figure(2, 1, height=2.6)
    ax1, ax2 = axes.flat
    sp = _one(res.spectra, seed, setting) if len(res.spectra) else res.spectra
    if not len(sp):
        for ax in axes.flat:
            _empty(ax, "no spectrum")
        return fig
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
    """Jiang et al.'s Figure 1c, on A_k: sharpness·η/2 and A_k along the EoS phase of every traced η (one seed),
    and the change of A_k against the change of sharpness·η/2 over each interval (every seed)."""
    fig, axes = plots.figure(3, 1, height=2.5)
    ax1, ax2, ax3 = axes.flat
    tr = res.trace
    if not len(tr):
        for ax in axes.flat:
            _empty(ax, "no traced η reached\nthe edge by sharpening")
        return fig
    mine = tr[tr["seed"] == seed] if (tr["seed"] == seed).any() else tr[tr["seed"] == tr["seed"].iloc[0]]
    colours = plots.lr_palette(tr["lr"].unique())
    for lr, g in mine.groupby("lr"):
        since = g["step"] - g["step"].iloc[0]
        ax1.plot(since, g["sharpness"] * lr / 2, ".-", ms=3, lw=1, color=colours[lr], label=plots.lr_label(lr))
        ax2.plot(since, g["A"], ".-", ms=3, lw=1, color=colours[lr])
    ax1.axhline(1, color="k", ls="--", lw=0.8)
    ax1.set(xlabel="steps since the edge", ylabel="sharpness · η/2", title="sharpness (dashed: 2/η)")
    ax2.set(xlabel="steps since the edge", ylabel="A_k", title="A_k (trace subset)")
    ax1.legend(fontsize="small")
    for (lr, _seed), g in tr.groupby(["lr", "seed"]):
        g = g.sort_values("step")
        ax3.scatter(np.diff(g["sharpness"] * lr / 2), np.diff(g["A"]), s=7, alpha=0.6, color=colours[lr])
    ax3.axhline(0, color="grey", lw=0.6)
    ax3.axvline(0, color="grey", lw=0.6)
    ax3.set(xlabel="Δ (sharpness · η/2)", ylabel="Δ A_k", title="changes per interval, every seed")
    return fig


def fig_ntk_edge(res: Results):
    """The NTK's top eigenvalue against 2n/η: λ_max(K)/n of the final NTK against 2/η for every run at the matched
    loss in the settings whose NTK covers every training example (left; the diagonal is equality), and
    λ_max(K)·η/(2n) of the runs at the edge (right; dashed: the band ±BAND)."""
    fig, axes = plots.figure(2, 1, height=2.7)
    ax1, ax2 = axes.flat
    full = set(res.settings.loc[res.settings["ntk_n"] == res.settings["n"], "setting"]) if len(res.settings) else set()
    t = classified(res.runs, res.history) if len(res.runs) else pd.DataFrame()
    t = t[t["setting"].isin(full) & t["matched"]] if len(t) else t
    if not len(t):
        for ax in axes.flat:
            _empty(ax, "no run reached the matched loss")
        return fig
    for i, (setting, g) in enumerate(t.groupby("setting", sort=False)):
        for regime, h in g.groupby("regime"):
            marker, face = REGIME_STYLE.get(regime, ("o", None))
            ax1.plot(2 / h["lr"], h["ntk_lmax_over_n"], marker, ls="none", ms=5, color=f"C{i}",
                     mfc=face or f"C{i}", label=f"{setting}, {regime}")
    lim = np.array([min((2 / t["lr"]).min(), t["ntk_lmax_over_n"].min()) * 0.8,
                    max((2 / t["lr"]).max(), t["ntk_lmax_over_n"].max()) * 1.2])
    ax1.plot(lim, lim, "k--", lw=0.8)
    ax1.set(xscale="log", yscale="log", xlabel="2/η", ylabel="λ_max(K) / n", title="final NTK's top eigenvalue")
    for axis in (ax1.xaxis, ax1.yaxis):
        axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_locator(ticker.NullLocator())
    ax1.legend(fontsize="x-small")
    e = ntk_edge(res)
    if len(e):
        for i, (setting, g) in enumerate(e.groupby("setting", sort=False)):
            ax2.plot(g["lr"], g["ratio"], "o", ms=5, color=f"C{i}", label=setting)
        ax2.axhspan(1 - BAND, 1 + BAND, color="0.9", zorder=0)
        ax2.axhline(1, color="k", ls="--", lw=0.8)
        _lr_axis(ax2, e["lr"])
        ax2.set(xlabel="η", ylabel="λ_max(K) · η / (2n)", title="runs at the edge")
        ax2.legend(fontsize="small")
    else:
        _empty(ax2, "no run reached the edge")
    return fig


def fig_linear(res: Results, seed: int):
    """The two-layer linear network: sharpness against step (dashed 2/η) and final alignment against η."""
    fig, axes = plots.figure(2, 1, height=2.6)
    ax1, ax2 = axes.flat
    if res.linear is None or not len(res.linear):
        for ax in axes.flat:
            _empty(ax, "the linear network was not run")
        return fig
    h = _one(res.linear_history, seed)
    colours = plots.lr_palette(h["lr"].unique())
    for lr, g in h.groupby("lr"):
        m = g.dropna(subset=["sharpness"])
        ax1.plot(m["step"] + 1, m["sharpness"], lw=0.9, color=colours[lr], label=plots.lr_label(lr))
        ax1.axhline(2 / lr, color=colours[lr], ls="--", lw=0.7)
    top = np.nanmax(h["sharpness"].to_numpy()) if h["sharpness"].notna().any() else 1.0
    ax1.set(xscale="log", xlabel="step + 1", ylabel="sharpness", ylim=(0, 1.5 * top), title="two-layer linear network")
    ax1.legend(fontsize="small")
    lin = res.linear[res.linear["status"] == "stopped"]
    k = int(res.linear["k"].iloc[0])
    for i, (s, g) in enumerate(lin.groupby("seed")):
        ax2.plot(g["lr"], g["A_final"], "o-", ms=4, lw=1, color=f"C{i}", label=f"seed {s}")
        ax2.plot(g["lr"], g["kta_final"], "s--", ms=3, lw=0.8, color=f"C{i}")
    ax2.set(xlabel="η", ylabel="alignment", title=f"final A_{k} (solid) and KTA (dashed)")
    ax2.legend(fontsize="small")
    return fig


def fig_catapult(res: Results, seed: int, setting: str = "tanh", steps: int = 60):
    """The catapult side: loss and sharpness·η/2 over the first steps, for each η with 2/η below the initial
    sharpness (measured at every one of the first ``catapult_steps`` steps)."""
    fig, axes = plots.figure(2, 1, height=2.5)
    ax1, ax2 = axes.flat
    h = _one(res.history, seed, setting)
    first = h.dropna(subset=["sharpness"]).groupby("lr")["sharpness"].first() if len(h) else pd.Series(dtype=float)
    show = [lr for lr, s0 in first.items() if 2 / lr < s0]
    if not show:
        for ax in axes.flat:
            _empty(ax, "no η of the grid has 2/η\nbelow the initial sharpness")
        return fig
    colours = plots.lr_palette(h["lr"].unique())
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

