"""The boosting chapter's paths and the additive model, and every experiment together.

- paths against penalized paths: ridge learners reach OLS (Fig. 7); the joint ridge learner of Fig. 1 run with the
  boosting loop and held against the closed forms of :mod:`lrlab.studies.boosting_paths.exact` (closest approach to the
  ridge solution, side of the ridge path, iterations to OLS); P-spline boosting against the B-spline and P-spline fits
  (Fig. 8);
- the penalized-learner pathology in an additive model (the additive example is derived in this chapter);
- :class:`Results` holds every experiment of the chapter, from here and from
  :mod:`~lrlab.studies.boosting_paths.convergence`, :mod:`~lrlab.studies.boosting_paths.glm`,
  :mod:`~lrlab.studies.boosting_paths.limits` and :mod:`~lrlab.studies.boosting_paths.background`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config

from . import exact
from .background import lasso
from .convergence import rate_vs_p, rates
from .designs import Experiment, _linear_learners, _m_grid, _rng, correlated_pair, crossing_data, seeds
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
    """The ridge path from OLS (λ = 0) to the origin (λ → ∞) as a dense polyline (``points × p``), for figures."""
    d = np.linalg.eigvalsh(X.T @ X)
    lams = np.concatenate([[0.0], np.geomspace(d.min() * 1e-5, d.max() * 1e7, points)])
    return np.vstack([bst.ridge_path(X, y, lams), np.zeros((1, X.shape[1]))])


def _crossing_row(X: np.ndarray, y: np.ndarray, lam: float, cfg: Config) -> tuple[dict, np.ndarray]:
    """One joint ridge learner, run with the boosting loop and judged against the closed forms of
    :mod:`~lrlab.studies.boosting_paths.exact`."""
    sp = exact.ridge_spectrum(X, y, lam)
    ols, nu, M = sp.ols, cfg.cross_nu, cfg.cross_m
    m_eps = exact.iterations_to(sp, nu, cfg.speed_eps)
    run = bst.boost([bst.Learner("X", X, lam=lam)], y, nu, max(M, int(1.25 * m_eps) + 10), offset=0.0)
    coef = run.coef
    dist = np.linalg.norm(coef - ols, axis=1)
    hit = np.flatnonzero(dist <= cfg.speed_eps * np.linalg.norm(ols))
    row = {"lam": lam, "ols_norm": float(np.linalg.norm(ols)), "s_min": float(sp.s[0]), "s_max": float(sp.s[-1]),
           "end_to_ols": float(dist[min(M, run.mstop)]),
           # C11: iterations to reach speed_eps, measured on the loop and predicted
           "m_eps": float(hit[0]) if hit.size else float("inf"), "m_eps_pred": float(m_eps)}
    coef = coef[: M + 1]
    row |= {"ridge_gap": np.nan, "closest": np.nan, "closest_m": -1, "closest_pred": np.nan, "closest_m_pred": -1}
    if lam > 0:  # C1: the closest approach to the ridge solution, measured and predicted
        ridge = exact.ridge_solution(sp, lam)
        gap = float(np.linalg.norm(ridge - ols))
        d_meas, m_meas = exact.closest_approach(coef, ridge)
        d_pred, m_pred = exact.closest_approach(exact.ridge_coef_path(sp, nu, np.arange(M + 1)), ridge)
        row |= {"ridge_gap": gap, "closest": d_meas / gap, "closest_m": m_meas, "closest_pred": d_pred / gap,
                "closest_m_pred": m_pred}
    # C2: the crossing of the ridge path, measured (sides of the loop's iterates) and predicted
    side = exact.side_of_ridge_path(sp, coef)
    told = np.flatnonzero(side != 0)
    flips = told[1:][side[told[1:]] != side[told[:-1]]]
    v_star, r = exact.crossing_point(sp, nu)
    m_cross = exact.crossing_iteration(sp, nu, v_star)
    resolvable = bool(1e-8 <= v_star < 1 - 1e-8 and m_cross <= M) if np.isfinite(v_star) else False
    row |= {"crossings": int(flips.size), "cross_m": int(flips[0]) if flips.size else -1, "r": r,
            "v_star": v_star, "cross_m_pred": m_cross, "cross_resolvable": resolvable}
    return row, coef


def ridge_crossing(cfg: Config) -> Experiment:
    """The joint ridge learner ``bols(X1, λ) %+% bols(X2, λ)`` of Fig. 1, run with the boosting loop.

    For each λ of ``cross_lams`` the loop's path is compared with the closed forms
    (:mod:`~lrlab.studies.boosting_paths.exact`): its closest
    approach to the ridge solution and the iteration of it (C1), the side of the ridge path each iterate lies on
    and the iteration where it changes (C2), and the iterations to reach ``speed_eps × ‖β_OLS‖`` from OLS (C11).
    """
    paths, rows, extra = [], [], {}
    grid = _m_grid(cfg.cross_m)
    for s in seeds(cfg):
        X, y = crossing_data(cfg.cross_n, cfg.cross_rho, cfg.cross_beta, s)
        for lam in cfg.cross_lams:
            row, coef = _crossing_row(X, y, lam, cfg)
            rows.append({"seed": s, **row})
            if s == cfg.seed:
                paths.append(pd.DataFrame({"seed": s, "lam": lam, "m": grid, "beta_1": coef[grid, 0],
                                           "beta_2": coef[grid, 1]}))
        if s == cfg.seed:
            extra = {"X": X, "y": y, "ols": np.linalg.lstsq(X, y, rcond=None)[0], "ridge_curve": ridge_curve(X, y)}
    return Experiment(pd.concat(paths, ignore_index=True), pd.DataFrame(rows), extra)


def pspline_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 8: ``n`` equispaced points on [0, 1.5], ``y = 1.5 + sin(4x) + 0.4 ε``."""
    x = np.linspace(0.0, 1.5, n)
    return x, 1.5 + np.sin(4 * x) + 0.4 * rng.standard_normal(n)


