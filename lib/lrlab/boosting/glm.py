"""Loss families and GLMs: inverse links, empirical risks, mboost's offsets, maximum likelihood by Newton's method,
the critical step ``ν*`` of componentwise GLM boosting and the oscillation of a coefficient path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from lrlab.boosting.learners import Learner, _bad

FAMILIES: tuple[str, ...] = ("gaussian", "poisson", "binomial")


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
    proof of non-convergence. For one-column learners ``x_j``, ``ν* = min_j 2 x_jᵀx_j / x_jᵀŴx_j`` (derived in the
    boosting chapter). Computed as ``λ_max(A⁻¹ZᵀŴZ) = λ_max(diag(√s) UᵀŴU diag(√s))``.
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


def critical_nu_along(learners: Sequence[Learner], selected: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The local critical step ``2 / λ_max(A_j⁻¹Z_jᵀW_mZ_j)`` of the learner ``j = selected[m]`` updated at each
    iteration ``m``, with the working weights ``W_m = weights[m]`` where that update starts.

    :func:`critical_nu` evaluates the curvature once, at the optimum; along a path it changes (for the Poisson loss
    ``W = diag(e^η)`` grows with the predictor), and a step that is stable at the optimum can exceed the critical
    step of the curvature met on the way. ``weights`` is ``M × n`` (``μ`` of the predictor before each update for
    Poisson), ``selected`` the ``M`` learners updated. Used by the boosting chapter's path-aware critical step.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    selected = np.asarray(selected, dtype=int)
    if weights.shape[0] != selected.shape[0] or np.any(weights < 0) or np.any(np.isnan(weights)):
        raise _bad("weights", f"an array of shape {weights.shape}",
                   f"non-negative working weights, one row per selected learner ({selected.shape[0]})")
    if selected.size and (selected.min() < 0 or selected.max() >= len(learners)):
        raise _bad("selected", "indices out of range", f"learner indices in [0, {len(learners) - 1}]")
    out = np.empty(selected.shape[0])
    for j, lr in enumerate(learners):
        rows = np.flatnonzero(selected == j)
        if not rows.size:
            continue
        B = lr.factors.U * np.sqrt(lr.factors.s)  # n × r
        with np.errstate(over="ignore", invalid="ignore"):
            M = np.einsum("ni,mn,nk->mik", B, weights[rows], B)
        bad = ~np.isfinite(M).all(axis=(1, 2))
        top = np.full(rows.size, np.inf)
        if (~bad).any():
            top[~bad] = np.linalg.eigvalsh(M[~bad])[:, -1]
        out[rows] = np.where(top > 0, 2.0 / np.where(top > 0, top, 1.0), np.inf)
    return out


def oscillation(coef: np.ndarray, last: int = 10) -> float:
    """Largest range of any coefficient over the last ``last`` iterations (the paper's β over iterations 990–1000)."""
    tail = coef[-(last + 1) :]
    return float(np.max(tail.max(axis=0) - tail.min(axis=0)))
