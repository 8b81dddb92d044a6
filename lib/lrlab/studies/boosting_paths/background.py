"""Background, not the paper's claim: small-ν componentwise boosting against scikit-learn's lasso path."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config

from .designs import Experiment, _linear_learners, _rng, equicorrelated, seeds, standardize_lasso


def lasso_designs(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The four designs of the lasso comparison, standardized (``‖x_j‖² = n``, centred ``y``).

    orthogonal (n = 100, p = 8), iid Gaussian (n = 100, p = 8, sparse β), equicorrelated ρ = 0.9 (n = 60, p = 6),
    and scikit-learn's bundled diabetes data (n = 442, p = 10; Efron et al. 2004).
    """
    from sklearn.datasets import load_diabetes

    rng = _rng(seed, 4)
    beta8 = np.array([3.0, -2.0, 1.5, 0, 0, 0, 0, 0])
    G = rng.standard_normal((100, 8))
    out = {}
    for name, X, beta in (
        ("orthogonal", np.linalg.qr(G - G.mean(axis=0))[0], beta8),  # orthonormal and centred columns
        ("iid", rng.standard_normal((100, 8)), beta8),
        ("equicorrelated", equicorrelated(60, 6, 0.9, rng), np.array([3.0, 2.0, 1.0, 0, 0, 0])),
    ):
        Xs = standardize_lasso(X, np.zeros(len(X)))[0]
        out[name] = standardize_lasso(Xs, Xs @ beta + rng.standard_normal(len(X)))
    Xd, yd = load_diabetes(return_X_y=True)
    out["diabetes"] = standardize_lasso(Xd, yd)
    return out


def boosting_vs_lasso(X: np.ndarray, y: np.ndarray, nu: float, alpha_min: float, max_iter: int,
                      chunk: int | None = None, with_coef: bool = False) -> pd.DataFrame:
    """Componentwise L2 boosting (one-column learners, offset 0) against the lasso at equal correlation.

    Iterate ``β^[m]`` is compared with the lasso at ``α = ‖Xᵀr^[m]‖∞/n``; the deviation is
    ``‖β^[m] − β_lasso(α)‖∞ / max|β_OLS|``, down to ``α = alpha_min × α_max``. ``with_coef`` adds both
    coefficient vectors (columns ``boost_j``, ``lasso_j``).
    """
    lp = bst.lasso_path(X, y)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    learners = _linear_learners(X)
    chunk = chunk or max(1000, int(20 / nu))
    coefs, init, total = [], None, 0
    while True:
        path = bst.boost(learners, y, nu, min(chunk, max_iter - total), offset=0.0, init=init)
        coefs.append(path.coef if init is None else path.coef[1:])
        init, total = path.coef[-1], total + chunk
        if bst.max_correlation(X, y, init[None])[0] < alpha_min * lp.alphas[0] or total >= max_iter:
            break
    coef = np.vstack(coefs)
    alpha = bst.max_correlation(X, y, coef)
    keep = alpha >= alpha_min * lp.alphas[0]
    at = lp.at(alpha[keep])
    dev = np.max(np.abs(coef[keep] - at), axis=1) / np.max(np.abs(ols))
    out = pd.DataFrame({"m": np.flatnonzero(keep), "alpha_ratio": alpha[keep] / lp.alphas[0], "deviation": dev,
                        "monotone": lp.monotone()})
    if with_coef:
        out = pd.concat([out, pd.DataFrame(coef[keep], columns=[f"boost_{j}" for j in range(X.shape[1])]),
                         pd.DataFrame(at, columns=[f"lasso_{j}" for j in range(X.shape[1])])], axis=1)
    return out


def lasso(cfg: Config) -> Experiment:
    """Background (not the paper's claim): small-ν boosting against ``lars_path`` on four designs."""
    rows, curves = [], []
    for s in seeds(cfg):
        for name, (X, y) in lasso_designs(s).items():
            if name == "diabetes" and s != cfg.seed:
                continue  # fixed data: one run is enough
            for nu in cfg.lasso_nus:
                d = boosting_vs_lasso(X, y, nu, cfg.lasso_alpha_min, cfg.lasso_max_iter, with_coef=True)
                reached = d.alpha_ratio.min() <= cfg.lasso_alpha_min * 1.5
                rows.append({"seed": s, "design": name, "nu": nu, "monotone": bool(d.monotone.iloc[0]),
                             "max_dev": d.deviation.max(),
                             "max_dev_to_0.05": d.deviation[d.alpha_ratio >= 0.05].max(),
                             "iterations": int(d.m.max()), "reached_alpha_min": bool(reached)})
                if s == cfg.seed:
                    d = d.iloc[np.unique(np.geomspace(1, len(d), 400).round().astype(int) - 1)]
                    curves.append(d.assign(design=name, nu=nu))
    return Experiment(pd.concat(curves, ignore_index=True), pd.DataFrame(rows), {})
