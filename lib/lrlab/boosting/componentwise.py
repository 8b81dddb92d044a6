"""Componentwise (model-based) boosting: the path of a run, its compiled loop, and the refit loop it is tested against.

Every iteration fits *every* learner with one matrix product ``c = Uᵀu`` against the learners' stacked factors
(:func:`lrlab.boosting.factor`), selects the learner with the smallest residual sum of squares
``‖u‖² − Σ_k (2s_k − s_k²) c_k²`` and moves the predictor by ``ν S_j u`` (:func:`boost`). :func:`boost_naive` is the
straightforward refit loop, kept as a reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np

from lrlab.boosting.glm import _check_family, default_offset, mean_function, risk
from lrlab.boosting.learners import Learner, _bad

MODES: tuple[str, ...] = ("auto", "data", "gram")
SELECTIONS: tuple[str, ...] = ("greedy", "random")
"""How a learner is chosen each iteration: ``greedy`` (the smallest residual sum of squares, mboost's rule) or
``random`` (uniformly at random, whatever the fits: the baseline that shows what greedy selection buys)."""
_ETA_MAX = 700.0  # exp(700) is near the float64 limit: a Poisson predictor beyond it has diverged


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


# The loops of boost(), compiled (numba): at small n the overhead of a NumPy call, five calls per iteration,
# outweighs the pass over the data itself (see the performance page and benchmarks/bench_boosting.py). Rows of
# ``Uᵀ`` (scaled by ``step``) and of ``move`` hold direction k's step, so that learner j's update is a sum of
# contiguous rows over its block.
_GAUSSIAN, _POISSON, _BINOMIAL = 0, 1, 2
_SPLIT_BYTES = 1 << 20
"""Stacked factors larger than this (a core's share of its L2 cache) do not stay in cache from one iteration to the
next: :func:`_data_kernel` then takes the product in three calls, the chosen learner's rows first. Smaller ones
take one call (at small n three calls cost more than the re-read they save). The two orders round differently in
the last bits; which one a run takes depends only on its size."""
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
def _pick(c: np.ndarray, w: np.ndarray, bounds: np.ndarray, m: int, order: np.ndarray) -> int:
    """The learner of iteration ``m``: greedy (:func:`_select`) when ``order`` is empty, else ``order[m]``; −1 if a
    score is not finite (the run diverged)."""
    if order.shape[0] == 0:
        return _select(c, w, bounds)
    for k in range(c.shape[0]):
        if not np.isfinite(c[k]):
            return -1
    return order[m]


@numba.njit(cache=True)
def _data_kernel(
    Ut: np.ndarray, step: np.ndarray, w: np.ndarray, bounds: np.ndarray, family: int, eta_max: float, u: np.ndarray,
    eta: np.ndarray, y: np.ndarray, history: np.ndarray, selected: np.ndarray, split: bool, order: np.ndarray,
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
        j = _pick(c, w, bounds, m, order)
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
    move: np.ndarray, w: np.ndarray, bounds: np.ndarray, history: np.ndarray, selected: np.ndarray, order: np.ndarray,
) -> tuple[int, bool]:
    """The squared loss against the cross-Gram matrix, no pass over the data: ``history[m + 1] = history[m] −
    Σ_{k in block j} c_k move_k`` with ``move_k = ν s_k (UᵀU)_k``. Returns the iterations done and whether the run
    diverged (a gain not finite)."""
    D = history.shape[1]
    for m in range(history.shape[0] - 1):
        c, nxt = history[m], history[m + 1]
        j = _pick(c, w, bounds, m, order)
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
    selected: np.ndarray, order: np.ndarray,
) -> tuple[str, int, np.ndarray]:
    """Run :func:`boost`'s iterations in the compiled loop of ``mode``; fills ``selected`` and returns the status,
    the iterations done and every iteration's ``c = Uᵀu`` (one row each), from which the caller forms the
    coefficient increments."""
    step = nu * st.s
    if mode == "gram":
        history = np.empty((len(selected) + 1, len(c)))
        history[0] = c
        done, diverged = _gram_kernel(step[:, None] * (st.Ut @ st.Ut.T), st.w, st.bounds, history, selected, order)
    else:
        history = np.empty((len(selected), len(c)))
        history[:1] = c  # the first iteration's product was taken by the caller
        done, diverged = _data_kernel(st.Ut, step, st.w, st.bounds, _FAMILY_CODES[family], _ETA_MAX,
                                      u.copy(), eta.copy(), np.ascontiguousarray(y), history, selected,
                                      st.Ut.nbytes > _SPLIT_BYTES, order)
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
    selection: str = "greedy",
    seed: int | None = None,
) -> BoostPath:
    """Componentwise functional gradient boosting with step ``nu`` (mboost ``gamboost``).

    Every iteration fits all learners with one matrix product: ``c = Uᵀu`` against the stacked factors
    (``mode="data"``), or, for the squared loss, the update ``c ← c − ν (UᵀU)_{:,j} (s_j ∘ c_j)`` against the
    precomputed cross-Gram matrix (``mode="gram"``; ``"auto"`` takes it when the stacked rank is at most ``n``).
    Selection is by the residual sum of squares of each learner's fit to the negative gradient; ties go to the
    first learner. ``offset`` is ``None``/``"default"`` (mboost's default for the family), a number or an array;
    the paper's GLM and ridge-path runs use 0. ``init`` (length ``P``) starts from given coefficients, to continue
    a run. ``selection="random"`` replaces the greedy choice by a uniformly random learner each iteration (drawn
    from ``numpy.random.default_rng(seed)``): the baseline against which the greedy rule's rate is judged.
    Returns the full coefficient path (:class:`BoostPath`).
    """
    y = np.asarray(y, dtype=float)
    learners = list(learners)
    _check_run(learners, y, nu, mstop, family, mode)
    if selection not in SELECTIONS:
        raise _bad("selection", selection, "one of " + ", ".join(repr(s) for s in SELECTIONS))
    order = (np.random.default_rng(seed).integers(0, len(learners), mstop).astype(np.int64)
             if selection == "random" else np.empty(0, dtype=np.int64))
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
    status, done, history = _run_loop(st, c, u, eta, y, nu, family, mode, selected, order)
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
