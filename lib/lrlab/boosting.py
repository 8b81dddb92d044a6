"""Componentwise (model-based) boosting of additive models: base learners, paths, closed forms, rates.

The library room of the chapter ``chapters/boosting_paths.ipynb`` (Schulte & Rügamer 2025, *Additive Model
Boosting: New Insights and Path(ologie)s*, AISTATS). It implements mboost-style componentwise functional gradient
descent (study notes §3.1):

1. ``u`` = negative gradient of the loss at the current predictor ``η`` (Gaussian: the residual ``y − η``);
2. every base learner ``j`` is fitted to ``u`` by penalized least squares,
   ``θ̂_j = (Z_jᵀZ_j + λ_j K_j)⁻¹ Z_jᵀ u``, with hat matrix ``S_j``;
3. the learner with the smallest residual sum of squares ``‖u − S_j u‖²`` is selected;
4. ``η ← η + ν S_j u`` and ``θ_j ← θ_j + ν θ̂_j``, with the step ``nu`` (ν).

Every learner is factored once (:func:`factor`): ``S_j = U_j diag(s_j) U_jᵀ`` with orthonormal ``U_j`` and
eigenvalues ``s_j ∈ (0, 1]``, and ``θ̂_j = W_j U_jᵀ u``. One matrix product ``Uᵀu`` with the stacked ``U`` then fits
*every* learner at once, the residual sums of squares are ``‖u‖² − Σ_k (2s_k − s_k²) c_k²`` with ``c = Uᵀu``, and no
learner is ever refitted (:func:`boost`; :func:`boost_naive` is the straightforward refit loop, kept as a
reference). For the squared loss the product can even be taken against the precomputed cross-Gram matrix ``UᵀU``
instead of the data (``mode="gram"``).

Also here: B-spline bases and difference penalties with mboost's degrees of freedom ``df = tr(2S − SᵀS)``
(:func:`bspline_basis`, :func:`difference_penalty`, :func:`degrees_of_freedom`, :func:`lambda_for_df`), the exact
closed-form path of a single learner (:func:`closed_form_path`, study notes §3.2), the ridge path, the linear
convergence bound ``γ = 1 − ν(2 − ν) λ_pmin(R)/p`` (§3.4), the critical GLM step ``ν*`` (§3.5), GLM maximum
likelihood by Newton's method, and the lasso path of scikit-learn's ``lars_path`` at given correlations (background,
§5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy import interpolate, optimize, special

FAMILIES: tuple[str, ...] = ("gaussian", "poisson", "binomial")
MODES: tuple[str, ...] = ("auto", "data", "gram")
DF_KINDS: tuple[str, ...] = ("mboost", "trace")
_ETA_MAX = 700.0  # exp(700) is near the float64 limit: a Poisson predictor beyond it has diverged


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
    columns. Study notes §3.1 and §6 (``SplineTransformer(n_knots=knots + 2)`` is the same basis).
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
    """Factor the penalized least-squares learner ``θ̂ = (ZᵀZ + λK)⁻¹Zᵀu`` once (study notes §3.1–3.2).

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

    The paper's linear learners have no intercept (study notes §3.1, §4).
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


# --------------------------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------------------------


def _check_family(family: str, y: np.ndarray) -> None:
    if family not in FAMILIES:
        raise _bad("family", family, "one of " + ", ".join(repr(f) for f in FAMILIES))
    if not np.all(np.isfinite(y)):
        raise _bad("y", "an array with non-finite values", "finite numbers")
    if family == "poisson" and (np.any(y < 0) or np.any(y != np.round(y))):
        raise _bad("y", "non-count values", "counts (integers >= 0) for family 'poisson'")
    if family == "binomial" and not np.all((y == 0) | (y == 1)):
        raise _bad("y", "values outside {0, 1}", "0 or 1 for family 'binomial'")


