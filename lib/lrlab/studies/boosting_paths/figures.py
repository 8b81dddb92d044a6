"""Figures of the boosting chapter (the notebook glues them; one idea per figure)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from lrlab import plots
from lrlab.config import Config

from .designs import Experiment


def _contours(ax, X: np.ndarray, y: np.ndarray, lim: tuple[tuple[float, float], tuple[float, float]]) -> None:
    """Contours of the least-squares loss ½‖y − Xβ‖² over a box in coefficient space, from XᵀX and Xᵀy:
    ½(yᵀy − 2βᵀXᵀy + βᵀXᵀXβ) costs the grid times p², not the grid times n."""
    b1, b2 = np.meshgrid(np.linspace(*lim[0], 120), np.linspace(*lim[1], 120))
    B = np.stack([b1.ravel(), b2.ravel()], axis=1)
    loss = (0.5 * (y @ y - 2 * B @ (X.T @ y) + np.einsum("gi,ij,gj->g", B, X.T @ X, B))).reshape(b1.shape)
    ax.contour(b1, b2, np.log(loss - loss.min() + 1e-9 + 1), levels=12, colors="0.8", linewidths=0.6)


def _box(points: np.ndarray, pad: float = 0.12) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    return (lo[0] - pad * span[0], hi[0] + pad * span[0]), (lo[1] - pad * span[1], hi[1] + pad * span[1])


def fig_ridge(exp: Experiment, cfg: Config):
    """Fig. 7 analogue: LS and ridge boosting paths over the loss contours, and their distance to OLS."""
    fig, axes = plots.figure(ncols=2, height=3.2)
    ax = axes[0, 0]
    X, y, rp = exp.extra["X"], exp.extra["y"], exp.extra["ridge_path"]
    first = exp.paths[exp.paths.seed == cfg.seed]
    row = exp.summary[exp.summary.seed == cfg.seed].iloc[0]
    pts = np.vstack([first[["beta_1", "beta_2"]].to_numpy(), [[0, 0]]])
    _contours(ax, X, y, _box(pts))
    ax.plot(rp[:, 0], rp[:, 1], color="0.3", ls="--", lw=1, label="ridge path (λ ≥ 0)")
    for (kind, g), colour in zip(first.groupby("learner", sort=False), ("C0", "C3")):
        ax.plot(g.beta_1, g.beta_2, color=colour, lw=1.4, marker=".", ms=3, label=f"{kind} boosting")
    ax.plot(row.ols_1, row.ols_2, "k*", ms=10, label="OLS")
    ax.plot(row.ridge_1, row.ridge_2, "kX", ms=8, label=f"ridge (λ = {cfg.ridge_lam:g})")
    ax.set(xlabel="β₁", ylabel="β₂", title="coefficient paths")
    ax.legend(fontsize="x-small", loc="best")
    ax = axes[0, 1]
    for (kind, g), colour in zip(first.groupby("learner", sort=False), ("C0", "C3")):
        ax.semilogy(g.m, np.maximum(g.dist_ols, 1e-16), color=colour, label=f"{kind}: ‖β − β_OLS‖")
        ax.semilogy(g.m, g.dist_ridge, color=colour, ls=":", label=f"{kind}: ‖β − β_ridge‖")
    ax.set(xlabel="iteration m", ylabel="distance", title="distance to OLS and to ridge")
    ax.legend(fontsize="x-small")
    return fig


def fig_crossing(exp: Experiment, cfg: Config):
    """Fig. 1 analogue: joint ridge-learner paths for every λ against the ridge path; right, near the origin."""
    fig, axes = plots.figure(ncols=2, height=3.2)
    X, y, ols, curve = (exp.extra[k] for k in ("X", "y", "ols", "ridge_curve"))
    lams = sorted(exp.paths.lam.unique())
    pos = [v for v in lams if v > 0]
    norm = mpl.colors.LogNorm(min(pos) if pos else 1.0, max(pos) if pos else 10.0)
    cmap = mpl.colormaps["viridis"]
    for ax, zoom in zip(axes[0], (False, True)):
        if zoom:
            r = 0.2 * np.linalg.norm(ols)
            box = ((-r, r), (-r, r))
        else:
            box = _box(np.vstack([curve, [[0, 0]]]))
        _contours(ax, X, y, box)
        for lam in lams:
            g = exp.paths[exp.paths.lam == lam]
            colour = "C3" if lam == 0 else cmap(norm(lam))
            ax.plot(g.beta_1, g.beta_2, color=colour, lw=1.1, label=f"λ = {lam:g}")
        ax.plot(curve[:, 0], curve[:, 1], "k--", lw=1.2, label="ridge path")
        ax.plot(ols[0], ols[1], "k*", ms=9)
        ax.set(xlim=box[0], ylim=box[1], xlabel="β₁", ylabel="β₂",
               title="near the origin (first steps)" if zoom else "whole paths")
    axes[0, 0].legend(fontsize="xx-small", ncol=2)
    return fig


def fig_pspline(exp: Experiment, cfg: Config):
    """Fig. 8 analogue: the boosted P-spline fit at a few iterations; right, its distances to f_B and f_P."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    cur = exp.extra["curves"]
    ax = axes[0, 0]
    ax.scatter(cur.x, cur.y, s=6, color="0.6", label="data")
    steps = [c for c in cur.columns if c.startswith("m = ")]
    pal = plots.sns.color_palette("rocket_r", len(steps) + 1)[1:]
    for c, colour in zip(steps, pal):
        ax.plot(cur.x, cur[c], color=colour, lw=1.3, label=c)
    ax.plot(cur.x, cur.iloc[:, 2], color="C0", ls=":", lw=2, label=cur.columns[2])
    ax.plot(cur.x, cur.iloc[:, 3], "k--", lw=1, label=cur.columns[3])
    ax.set(xlabel="x", ylabel="f(x)", title="boosted fits")
    ax.legend(fontsize="xx-small")
    ax = axes[0, 1]
    for s, g in exp.paths.groupby("seed"):
        first = s == cfg.seed
        ax.loglog(g.m.clip(lower=1), g.to_unpenalized, color="C0", alpha=1 if first else 0.35,
                  label="‖f − f_B‖ (unpenalized)" if first else None)
        ax.loglog(g.m.clip(lower=1), g.to_penalized, color="C3", alpha=1 if first else 0.35,
                  label="‖f − f_P‖ (penalized)" if first else None)
    ax.set(xlabel="iteration m", ylabel="distance / ‖f_B − f_P‖", title="where the path goes")
    ax.legend(fontsize="x-small")
    return fig


