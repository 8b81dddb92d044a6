"""The paper's toy: a function of n scale-invariant groups, on one sphere or on a sphere per group.

Kodryan et al. (2022), appendix A.1–A.2 (the fragments we could read): F(θ) has parameters split into n SI
groups θ = (θ₁, …, θₙ), trained by projected gradient descent; group i alone converges when its individual ELR
ηᵢ < 1/αᵢ, the total ELR's threshold is 1/Σαᵢ, and (Remark 2) "if, conversely, η > 1/Σαᵢ, then at each
iteration at least one of the individual ELRs exceeds its convergence threshold". The fragments do not give the
functions; ours are the simplest SI functions with those thresholds (derived in the chapter):

    F(θ) = Σᵢ fᵢ(θᵢ),   fᵢ(θᵢ) = αᵢ · θᵢ,₂² / ‖θᵢ‖²,   θᵢ ∈ R²,

αᵢ sin²φᵢ on the unit circle of group i. Projected GD turns φᵢ by arctan(ηᵢ αᵢ sin 2φᵢ), a contraction at the
minimum exactly when ηᵢαᵢ < 1 (:func:`group_thresholds`).

- :func:`groups_run`: every ELR × seed, either on **one sphere** (the total norm of all groups held at ρ₀, the
  chapter's set-up: ``constraint="total"``) or on **a sphere per group** (each group's norm held at its own
  initial value: ``constraint="individual"``).
- :func:`groups_boundaries`: the simulated thresholds, as bracketing ELRs, for :func:`group_thresholds`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from lrlab.probes import scale_invariant as si

CONVERGED = 1e-12
"""A run has converged when its final loss is below this, relative to Σαᵢ (the loss is 0 at a minimum)."""


def group_loss(theta: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """F(θ) = Σᵢ αᵢ θᵢ,₂² / ‖θᵢ‖² per configuration, and each group's share: ``theta`` is ``(K, n, 2)``; returns
    the per-group losses ``(K, n)``."""
    return alphas * theta[..., 1] ** 2 / (theta**2).sum(-1)


def group_grad(theta: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """∇F, group by group: ∇fᵢ = (2αᵢ/‖θᵢ‖⁴)·(−x y², y x²) for θᵢ = (x, y); orthogonal to θᵢ, and of norm
    αᵢ·abs(sin 2φᵢ) / ‖θᵢ‖ (scale invariance)."""
    x, y = theta[..., 0], theta[..., 1]
    c = 2 * alphas / (x * x + y * y) ** 2
    return np.stack([-c * x * y * y, c * y * x * x], -1)


def rescale(theta: np.ndarray, radius: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The projection of projected GD: ``theta`` rescaled so that its norm over ``axes`` is ``radius`` (one sphere
    for all groups: axes (1, 2); a sphere per group: axis 2)."""
    norm = np.sqrt((theta**2).sum(axes, keepdims=True))
    return theta * (np.expand_dims(radius, axes) / norm)


def group_thresholds(alphas) -> dict[str, float]:
    """The analytic ELR thresholds (derived in the chapter): ``group_i`` = 1/αᵢ for group i on its own sphere
    (φ ↦ (1 − 2ηᵢαᵢ)φ near the minimum), ``total`` = 1/Σαᵢ for all groups on one sphere (a minimum is stable
    only if every group's individual ELR is below its threshold, which the norms Σρᵢ² = ρ₀² allow exactly when
    the total ELR is below 1/Σαᵢ)."""
    a = np.asarray(alphas, dtype=float)
    if a.ndim != 1 or len(a) < 1 or not (a > 0).all():
        raise ValueError(f"alphas = {list(np.atleast_1d(a))} is not allowed: it must list one or more numbers > 0")
    out = {f"group_{i}": 1.0 / v for i, v in enumerate(a)}
    out["total"] = 1.0 / a.sum()
    return out


