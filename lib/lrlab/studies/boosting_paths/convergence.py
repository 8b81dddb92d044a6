"""Convergence rates of componentwise L2 boosting: the bound against conditioning (Fig. 6) and against the number of
learners (Fig. 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config

from .designs import Experiment, _linear_learners, _rng, correlated_pair, equicorrelated, scale, seeds


def rates(cfg: Config) -> Experiment:
    """Loss gap of componentwise L2 boosting against the bound, across correlations (Fig. 6).

    Two one-column learners, offset 0, ``ν = rate_nu``. The gap ``L(β^[m]) − L*`` is ``½‖f^[m] − f_OLS‖²``; the
    measured contraction is its geometric-mean ratio over ``rate_window``, the bound
    ``1 − ν(2 − ν)λ_min(R)/p`` (:func:`lrlab.boosting.rate_bound`).
    """
    rows, gaps = [], []
    lo, hi = cfg.rate_window
    for s in seeds(cfg):
        for i, rho in enumerate(cfg.rate_rhos):
            rng = _rng(s, 600 + i)
            X = correlated_pair(cfg.rate_n, rho, rng)
            y = X @ np.array(cfg.rate_beta) + rng.standard_normal(cfg.rate_n)
            learners = _linear_learners(X)
            path = bst.boost(learners, y, cfg.rate_nu, cfg.rate_m, offset=0.0)
            gap = bst.l2_gap(path, bst.least_squares_fit(learners, y))
            rows.append({"seed": s, "rho": rho, "kappa": float(np.linalg.cond(X.T @ X)),
                         "contraction": bst.contraction(gap, lo, hi), "worst_step": worst_step(gap),
                         "bound": bst.rate_bound(X, cfg.rate_nu),
                         "iters_to_1e-8": bst.iterations_to(gap, 1e-8)})
            keep = np.unique(np.linspace(0, cfg.rate_m, 300).round().astype(int))
            gaps.append(pd.DataFrame({"seed": s, "rho": rho, "kappa": rows[-1]["kappa"], "m": keep,
                                      "gap": gap[keep] / gap[0]}))
    return Experiment(pd.concat(gaps, ignore_index=True), pd.DataFrame(rows), {})


GAP_FLOOR = 1e-16
"""One-step ratios of the loss gap are judged only while the gap exceeds this fraction of its start: the gap is
``½‖f − f*‖²``, so below it ``‖f − f*‖`` is within about 1e-8 of its start and rounding in ``f`` (1e-16 relative)
would move the ratio by more than the tolerance it is judged at."""


def worst_step(gap: np.ndarray) -> float:
    """The largest one-step ratio ``gap[m + 1]/gap[m]`` while the gap is above :data:`GAP_FLOOR` of its start."""
    ok = gap > GAP_FLOOR * gap[0]
    both = ok[1:] & ok[:-1]
    return float((gap[1:][both] / gap[:-1][both]).max()) if both.any() else float("nan")


def rate_vs_p(cfg: Config) -> Experiment:
    """``1 − γ = λ_pmin(Q)/p`` (``ν = 1``) against the number of covariates ``p`` (Fig. 3), and measured rates.

    Nested designs: the first ``p`` columns of one standardized equicorrelated ``rate_n × max(rate_ps)`` draw per
    correlation. Then componentwise boosting with ``p ∈ rate_learners`` one-column learners (ν = rate_nu,
    ``β_j ~ 5 N(0, 1)``, unit noise), up to ``p`` near ``n``: the worst one-step ratio of the loss gap against the
    bound, the contraction over ``rate_window`` and the relative gap left after ``rate_m`` iterations.
    """
    bound_rows, meas_rows = [], []
    lo, hi = cfg.rate_window
    p_max = max(max(cfg.rate_ps), max(cfg.rate_learners))
    for s in seeds(cfg):
        for i, rho in enumerate(cfg.rate_p_rhos):
            rng = _rng(s, 300 + i)
            X_all = scale(equicorrelated(cfg.rate_n, p_max, rho, rng))
            for p in cfg.rate_ps:
                X = X_all[:, :p]
                Q = X.T @ X / cfg.rate_n if p <= cfg.rate_n else X @ X.T / cfg.rate_n
                lam_min = bst.smallest_positive_eigenvalue(Q)
                bound_rows.append({"seed": s, "rho": rho, "p": p, "lam_pmin": lam_min,
                                   "one_minus_gamma": lam_min / p})
            for p in cfg.rate_learners:
                X = X_all[:, :p]
                y = X @ (5 * rng.standard_normal(p)) + rng.standard_normal(cfg.rate_n)
                learners = _linear_learners(X)
                path = bst.boost(learners, y, cfg.rate_nu, cfg.rate_m, offset=0.0)
                gap = bst.l2_gap(path, bst.least_squares_fit(learners, y))
                meas_rows.append({"seed": s, "rho": rho, "p": p, "contraction": bst.contraction(gap, lo, hi),
                                  "worst_step": worst_step(gap), "bound": bst.rate_bound(X, cfg.rate_nu),
                                  "gap_left": float(gap[-1] / gap[0])})
    return Experiment(pd.DataFrame(bound_rows), pd.DataFrame(meas_rows), {})


def rho_order_failures(exp: Experiment) -> list[tuple[int, int]]:
    """The (seed, p) with p ≥ 2 at which the bound 1 − γ is *not* smaller at the largest ρ than at the smallest."""
    wide = exp.paths[exp.paths.p >= 2].pivot_table(index=["seed", "p"], columns="rho", values="one_minus_gamma")
    bad = ~(wide[wide.columns.max()] < wide[wide.columns.min()])
    return [(int(s), int(p)) for s, p in wide.index[bad.to_numpy()]]