def fig_rates(exp: Experiment, cfg: Config):
    """Fig. 6 analogue: loss gap against iteration per correlation; right, measured contraction against the bound."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    pal = plots.lr_palette(cfg.rate_rhos)
    ax = axes[0, 0]
    for rho, g in exp.paths[exp.paths.seed == cfg.seed].groupby("rho"):
        ax.semilogy(g.m, g.gap.clip(lower=1e-30), color=pal[rho], label=f"ρ = {rho:g}, κ = {g.kappa.iloc[0]:.1f}")
    ax.set(xlabel="iteration m", ylabel="(L − L*) / (L₀ − L*)", title="loss gap", ylim=(1e-25, 2))
    ax.legend(fontsize="xx-small")
    ax = axes[0, 1]
    sm = exp.summary
    for rho, g in sm.groupby("rho"):
        ax.scatter(1 - g.bound, 1 - g.worst_step, color=pal[rho], s=18, label=f"ρ = {rho:g}")
    lim = (0.5 * (1 - sm.bound).min(), 2 * (1 - sm.worst_step).max())
    ax.plot(lim, lim, "k--", lw=0.8, label="worst step = bound")
    ax.set(xscale="log", yscale="log", xlabel="1 − bound", ylabel="1 − worst one-step ratio",
           title="every step against the bound")
    ax.legend(fontsize="xx-small")
    return fig


def fig_rate_p(exp: Experiment, cfg: Config):
    """Fig. 3 analogue: 1 − γ = λ_pmin/p against p per correlation; right, measured contraction against p."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    pal = plots.lr_palette(cfg.rate_p_rhos)
    ax = axes[0, 0]
    for rho, g in exp.paths[exp.paths.seed == cfg.seed].groupby("rho"):
        ax.semilogy(g.p, g.one_minus_gamma, color=pal[rho], marker=".", ms=4, label=f"ρ = {rho:g}")
    ax.axvline(cfg.rate_n, color="0.5", ls=":", lw=1)
    ax.set(xlabel="number of covariates p", ylabel="1 − γ = λ_pmin(Q)/p", title=f"the bound (ν = 1, n = {cfg.rate_n})")
    ax.legend(fontsize="x-small")
    ax = axes[0, 1]
    for rho, g in exp.summary.groupby("rho"):
        m = g.groupby("p").gap_left.median()
        ax.loglog(m.index, m.clip(lower=1e-32), color=pal[rho], marker="o", ms=4, label=f"ρ = {rho:g}")
    ax.axvline(cfg.rate_n, color="0.5", ls=":", lw=1)
    ax.set(xlabel="number of learners p", ylabel="gap left / initial gap",
           title=f"boosting, {cfg.rate_m} iterations, ν = {cfg.rate_nu:g} (median over seeds)")
    ax.legend(fontsize="xx-small")
    return fig


