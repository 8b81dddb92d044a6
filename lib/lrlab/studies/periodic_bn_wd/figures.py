"""The chapter's figures: the paper's Figure 2 at the book's scale, one period step by step, the period against
ηλ, the controls, and the smallest pre-BN variance against BN's ε."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import plots
from lrlab.config import Config
from lrlab.probes import periodic as pr

from .analysis import Analysis, recursion_trace, spikes
from .experiments import Results, Run


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
    seed = cfg.seed if seed is None else seed
    r = res.sgd
    pal = plots.lr_palette(cfg.lrs)
    fig, axes = plots.figure(ncols=2, nrows=2, height=2.5)
    (a_loss, a_err), (a_rho, a_phase) = axes
    for c, lab in _seed_rows(r, seed, wd=cfg.wd, fixed=False).iterrows():
        if lab.lr not in cfg.lrs:
            continue
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
    measured gradient norms and against weight decay alone, and the ELR; dotted lines mark the events."""
    seed = cfg.seed if seed is None else seed
    r = res.sgd
    c = int(_seed_rows(r, seed, lr=lr, wd=cfg.wd, fixed=False).index[0])
    s = r.series_of(c)
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
    seed = cfg.seed if seed is None else seed
    fig, axes = plots.figure(ncols=4, nrows=2, height=2.0, sharex="col")
    r = res.sgd

    def draw(col, run, c, colour, label, sp):
        s = run.series_of(c)
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
    seed = cfg.seed if seed is None else seed
    pal = plots.lr_palette(cfg.lrs)
    fig, ax = plots.figure(height=2.4, width=5.0)
    r = res.sgd
    for c, lab in _seed_rows(r, seed, wd=cfg.wd, fixed=False).iterrows():
        if lab.lr in cfg.lrs:
            s = r.series_of(c)
            ax.plot(s.step, s.bn_var, color=pal[lab.lr], lw=0.8, label=plots.lr_label(lab.lr))
    s = res.all_trained.series_of(int(_seed_rows(res.all_trained, seed).index[0]))
    ax.plot(s.step, s.bn_var, color="C4", lw=0.8, ls="--", label="all trained")
    ax.axhline(cfg.bn_eps, color="k", lw=1, ls=":", label="BN's ε")
    ax.set(yscale="log", xlabel="step", ylabel="smallest pre-BN variance")
    ax.legend(fontsize="x-small", ncols=2)
    return fig
