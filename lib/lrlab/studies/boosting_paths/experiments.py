"""The boosting chapter's paths and the additive model: the runs of sections 1 and 3, and every experiment together.

- paths against penalized paths: ridge learners reach OLS (Fig. 7), the joint ridge learner's path is not the
  ridge path (Fig. 1), P-spline boosting passes the P-spline fit on its way to the B-spline fit (Fig. 8);
- the penalized-learner pathology in an additive model (§3.5; the additive example is derived in this chapter);
- :class:`Results` holds every experiment of the chapter, from here and from
  :mod:`~lrlab.studies.boosting_paths.convergence`, :mod:`~lrlab.studies.boosting_paths.glm` and
  :mod:`~lrlab.studies.boosting_paths.background`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config

from .background import lasso
from .convergence import rate_vs_p, rates
from .designs import Experiment, _linear_learners, _m_grid, _rng, correlated_pair, seeds
from .glm import binomial, poisson

# --------------------------------------------------------------------------------------------------------------
# 1. Paths against penalized paths
# --------------------------------------------------------------------------------------------------------------


def ridge_boosting(cfg: Config) -> Experiment:
    """Componentwise least-squares vs ridge learners on the Fig. 7 design.

    ``bols(x_j, intercept=FALSE)`` against ``bols(x_j, intercept=FALSE, lambda=ridge_lam)``, offset 0. Both paths
    should end at OLS; the ridge solution ``(XᵀX + λI)⁻¹Xᵀy`` is not on the ridge-boosting path.
    """
    paths, rows, extra = [], [], {}
    for s in seeds(cfg):
        rng = _rng(s, 7)
        X = correlated_pair(cfg.ridge_n, cfg.ridge_rho, rng)
        y = X @ np.array(cfg.ridge_beta) + rng.standard_normal(cfg.ridge_n)
        ols = np.linalg.lstsq(X, y, rcond=None)[0]
        ridge = bst.ridge_path(X, y, [cfg.ridge_lam])[0]
        gap = float(np.linalg.norm(ridge - ols))
        row = {"seed": s, "ols_1": ols[0], "ols_2": ols[1], "ridge_1": ridge[0], "ridge_2": ridge[1],
               "ridge_to_ols": gap}
        for kind, lam in (("least squares", 0.0), ("ridge", cfg.ridge_lam)):
            path = bst.boost(_linear_learners(X, lam), y, cfg.ridge_nu, cfg.ridge_m, offset=0.0)
            d_ols = np.linalg.norm(path.coef - ols, axis=1)
            d_ridge = np.linalg.norm(path.coef - ridge, axis=1)
            key = "ls" if kind == "least squares" else "rb"
            row |= {f"{key}_end_to_ols": d_ols[-1], f"{key}_min_to_ridge": d_ridge.min() / gap,
                    f"{key}_argmin_to_ridge": int(d_ridge.argmin())}
            paths.append(pd.DataFrame({"seed": s, "learner": kind, "m": np.arange(cfg.ridge_m + 1),
                                       "beta_1": path.coef[:, 0], "beta_2": path.coef[:, 1],
                                       "dist_ols": d_ols, "dist_ridge": d_ridge}))
        rows.append(row)
        if s == cfg.seed:
            lams = np.concatenate([[0.0], np.geomspace(1e-2, 1e6, 400)])
            extra = {"X": X, "y": y, "ridge_path": bst.ridge_path(X, y, lams)}
    return Experiment(pd.concat(paths, ignore_index=True), pd.DataFrame(rows), extra)


def ridge_curve(X: np.ndarray, y: np.ndarray, points: int = 3000) -> np.ndarray:
    """The ridge path from OLS (λ = 0) to the origin (λ → ∞) as a dense polyline (``points × p``)."""
    d = np.linalg.eigvalsh(X.T @ X)
    lams = np.concatenate([[0.0], np.geomspace(d.min() * 1e-5, d.max() * 1e7, points)])
    return np.vstack([bst.ridge_path(X, y, lams), np.zeros((1, X.shape[1]))])


def ridge_crossing(cfg: Config) -> Experiment:
    """The joint ridge learner ``bols(X1, λ) %+% bols(X2, λ)`` against the ridge path (Fig. 1).

    The boosting path is exact (:func:`lrlab.boosting.closed_form_path`) at every iteration up to ``cross_m``;
    the distance to the ridge path is measured on all iterations up to 500 and 1000 geometric ones beyond.
    """
    paths, rows, extra = [], [], {}
    ms = _m_grid(cfg.cross_m)
    for s in seeds(cfg):
        rng = _rng(s, 1)
        X = correlated_pair(cfg.cross_n, cfg.cross_rho, rng)
        y = X @ np.array(cfg.cross_beta) + rng.standard_normal(cfg.cross_n)
        ols = np.linalg.lstsq(X, y, rcond=None)[0]
        scale_ = float(np.linalg.norm(ols))
        curve = ridge_curve(X, y)
        for lam in cfg.cross_lams:
            learner = bst.Learner("X", X, lam=lam)
            cf = bst.closed_form_path(learner, y, cfg.cross_nu, ms)
            dist, sign = bst.distance_to_curve(cf.coef, curve)
            rows.append({"seed": s, "lam": lam, "ols_norm": scale_,
                         "end_to_ols": float(np.linalg.norm(cf.coef[-1] - ols)),
                         "max_to_ridge_path": float(dist.max()) / scale_,
                         "argmax_m": int(ms[dist.argmax()]),
                         "crossings": bst.crossings(sign, dist, 1e-3 * scale_)})
            if s == cfg.seed:
                paths.append(pd.DataFrame({"seed": s, "lam": lam, "m": ms, "beta_1": cf.coef[:, 0],
                                           "beta_2": cf.coef[:, 1], "dist_ridge": dist / scale_}))
        if s == cfg.seed:
            extra = {"X": X, "y": y, "ols": ols, "ridge_curve": curve}
    return Experiment(pd.concat(paths, ignore_index=True), pd.DataFrame(rows), extra)


def pspline_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 8: ``n`` equispaced points on [0, 1.5], ``y = 1.5 + sin(4x) + 0.4 ε``."""
    x = np.linspace(0.0, 1.5, n)
    return x, 1.5 + np.sin(4 * x) + 0.4 * rng.standard_normal(n)