def fig_additive(exp: Experiment, cfg: Config):
    """The additive P-spline model run long: distances to f_unpen / f_pen, and the noise covariate's share."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    for s, g in exp.paths.groupby("seed"):
        ls = ("-", "--", ":", "-.")[(s - cfg.seed) % 4]
        g = g[g.m >= 1]
        axes[0, 0].semilogx(g.m, g.to_unpenalized, color="C0", ls=ls, label=f"‖f − f_unpen‖, seed {s}")
        axes[0, 0].semilogx(g.m, g.to_penalized, color="C3", ls=ls, label=f"‖f − f_pen‖, seed {s}")
        axes[0, 1].semilogx(g.m, g.share_x3, color="C2", ls=ls, label=f"seed {s}")
    axes[0, 0].set(xlabel="iteration m", ylabel="distance / ‖f_unpen − f_pen‖", title="where the fit goes")
    axes[0, 0].legend(fontsize="xx-small", ncol=2)
    axes[0, 1].set(xlabel="iteration m", ylabel="share of iterations 1..m",
                   title="selections of the noise covariate x₃")
    axes[0, 1].legend(fontsize="x-small")
    return fig


def fig_effects(exp: Experiment, cfg: Config):
    """Centred partial effects of the three P-spline learners: boosted, penalized and unpenalized."""
    eff = exp.extra["effects"]
    fig, axes = plots.figure(ncols=3, height=2.6, sharey=True)
    fits = list(dict.fromkeys(eff.fit))
    styles = {"penalized": ("k", "--"), "unpenalized": ("0.4", ":")}
    boosted = [f for f in fits if f.startswith("m = ")]
    pal = dict(zip(boosted, plots.sns.color_palette("rocket_r", len(boosted) + 1)[1:]))
    for ax, (cov, g) in zip(axes[0], eff.groupby("covariate")):
        for fit, h in g.groupby("fit", sort=False):
            colour, ls = styles.get(fit, (pal.get(fit), "-"))
            ax.plot(h.x, h.effect, color=colour, ls=ls, lw=1.2, label=fit)
        ax.set(xlabel=cov, title=f"effect of {cov}" + (" (noise)" if cov == "x3" else ""))
    axes[0, 0].set_ylabel("centred partial effect")
    axes[0, 0].legend(fontsize="xx-small")
    return fig


def fig_poisson(exp: Experiment, cfg: Config):
    """Figs. 5 and 12 analogue: Poisson loss gap per ν/ν* (first seed), and β₁ over the last iterations of every
    run that did not overflow (all seeds)."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    runs = exp.paths[(exp.paths.seed == cfg.seed) & (exp.paths.grid == "factor")]
    summ = exp.summary[exp.summary.grid == "factor"]
    first = summ[summ.seed == cfg.seed]
    pal = plots.lr_palette(list(cfg.glm_factors))

    def key(f: float) -> float:
        return min(cfg.glm_factors, key=lambda v: abs(v - f))

    for f, g in runs.groupby("factor"):
        status = first.loc[(first.factor - f).abs().idxmin(), "status"]
        axes[0, 0].loglog(g.m, g.gap.replace([np.inf, -np.inf], np.nan).clip(1e-16, 1e8), color=pal[key(f)],
                          label=f"ν = {key(f):g} ν*" + (" (diverged)" if status == "diverged" else ""))
    axes[0, 0].set(xlabel="iteration m", ylabel="loss gap (clipped at 1e8)",
                   title=f"Poisson, seed {cfg.seed}: ν* = {first.nu_star.iloc[0]:.3f}")
    axes[0, 0].legend(fontsize="xx-small")
    ok = summ[summ.status == "ok"][["seed", "factor"]]
    tails = exp.extra["tails"]
    tails = tails[tails.grid == "factor"].merge(ok, on=["seed", "factor"])
    ax = axes[0, 1]
    shown = set()
    for (_seed, f), g in tails.groupby(["seed", "factor"]):
        label = f"ν = {key(f):g} ν*" if key(f) not in shown else None
        shown.add(key(f))
        ax.plot(g.m - g.m.max(), g.beta_1 - g.beta_1_hat, color=pal[key(f)], marker=".", lw=1, label=label)
    ax.set(xlabel="iterations before the end", ylabel="β₁ − β̂₁ (MLE)",
           title=f"β₁ over the last 10 of {cfg.glm_m} iterations")
    ax.legend(fontsize="xx-small", title="runs that did not overflow, all seeds", title_fontsize="xx-small")
    return fig


