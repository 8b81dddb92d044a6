"""Iterations per second of componentwise boosting (lrlab.boosting; chapter boosting_paths).

Compares, on the same problem and for the same number of iterations:

- ``refit``: the straightforward loop (:func:`lrlab.boosting.boost_naive`), solving every learner's penalized least
  squares problem at every iteration;
- ``boost/data``: :func:`lrlab.boosting.boost` with one product ``Uᵀu`` against the stacked factors per iteration;
- ``boost/gram``: the squared-loss update against the precomputed cross-Gram matrix (no pass over the data);
- ``floor``: one pass over the data per iteration and nothing else (the product ``Uᵀu`` alone, one BLAS call), the
  least any method that looks at the data every iteration must pay: the faster of a Python loop of BLAS calls and
  a compiled (numba) loop of the same product, the form :func:`lrlab.boosting.boost`'s own loop takes.

The refit loop and the vectorised update must select the same learners and reach the same coefficients. Run
``OMP_NUM_THREADS=1 python benchmarks/bench_boosting.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import common
from lrlab import boosting as bst


def problem(n: int, learners: int, knots: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, learners))
    y = np.sin(2 * np.pi * X[:, 0]) + (X[:, 1] - 0.5) ** 2 + 0.3 * rng.normal(size=n)
    return [bst.pspline(X[:, j], knots=knots, df=4.0, name=f"x{j}") for j in range(learners)], y


def per_second(fn, iters: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return iters / best


def stacked_ut(learners) -> np.ndarray:
    """The learners' factors stacked as :func:`lrlab.boosting.boost` stacks them: ``Uᵀ``, D × n, C-ordered."""
    return np.ascontiguousarray(np.hstack([lr.factors.U for lr in learners]).T)


def floor_loop(learners, y, iters: int) -> None:
    """The product ``Uᵀu`` alone, ``iters`` times, in its fastest form here: BLAS ``gemv`` with positional arguments
    into a preallocated vector (the call :func:`lrlab.boosting.boost` makes; ``Ut @ u`` adds overhead per call),
    bound to a local name, and nothing else in the loop: no use of the result, whose bookkeeping would slow the
    floor down and so count in our favour."""
    from scipy.linalg import blas

    Ut_f = stacked_ut(learners).T
    u, c, dgemv = y.copy(), np.empty(Ut_f.shape[1]), blas.dgemv
    for _ in range(iters):
        dgemv(1.0, Ut_f, u, 0.0, c, 0, 1, 0, 1, 1, 1)


@numba.njit(cache=False)
def _compiled_products(Ut: np.ndarray, u: np.ndarray, c: np.ndarray, iters: int) -> None:
    for _ in range(iters):
        c[:] = np.dot(Ut, u)


def compiled_floor_loop(learners, y, iters: int) -> None:
    """The product ``Uᵀu`` alone, ``iters`` times, in a compiled loop: ``np.dot`` in numba (BLAS ``gemv``, the call
    :func:`lrlab.boosting.boost`'s compiled loop makes) into a preallocated vector, no Python between the calls."""
    Ut = stacked_ut(learners)
    _compiled_products(Ut, y.copy(), np.empty(Ut.shape[0]), iters)


def measure(n: int, k: int, knots: int, iters: int, repeat: int) -> tuple[int, dict[str, float]]:
    """Iterations per second of the four loops on one problem (the refit loop runs a tenth of the iterations)."""
    learners, y = problem(n, k, knots)
    D = sum(lr.factors.U.shape[1] for lr in learners)
    naive_iters = max(iters // 10, 20)
    compiled_floor_loop(learners, y, 1)  # compile it before it is timed
    # the vectorised loops and the floor take turns (each warm in cache), so their ratios see one machine state
    t = common.interleaved({"data": lambda: bst.boost(learners, y, 0.1, iters, mode="data"),
                            "gram": lambda: bst.boost(learners, y, 0.1, iters, mode="gram"),
                            "floor (Python)": lambda: floor_loop(learners, y, iters),
                            "floor (compiled)": lambda: compiled_floor_loop(learners, y, iters)},
                           2 * repeat + 1, block=3)
    r = {"refit": per_second(lambda: bst.boost_naive(learners, y, 0.1, naive_iters), naive_iters, repeat),
         **{name: iters / seconds for name, seconds in t.items()}}
    return D, {**r, "floor": max(r["floor (Python)"], r["floor (compiled)"])}


def check_agreement(n: int, k: int, knots: int, iters: int) -> None:
    learners, y = problem(n, k, knots)
    fast, slow = bst.boost(learners, y, 0.1, iters, mode="data"), bst.boost_naive(learners, y, 0.1, iters)
    assert np.array_equal(fast.selected, slow.selected), "the two loops select different learners"
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-8, atol=1e-10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = ap.parse_args()
    cases = [(200, 3, 8), (2000, 10, 20)] if not args.quick else [(200, 3, 8)]
    iters = 300 if args.quick else 2000
    rows, details = [], {}
    for n, k, knots in cases:
        check_agreement(n, k, knots, 50)
        D, r = measure(n, k, knots, iters, 1 if args.quick else 3)
        what = f"boosting n = {n}, {k} learners (D = {D})"
        rows += [
            common.row(f"{what}: one product per iteration vs refit loop", "boost (data)", r["data"], "refit loop",
                       r["refit"], r["data"] / r["refit"], "≥ 10×", r["data"] / r["refit"] >= 10,
                       unit="iterations/s"),
            common.row(f"{what}: cross-Gram update vs refit loop", "boost (gram)", r["gram"], "refit loop",
                       r["refit"], r["gram"] / r["refit"], "", None, unit="iterations/s"),
            common.row(f"{what}: one product per iteration vs its floor", "boost (data)", r["data"],
                       "one pass over the data", r["floor"], r["floor"] / r["data"], "≤ 3× the floor",
                       r["floor"] / r["data"] <= 3, unit="iterations/s",
                       note="ratio = floor throughput / measured throughput"),
        ]
        details[what] = r
    common.save("boosting", "Componentwise boosting: vectorised update, refit loop and floor", rows, details)


if __name__ == "__main__":
    main()