SPLINE_SHOW = (1, 10, 30, 60)


def pspline_path(cfg: Config) -> Experiment:
    """P-spline boosting against the B-spline (λ = 0) and P-spline (λ) fits, exactly (Fig. 8).

    One learner ``bbs(x, knots=spline_knots, lambda=spline_lam)``, mboost's default offset mean(y). Distances are
    relative to ``‖f_B − f_P‖``.
    """
    rows, curves, dists = [], [], []
    for s in seeds(cfg):
        x, y = pspline_data(cfg.spline_n, _rng(s, 8))
        learner = bst.pspline(x, knots=cfg.spline_knots, lam=cfg.spline_lam, name="x")
        f_b = bst.least_squares_fit([learner], y)
        f_p = bst.penalized_fit([learner], y)
        gap = float(np.linalg.norm(f_b - f_p))
        d_b, d_p = np.empty(cfg.spline_m + 1), np.empty(cfg.spline_m + 1)
        for a in range(0, cfg.spline_m + 1, 5000):
            ms = np.arange(a, min(a + 5000, cfg.spline_m + 1))
            fit = bst.closed_form_path(learner, y, cfg.spline_nu, ms, offset=y.mean()).fit
            d_b[ms] = np.linalg.norm(fit - f_b, axis=1) / gap
            d_p[ms] = np.linalg.norm(fit - f_p, axis=1) / gap
        show = [m for m in SPLINE_SHOW if m < cfg.spline_m] + [cfg.spline_m]
        rows.append({"seed": s, "df": learner.df(), "df_trace": learner.df("trace"), "gap": gap,
                     "end_to_unpen": d_b[-1], "end_to_pen": d_p[-1], "min_to_pen": d_p.min(),
                     "argmin_to_pen": int(d_p.argmin()),
                     **{f"to_pen_{m}": d_p[m] for m in show}, **{f"to_unpen_{m}": d_b[m] for m in show}})
        grid = _m_grid(cfg.spline_m, 200, 400)
        dists.append(pd.DataFrame({"seed": s, "m": grid, "to_unpenalized": d_b[grid], "to_penalized": d_p[grid]}))
        if s == cfg.seed:
            fit = bst.closed_form_path(learner, y, cfg.spline_nu, show, offset=y.mean()).fit
            curves.append(pd.DataFrame({"x": x, "y": y, "B-spline (λ = 0)": f_b,
                                        f"P-spline (λ = {cfg.spline_lam:g})": f_p,
                                        **{f"m = {m}": fit[i] for i, m in enumerate(show)}}))
    return Experiment(pd.concat(dists, ignore_index=True), pd.DataFrame(rows), {"curves": curves[0]})