def fig_glm_grid(poisson_exp: Experiment, binomial_exp: Experiment, cfg: Config):
    """The paper's absolute ν grid on the Poisson design, and the binomial contrast (every seed)."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    runs = poisson_exp.paths[(poisson_exp.paths.seed == cfg.seed) & (poisson_exp.paths.grid == "paper")]
    pal = plots.lr_palette(list(cfg.glm_nus))
    status = poisson_exp.summary.set_index(["seed", "grid", "nu"]).status
    for nu, g in runs.groupby("nu"):
        gone = status.get((cfg.seed, "paper", nu)) == "diverged"
        axes[0, 0].loglog(g.m, g.gap.replace([np.inf, -np.inf], np.nan).clip(1e-16, 1e8), color=pal[nu],
                          label=plots.lr_label(nu, "ν") + (" (overflow)" if gone else ""))
    axes[0, 0].set(xlabel="iteration m", ylabel="loss gap (clipped at 1e8)", title="Poisson, the paper's ν grid")
    axes[0, 0].legend(fontsize="xx-small")
    pal = plots.lr_palette(list(cfg.binom_nus))
    for (s, nu), g in binomial_exp.paths.groupby(["seed", "nu"]):
        axes[0, 1].loglog(g.m, g.gap.clip(lower=1e-16), color=pal[nu], alpha=1 if s == cfg.seed else 0.4,
                          label=plots.lr_label(nu, "ν") if s == cfg.seed else None)
    axes[0, 1].axhline(1e-3, color="0.5", ls=":", lw=1)
    axes[0, 1].set(xlabel="iteration m", ylabel="loss gap", title="binomial (every seed)")
    axes[0, 1].legend(fontsize="xx-small")
    return fig


def fig_lasso(exp: Experiment, cfg: Config):
    """Background: deviation of small-ν boosting from the lasso path; right, the diabetes coefficient paths."""
    fig, axes = plots.figure(ncols=2, height=3.2)
    styles = dict(zip(sorted(cfg.lasso_nus, reverse=True), ("-", "--", ":", "-.")))
    for (design, nu), g in exp.paths.groupby(["design", "nu"]):
        colour = {"orthogonal": "C0", "iid": "C1", "equicorrelated": "C2", "diabetes": "C3"}[design]
        axes[0, 0].loglog(g.alpha_ratio, g.deviation.cummax().clip(lower=1e-6), color=colour,
                          ls=styles.get(nu, "-"), label=f"{design}, ν = {nu:g}")
    axes[0, 0].invert_xaxis()
    axes[0, 0].set(xlabel="α / α_max (penalty falls →)", ylabel="max deviation so far",
                   title="‖β_boost − β_lasso‖∞ / max|β_OLS|")
    axes[0, 0].legend(fontsize="xx-small", ncol=2, loc="upper left")
    d = exp.paths[(exp.paths.design == "diabetes") & (exp.paths.nu == min(cfg.lasso_nus))]
    ax = axes[0, 1]
    for j in range(10):
        colour = plots.sns.color_palette("tab10")[j]
        ax.plot(d.alpha_ratio, d[f"lasso_{j}"], color=colour, lw=1)
        ax.plot(d.alpha_ratio, d[f"boost_{j}"], color=colour, lw=1, ls="--")
    ax.set(xscale="log", xlabel="α / α_max", ylabel="coefficient",
           title=f"diabetes: lasso (solid), boosting ν = {min(cfg.lasso_nus):g} (dashed)")
    ax.invert_xaxis()
    return fig


def fig_penalty(exp: Experiment, cfg: Config):
    """What λ changes on the Fig. 1 design: the closest approach to the ridge solution (C1) and the iterations to
    reach OLS against 1/(ν s_min) (C11), measured by the loop (points) and predicted by the closed form (lines)."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    sm = exp.summary[exp.summary.lam > 0]
    ax = axes[0, 0]
    for s, g in sm.groupby("seed"):
        first = s == cfg.seed
        ax.loglog(g.lam, g.closest_pred, color="C0", lw=1, alpha=1 if first else 0.35,
                  label="closed form" if first else None)
        ax.scatter(g.lam, g.closest, color="C0", s=14, zorder=3, label="boosting loop" if first else None)
        for lam, d, m in zip(g.lam, g.closest, g.closest_m):
            if first:
                ax.annotate(f"m={m}", (lam, d), fontsize="xx-small", xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="penalty λ", ylabel="min_m ‖β − β_ridge(λ)‖ / ‖β_ridge − β_OLS‖",
           title="closest approach to the ridge solution")
    ax.legend(fontsize="xx-small")
    ax = axes[0, 1]
    x = 1 / (cfg.cross_nu * sm.s_min)
    if sm.empty:
        return fig
    ax.loglog(x, sm.m_eps, "o", color="C3", ms=4, label="boosting loop")
    grid = np.geomspace(x.min(), x.max(), 50)
    ax.loglog(grid, grid * np.log(1 / cfg.speed_eps), "k--", lw=1, label="log(1/ε) / (ν s_min)")
    ax.set(xlabel="1 / (ν s_min)", ylabel=f"iterations to ‖β − β_OLS‖ ≤ {cfg.speed_eps:g} ‖β_OLS‖",
           title="the penalty sets the speed")
    ax.legend(fontsize="xx-small")
    return fig