def mean_function(family: str, eta: np.ndarray) -> np.ndarray:
    """The inverse link: ``η`` (Gaussian), ``exp η`` (Poisson, log link), ``1/(1+e^{−η})`` (binomial, logit)."""
    if family == "gaussian":
        return eta
    if family == "poisson":
        return np.exp(eta)
    if family == "binomial":
        return special.expit(eta)
    raise _bad("family", family, "one of " + ", ".join(repr(f) for f in FAMILIES))


def risk(family: str, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Empirical risk, the sum over observations of the loss (mboost's ``risk``), for each row of ``eta``.

    Gaussian ``½(y − η)²``; Poisson ``e^η − yη + log y!``; binomial ``log(1 + e^η) − yη`` (mboost
    ``Binomial(type="glm")``). The negative gradient of each is ``y − μ``.
    """
    eta = np.asarray(eta, dtype=float)
    if family == "gaussian":
        loss = 0.5 * (y - eta) ** 2
    elif family == "poisson":
        with np.errstate(over="ignore"):
            loss = np.exp(eta) - y * eta + special.gammaln(y + 1)
    elif family == "binomial":
        loss = np.logaddexp(0.0, eta) - y * eta
    else:
        raise _bad("family", family, "one of " + ", ".join(repr(f) for f in FAMILIES))
    return loss.sum(axis=-1)


def default_offset(family: str, y: np.ndarray) -> float:
    """mboost's offsets: mean(y) (Gaussian), log mean(y) (Poisson), logit mean(y) (binomial, ``type="glm"``)."""
    m = float(np.mean(y))
    if family == "gaussian":
        return m
    if family == "poisson":
        return float(np.log(m)) if m > 0 else 0.0
    return float(special.logit(m)) if 0 < m < 1 else 0.0


# --------------------------------------------------------------------------------------------------------------
# Componentwise boosting
# --------------------------------------------------------------------------------------------------------------


@dataclass
class BoostPath:
    """The whole path of a boosting run.

    ``coef`` is ``(m + 1) × P``: row ``m`` holds the coefficients of every learner after ``m`` iterations, learners
    one after another (``slices[j]`` picks learner ``j``); ``selected[m − 1]`` is the learner chosen at iteration
    ``m``. ``status`` is ``"ok"`` or ``"diverged"`` (the predictor overflowed; the path stops there).
    """

    family: str
    nu: float
    y: np.ndarray
    offset: np.ndarray
    learners: list[Learner]
    coef: np.ndarray
    selected: np.ndarray
    status: str = "ok"
    slices: list[slice] = field(default_factory=list)

    @property
    def mstop(self) -> int:
        """Iterations actually done (fewer than asked when the run diverged)."""
        return len(self.selected)

    def coef_of(self, j: int | str) -> np.ndarray:
        """The coefficient path of learner ``j`` (index or name): ``(m + 1) × d_j``."""
        if isinstance(j, str):
            j = [lr.name for lr in self.learners].index(j)
        return self.coef[:, self.slices[j]]

    def eta(self, ms: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The additive predictor ``η^[m]`` (fitted values for the Gaussian) at the iterations ``ms`` (all if None)."""
        ms = np.arange(self.mstop + 1) if ms is None else np.asarray(ms, dtype=int)
        if ms.size and (ms.min() < 0 or ms.max() > self.mstop):
            raise _bad("ms", f"iterations in [{ms.min()}, {ms.max()}]", f"integers in [0, {self.mstop}]")
        Z = np.hstack([lr.Z for lr in self.learners])
        return self.offset + self.coef[ms] @ Z.T

    def risk(self, ms: Sequence[int] | np.ndarray | None = None, chunk: int = 4096) -> np.ndarray:
        """The empirical risk (:func:`risk`) at the iterations ``ms`` (all if None), computed in chunks."""
        ms = np.arange(self.mstop + 1) if ms is None else np.asarray(ms, dtype=int)
        return np.concatenate(
            [risk(self.family, self.y, self.eta(ms[i : i + chunk])) for i in range(0, max(len(ms), 1), chunk)]
        )[: len(ms)]

    def selection_share(self, j: int | str, ms: Sequence[int]) -> np.ndarray:
        """Share of the iterations ``1..m`` that selected learner ``j``, for each ``m`` in ``ms``."""
        if isinstance(j, str):
            j = [lr.name for lr in self.learners].index(j)
        hits = np.concatenate([[0], np.cumsum(self.selected == j)])
        ms = np.asarray(ms, dtype=int)
        return hits[ms] / np.maximum(ms, 1)


def _as_offset(offset: float | str | np.ndarray | None, family: str, y: np.ndarray) -> np.ndarray:
    n = y.shape[0]
    if offset is None or (isinstance(offset, str) and offset == "default"):
        return np.full(n, default_offset(family, y))
    if isinstance(offset, str):
        raise _bad("offset", offset, "'default', a number or an array of length n")
    off = np.asarray(offset, dtype=float)
    if off.ndim == 0:
        off = np.full(n, float(off))
    if off.shape != (n,) or not np.all(np.isfinite(off)):
        raise _bad("offset", f"array of shape {off.shape}", f"'default', a finite number or a length-{n} array")
    return off


def _check_run(learners: Sequence[Learner], y: np.ndarray, nu: float, mstop: int, family: str, mode: str) -> None:
    if not learners:
        raise _bad("learners", learners, "a non-empty list of Learner")
    if any(not isinstance(lr, Learner) for lr in learners):
        raise _bad("learners", "a list holding non-Learner items", "a list of lrlab.boosting.Learner")
    if y.ndim != 1:
        raise _bad("y", f"array of shape {y.shape}", "a one-dimensional array")
    bad_n = [lr.name for lr in learners if lr.n != y.shape[0]]
    if bad_n:
        raise _bad("learners", f"learners {bad_n} with n != len(y) = {y.shape[0]}", "learners with n = len(y)")
    if isinstance(nu, bool) or not isinstance(nu, (int, float, np.floating)) or not (np.isfinite(nu) and nu > 0):
        raise _bad("nu", nu, "a finite number > 0")
    if isinstance(mstop, bool) or not isinstance(mstop, (int, np.integer)) or mstop < 0:
        raise _bad("mstop", mstop, "an integer >= 0")
    if mode not in MODES:
        raise _bad("mode", mode, "one of " + ", ".join(repr(m) for m in MODES))
    if mode == "gram" and family != "gaussian":
        raise _bad("mode", mode, "'auto' or 'data' for family " + repr(family) + " ('gram' needs the squared loss)")
    _check_family(family, y)


@dataclass(frozen=True)
class _Stack:
    """All learners' factors stacked: ``Ut`` (D × n), RSS weights ``2s − s²``, the learners' blocks of the D
    directions (``bounds[j]:bounds[j + 1]``) and their coefficient slices."""

    Ut: np.ndarray
    s: np.ndarray
    w: np.ndarray
    bounds: np.ndarray
    coef_slices: list[slice]

    @property
    def blocks(self) -> list[slice]:
        return [slice(int(a), int(b)) for a, b in zip(self.bounds[:-1], self.bounds[1:])]


def _stack(learners: Sequence[Learner]) -> _Stack:
    Us = [lr.factors.U for lr in learners]
    s = np.concatenate([lr.factors.s for lr in learners])
    bounds = np.concatenate([[0], np.cumsum([U.shape[1] for U in Us])]).astype(np.int64)
    dims = np.concatenate([[0], np.cumsum([lr.d for lr in learners])]).astype(int)
    coef_slices = [slice(int(dims[j]), int(dims[j + 1])) for j in range(len(learners))]
    return _Stack(Ut=np.ascontiguousarray(np.hstack(Us).T), s=s, w=2 * s - s**2, bounds=bounds,
                  coef_slices=coef_slices)


# The loops of boost(), compiled (numba): at small n a NumPy loop pays 0.2–0.6 µs per call, five calls per
# iteration, against 0.8 µs for the pass over the data itself (benchmarks/bench_boosting.py). Rows of ``Uᵀ`` (scaled
# by ``step``) and of ``move`` hold direction k's step, so that learner j's update is a sum of contiguous rows over
# its block.
_GAUSSIAN, _POISSON, _BINOMIAL = 0, 1, 2
_SPLIT_BYTES = 1 << 20
"""Stacked factors larger than this (a core's L2 cache holds 2 MiB here, shared with everything else) do not stay in
cache from one iteration to the next: :func:`_data_kernel` then takes the product in three calls, the chosen
learner's rows first. Smaller ones take one call (three cost 13% at n = 200, where a pass takes about 1 µs). The
two orders round differently in the last bits; which one a run takes depends only on its size."""
_FAMILY_CODES = {"gaussian": _GAUSSIAN, "poisson": _POISSON, "binomial": _BINOMIAL}


@numba.njit(cache=True)
def _select(c: np.ndarray, w: np.ndarray, bounds: np.ndarray) -> int:
    """The learner with the largest RSS gain ``Σ_{k in block j} w_k c_k²`` (ties: the first); −1 if a gain is not
    finite (the run diverged)."""
    best, pick = -1.0, -1
    for j in range(bounds.shape[0] - 1):
        gain = 0.0
        for k in range(bounds[j], bounds[j + 1]):
            gain += w[k] * (c[k] * c[k])
        if not np.isfinite(gain):
            return -1
        if gain > best:
            best, pick = gain, j
    return pick


@numba.njit(cache=True)
def _data_kernel(
    Ut: np.ndarray, step: np.ndarray, w: np.ndarray, bounds: np.ndarray, family: int, eta_max: float, u: np.ndarray,
    eta: np.ndarray, y: np.ndarray, history: np.ndarray, selected: np.ndarray, split: bool,
) -> tuple[int, bool]:
    """One pass over the data per iteration, any family: ``c = Uᵀu`` into ``history[m]``, select learner ``j``,
    ``η ← η + Σ_{k in block j} c_k step_k U_k`` with ``step_k = ν s_k`` (for the squared loss ``u`` moves instead),
    ``u = y − μ(η)``. The update reads learner j's rows of ``Uᵀ``; with ``split`` (factors too large to stay in
    cache) the next product reads those rows first, while they are still in cache, and then the others, so the
    pass reads the factors about once instead of 1.1 times. Returns the iterations done and whether the run
    diverged: a gain not finite at iteration ``m`` (``m`` done), or a Poisson predictor above ``eta_max`` after it
    (``m + 1`` done)."""
    n = u.shape[0]
    target = u if family == _GAUSSIAN else eta  # what the fit moves, and which way
    sign = -1.0 if family == _GAUSSIAN else 1.0
    j = -1
    for m in range(history.shape[0]):
        if m and not split:
            history[m] = np.dot(Ut, u)
        elif m:
            a, b = bounds[j], bounds[j + 1]
            history[m, a:b] = np.dot(Ut[a:b], u)
            if a:
                history[m, :a] = np.dot(Ut[:a], u)
            if b < Ut.shape[0]:
                history[m, b:] = np.dot(Ut[b:], u)
        c = history[m]
        j = _select(c, w, bounds)
        if j < 0:
            return m, True
        selected[m] = j
        for k in range(bounds[j], bounds[j + 1]):
            ck = sign * c[k] * step[k]
            row = Ut[k]
            for i in range(n):
                target[i] += ck * row[i]
        if family == _POISSON:
            if eta.max() > eta_max:
                return m + 1, True
            for i in range(n):
                u[i] = y[i] - np.exp(eta[i])
        elif family == _BINOMIAL:
            for i in range(n):
                u[i] = y[i] - 1.0 / (1.0 + np.exp(-eta[i]))
    return history.shape[0], False


@numba.njit(cache=True)
def _gram_kernel(
    move: np.ndarray, w: np.ndarray, bounds: np.ndarray, history: np.ndarray, selected: np.ndarray,
) -> tuple[int, bool]:
    """The squared loss against the cross-Gram matrix, no pass over the data: ``history[m + 1] = history[m] −
    Σ_{k in block j} c_k move_k`` with ``move_k = ν s_k (UᵀU)_k``. Returns the iterations done and whether the run
    diverged (a gain not finite)."""
    D = history.shape[1]
    for m in range(history.shape[0] - 1):
        c, nxt = history[m], history[m + 1]
        j = _select(c, w, bounds)
        if j < 0:
            return m, True
        selected[m] = j
        nxt[:] = c
        for k in range(bounds[j], bounds[j + 1]):
            ck = c[k]
            row = move[k]
            for i in range(D):
                nxt[i] -= ck * row[i]
    return history.shape[0] - 1, False


def _run_loop(
    st: _Stack, c: np.ndarray, u: np.ndarray, eta: np.ndarray, y: np.ndarray, nu: float, family: str, mode: str,
    selected: np.ndarray,
) -> tuple[str, int, np.ndarray]:
    """Run :func:`boost`'s iterations in the compiled loop of ``mode``; fills ``selected`` and returns the status,
    the iterations done and every iteration's ``c = Uᵀu`` (one row each), from which the caller forms the
    coefficient increments."""
    step = nu * st.s
    if mode == "gram":
        history = np.empty((len(selected) + 1, len(c)))
        history[0] = c
        done, diverged = _gram_kernel(step[:, None] * (st.Ut @ st.Ut.T), st.w, st.bounds, history, selected)
    else:
        history = np.empty((len(selected), len(c)))
        history[:1] = c  # the first iteration's product was taken by the caller
        done, diverged = _data_kernel(st.Ut, step, st.w, st.bounds, _FAMILY_CODES[family], _ETA_MAX,
                                      u.copy(), eta.copy(), np.ascontiguousarray(y), history, selected,
                                      st.Ut.nbytes > _SPLIT_BYTES)
    return ("diverged" if diverged else "ok"), int(done), history


def boost(
    learners: Sequence[Learner],
    y: np.ndarray,
    nu: float = 0.1,
    mstop: int = 100,
    family: str = "gaussian",
    offset: float | str | np.ndarray | None = None,
    init: np.ndarray | None = None,
    mode: str = "auto",
) -> BoostPath:
    """Componentwise functional gradient boosting with step ``nu`` (study notes §3.1; mboost ``gamboost``).

    Every iteration fits all learners with one matrix product: ``c = Uᵀu`` against the stacked factors
    (``mode="data"``), or, for the squared loss, the update ``c ← c − ν (UᵀU)_{:,j} (s_j ∘ c_j)`` against the
    precomputed cross-Gram matrix (``mode="gram"``; ``"auto"`` takes it when the stacked rank is at most ``n``).
    Selection is by the residual sum of squares of each learner's fit to the negative gradient; ties go to the
    first learner. ``offset`` is ``None``/``"default"`` (mboost's default for the family), a number or an array;
    the paper's GLM and ridge-path runs use 0. ``init`` (length ``P``) starts from given coefficients, to continue
    a run. Returns the full coefficient path (:class:`BoostPath`).
    """
    y = np.asarray(y, dtype=float)
    learners = list(learners)
    _check_run(learners, y, nu, mstop, family, mode)
    nu = float(nu)
    off = _as_offset(offset, family, y)
    st = _stack(learners)
    P = st.coef_slices[-1].stop
    theta0 = np.zeros(P) if init is None else np.asarray(init, dtype=float).copy()
    if theta0.shape != (P,) or not np.all(np.isfinite(theta0)):
        raise _bad("init", f"array of shape {theta0.shape}", f"None or a finite array of length {P}")
    Z_all = np.hstack([lr.Z for lr in learners])
    eta = off + Z_all @ theta0
    n_dirs = st.Ut.shape[0]
    if mode == "auto":
        mode = "gram" if (family == "gaussian" and n_dirs <= len(y)) else "data"
    # the step of learner j, folded into its factors: θ_j += (ν W_j) c_j, η += (ν U_j diag(s_j)) c_j
    steps_coef = [nu * lr.factors.W for lr in learners]
    incs = np.zeros((mstop, P))
    selected = np.full(mstop, -1, dtype=np.int64)
    u = y - mean_function(family, eta)
    c = st.Ut @ u
    status, done, history = _run_loop(st, c, u, eta, y, nu, family, mode, selected)
    for j, (sl, b) in enumerate(zip(st.coef_slices, st.blocks)):  # θ increments, per learner at the end
        rows = np.flatnonzero(selected[:done] == j)
        if rows.size:
            incs[rows, sl] = history[rows, b] @ steps_coef[j].T
    coef = np.empty((done + 1, P))  # θ0, then θ0 + the running sum of the increments, written in place
    coef[0] = theta0
    np.cumsum(incs[:done], axis=0, out=coef[1:])
    coef[1:] += theta0
    return BoostPath(
        family=family, nu=nu, y=y, offset=off, learners=learners, coef=coef, selected=selected[:done],
        status=status, slices=st.coef_slices,
    )


def boost_naive(
    learners: Sequence[Learner],
    y: np.ndarray,
    nu: float = 0.1,
    mstop: int = 100,
    family: str = "gaussian",
    offset: float | str | np.ndarray | None = None,
) -> BoostPath:
    """The straightforward refit loop: every iteration solves ``(Z_jᵀZ_j + λ_jK_j)θ = Z_jᵀu`` for every learner.

    The reference :func:`boost` is tested against, and the baseline of ``benchmarks/bench_boosting.py``.
    """
    y = np.asarray(y, dtype=float)
    learners = list(learners)
    _check_run(learners, y, nu, mstop, family, "data")
    off = _as_offset(offset, family, y)
    dims = np.concatenate([[0], np.cumsum([lr.d for lr in learners])]).astype(int)
    slices = [slice(int(dims[j]), int(dims[j + 1])) for j in range(len(learners))]
    coef = np.zeros((mstop + 1, dims[-1]))
    selected = np.zeros(mstop, dtype=np.int64)
    eta = off.copy()
    for m in range(mstop):
        u = y - mean_function(family, eta)
        best, best_rss, best_theta = -1, np.inf, None
        for j, lr in enumerate(learners):
            K = np.eye(lr.d) if lr.K is None else lr.K
            A = lr.Z.T @ lr.Z + lr.lam * K
            theta = np.linalg.lstsq(A, lr.Z.T @ u, rcond=None)[0]
            rss = float(np.sum((u - lr.Z @ theta) ** 2))
            if rss < best_rss:
                best, best_rss, best_theta = j, rss, theta
        selected[m] = best
        coef[m + 1] = coef[m]
        coef[m + 1, slices[best]] += nu * best_theta
        eta = eta + nu * (learners[best].Z @ best_theta)
    return BoostPath(family=family, nu=float(nu), y=y, offset=off, learners=learners, coef=coef,
                     selected=selected, slices=slices)


# --------------------------------------------------------------------------------------------------------------
# Exact paths and targets
# --------------------------------------------------------------------------------------------------------------


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
    """Boosting one learner, in closed form (Bühlmann & Yu 2003; study notes §3.2).

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

    The limit of L2 boosting for any penalties and any ``0 < ν < 2`` (study notes §3.3): the span of the stacked
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

    The penalty is on mboost's ``bols(lambda=)`` scale (``XᵀX + λI``), not glmnet's (study notes §8, pitfalls).
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


# --------------------------------------------------------------------------------------------------------------
# Convergence rates (study notes §3.4)
# --------------------------------------------------------------------------------------------------------------


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
    Polyak–Łojasiewicz inequality of least squares; study notes §3.4). The authors' Fig. 3 plots the ``ν = 1`` case.
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


# --------------------------------------------------------------------------------------------------------------
# GLMs (study notes §3.5)
# --------------------------------------------------------------------------------------------------------------


def glm_mle(X: np.ndarray, y: np.ndarray, family: str, offset: float | np.ndarray = 0.0, tol: float = 1e-13,
            max_iter: int = 200) -> np.ndarray:
    """Maximum-likelihood coefficients of a Poisson (log link) or binomial (logit) GLM by damped Newton."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    _check_family(family, y)
    if family == "gaussian":
        return np.linalg.lstsq(X, y - offset, rcond=None)[0]
    off = np.broadcast_to(np.asarray(offset, dtype=float), y.shape)
    beta = np.zeros(X.shape[1])
    cur = risk(family, y, off + X @ beta)
    for _ in range(max_iter):
        mu = mean_function(family, off + X @ beta)
        w = mu if family == "poisson" else mu * (1 - mu)
        step = np.linalg.solve((X * w[:, None]).T @ X, X.T @ (y - mu))
        t = 1.0
        while t > 1e-10:
            new = risk(family, y, off + X @ (beta + t * step))
            if np.isfinite(new) and new <= cur + 1e-12 * abs(cur):
                break
            t /= 2
        beta, prev, cur = beta + t * step, cur, new
        if np.max(np.abs(t * step)) < tol * max(1.0, np.max(np.abs(beta))) or abs(prev - cur) == 0:
            break
    return beta


def critical_nu(learners: Sequence[Learner], weights: np.ndarray) -> float:
    """The critical step ``ν* = min_j 2 / λ_max(S_j Ŵ)`` of componentwise GLM boosting at the optimum.

    Near the minimiser, an update of learner ``j`` changes its coefficients by ``−ν A_j⁻¹ g_j`` (``g_j`` the block of
    the gradient), with local Hessian block ``Z_jᵀŴZ_j`` and ``Ŵ = diag(∂μ/∂η)`` at the optimum (``μ̂`` for Poisson,
    ``μ̂(1 − μ̂)`` for the binomial). For ``ν < 2/λ_max(A_j⁻¹Z_jᵀŴZ_j)`` every such update lowers the local quadratic
    model of the loss, so for ``ν < ν*`` boosting converges once it is near the optimum; above it, updates of the
    offending learner can raise it (for a one-column learner every one does, and a single learner then cannot
    converge). With several learners, ``ν > ν*`` is therefore the threshold of *guaranteed* local descent, not a
    proof of non-convergence. For one-column learners ``x_j``, ``ν* = min_j 2 x_jᵀx_j / x_jᵀŴx_j`` (study notes §7,
    E5). Computed as ``λ_max(A⁻¹ZᵀŴZ) = λ_max(diag(√s) UᵀŴU diag(√s))``.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 1 or np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise _bad("weights", "an invalid array", "finite non-negative working weights, one per observation")
    top = 0.0
    for lr in learners:
        U, s = lr.factors.U, lr.factors.s
        M = (U * np.sqrt(s)).T @ ((U * np.sqrt(s)) * weights[:, None])
        top = max(top, float(np.linalg.eigvalsh(M).max()))
    return 2.0 / top if top > 0 else float("inf")


def oscillation(coef: np.ndarray, last: int = 10) -> float:
    """Largest range of any coefficient over the last ``last`` iterations (the paper's β over iterations 990–1000)."""
    tail = coef[-(last + 1) :]
    return float(np.max(tail.max(axis=0) - tail.min(axis=0)))


# --------------------------------------------------------------------------------------------------------------
# Background: the lasso path (study notes §5)
# --------------------------------------------------------------------------------------------------------------


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
