"""Predictions of the boosting chapter, computed from the closed forms alone.

Every function here evaluates a formula from the data, the penalty and the step: nothing calls the boosting loop
or the library's learner factors (:mod:`lrlab.boosting`), so a prediction stays what the mathematics says when the
loop it is compared with is broken. The chapter measures its paths with the loop and judges them against these.

For a single linear learner with hat matrix ``S = U diag(s) Uᵀ`` and squared error, ``m`` iterations of step ``ν``
fit the coordinate ``c_k`` of the response along ``U_k`` to the fraction ``1 − (1 − νs_k)^m`` (Bühlmann & Yu 2003);
the joint ridge learner ``X`` with penalty ``λI`` has ``s_k = d_k/(d_k + λ)`` in the eigenbasis of ``XᵀX``
(eigenvalues ``d_k``), the same basis in which ridge regression fits ``d_k/(d_k + λ')``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize


@dataclass(frozen=True)
class RidgeSpectrum:
    """The joint ridge learner on ``X`` in the eigenbasis of ``XᵀX``: eigenvalues ``d`` (ascending), eigenvectors
    ``V`` (columns), the OLS coefficients in that basis ``b = Vᵀβ_OLS`` and the learner's eigenvalues
    ``s = d/(d + λ)``."""

    d: np.ndarray
    V: np.ndarray
    b: np.ndarray
    s: np.ndarray

    @property
    def ols(self) -> np.ndarray:
        return self.V @ self.b


def ridge_spectrum(X: np.ndarray, y: np.ndarray, lam: float) -> RidgeSpectrum:
    """The spectrum of the joint ridge learner ``(XᵀX + λI)⁻¹Xᵀ`` on a full-rank ``X``."""
    d, V = np.linalg.eigh(X.T @ X)
    b = (V.T @ (X.T @ y)) / d
    return RidgeSpectrum(d=d, V=V, b=b, s=d / (d + lam))


def ridge_coef_path(sp: RidgeSpectrum, nu: float, ms: Sequence[int] | np.ndarray) -> np.ndarray:
    """``β^[m] = V diag(1 − (1 − νs)^m) b`` for each ``m`` in ``ms`` (``len(ms) × p``), offset 0."""
    ms = np.asarray(ms, dtype=float)
    return ((1.0 - (1.0 - nu * sp.s[None, :]) ** ms[:, None]) * sp.b) @ sp.V.T


def ridge_coef_flow(sp: RidgeSpectrum, ts: Sequence[float] | np.ndarray) -> np.ndarray:
    """The small-step limit ``β(t) = V diag(1 − e^{−ts}) b`` at the times ``t = νm`` (``len(ts) × p``)."""
    ts = np.asarray(ts, dtype=float)
    return (-np.expm1(-ts[:, None] * sp.s[None, :]) * sp.b) @ sp.V.T


def ridge_solution(sp: RidgeSpectrum, lam: float) -> np.ndarray:
    """Ridge regression ``(XᵀX + λI)⁻¹Xᵀy`` through the same eigenbasis."""
    return sp.V @ (sp.d / (sp.d + lam) * sp.b)


def closest_approach(path: np.ndarray, target: np.ndarray) -> tuple[float, int]:
    """The smallest distance of the rows of ``path`` to ``target`` and the row where it happens (the first)."""
    dist = np.linalg.norm(path - target, axis=1)
    k = int(np.argmin(dist))
    return float(dist[k]), k


def iterations_to(sp: RidgeSpectrum, nu: float, eps: float) -> int:
    """The first ``m`` with ``‖β^[m] − β_OLS‖ ≤ eps ‖β_OLS‖``: ``Σ_k (1 − νs_k)^{2m} b_k² ≤ eps² ‖b‖²``.

    The error along direction ``k`` shrinks by ``1 − νs_k`` per iteration, so the slowest direction
    (``s_min = d_min/(d_min + λ)``) sets the count: ``m ≈ log(1/eps) / (−log(1 − νs_min)) ≈ log(1/eps)/(ν s_min)``
    when that direction carries most of ``β_OLS``.
    """
    target = (eps * np.linalg.norm(sp.b)) ** 2
    rate = np.log(np.abs(1.0 - nu * sp.s))

    def err(m: float) -> float:
        return float(np.sum(np.exp(2 * m * rate) * sp.b**2))

    hi = 1
    while err(hi) > target:
        hi *= 2
        if hi > 2**40:
            raise ValueError(f"a gap of {eps:g} is out of reach with ν = {nu:g}")
    lo = hi // 2
    while hi - lo > 1:  # err falls with m: bisect for the first m below the target
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if err(mid) > target else (lo, mid)
    return 0 if err(0) <= target else hi


# --------------------------------------------------------------------------------------------------------------
# The crossing of the ridge path
# --------------------------------------------------------------------------------------------------------------


def side_of_ridge_path(sp: RidgeSpectrum, coef: np.ndarray) -> np.ndarray:
    """Which side of the ridge path each coefficient vector lies on (+1, −1; 0 where it cannot be told).

    In the eigen-coordinates ``u_k = (Vᵀβ)_k / b_k`` (OLS at ``u = (1, 1)``, the origin at ``0``) the ridge path is
    ``u_slow = k u_fast / (1 − (1 − k) u_fast)`` with ``k = d_min/d_max``; the sign is that of ``u_slow`` minus that
    curve. Points whose difference is below ``1e-10`` (the path's two ends, where the curves meet) get 0.
    """
    u = (np.atleast_2d(coef) @ sp.V) / sp.b
    k = sp.d[0] / sp.d[-1]
    fast, slow = u[:, -1], u[:, 0]
    h = slow - k * fast / (1.0 - (1.0 - k) * fast)
    return np.where(np.abs(h) > 1e-10, np.sign(h), 0.0)


def crossing_point(sp: RidgeSpectrum, nu: float) -> tuple[float, float]:
    """Where the boosting path of the joint ridge learner crosses the ridge path (derived in the chapter).

    The iterates lie on ``u_slow = 1 − v^r`` with ``v = 1 − u_fast`` and ``r = log(1 − νs_min)/log(1 − νs_max)``,
    the ridge path on ``u_slow = 1 − v/(k + (1 − k)v)``. They meet where ``g(v) = v^{1−r} − (1 − k)v − k = 0``:
    ``g`` is concave with ``g(0) = −k < 0``, ``g(1) = 0`` and ``g'(1) = k − r``, so for ``k < r < 1`` (every
    ``λ > 0``) there is exactly one crossing ``v* ∈ (0, 1)``, and for ``r = 1`` (``λ = 0``, the straight line to
    OLS) none. Returns ``(v*, r)``; ``v* = nan`` when there is no crossing. ``v* → 0`` (the crossing moves to OLS)
    as ``λ → 0`` and ``v* → 1`` (to the origin) as ``λ → ∞``.
    """
    k = sp.d[0] / sp.d[-1]
    r = float(np.log1p(-nu * sp.s[0]) / np.log1p(-nu * sp.s[-1]))
    if not k < r < 1 - 1e-12:
        return float("nan"), r
    # solve in log v: v^{1−r} = k + (1−k)v  ⇔  (1 − r) log v = log(k + (1 − k) v)
    def g(logv: float) -> float:
        return (1 - r) * logv - np.log(k + (1 - k) * np.exp(logv))

    lo = np.log(k) / (1 - r) - 1.0  # g(lo) < 0
    hi = -1e-12 if g(-1e-12) > 0 else None
    if hi is None:  # the root sits within rounding of v = 1
        return 1.0, r
    return float(np.exp(optimize.brentq(g, lo, hi, xtol=1e-14, rtol=1e-14))), r


def crossing_iteration(sp: RidgeSpectrum, nu: float, v_star: float) -> float:
    """The first iteration at which ``v = (1 − νs_max)^m`` falls below ``v*`` (the path has crossed)."""
    return float(np.ceil(np.log(v_star) / np.log1p(-nu * sp.s[-1]))) if 0 < v_star < 1 else float("nan")


# --------------------------------------------------------------------------------------------------------------
# A smoother: the P-spline learner
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Smoother:
    """The hat matrix ``S = Z(ZᵀZ + λK)⁻¹Zᵀ`` of one penalized learner, as ``U diag(s) Uᵀ`` on its column space."""

    U: np.ndarray
    s: np.ndarray


def smoother(Z: np.ndarray, K: np.ndarray, lam: float) -> Smoother:
    """The spectrum of the learner's hat matrix, from the explicit matrix (no factorization tricks)."""
    S = Z @ np.linalg.solve(Z.T @ Z + lam * K, Z.T)
    val, vec = np.linalg.eigh((S + S.T) / 2)
    keep = val > 1e-10
    return Smoother(U=vec[:, keep], s=val[keep])


def smoother_path(sm: Smoother, y: np.ndarray, nu: float, ms: Sequence[int] | np.ndarray,
                  offset: float = 0.0) -> np.ndarray:
    """``f^[m] = offset + [I − (I − νS)^m](y − offset)`` for each ``m`` (``len(ms) × n``)."""
    c = sm.U.T @ (y - offset)
    ms = np.asarray(ms, dtype=float)
    return offset + ((1.0 - (1.0 - nu * sm.s[None, :]) ** ms[:, None]) * c) @ sm.U.T