def fig_crossing_point(exp: Experiment, cfg: Config):
    """C2: where the path crosses the ridge path (v*, predicted; the loop's crossing iteration, measured), and how
    many times, against λ."""
    fig, axes = plots.figure(ncols=2, height=2.8)
    sm = exp.summary[exp.summary.lam > 0]
    ax = axes[0, 0]
    for s, g in sm.groupby("seed"):
        first = s == cfg.seed
        ax.loglog(g.lam, g.v_star.clip(lower=1e-30), color="C0", lw=1, alpha=1 if first else 0.35,
                  label="predicted v*" if first else None)
        seen = g[g.cross_m >= 0]
        ax.scatter(seen.lam, (1 - cfg.cross_nu * seen.s_max) ** seen.cross_m, color="C3", s=14, zorder=3,
                   label="v where the loop's path changes side" if first else None)
    ax.axhline(1e-8, color="0.5", ls=":", lw=1)
    ax.set(xlabel="penalty λ", ylabel="v = 1 − u_fast at the crossing", title="the crossing slides to the origin")
    ax.legend(fontsize="xx-small")
    ax = axes[0, 1]
    allr = exp.summary
    for s, g in allr.groupby("seed"):
        ax.plot(g.lam.clip(lower=0.1), g.crossings + 0.04 * (s - cfg.seed), "o-", ms=4, lw=0.8,
                label=f"seed {s}")
    ax.set(xscale="log", xlabel="penalty λ (λ = 0 drawn at 0.1)", ylabel="side changes", yticks=[0, 1, 2],
           title="crossings of the ridge path")
    ax.legend(fontsize="xx-small")
    return fig


