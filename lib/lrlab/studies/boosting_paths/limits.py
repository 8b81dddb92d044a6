"""The small-step limit (C12) and selection with unequal degrees of freedom (C13, background).

- :func:`small_step`: the joint ridge learner of Fig. 1 boosted with steps ``ν`` that halve, compared at equal
  ``t = νm`` with each other and with the flow ``β(t) = V diag(1 − e^{−ts}) b``
  (:func:`lrlab.studies.boosting_paths.exact.ridge_coef_flow`). Per direction, ``(1 − νs)^{t/ν} = e^{−ta}`` with ``a =
  −log(1 − νs)/ν ≥ s``, so ``0 ≤ e^{−ts} − e^{−ta} ≤ t(a − s)e^{−ts} ≤ (a/s − 1)/e`` (the maximum of ``t s e^{−ts}`` is
  ``1/e``): the distance to the flow is at most ``‖b ∘ (a/s − 1)‖/e ≈ ν‖s ∘ b‖/(2e)``, first order in ν (derived in this
  chapter).
- :func:`selection`: pure noise offered to a linear learner and to a P-spline learner, with unequal and with equal
  degrees of freedom ``tr(2S − SᵀS)``; the share of first iterations won by the spline (Hofner et al. 2011).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config

from . import exact
from .designs import Experiment, _rng, crossing_data, seeds


def small_step(cfg: Config) -> Experiment:
    """Paths at the steps ``flow_nus`` on the Fig. 1 design (λ = ``flow_lam``), indexed by ``t = νm``.

    Every step's path is run with the boosting loop to ``t = flow_t`` and compared with the flow at the times that
    are multiples of the largest step (so every path has an iterate there). The deviation is
    ``max_t ‖β_ν(t/ν) − β(t)‖ / ‖β_OLS‖``, and also against the path of the next-smaller step.
    """
    nus = sorted(cfg.flow_nus, reverse=True)
    ts = np.arange(0.0, cfg.flow_t + 1e-9, nus[0])
    rows, paths = [], []
    for s in seeds(cfg):
        X, y = crossing_data(cfg.cross_n, cfg.cross_rho, cfg.cross_beta, s)
        sp = exact.ridge_spectrum(X, y, cfg.flow_lam)
        scale = float(np.linalg.norm(sp.ols))
        flow = exact.ridge_coef_flow(sp, ts)
        learner = bst.Learner("X", X, lam=cfg.flow_lam)
        prev = None
        for nu in nus:
            ms = np.rint(ts / nu).astype(int)
            coef = bst.boost([learner], y, nu, int(ms[-1]), offset=0.0).coef[ms]
            rows.append({"seed": s, "nu": nu, "dev_flow": float(np.linalg.norm(coef - flow, axis=1).max()) / scale,
                         "dev_prev": (float(np.linalg.norm(coef - prev, axis=1).max()) / scale
                                      if prev is not None else np.nan),
                         "bound": flow_bound(sp, nu) / scale})
            prev = coef
            if s == cfg.seed:
                paths.append(pd.DataFrame({"seed": s, "nu": nu, "t": ts, "beta_1": coef[:, 0], "beta_2": coef[:, 1]}))
        if s == cfg.seed:
            paths.append(pd.DataFrame({"seed": s, "nu": 0.0, "t": ts, "beta_1": flow[:, 0], "beta_2": flow[:, 1]}))
    return Experiment(pd.concat(paths, ignore_index=True), pd.DataFrame(rows), {})


def flow_bound(sp: exact.RidgeSpectrum, nu: float) -> float:
    """The largest distance a path at step ν can have from the flow: ``‖b ∘ (−log(1 − νs)/(νs) − 1)‖ / e``."""
    return float(np.linalg.norm(sp.b * (-np.log1p(-nu * sp.s) / (nu * sp.s) - 1.0)) / np.e)


def flow_slope(summary: pd.DataFrame) -> pd.Series:
    """Per seed, the least-squares slope of ``log dev_flow`` on ``log ν`` (1 for a first-order approach)."""
    return summary.groupby("seed").apply(
        lambda g: float(np.polyfit(np.log(g.nu), np.log(np.maximum(g.dev_flow, 1e-300)), 1)[0]),
        include_groups=False)


def selection_learners(x1: np.ndarray, x2: np.ndarray, knots: int, df: float) -> dict[str, list[bst.Learner]]:
    """The two pairs of learners: ``bols(x1)`` (df 1) against ``bbs(x2, df=df)`` (unequal) and against the
    spline's penalized deviation from its null space, ridge-penalized to df 1 (equal).

    The deviation basis is ``Z Dᵀ(DDᵀ)⁻¹`` with ``D`` the second-difference matrix: the constant and linear part
    (the penalty's null space) is removed, so the remaining coefficients can carry a plain ridge penalty and any
    df down to 0 is reachable.
    """
    Z = bst.bspline_basis(x2, knots, 3)
    D = np.diff(np.eye(Z.shape[1]), 2, axis=0)
    Zc = Z @ D.T @ np.linalg.inv(D @ D.T)
    lam = bst.lambda_for_df(Zc, np.eye(Zc.shape[1]), 1.0)
    lin = bst.linear(x1, name="linear x1")
    return {"unequal": [lin, bst.pspline(x2, knots=knots, df=df, name="spline x2")],
            "equal": [lin, bst.Learner("spline x2 (deviation)", Zc, lam=lam)]}


def selection(cfg: Config) -> Experiment:
    """Pure-noise responses (``N(0, 1)``, offset 0) offered to a linear and a spline learner of independent
    uniform covariates; ``select_reps`` responses per seed and pair. The share of first iterations that select
    the spline, with its 95 % Wilson interval."""
    rows = []
    for s in seeds(cfg):
        rng = _rng(s, 13)
        x1, x2 = rng.uniform(size=cfg.select_n), rng.uniform(size=cfg.select_n)
        for kind, learners in selection_learners(x1, x2, cfg.select_knots, cfg.select_df).items():
            picks = [bst.boost(learners, rng.standard_normal(cfg.select_n), 0.1, 1, offset=0.0).selected[0]
                     for _ in range(cfg.select_reps)]
            share = float(np.mean(np.asarray(picks) == 1))
            lo, hi = wilson(share, cfg.select_reps)
            rows.append({"seed": s, "df": kind, "df_spline": learners[1].df(), "df_linear": learners[0].df(),
                         "share_spline": share, "lo": lo, "hi": hi, "reps": cfg.select_reps})
    return Experiment(pd.DataFrame(rows), pd.DataFrame(rows), {})


def wilson(share: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95 % by default)."""
    centre = (share + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(share * (1 - share) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)
