"""Base learners of componentwise boosting: B-spline bases, difference penalties, spectral factors, degrees of freedom.

A base learner ``f = Zθ`` is fitted by penalized least squares ``θ̂ = (ZᵀZ + λK)⁻¹Zᵀu``. :func:`factor` computes its
Demmler–Reinsch factors once, ``S = U diag(s) Uᵀ`` and ``θ̂ = W Uᵀu``, so that boosting never refits it
(:func:`lrlab.boosting.boost`). :func:`linear` and :func:`pspline` build mboost's ``bols`` and ``bbs``;
:func:`lambda_for_df` turns mboost's degrees of freedom ``df = tr(2S − SᵀS)`` into a penalty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import interpolate, optimize

DF_KINDS: tuple[str, ...] = ("mboost", "trace")


def _bad(name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"parameter {name!r} = {value!r} is not allowed: it must be {allowed}")


# --------------------------------------------------------------------------------------------------------------
# Bases and penalties
# --------------------------------------------------------------------------------------------------------------


def bspline_basis(
    x: np.ndarray, knots: int = 20, degree: int = 3, boundary: tuple[float, float] | None = None
) -> np.ndarray:
    """B-spline design matrix as mboost's ``bbs(x, knots=knots, degree=degree)`` builds it.

    ``knots`` interior knots are equally spaced in ``boundary`` (default: the range of ``x``), and the knot
    sequence is continued equally spaced by ``degree`` knots beyond each boundary, giving ``knots + degree + 1``
    columns (scikit-learn's ``SplineTransformer(n_knots=knots + 2)`` is the same basis).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise _bad("x", f"array of shape {x.shape}", "a non-empty one-dimensional array of finite numbers")
    if isinstance(knots, bool) or not isinstance(knots, (int, np.integer)) or knots < 0:
        raise _bad("knots", knots, "an integer >= 0")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise _bad("degree", degree, "an integer >= 0")
    lo, hi = (float(x.min()), float(x.max())) if boundary is None else map(float, boundary)
    if not hi > lo:
        raise _bad("boundary", (lo, hi), "an interval (lo, hi) with lo < hi")
    if x.min() < lo or x.max() > hi:
        raise _bad("x", f"values in [{x.min():g}, {x.max():g}]", f"inside the boundary [{lo:g}, {hi:g}]")
    h = (hi - lo) / (knots + 1)
    t = lo + h * np.arange(-degree, knots + 2 + degree)
    t[degree], t[knots + 1 + degree] = lo, hi  # exact ends, so x = hi is inside the base interval
    basis = interpolate.BSpline.design_matrix(x, t, degree).toarray()
    return basis


def difference_penalty(d: int, order: int = 2) -> np.ndarray:
    """The P-spline penalty ``K = DᵀD`` with ``D`` the ``order``-th difference matrix of ``d`` coefficients."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise _bad("d", d, "an integer >= 1")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order < d:
        raise _bad("order", order, f"an integer in [0, {d - 1}] (fewer than d = {d} coefficients)")
    D = np.diff(np.eye(d), n=order, axis=0)
    return D.T @ D


# --------------------------------------------------------------------------------------------------------------
# Base learners and their factors
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factors:
    """Spectral factors of one base learner: ``S = U diag(s) Uᵀ`` and ``θ̂(u) = W Uᵀ u``.

    ``U`` is ``n × r`` with orthonormal columns, ``s`` holds the ``r`` positive eigenvalues of the hat matrix
    (all in (0, 1]), ``W`` maps the coordinates ``c = Uᵀu`` to the learner's coefficients (``d × r``).
    """

    U: np.ndarray
    s: np.ndarray
    W: np.ndarray


NULL_TOL = 1e-12
"""An eigenvalue ω of the penalty in the learner's basis below this fraction of the largest is the null space's."""


def factor(Z: np.ndarray, K: np.ndarray | None = None, lam: float = 0.0, tol: float = 1e-10) -> Factors:
    """Factor the penalized least-squares learner ``θ̂ = (ZᵀZ + λK)⁻¹Zᵀu`` once.

    Demmler–Reinsch form: with the thin SVD ``Z = P Σ Vᵀ`` (rank ``r``) and ``T = V Σ⁻¹`` (so ``ZT = P``), the
    eigendecomposition ``TᵀKT = Q diag(ω) Qᵀ`` gives ``S = U diag(s) Uᵀ`` with ``U = PQ``, ``s = 1/(1 + λω)`` and
    ``θ̂ = W Uᵀu`` with ``W = TQ diag(s)``. This is exact for any λ, however large: the penalty's null space keeps
    ``s = 1``. When ``Z`` is rank deficient and ``λ > 0`` the minimiser may use the null space of ``Z``, so the
    learner is factored through the pseudo-inverse of ``ZᵀZ + λK`` instead.
    """
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.ndim != 2 or Z.shape[1] == 0 or not np.all(np.isfinite(Z)):
        raise _bad("Z", f"array of shape {Z.shape}", "a finite n × d matrix with d >= 1")
    d = Z.shape[1]
    if not (np.isfinite(lam) and lam >= 0):
        raise _bad("lam", lam, "a finite number >= 0")
    if d == 1:
        return _factor_column(Z[:, 0], K, lam)
    if K is None:
        K = np.eye(d)
    K = np.asarray(K, dtype=float)
    if K.shape != (d, d) or not np.allclose(K, K.T) or np.linalg.eigvalsh(K).min() < -1e-8 * max(1, abs(K).max()):
        raise _bad("K", f"array of shape {K.shape}", f"a symmetric positive semi-definite {d} × {d} matrix")
    P, sig, Vt = np.linalg.svd(Z, full_matrices=False)
    keep = sig > tol * sig[0] if sig[0] > 0 else np.zeros_like(sig, dtype=bool)
    if not keep.any():
        raise _bad("Z", "a zero matrix", "a matrix with at least one nonzero column")
    P, sig, Vt = P[:, keep], sig[keep], Vt[keep]
    if keep.all() or lam == 0:
        T = Vt.T / sig
        omega, Q = np.linalg.eigh(T.T @ K @ T)
        # the penalty's null space comes out of eigh as rounding (±1e-14·max ω, CPU-dependent); a large λ would
        # turn it into shrinkage (s = 0.97 instead of 1 at λ = 1e12), so it is set to the zero it is
        omega = np.where(omega > NULL_TOL * max(omega.max(), 0.0), omega, 0.0)
        s = 1.0 / (1.0 + lam * omega)
        order = np.argsort(-s, kind="stable")
        s, Q = s[order], Q[:, order]
        return Factors(U=np.ascontiguousarray(P @ Q), s=s, W=(T @ Q) * s)
    B = sig[:, None] * Vt
    A = B.T @ B + lam * K
    a_val, a_vec = np.linalg.eigh(A)
    a_inv = np.where(a_val > tol * a_val.max(), 1.0 / np.where(a_val > 0, a_val, 1.0), 0.0)
    A_pinv = (a_vec * a_inv) @ a_vec.T
    M = B @ A_pinv @ B.T
    s, V = np.linalg.eigh((M + M.T) / 2)
    order = np.argsort(-s)
    s, V = np.clip(s[order], 0.0, 1.0), V[:, order]
    pos = s > tol
    s, V = s[pos], V[:, pos]
    return Factors(U=np.ascontiguousarray(P @ V), s=s, W=A_pinv @ B.T @ V)


def _factor_column(x: np.ndarray, K: np.ndarray | None, lam: float) -> Factors:
    """:func:`factor` of a one-column learner in closed form: ``U = x/‖x‖``, ``s = ‖x‖²/(‖x‖² + λk)``,
    ``W = s/‖x‖`` (``k`` the 1 × 1 penalty, 1 for ridge). Componentwise linear boosting builds one such learner per
    covariate, hundreds of them near ``p ≈ n``, where the general SVD route costs more than the boosting."""
    k = 1.0 if K is None else np.asarray(K, dtype=float).reshape(-1)
    if np.size(k) != 1 or not np.isfinite(k).all() or float(np.ravel(k)[0]) < 0:
        raise _bad("K", f"array of shape {np.shape(K)}", "a symmetric positive semi-definite 1 × 1 matrix")
    k = float(np.ravel(k)[0])
    norm = float(np.linalg.norm(x))
    if norm == 0:
        raise _bad("Z", "a zero matrix", "a matrix with at least one nonzero column")
    s = norm**2 / (norm**2 + lam * k)
    return Factors(U=(x / norm)[:, None], s=np.array([s]), W=np.array([[s / norm]]))


@dataclass
class Learner:
    """A base learner ``f = Zθ`` fitted by penalized least squares ``(ZᵀZ + λK)⁻¹Zᵀu``.

    Use :func:`linear` (mboost ``bols``, also with a ridge penalty) and :func:`pspline` (mboost ``bbs``) to build
    one. ``K = None`` means the identity (ridge). The factors are computed once, on construction.
    """

    name: str
    Z: np.ndarray
    lam: float = 0.0
    K: np.ndarray | None = None
    factors: Factors = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.Z = np.asarray(self.Z, dtype=float)
        if self.Z.ndim == 1:
            self.Z = self.Z[:, None]
        self.factors = factor(self.Z, self.K, self.lam)

    @property
    def n(self) -> int:
        return self.Z.shape[0]

    @property
    def d(self) -> int:
        return self.Z.shape[1]

    def df(self, kind: str = "mboost") -> float:
        """Degrees of freedom: ``tr(2S − SᵀS)`` (mboost's default) or ``tr(S)`` (``kind="trace"``)."""
        return _df_from_s(self.factors.s, kind)

    def hat(self) -> np.ndarray:
        """The hat matrix ``S`` (``n × n``; for tests and small examples)."""
        U, s = self.factors.U, self.factors.s
        return (U * s) @ U.T

    def fit(self, u: np.ndarray) -> np.ndarray:
        """The coefficients ``θ̂ = (ZᵀZ + λK)⁻¹Zᵀu`` of a fit to ``u``."""
        return self.factors.W @ (self.factors.U.T @ u)


def linear(x: np.ndarray, lam: float = 0.0, name: str = "x", intercept: bool = False) -> Learner:
    """mboost ``bols(x, intercept=intercept, lambda=lam)``: linear (``lam = 0``) or ridge learner (``K = I``).

    The paper's linear learners have no intercept.
    """
    Z = np.asarray(x, dtype=float)
    Z = Z[:, None] if Z.ndim == 1 else Z
    if intercept:
        Z = np.column_stack([np.ones(Z.shape[0]), Z])
    return Learner(name, Z, lam=lam, K=None)


def pspline(
    x: np.ndarray,
    knots: int = 20,
    degree: int = 3,
    differences: int = 2,
    lam: float | None = None,
    df: float | None = None,
    name: str = "x",
    df_kind: str = "mboost",
) -> Learner:
    """mboost ``bbs(x, knots, degree, differences, lambda | df)``: a P-spline learner.

    Give either ``lam`` (the penalty λ) or ``df`` (degrees of freedom, mboost's ``tr(2S − SᵀS)`` by default), which
    is turned into λ by :func:`lambda_for_df`. mboost's default is ``df = 4``.
    """
    if (lam is None) == (df is None):
        raise _bad("lam/df", (lam, df), "exactly one of lam (a penalty) and df (degrees of freedom)")
    Z = bspline_basis(x, knots, degree)
    K = difference_penalty(Z.shape[1], differences)
    if df is not None:
        lam = lambda_for_df(Z, K, df, df_kind)
    return Learner(name, Z, lam=float(lam), K=K)


def _df_from_s(s: np.ndarray, kind: str) -> float:
    if kind not in DF_KINDS:
        raise _bad("kind", kind, "one of " + ", ".join(repr(k) for k in DF_KINDS))
    return float(np.sum(2 * s - s**2)) if kind == "mboost" else float(np.sum(s))


def degrees_of_freedom(Z: np.ndarray, K: np.ndarray | None, lam: float, kind: str = "mboost") -> float:
    """``tr(2S − SᵀS)`` (mboost, ``kind="mboost"``) or ``tr(S)`` of ``S = Z(ZᵀZ + λK)⁻¹Zᵀ``."""
    return _df_from_s(factor(Z, K, lam).s, kind)


def lambda_for_df(Z: np.ndarray, K: np.ndarray, df: float, kind: str = "mboost") -> float:
    """The penalty λ whose learner has ``df`` degrees of freedom (mboost's ``df2lambda``).

    df falls from ``rank(Z)`` at λ = 0 to the dimension of the penalty's null space as λ → ∞; ``df`` must lie
    strictly between (a ``df`` equal to the rank gives λ = 0).
    """
    Z = np.asarray(Z, dtype=float)
    hi = degrees_of_freedom(Z, K, 0.0, kind)
    null = int(np.sum(np.linalg.eigvalsh(np.asarray(K, dtype=float)) < 1e-9 * max(1.0, np.abs(K).max())))
    lo = float(min(null, np.linalg.matrix_rank(Z)))
    if not (np.isfinite(df) and lo < df <= hi + 1e-9):
        raise _bad("df", df, f"a number in ({lo:g}, {hi:.6g}] for this basis and penalty")
    if df >= hi - 1e-12:
        return 0.0

    def gap(log_lam: float) -> float:
        return degrees_of_freedom(Z, K, float(np.exp(log_lam)), kind) - df

    a, b = -30.0, 0.0
    while gap(b) > 0:
        b += 10.0
        if b > 200:
            raise _bad("df", df, f"reachable with a finite penalty (df → {lo:g} only as λ → ∞)")
    return float(np.exp(optimize.brentq(gap, a, b, xtol=1e-12, rtol=1e-12)))
