"""Background, not a claim of the boosting paper: the exact lasso path (scikit-learn's ``lars_path``) at given
correlations, to compare small-step boosting with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LassoPath:
    """``lars_path(method="lasso")`` knots: ``alphas`` (decreasing, ``max|Xᵀr|/n``) and ``coefs`` (p × K)."""

    alphas: np.ndarray
    coefs: np.ndarray

    def at(self, alpha: np.ndarray) -> np.ndarray:
        """The lasso coefficients at penalties ``alpha`` (linear between knots; ``len(alpha) × p``)."""
        alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
        xs = self.alphas[::-1]
        return np.column_stack([np.interp(alpha, xs, row[::-1]) for row in self.coefs])

    def monotone(self, tol: float = 1e-10) -> bool:
        """True when no coefficient shrinks in magnitude or changes sign as the penalty falls."""
        c = self.coefs
        grows = np.all(np.diff(np.abs(c), axis=1) >= -tol)
        no_flip = np.all(c[:, 1:] * c[:, :-1] >= -tol)
        return bool(grows and no_flip)


def lasso_path(X: np.ndarray, y: np.ndarray) -> LassoPath:
    """The exact lasso path of ``min (1/2n)‖y − Xβ‖² + α‖β‖₁`` from scikit-learn's ``lars_path``."""
    from sklearn.linear_model import lars_path

    alphas, _, coefs = lars_path(np.asarray(X, dtype=float), np.asarray(y, dtype=float), method="lasso")
    return LassoPath(alphas=alphas, coefs=coefs)


def max_correlation(X: np.ndarray, y: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``‖Xᵀ(y − Xβ)‖∞ / n`` for each row ``β`` of ``coef``: the lasso's α at which to compare a boosting iterate."""
    n = X.shape[0]
    g = X.T @ y
    G = X.T @ X
    return np.max(np.abs(g[None, :] - coef @ G), axis=1) / n
