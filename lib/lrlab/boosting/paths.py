"""Exact paths and targets: the closed-form path of one learner, the least-squares and jointly penalized fits
boosting is compared with, the ridge path, and the distance of a path to a polyline (the "ridge crossing").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrlab.boosting.componentwise import _check_run
from lrlab.boosting.learners import Learner, _bad


@dataclass(frozen=True)
class ClosedFormPath:
    """The exact path of a single learner at the iterations ``ms``: fitted values ``(len(ms), n)`` and
    coefficients ``(len(ms), d)``."""

    ms: np.ndarray
    fit: np.ndarray
    coef: np.ndarray


def closed_form_path(
    learner: Learner, y: np.ndarray, nu: float, ms: Sequence[int] | np.ndarray, offset: float | np.ndarray = 0.0
) -> ClosedFormPath:
    """Boosting one learner, in closed form (Bühlmann & Yu 2003).

    With ``S = U diag(s) Uᵀ`` and ``c = Uᵀ(y − offset)``, after ``m`` iterations
    ``f^[m] = offset + U diag(1 − (1 − νs)^m) c`` (that is ``[I − (I − νS)^m]`` applied to ``y − offset``) and
    ``θ^[m] = W diag((1 − (1 − νs)^m)/s) c``. Every eigen-direction converges for ``0 < ν < 2``, to the
    *unpenalized* least-squares fit of ``y − offset`` on the learner's columns, whatever the penalty.
    """
    y = np.asarray(y, dtype=float)
    _check_run([learner], y, nu, 0, "gaussian", "data")
    ms = np.asarray(ms)
    if ms.ndim != 1 or ms.size == 0 or np.any(ms < 0) or np.any(ms != np.round(ms)):
        raise _bad("ms", ms, "a non-empty list of integers >= 0")
    off = np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    F = learner.factors
    c = F.U.T @ (y - off)
    shrink = 1.0 - (1.0 - nu * F.s[None, :]) ** ms[:, None].astype(float)  # (len(ms), r)
    fit = off + (shrink * c) @ F.U.T
    coef = (shrink / F.s * c) @ F.W.T
    return ClosedFormPath(ms=ms.astype(int), fit=fit, coef=coef)


def least_squares_coef(learners: Sequence[Learner], y: np.ndarray, offset: float | np.ndarray = 0.0) -> np.ndarray:
    """Minimum-norm least-squares coefficients of ``y − offset`` on all learners' columns (stacked, length ``P``)."""
    y = np.asarray(y, dtype=float)
    off = np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    Z = np.hstack([lr.Z for lr in learners])
    return np.linalg.lstsq(Z, y - off, rcond=None)[0]


def least_squares_fit(learners: Sequence[Learner], y: np.ndarray, offset: float | np.ndarray = 0.0) -> np.ndarray:
    """The unpenalized least-squares fit of ``y − offset`` on all learners' columns, plus the offset.

    The limit of L2 boosting for any penalties and any ``0 < ν < 2`` : the span of the stacked
    ``U`` equals the span of the stacked ``Z``.
    """
    off = np.broadcast_to(np.asarray(offset, dtype=float), np.shape(y))
    return off + np.hstack([lr.Z for lr in learners]) @ least_squares_coef(learners, y, offset)


def penalized_coef(learners: Sequence[Learner], y: np.ndarray, offset: float | np.ndarray = 0.0) -> np.ndarray:
    """Coefficients of the jointly penalized fit ``min ‖y − offset − Σ Z_jθ_j‖² + Σ λ_j θ_jᵀK_jθ_j``.

    The additive P-spline / ridge model that boosting is *not* fitting; the minimum-norm solution when the stacked
    problem is singular (several learners holding the constant, say).
    """
    y = np.asarray(y, dtype=float)
    off = np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    Z = np.hstack([lr.Z for lr in learners])
    rows, start = [], 0
    for lr in learners:
        K = np.eye(lr.d) if lr.K is None else lr.K
        val, vec = np.linalg.eigh(K)
        root = (vec * np.sqrt(np.clip(val, 0, None))).T * np.sqrt(lr.lam)
        block = np.zeros((lr.d, Z.shape[1]))
        block[:, start : start + lr.d] = root
        rows.append(block)
        start += lr.d
    aug = np.vstack([Z, *rows])
    rhs = np.concatenate([y - off, np.zeros(aug.shape[0] - y.shape[0])])
    return np.linalg.lstsq(aug, rhs, rcond=None)[0]