def groups_run(elrs, seeds, steps: int, alphas, constraint: str = "total") -> pd.DataFrame:
    """Projected GD on F for every ELR × seed (vectorised); one row per run and group.

    Start: θ ~ N(0, I) per seed (so the groups start with unequal norms and ρ₀ ≠ 1); the learning rate is
    η = ELR · ρ₀² (:func:`lrlab.probes.scale_invariant.lr_for_elr`), ρ₀ the initial total norm for
    ``constraint="total"``, and each group's own initial norm for ``"individual"`` (so ELR is then every
    group's individual ELR ηᵢ = η/ρᵢ²). Per run and group: the final loss of the group, its final individual ELR
    ηᵢ·αᵢ (in units of its threshold), and, over the second half of the steps, the fraction of steps in which
    at least one group's ηᵢαᵢ exceeds 1 (``unstable_frac``, Remark 2) and the mean total loss. A run
    ``converged`` when its final total loss is below :data:`CONVERGED`·Σαᵢ.
    """
    if constraint not in ("total", "individual"):
        raise ValueError(f"constraint = {constraint!r} is not allowed: it must be 'total' or 'individual'")
    if steps < 2:
        raise ValueError(f"steps = {steps!r} is not allowed: it must be an integer >= 2")
    a = np.asarray(alphas, dtype=float)
    group_thresholds(a)  # validates
    elrs = np.asarray(elrs, dtype=float)
    if (elrs <= 0).any():
        raise ValueError(f"elrs = {elrs.tolist()} is not allowed: every ELR must be > 0")
    grid_e, grid_s = np.meshgrid(elrs, np.asarray(seeds, dtype=int), indexing="ij")
    e, s = grid_e.ravel(), grid_s.ravel()
    theta = np.stack([np.random.default_rng(int(x)).standard_normal((len(a), 2)) for x in s])
    axes = (1, 2) if constraint == "total" else (2,)
    radius = np.sqrt((theta**2).sum(axes))  # (K,) or (K, n)
    lr = si.lr_for_elr(torch.as_tensor(e if constraint == "total" else e[:, None]), torch.as_tensor(radius))
    lr = np.broadcast_to(lr.numpy(), radius.shape)
    eta = lr[:, None] if constraint == "total" else lr  # (K, 1) or (K, n)
    half = steps // 2
    unstable = np.zeros(len(e))
    loss_sum = np.zeros(len(e))
    for t in range(steps):
        theta = rescale(theta - eta[..., None] * group_grad(theta, a), radius, axes)
        if t >= half:
            c = eta / (theta**2).sum(2) * a  # ηᵢ αᵢ
            unstable += c.max(1) > 1
            loss_sum += group_loss(theta, a).sum(1)
    final = group_loss(theta, a)
    c_final = eta / (theta**2).sum(2) * a
    total = final.sum(1)
    rows = []
    for k in range(len(e)):
        for i in range(len(a)):
            rows.append({"elr": e[k], "seed": int(s[k]), "constraint": constraint, "group": i, "alpha": a[i],
                         "loss_group": final[k, i], "elr_x_alpha": c_final[k, i], "loss": total[k],
                         "loss_mean": loss_sum[k] / (steps - half), "unstable_frac": unstable[k] / (steps - half),
                         "converged": bool(total[k] < CONVERGED * a.sum()),
                         "group_converged": bool(final[k, i] < CONVERGED * a.sum())})
    return pd.DataFrame(rows)


def groups_grid(alphas, n: int) -> np.ndarray:
    """``n`` log-spaced ELRs: the midpoints of n equal log-steps from 1/(8 Σαᵢ) to 8/min αᵢ, so the grid reaches a
    factor 8 below the lowest threshold of :func:`group_thresholds` and above the highest."""
    a = np.asarray(alphas, dtype=float)
    lo, hi = math.log(1 / (8 * a.sum())), math.log(8 / a.min())
    step = (hi - lo) / n
    return np.exp(lo + step * (np.arange(n) + 0.5))


def _bracket(elr: pd.Series, converged: pd.Series) -> tuple[float, float]:
    """The highest ELR at which every seed converged and the lowest at which none did (NaN when missing)."""
    per = pd.DataFrame({"elr": elr, "c": converged}).groupby("elr")["c"].agg(["all", "any"])
    yes, no = per.index[per["all"]], per.index[~per["any"]]
    return (float(yes.max()) if len(yes) else math.nan, float(no.min()) if len(no) else math.nan)


def groups_boundaries(individual: pd.DataFrame, total: pd.DataFrame) -> pd.DataFrame:
    """Simulated thresholds against :func:`group_thresholds`: one row per group (on its own sphere: a group
    converges when its own loss does) and one for all groups on one sphere, with the bracketing ELRs ``low``
    (every seed converged) and ``high`` (no seed did), the analytic ``threshold`` and ``inside`` (low ≤
    threshold ≤ high)."""
    alphas = individual.groupby("group")["alpha"].first().to_numpy()
    th = group_thresholds(alphas)
    rows = []
    for i, g in individual.groupby("group"):
        lo, hi = _bracket(g["elr"], g["group_converged"])
        rows.append({"what": f"group {i} alone (α = {alphas[i]:g})", "key": f"group_{i}", "low": lo, "high": hi,
                     "threshold": th[f"group_{i}"]})
    runs = total.drop_duplicates(["elr", "seed"])
    lo, hi = _bracket(runs["elr"], runs["converged"])
    rows.append({"what": "all groups on one sphere", "key": "total", "low": lo, "high": hi, "threshold": th["total"]})
    out = pd.DataFrame(rows)
    out["inside"] = (out["low"] <= out["threshold"]) & (out["threshold"] <= out["high"])
    return out


def groups_trajectory(elr: float, steps: int, alphas, seed: int = 0) -> pd.DataFrame:
    """Every group's individual ELR ηᵢαᵢ (in units of its threshold) and loss, step by step, for one run on one
    sphere (for the chapter's figure)."""
    a = np.asarray(alphas, dtype=float)
    theta = np.random.default_rng(int(seed)).standard_normal((1, len(a), 2))
    radius = np.sqrt((theta**2).sum((1, 2)))
    eta = float(si.lr_for_elr(elr, float(radius[0])))
    rows = []
    for t in range(steps + 1):
        c = eta / (theta**2).sum(2)[0] * a
        loss = group_loss(theta, a)[0]
        rows += [{"step": t, "group": i, "alpha": a[i], "elr_x_alpha": c[i], "loss_group": loss[i]}
                 for i in range(len(a))]
        theta = rescale(theta - eta * group_grad(theta, a), radius, (1, 2))
    out = pd.DataFrame(rows)
    out["elr"] = elr
    return out
