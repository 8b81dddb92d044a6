"""The chapter's figures: periodic training at several learning rates, one period step by step, the period against
ηλ, the controls, and the smallest pre-BN variance against BN's ε."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from lrlab import plots
from lrlab.config import Config
from lrlab.probes import periodic as pr

from .analysis import Analysis, recursion_trace, spikes
from .experiments import Results, Run


def _rows(r: Run, seed: int, **match) -> pd.DataFrame:
    lab = r.labels.reset_index(drop=True)
    keep = lab.seed == seed
    for k, v in match.items():
        keep &= lab[k] == v
    return lab[keep]


def _one(r: Run, seed: int, **match) -> int:
    return int(_rows(r, seed, **match).index[0])


def _panel_rows(r: Run, seed: int, cfg: Config) -> pd.DataFrame:
    lab = _rows(r, seed, wd=cfg.wd, fixed=False, bn=True, control="")
    return lab[lab.lr.isin(cfg.lrs)]


def _mark_events(ax, ev: pd.DataFrame, color) -> None:
    for s in ev["step"]:
        ax.axvline(s, color=color, lw=0.6, ls=":", alpha=0.8)


def fig_panels(res: Results, an: Analysis, cfg: Config, seed: int | None = None):
    """Training at the panel learning rates (one seed): train loss, test error, ρ, and the phase diagram (mean
    effective gradient against ELR, log–log) in which every period is a loop."""
    seed = cfg.seed if seed is None else seed
    r = res.sgd
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=2, nrows=2, height=2.5)
    (a_loss, a_err), (a_rho, a_phase) = axes
    for c, lab in _panel_rows(r, seed, cfg).iterrows():
        s, col, name = r.series_of(c), pal[lab.lr], plots.lr_label(lab.lr)
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
    measured gradient norms and against weight decay alone, and the ELR; dotted lines mark the events, grey bands
    the windows in which the order of the phases is measured."""
    seed = cfg.seed if seed is None else seed
    r = res.sgd
    c = _one(r, seed, lr=lr, wd=cfg.wd, fixed=False, bn=True, control="")
    s = r.series_of(c)
    sp = an.run_spikes("sgd")
    ev = pr.events(sp[sp.config == c])
    rt = an.rates[(an.rates.run == "sgd") & (an.rates.config == c)] if len(an.rates) else an.rates
    win = an.order[(an.order.run == "sgd") & (an.order.config == c)] if len(an.order) else an.order
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
        for w in win.itertuples():
            ax.axvspan(w.start, w.end, color="0.5", alpha=0.08, lw=0)
    a1.set_title(f"η = {lr:g}, λ = {cfg.wd:g}, seed {seed}", fontsize="small")
    return fig


def fig_periods(an: Analysis, cfg: Config):
    """Mean period against ηλ (log–log): one marker per scan run with enough periods (filled: λ varied at fixed η;
    open: η varied at fixed λ), the mean over seeds of each configuration joined per series, and a line of
    slope −1 through all of them."""
    t = an.scan[an.scan.used]
    fig, ax = plots.figure(height=3.0, width=4.6, layout="constrained")
    if not len(t):  # no scan run completed enough periods: nothing to put on log axes
        ax.text(0.5, 0.5, "no scan run completed enough periods", ha="center", va="center", transform=ax.transAxes)
        ax.set(xlabel="ηλ", ylabel="mean period (steps)", xticks=[], yticks=[])
        return fig
    styles = {"lambda": ("C0", "o", "full", f"λ varied, η = {cfg.scan_lr:g}"),
              "eta": ("C3", "s", "none", f"η varied, λ = {cfg.scan_wd:g}"),
              "both": ("k", "D", "full", "both series")}
    for series, g in t.groupby("series"):
        col, mk, fill, name = styles[series]
        jitter = {"lambda": 0.96, "eta": 1.04, "both": 1.0}[series]
        ax.plot(g.eta_lambda * jitter, g.mean_period, mk, color=col, fillstyle=fill, ms=4, alpha=0.6, label=name)
        mean = g.groupby("eta_lambda").mean_period.apply(lambda v: float(np.exp(np.log(v).mean())))
        if series != "both":
            both = t[t.series == "both"].groupby("eta_lambda").mean_period.apply(
                lambda v: float(np.exp(np.log(v).mean())))
            mean = pd.concat([both, mean]).sort_index()
        ax.plot(mean.index, mean.values, "-", color=col, lw=1)
    x = np.geomspace(t.eta_lambda.min() * 0.85, t.eta_lambda.max() * 1.15, 20)
    ref = float(np.exp(np.log(t.mean_period * t.eta_lambda).mean()))
    ax.plot(x, ref / x, "k--", lw=1.0, label="slope −1")
    ax.set(xscale="log", yscale="log", xlabel="ηλ", ylabel="mean period (steps)")
    ax.set_xticks(sorted(cfg.scan_etalambdas), [f"{v:g}" for v in sorted(cfg.scan_etalambdas)])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize="x-small")
    return fig


