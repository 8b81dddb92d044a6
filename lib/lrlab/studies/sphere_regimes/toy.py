"""Our toy example of the three regimes: projected gradient descent on the circle, with analytic thresholds.

The scale-invariant function L(w) = (a/2)·w₁²w₂²/‖w‖⁴ on R² has four minima on the axes (curvature a) and four
maxima on the diagonals. Projected gradient descent on the unit circle at ELR η̃ converges below 2/a, oscillates
inside one basin (a chaotic equilibrium) between 2/a and 8/a, and wanders over all four basins (divergence) above
8/a (:func:`toy_thresholds`, derived in this chapter). The function is ours, not the paper's, and the chapter
says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lrlab.config import Config


def toy_loss(w: np.ndarray, a: float = 1.0) -> np.ndarray:
    """The toy SI function L(w) = (a/2)·w₁²w₂²/‖w‖⁴ on R² (rows of ``w``); on the unit circle at angle θ it is
    (a/8)·sin²2θ, with four minima on the axes (curvature a) and four maxima on the diagonals."""
    w = np.atleast_2d(w)
    r2 = (w**2).sum(-1)
    return 0.5 * a * (w[..., 0] * w[..., 1]) ** 2 / r2**2


def toy_grad(w: np.ndarray, a: float = 1.0) -> np.ndarray:
    """∇L of :func:`toy_loss` (rows of ``w``); orthogonal to w, and ∇L(c·w) = ∇L(w)/c."""
    w = np.atleast_2d(w)
    r2 = (w**2).sum(-1, keepdims=True)
    p = (w[..., :1] * w[..., 1:]) ** 2
    return a * w[..., ::-1] ** 2 * w / r2**2 - 2 * a * p * w / r2**3


def toy_thresholds(a: float = 1.0) -> dict[str, float]:
    """The analytic ELR thresholds of the toy (derived in the chapter):

    - ``converge`` = 2/a: the minima lose linear stability (θ ↦ (1 − η̃a)θ);
    - ``cycle`` = 4/a: the symmetric 2-cycle around a minimum loses stability (inside the equilibrium regime);
    - ``escape`` = 8/a: a basin of attraction stops mapping into itself and the iterates wander over the whole
      circle (divergence).
    """
    if not a > 0:
        raise ValueError(f"a = {a!r} is not allowed: it must be > 0")
    return {"converge": 2.0 / a, "cycle": 4.0 / a, "escape": 8.0 / a}


def toy_cycle_loss(elr: float | np.ndarray, a: float = 1.0) -> np.ndarray:
    """Loss on the stable 2-cycle, L* = (a/8)(1 − 2/(a·ELR)) for 2/a < ELR < 4/a (0 below, NaN above)."""
    e = np.asarray(elr, dtype=float)
    out = np.where(e * a <= 2, 0.0, a / 8 * (1 - 2 / (a * e)))
    return np.where(e * a < 4, out, np.nan)


def toy_step(w: np.ndarray, elr: np.ndarray, a: float = 1.0) -> np.ndarray:
    """One projected gradient step on the unit circle: w ← (w − η̃∇L(w)) / ‖w − η̃∇L(w)‖ (ρ₀ = 1, so η = η̃)."""
    v = w - elr[:, None] * toy_grad(w, a)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _basin(w: np.ndarray) -> np.ndarray:
    """Index 0–3 of the minimum (an axis direction) whose basin holds each row of ``w``."""
    theta = np.arctan2(w[:, 1], w[:, 0])
    return np.round(theta / (np.pi / 2)).astype(int) % 4


def toy_run(elrs, seeds, steps: int, a: float = 1.0) -> pd.DataFrame:
    """Projected GD on the circle for every ELR × seed (vectorised); one row per run.

    Start: a uniform random direction per seed. Statistics over the second half of the steps: mean, min and
    max loss, mean effective gradient ‖∇L‖ (ρ = 1), the rate of basin changes, and the regime measured as
    ``convergence`` (final loss < 1e-12), ``divergence`` (at least one basin change in the second half) or
    ``equilibrium`` (neither).
    """
    elrs = np.asarray(elrs, dtype=float)
    if steps < 2:
        raise ValueError(f"steps = {steps!r} is not allowed: it must be an integer >= 2")
    if (elrs <= 0).any():
        raise ValueError(f"elrs = {elrs.tolist()} is not allowed: every ELR must be > 0")
    grid_e, grid_s = np.meshgrid(elrs, np.asarray(seeds), indexing="ij")
    e, s = grid_e.ravel(), grid_s.ravel()
    angles = np.array([np.random.default_rng(int(x)).uniform(0, 2 * np.pi) for x in s])
    w = np.stack([np.cos(angles), np.sin(angles)], 1)
    half = steps // 2
    n = steps - half
    loss_sum = np.zeros(len(e))
    loss_min = np.full(len(e), np.inf)
    loss_max = np.zeros(len(e))
    grad_sum = np.zeros(len(e))
    hops = np.zeros(len(e))
    basin = _basin(w)
    for t in range(steps):
        w = toy_step(w, e, a)
        if t >= half:
            lo = toy_loss(w, a)
            loss_sum += lo
            loss_min = np.minimum(loss_min, lo)
            loss_max = np.maximum(loss_max, lo)
            grad_sum += np.linalg.norm(toy_grad(w, a), axis=1)
            b = _basin(w)
            hops += b != basin
            basin = b
        else:
            basin = _basin(w)
    final = toy_loss(w, a)
    regime = np.where(final < 1e-12, "convergence", np.where(hops > 0, "divergence", "equilibrium"))
    return pd.DataFrame(
        {
            "elr": e,
            "seed": s.astype(int),
            "loss_mean": loss_sum / n,
            "loss_min": loss_min,
            "loss_max": loss_max,
            "loss_final": final,
            "eff_grad": grad_sum / n,
            "hop_rate": hops / n,
            "regime": regime,
        }
    )


def toy_grid(cfg: Config) -> np.ndarray:
    """The toy's ELR grid: ``toy_n`` log-spaced values between 0.25/a and 32/a."""
    return np.geomspace(0.25, 32.0, cfg.toy_n) / cfg.toy_a


