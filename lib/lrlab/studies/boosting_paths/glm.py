"""The GLM step-size pathology: Poisson boosting below and above the critical step (Figs. 5, 12) and the binomial
contrast (Figs. 5, 10).

Two critical steps, both derived in the chapter. ``ν*`` linearizes the update at the maximum-likelihood fit
(:func:`lrlab.boosting.critical_nu`): it is known before any run. ``ν*_path`` follows the curvature the run itself
meets: the smallest local critical step of the learners it updates over the second half of its iterations
(:func:`lrlab.boosting.critical_nu_along`), which is ``ν*`` for a run that settles at the optimum and smaller for
one whose iterates swing into regions of larger ``e^η``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from lrlab import boosting as bst
from lrlab.config import Config

from .designs import Experiment, _linear_learners, _rng, correlated_pair, scale, seeds


def glm_design(n: int, rho: float, beta: tuple[float, ...], family: str, rng: np.random.Generator):
    """Fig. 5: ``X ~ N₂(0, [[1, ρ], [ρ, 1]])``, scaled; ``y`` Poisson (log link) or Bernoulli (logit), no intercept."""
    X = scale(correlated_pair(n, rho, rng))
    eta = X @ np.asarray(beta)
    y = rng.poisson(np.exp(eta)) if family == "poisson" else (rng.uniform(size=n) < special.expit(eta))
    return X, y.astype(float)


CONVERGED_GAP = 1e-6
"""A run has converged when it ends without overflow and its loss gap to the maximum-likelihood fit is below this."""


def path_critical_nu(path: bst.BoostPath) -> float:
    """``ν*_path``: the smallest local critical step of the selected learners over the second half of the run (0
    for a run that overflowed: its curvature grew without bound)."""
    if path.status != "ok":
        return 0.0
    half = np.arange(path.mstop // 2, path.mstop)
    with np.errstate(over="ignore"):
        mu = bst.mean_function(path.family, np.clip(path.eta(half), -700.0, 700.0))
    w = mu if path.family == "poisson" else mu * (1 - mu)
    return float(bst.critical_nu_along(path.learners, path.selected[half], w).min())


def _glm_runs(X, y, family: str, nus: list[tuple[str, float, float]], mstop: int, seed: int, checks: list[int]):
    learners = _linear_learners(X)
    beta_hat = bst.glm_mle(X, y, family)
    mu = bst.mean_function(family, X @ beta_hat)
    weights = mu if family == "poisson" else mu * (1 - mu)
    nu_star = bst.critical_nu(learners, weights)
    r_star = float(bst.risk(family, y, X @ beta_hat))
    rows, curves, tails = [], [], []
    for label, factor, nu in nus:
        nu = nu_star * factor if label == "factor" else nu
        path = bst.boost(learners, y, nu, mstop, family=family, offset=0.0)
        done = path.mstop
        keep = np.unique(np.geomspace(1, done, 200).round().astype(int)) if done >= 1 else np.array([0])
        at = np.unique(np.concatenate([keep, [m for m in checks if m <= done], [done]]))
        gap = dict(zip(at.tolist(), path.risk(at) - r_star))  # the risk where it is read, not at every iteration
        final_gap = float(gap[done]) if path.status == "ok" else float("inf")
        osc = bst.oscillation(path.coef) if path.status == "ok" else float("inf")
        rows.append({"seed": seed, "grid": label, "factor": nu / nu_star, "nu": nu, "nu_star": nu_star,
                     "nu_star_path": path_critical_nu(path) if family == "poisson" else np.nan,
                     "converged": bool(path.status == "ok" and final_gap < CONVERGED_GAP),
                     "status": path.status, "iterations": done, "final_gap": final_gap, "beta_range": osc,
                     **{f"gap_{m}": (float(gap[m]) if m <= done and path.status == "ok" else float("nan"))
                        for m in checks}})
        curves.append(pd.DataFrame({"seed": seed, "nu": nu, "factor": nu / nu_star, "grid": label, "m": keep,
                                    "gap": [gap[m] for m in keep]}))
        last = np.arange(max(done - 10, 0), done + 1)
        tails.append(pd.DataFrame({"seed": seed, "nu": nu, "factor": nu / nu_star, "grid": label, "m": last,
                                   "beta_1": path.coef[last, 0], "beta_1_hat": beta_hat[0]}))
    return rows, curves, tails


def poisson(cfg: Config) -> Experiment:
    """Poisson boosting below and above the critical step (Figs. 5, 12), in the paper's setting.

    The authors' code draws ``n = 100`` scaled covariates with correlation 0.5, ``β = (3, −2)``, no intercept,
    offset 0, and runs the steps ``ν ∈ {0.02, …, 0.07}`` for 1000 iterations (``glm_nus``, judged). The runs at
    ``ν = factor × ν*`` (``glm_factors``) place the same data on the scale of ``ν*`` (shown).
    """
    rows, curves, tails = [], [], []
    for s in seeds(cfg):
        X, y = glm_design(cfg.glm_n, cfg.glm_rho, cfg.glm_beta, "poisson", _rng(s, 5))
        nus = [("factor", f, np.nan) for f in cfg.glm_factors] + [("paper", np.nan, v) for v in cfg.glm_nus]
        r, c, t = _glm_runs(X, y, "poisson", nus, cfg.glm_m, s, [cfg.glm_m])
        rows += r
        curves += c
        tails += t
    return Experiment(pd.concat(curves, ignore_index=True), pd.DataFrame(rows),
                      {"tails": pd.concat(tails, ignore_index=True)})


def binomial(cfg: Config) -> Experiment:
    """Binomial boosting (``Binomial(type="glm")``, offset 0) on the Fig. 5 design: slow, but convergent."""
    rows, curves = [], []
    checks = [m for m in (100, 1000, 5000) if m < cfg.binom_m] + [cfg.binom_m]
    for s in seeds(cfg):
        X, y = glm_design(cfg.binom_n, cfg.glm_rho, cfg.binom_beta, "binomial", _rng(s, 10))
        r, c, _ = _glm_runs(X, y, "binomial", [("paper", np.nan, v) for v in cfg.binom_nus], cfg.binom_m, s, checks)
        rows += r
        curves += c
    return Experiment(pd.concat(curves, ignore_index=True), pd.DataFrame(rows), {})