# --------------------------------------------------------------------------------------------------------------
# 3. The penalized-learner pathology in an additive model
# --------------------------------------------------------------------------------------------------------------


def additive_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(2πx₁) + 4(x₂ − ½)² + N(0, 0.3²)`` with ``x ~ U(0, 1)³``; ``x₃`` is pure noise."""
    X = rng.uniform(0.0, 1.0, (n, 3))
    y = np.sin(2 * np.pi * X[:, 0]) + 4 * (X[:, 1] - 0.5) ** 2 + 0.3 * rng.standard_normal(n)
    return X, y


def additive(cfg: Config) -> Experiment:
    """Three P-spline learners (``bbs(x_j, knots=additive_knots, df=additive_df)``) boosted long.

    Distances of the fit to the unpenalized additive B-spline fit ``f_unpen`` and to the penalized additive fit
    ``f_pen`` (same λ_j), relative to ``‖f_unpen − f_pen‖``, and the share of iterations that selected the noise
    covariate ``x3``, at the checkpoints.
    """
    rows, curves, effects = [], [], None
    checks = list(cfg.additive_checkpoints)
    mstop = checks[-1]
    for s in seeds(cfg):
        X, y = additive_data(cfg.additive_n, _rng(s, 42))
        learners = [bst.pspline(X[:, j], knots=cfg.additive_knots, df=cfg.additive_df, name=f"x{j + 1}")
                    for j in range(3)]
        path = bst.boost(learners, y, cfg.additive_nu, mstop)
        f_unpen = bst.least_squares_fit(learners, y)
        f_pen = bst.penalized_fit(learners, y)
        gap = float(np.linalg.norm(f_unpen - f_pen))
        grid = _m_grid(mstop, 100, 300)
        eta = path.eta(grid)
        d_u = np.linalg.norm(eta - f_unpen, axis=1) / gap
        d_p = np.linalg.norm(eta - f_pen, axis=1) / gap
        share = path.selection_share("x3", grid)
        curves.append(pd.DataFrame({"seed": s, "m": grid, "to_unpenalized": d_u, "to_penalized": d_p,
                                    "share_x3": share}))
        at = np.searchsorted(grid, checks)
        for m, k in zip(checks, at):
            rows.append({"seed": s, "m": m, "to_unpenalized": d_u[k], "to_penalized": d_p[k],
                         "share_x3": share[k], "lam": learners[0].lam})
        if s == cfg.seed:
            effects = _partial_effects(learners, path, X, y, checks[:2] + checks[-1:])
    return Experiment(pd.concat(curves, ignore_index=True), pd.DataFrame(rows), {"effects": effects})


def _partial_effects(learners: list[bst.Learner], path: bst.BoostPath, X: np.ndarray, y: np.ndarray,
                     ms: list[int]) -> pd.DataFrame:
    """Centred partial effects ``Z_jθ_j`` of each learner: boosted at ``ms``, penalized, unpenalized."""
    fits = {f"m = {m}": path.coef[m] for m in dict.fromkeys(ms)}
    fits["penalized"] = bst.penalized_coef(learners, y)
    fits["unpenalized"] = bst.least_squares_coef(learners, y)
    out = []
    for j, lr in enumerate(learners):
        order = np.argsort(X[:, j])
        for label, theta in fits.items():
            f = lr.Z @ theta[path.slices[j]]
            out.append(pd.DataFrame({"covariate": lr.name, "fit": label, "x": X[order, j],
                                     "effect": (f - f.mean())[order]}))
    return pd.concat(out, ignore_index=True)


# --------------------------------------------------------------------------------------------------------------
# Every experiment
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Every experiment of the chapter (what :func:`~lrlab.studies.boosting_paths.claims.scorecard` reads)."""

    ridge: Experiment
    crossing: Experiment
    spline: Experiment
    rates: Experiment
    rate_p: Experiment
    additive: Experiment
    poisson: Experiment
    binomial: Experiment
    lasso: Experiment


def run_all(cfg: Config) -> Results:
    """Run every experiment (the notebook runs them one by one, with the story in between)."""
    return Results(ridge_boosting(cfg), ridge_crossing(cfg), pspline_path(cfg), rates(cfg), rate_vs_p(cfg),
                   additive(cfg), poisson(cfg), binomial(cfg), lasso(cfg))
