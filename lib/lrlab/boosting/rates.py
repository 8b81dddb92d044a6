"""Convergence rates of componentwise L2 boosting: the contraction bound ``γ = 1 − ν(2 − ν) λ_pmin(R)/p`` and the
loss gap of a path, its measured contraction and the iterations it takes to reach a given gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lrlab.boosting.componentwise import BoostPath
from lrlab.boosting.learners import _bad


def smallest_positive_eigenvalue(Q: np.ndarray, rel_tol: float = 1e-10) -> float:
    """The smallest eigenvalue of the symmetric PSD ``Q`` above ``rel_tol × λ_max``."""
    val = np.linalg.eigvalsh(Q)
    pos = val[val > rel_tol * max(val.max(), 0.0)]
    if pos.size == 0:
        raise _bad("Q", "a zero matrix", "a positive semi-definite matrix with a positive eigenvalue")
    return float(pos.min())


def normalized_gram(X: np.ndarray) -> np.ndarray:
    """``R = D^{-1/2} XᵀX D^{-1/2}`` with ``D = diag(XᵀX)``: the Gram matrix of the unit-norm columns (``p × p``)."""
    X = np.asarray(X, dtype=float)
    norms = np.linalg.norm(X, axis=0)
    if np.any(norms == 0):
        raise _bad("X", "a matrix with a zero column", "columns with nonzero norm")
    Xn = X / norms
    return Xn.T @ Xn


def rate_bound(X: np.ndarray, nu: float) -> float:
    """The per-iteration contraction bound of componentwise L2 boosting with one-column linear learners.

    ``L(β^[m+1]) − L* ≤ γ (L(β^[m]) − L*)`` with ``γ = 1 − ν(2 − ν) λ_pmin(R)/p``, ``R`` the Gram matrix of the
    unit-norm columns and ``λ_pmin`` its smallest positive eigenvalue (Gauss–Southwell selection + the
    Polyak–Łojasiewicz inequality of least squares). The authors' Fig. 3 plots the ``ν = 1`` case.
    Uses the smaller of ``XᵀX`` and ``XXᵀ`` (same positive eigenvalues), so ``p > n`` is cheap.
    """
    X = np.asarray(X, dtype=float)
    if not (np.isfinite(nu) and 0 < nu < 2):
        raise _bad("nu", nu, "a number in (0, 2)")
    n, p = X.shape
    Xn = X / np.linalg.norm(X, axis=0)
    Q = Xn.T @ Xn if p <= n else Xn @ Xn.T
    return 1.0 - nu * (2.0 - nu) * smallest_positive_eigenvalue(Q) / p


def l2_gap(path: BoostPath, f_star: np.ndarray, ms: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """``L(f^[m]) − L* = ½‖f^[m] − f*‖²`` for the squared loss, ``f*`` the least-squares fit in the span.

    Computed from the difference of fits rather than of risks, so it stays accurate far below the risk's rounding.
    """
    eta = path.eta(ms)
    return 0.5 * np.sum((eta - f_star) ** 2, axis=1)


def contraction(gap: np.ndarray, m_lo: int, m_hi: int) -> float:
    """The geometric-mean contraction ``(gap[m_hi]/gap[m_lo])^{1/(m_hi − m_lo)}`` of a gap path."""
    if not 0 <= m_lo < m_hi < len(gap):
        raise _bad("m_lo/m_hi", (m_lo, m_hi), f"integers with 0 <= m_lo < m_hi < {len(gap)}")
    return float((gap[m_hi] / gap[m_lo]) ** (1.0 / (m_hi - m_lo)))


def iterations_to(gap: np.ndarray, rel: float) -> float:
    """The first iteration with ``gap[m] < rel × gap[0]`` (``inf`` if never)."""
    hit = np.flatnonzero(gap < rel * gap[0])
    return float(hit[0]) if hit.size else float("inf")