def penalized_fit(learners: Sequence[Learner], y: np.ndarray, offset: float | np.ndarray = 0.0) -> np.ndarray:
    """The jointly penalized fit (see :func:`penalized_coef`), plus the offset."""
    off = np.broadcast_to(np.asarray(offset, dtype=float), np.shape(y))
    return off + np.hstack([lr.Z for lr in learners]) @ penalized_coef(learners, y, offset)


def ridge_path(X: np.ndarray, y: np.ndarray, lams: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ridge estimates ``(XᵀX + λI)⁻¹Xᵀy`` for each λ (``len(lams) × p``), by one eigendecomposition.

    The penalty is on mboost's ``bols(lambda=)`` scale (``XᵀX + λI``), not glmnet's.
    """
    X = np.asarray(X, dtype=float)
    lams = np.asarray(lams, dtype=float)
    if np.any(lams < 0) or not np.all(np.isfinite(lams)):
        raise _bad("lams", lams, "finite penalties >= 0")
    d, V = np.linalg.eigh(X.T @ X)
    g = V.T @ (X.T @ y)
    with np.errstate(divide="ignore", invalid="ignore"):
        filt = np.where(d[None, :] + lams[:, None] > 0, 1.0 / (d[None, :] + lams[:, None]), 0.0)
    return (filt * g) @ V.T


def distance_to_curve(points: np.ndarray, curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each point to a polyline ``curve`` (``K × p``), and its sign for ``p = 2``.

    The nearest vertex is found with a k-d tree, then the point is projected on the two segments that meet there
    (exact when the polyline's vertices are denser than its curvature radius). The sign is that of the 2-d cross
    product of the nearest segment's direction with the offset to the point, so a change of sign along a path
    means the path crossed the curve (the "ridge crossing" of the paper's Fig. 1). For ``p != 2`` the sign is 0.
    """
    from scipy.spatial import cKDTree

    points = np.atleast_2d(np.asarray(points, dtype=float))
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 2 or len(curve) < 2 or curve.shape[1] != points.shape[1]:
        raise _bad("curve", f"array of shape {curve.shape}", f"a polyline of >= 2 points in {points.shape[1]} dims")
    _, k = cKDTree(curve).query(points)
    best = np.full(len(points), np.inf)
    sign = np.zeros(len(points))
    for seg_start in (np.clip(k - 1, 0, len(curve) - 2), np.clip(k, 0, len(curve) - 2)):
        a, seg = curve[seg_start], curve[seg_start + 1] - curve[seg_start]
        t = np.clip(np.sum((points - a) * seg, axis=1) / np.maximum(np.sum(seg**2, axis=1), 1e-300), 0.0, 1.0)
        off = points - (a + t[:, None] * seg)
        d = np.linalg.norm(off, axis=1)
        better = d < best
        best[better] = d[better]
        if points.shape[1] == 2:
            sign[better] = np.sign(seg[better, 0] * off[better, 1] - seg[better, 1] * off[better, 0])
    return best, sign


def crossings(sign: np.ndarray, dist: np.ndarray, tol: float) -> int:
    """Number of sign changes of a signed distance, ignoring points closer than ``tol`` to the curve."""
    s = sign[(dist > tol) & (sign != 0)]
    return int(np.sum(s[1:] != s[:-1]))