def toy_trajectory(elr: float, steps: int, seed: int = 0, a: float = 1.0) -> pd.DataFrame:
    """Angle, loss and effective gradient of one toy run, step by step (for the chapter's trajectories)."""
    angle = np.random.default_rng(int(seed)).uniform(0, 2 * np.pi)
    w = np.array([[np.cos(angle), np.sin(angle)]])
    rows = []
    for t in range(steps + 1):
        rows.append(
            {
                "step": t,
                "theta": float(np.arctan2(w[0, 1], w[0, 0])),
                "loss": float(toy_loss(w, a)[0]),
                "eff_grad": float(np.linalg.norm(toy_grad(w, a))),
            }
        )
        w = toy_step(w, np.array([elr]), a)
    df = pd.DataFrame(rows)
    df["elr"] = elr
    return df


def toy_boundaries(runs: pd.DataFrame) -> dict[str, float]:
    """Simulated regime boundaries: bracketing ELRs of the convergence → equilibrium and equilibrium →
    divergence transitions (every seed must agree for an ELR to count)."""
    per = runs.groupby("elr")["regime"].agg(lambda r: r.iloc[0] if r.nunique() == 1 else "mixed")
    conv = per.index[per == "convergence"]
    div = per.index[per == "divergence"]
    return {
        "converge_low": float(conv.max()) if len(conv) else math.nan,
        "converge_high": float(per.index[per.index > conv.max()].min()) if len(conv) else math.nan,
        "escape_low": float(per.index[per.index < div.min()].max()) if len(div) else math.nan,
        "escape_high": float(div.min()) if len(div) else math.nan,
    }