SPLINE_SHOW = (1, 10, 30, 60)


def _fit_distance(coef: np.ndarray, target: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``‖Z(θ − θ*)‖`` for every row θ of ``coef``, through the Gram matrix ``G = ZᵀZ``."""
    diff = coef - target
    return np.sqrt(np.maximum(np.sum((diff @ G) * diff, axis=1), 0.0))


def pspline_path(cfg: Config) -> Experiment:
    """P-spline boosting against the B-spline (λ = 0) and P-spline (λ) fits (Fig. 8).

    One learner ``bbs(x, knots=spline_knots, lambda=spline_lam)``, mboost's default offset mean(y), run with the
    boosting loop for ``spline_m`` iterations. Distances are relative to ``‖f_B − f_P‖``. The closest approach to
    ``f_P`` and its iteration are also predicted from the explicit hat matrix
    (:func:`~lrlab.studies.boosting_paths.exact.smoother`).
    """
    rows, curves, dists = [], [], []
    for s in seeds(cfg):
        x, y = pspline_data(cfg.spline_n, _rng(s, 8))
        learner = bst.pspline(x, knots=cfg.spline_knots, lam=cfg.spline_lam, name="x")
        off = float(y.mean())
        Z = bst.bspline_basis(x, cfg.spline_knots, 3)
        K = bst.difference_penalty(Z.shape[1], 2)
        theta_b = np.linalg.lstsq(Z, y - off, rcond=None)[0]
        theta_p = np.linalg.solve(Z.T @ Z + cfg.spline_lam * K, Z.T @ (y - off))
        f_b, f_p = off + Z @ theta_b, off + Z @ theta_p
        gap = float(np.linalg.norm(f_b - f_p))
        path = bst.boost([learner], y, cfg.spline_nu, cfg.spline_m, offset=off)
        G = Z.T @ Z
        d_b = _fit_distance(path.coef, theta_b, G) / gap
        d_p = _fit_distance(path.coef, theta_p, G) / gap
        sm = exact.smoother(Z, K, cfg.spline_lam)
        c, e = sm.U.T @ (y - off), sm.U.T @ (f_p - off)
        shrink = 1.0 - (1.0 - cfg.spline_nu * sm.s[None, :]) ** np.arange(cfg.spline_m + 1)[:, None]
        pred = np.linalg.norm(shrink * c - e, axis=1) / gap
        end_pred = float(np.linalg.norm(shrink[-1] * c - sm.U.T @ (f_b - off))) / gap
        show = [m for m in SPLINE_SHOW if m < cfg.spline_m] + [cfg.spline_m]
        rows.append({"seed": s, "df": learner.df(), "df_trace": learner.df("trace"), "gap": gap,
                     "end_to_unpen": d_b[-1], "end_to_pen": d_p[-1], "min_to_pen": d_p.min(),
                     "argmin_to_pen": int(d_p.argmin()), "min_to_pen_pred": pred.min(),
                     "argmin_to_pen_pred": int(pred.argmin()), "end_to_unpen_pred": end_pred,
                     **{f"to_pen_{m}": d_p[m] for m in show}, **{f"to_unpen_{m}": d_b[m] for m in show}})
        grid = _m_grid(cfg.spline_m, 200, 400)
        dists.append(pd.DataFrame({"seed": s, "m": grid, "to_unpenalized": d_b[grid], "to_penalized": d_p[grid],
                                   "to_penalized_pred": pred[grid]}))
        if s == cfg.seed:
            fit = path.eta(show)
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
    small_step: Experiment
    selection: Experiment


def run_all(cfg: Config) -> Results:
    """Run every experiment (the notebook runs them one by one, with the story in between)."""
    from .limits import selection, small_step

    return Results(ridge_boosting(cfg), ridge_crossing(cfg), pspline_path(cfg), rates(cfg), rate_vs_p(cfg),
                   additive(cfg), poisson(cfg), binomial(cfg), lasso(cfg), small_step(cfg), selection(cfg))