def fig_small_step(exp: Experiment, cfg: Config):
    """C12: paths at several ν indexed by t = νm against the flow (first seed), and their distance to it."""
    fig, axes = plots.figure(ncols=2, height=3.0)
    ax = axes[0, 0]
    paths = exp.paths
    nus = sorted(v for v in paths.nu.unique() if v > 0)
    pal = plots.lr_palette(nus)
    flow = paths[paths.nu == 0]
    ax.plot(flow.beta_1, flow.beta_2, "k-", lw=2.5, alpha=0.35, label="flow (I − e^{−tS})")
    for nu in nus:
        g = paths[paths.nu == nu]
        ax.plot(g.beta_1, g.beta_2, ".", ms=2.5, color=pal[nu], label=plots.lr_label(nu, "ν"))
    ax.set(xlabel="β₁", ylabel="β₂", title=f"paths at t = νm, λ = {cfg.flow_lam:g}")
    ax.legend(fontsize="xx-small", markerscale=3)
    ax = axes[0, 1]
    sm = exp.summary
    for s, g in sm.groupby("seed"):
        first = s == cfg.seed
        ax.loglog(g.nu, g.dev_flow, "o-", color="C0", ms=4, alpha=1 if first else 0.35,
                  label="max_t ‖β_ν(t/ν) − β(t)‖" if first else None)
        ax.loglog(g.nu, g.bound, "--", color="C3", lw=1, alpha=1 if first else 0.35,
                  label="bound ‖b ∘ (a/s − 1)‖/e" if first else None)
    ax.set(xlabel="step ν", ylabel="distance / ‖β_OLS‖", title="first order in ν")
    ax.legend(fontsize="xx-small")
    return fig


def fig_threshold(exp: Experiment, cfg: Config):
    """C8: every run of the paper's grid, its final loss gap against ν/ν* (left) and ν/ν*_path (right)."""
    fig, axes = plots.figure(ncols=2, height=3.0, sharey=True)
    po = exp.summary[exp.summary.grid == "paper"]
    gap = po.final_gap.clip(lower=1e-16).replace(np.inf, 1e8)
    for ax, crit, label in ((axes[0, 0], po.nu_star, "ν / ν* (curvature at the optimum)"),
                            (axes[0, 1], po.nu_star_path, "ν / ν*_path (curvature met by the path)")):
        ratio = (po.nu / crit).replace(np.inf, 1e3).clip(upper=1e3)
        ax.axvspan(0.9, 1.1, color="0.85", lw=0)
        ax.axvline(1.0, color="k", lw=0.8)
        for conv, marker, colour in ((True, "o", "C2"), (False, "x", "C3")):
            keep = po.converged == conv
            ax.scatter(ratio[keep], gap[keep], marker=marker, color=colour, s=22,
                       label="converged" if conv else "not converged (overflow drawn at 1e8)")
        ax.set(xscale="log", yscale="log", xlabel=label)
    axes[0, 0].set_ylabel(f"loss gap at m = {cfg.glm_m}")
    axes[0, 0].legend(fontsize="xx-small")
    return fig


def fig_selection(exp: Experiment, cfg: Config):
    """C13 (background): the spline's share of first selections under pure noise, unequal and equal df."""
    fig, ax = plots.figure(height=2.6)
    se = exp.summary
    for i, (kind, colour) in enumerate((("unequal", "C3"), ("equal", "C0"))):
        g = se[se.df == kind].reset_index(drop=True)
        x = i + 0.12 * (np.arange(len(g)) - (len(g) - 1) / 2)
        ax.errorbar(x, g.share_spline, yerr=[g.share_spline - g.lo, g.hi - g.share_spline], fmt="o",
                    color=colour, capsize=3, label=f"{kind} df: spline {g.df_spline.iloc[0]:.0f} vs linear 1")
    ax.axhline(0.5, color="0.4", ls="--", lw=1)
    ax.set(xticks=[0, 1], xticklabels=["unequal df", "equal df"], xlim=(-0.5, 1.5), ylim=(0.3, 1.02),
           ylabel="spline's share of first selections", title="pure noise, one seed per point (95 % intervals)")
    ax.legend(fontsize="xx-small", loc="lower left")
    return fig