def fig_controls(res: Results, an: Analysis, cfg: Config, seed: int | None = None):
    """The controls, train loss (top) and ρ (bottom): the norm fixed at the destabilisation ELR against its free
    twin; λ = 0 and no BN; full-batch GD; the all-parameters-trained variant; the largest learning
    rate (equilibrium)."""
    seed = cfg.seed if seed is None else seed
    fig, axes = plots.figure(ncols=5, nrows=2, height=2.0, sharex="col", layout="constrained")
    r, sp = res.sgd, an.run_spikes("sgd")

    def draw(col, run, c, colour, label, spk):
        s = run.series_of(c)
        axes[0, col].plot(s.step, s.loss, color=colour, lw=0.8, label=label)
        axes[1, col].plot(s.step, s.rho, color=colour, lw=0.9)
        for ax in axes[:, col]:
            _mark_events(ax, pr.events(spk[spk.config == c]), colour)

    lr, wd = cfg.control_lr, cfg.wd
    draw(0, r, _one(r, seed, lr=lr, wd=wd, fixed=False, bn=True, twin=True), "C0", "free norm", sp)
    draw(0, r, _one(r, seed, control="fixed_destab"), "C1", f"fixed at ELR {cfg.control_elr:g}", sp)
    draw(1, r, _one(r, seed, control="no_wd"), "C2", "λ = 0", sp)
    if len(_rows(r, seed, control="no_bn")):  # the no-BN variant exists for the MLP only
        draw(1, r, _one(r, seed, control="no_bn"), "C5", "no BN", sp)
    draw(2, res.gd, _one(res.gd, seed), "C2", "full-batch GD", spikes(res.gd, cfg))
    draw(3, res.all_trained, _one(res.all_trained, seed), "C4", "all trained", spikes(res.all_trained, cfg))
    draw(4, r, _one(r, seed, lr=max(cfg.lrs), wd=wd, fixed=False, bn=True, control=""), "C5", "", sp)
    titles = ["fixed norm", "λ = 0 / no BN", "full batch", "all trained", f"η = {max(cfg.lrs):g}"]
    for col, title in enumerate(titles):
        axes[0, col].set(yscale="log", title=title)
        axes[1, col].set(yscale="log", xlabel="step")
        axes[0, col].title.set_fontsize("x-small")
        for ax in axes[:, col]:
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.tick_params(labelsize="x-small")
    for ax in axes[0, :2]:
        ax.legend(fontsize="xx-small")
    axes[0, 0].set_ylabel("train loss")
    axes[1, 0].set_ylabel("ρ")
    return fig


def fig_bn_var(res: Results, cfg: Config, seed: int | None = None):
    """Smallest pre-BN variance of a unit in each block of steps, for the panel runs and the all-trained variant,
    against BN's ε: scale invariance holds while the curves stay far above it."""
    seed = cfg.seed if seed is None else seed
    pal = plots.lr_palette(cfg.lrs)
    fig, ax = plots.figure(height=2.4, width=5.0)
    r = res.sgd
    for c, lab in _panel_rows(r, seed, cfg).iterrows():
        s = r.series_of(c)
        ax.plot(s.step, s.bn_var, color=pal[lab.lr], lw=0.8, label=plots.lr_label(lab.lr))
    s = res.all_trained.series_of(_one(res.all_trained, seed))
    ax.plot(s.step, s.bn_var, color="C4", lw=0.8, ls="--", label="all trained")
    ax.axhline(cfg.bn_eps, color="k", lw=1, ls=":", label="BN's ε")
    ax.set(yscale="log", xlabel="step", ylabel="smallest pre-BN variance")
    ax.legend(fontsize="x-small", ncols=2)
    return fig
