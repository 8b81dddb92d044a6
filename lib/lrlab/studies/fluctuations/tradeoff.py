"""Which runs trained, and where the paper's trade-off holds: the tables the fluctuations chapter's claims and map
read.

The paper's trade-off has two halves (Pareek et al. 2025, abstract): the larger learning rate reconstructs better
(claim C1) and engages fewer neurons (claim C2). Both compare *trained* networks: a run that never left its
initialisation keeps its initial participation (a default-initialised ReLU unit is active on many inputs), and a run
that only learned the mean image reconstructs every input the same. :func:`per_run` marks a run as trained when its
held-out error is at least a factor ``trained_factor`` below the mean training image's (the best output that
ignores the input); :func:`pairs` judges the two halves for every pair of learning rates an optimiser ran, the
paper's grid and the map's extra rates together, and :func:`cells` summarises them over seeds for the map.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from lrlab.claims import at_most
from lrlab.config import Config

from .experiments import Results

STATUSES = ("trade-off holds", "reconstruction half only", "participation half only", "neither half",
            "not judged")
"""A map cell's outcome, in the order of the map's legend. "not judged": one of the two rates did not train on
any seed the pair shares."""


def is_trained(test_mse: float, blind_mse: float, factor: float, status: str = "finished") -> bool:
    """A finished run whose held-out error is at most ``blind_mse / factor`` (with the claims' tolerance)."""
    return status == "finished" and bool(np.isfinite(test_mse)) and at_most(test_mse, blind_mse / factor)


def per_run(results: Results, cfg: Config, tau: float | None = None) -> pd.DataFrame:
    """One row per (optimiser, η, seed): held-out error, the error below which the run counts as trained
    (``threshold``), ``trained``, and the participating units summed over the hidden layers at threshold ``tau``
    (the run's τ by default)."""
    tau = cfg.tau if tau is None else tau
    part = results.participation
    part = part[np.isclose(part["tau"], tau)]
    total = part.groupby(["optimizer", "lr", "seed"])["participating"].sum().rename("participating")
    out = results.finals.merge(total.reset_index(), on=["optimizer", "lr", "seed"], how="left")
    out["threshold"] = out["blind_mse"] / cfg.trained_factor
    out["trained"] = [is_trained(r.test_mse, r.blind_mse, cfg.trained_factor, r.status)
                      for r in out.itertuples(index=False)]
    return out


def untrained_text(runs: pd.DataFrame) -> str:
    """"not trained: η = 0.0001 on 3/3 seeds (mean held-out MSE 0.074; trained means at most 0.050)", or ""."""
    parts = []
    for lr, frame in runs.groupby("lr", sort=True):
        bad = frame[~frame["trained"]]
        if len(bad):
            mse = bad["test_mse"].mean()
            parts.append(f"η = {lr:g} on {len(bad)}/{len(frame)} seeds (mean held-out MSE {mse:.3f})")
    if not parts:
        return ""
    return f"not trained: {', '.join(parts)}; trained means at most {runs['threshold'].iloc[0]:.3f}"


def pairs(results: Results, cfg: Config, tau: float | None = None) -> pd.DataFrame:
    """One row per (optimiser, seed, η_hi > η_lo) over every rate the optimiser ran with that seed.

    ``recon``: the larger rate has the lower held-out error; ``part``: it has fewer participating units (τ =
    ``tau``); ``judged``: both runs trained; ``holds``: judged and both halves hold.
    """
    runs = per_run(results, cfg, tau)
    rows = []
    for (opt, seed), frame in runs.groupby(["optimizer", "seed"], sort=False):
        by_lr = frame.drop_duplicates("lr").set_index("lr")
        for hi, lo in itertools.combinations(sorted(by_lr.index, reverse=True), 2):
            a, b = by_lr.loc[hi], by_lr.loc[lo]
            judged = bool(a["trained"] and b["trained"])
            recon = bool(a["test_mse"] < b["test_mse"])
            part = bool(a["participating"] < b["participating"])
            rows.append({"optimizer": opt, "seed": seed, "lr_hi": hi, "lr_lo": lo, "judged": judged,
                         "recon": recon, "part": part, "holds": judged and recon and part})
    return pd.DataFrame(rows, columns=["optimizer", "seed", "lr_hi", "lr_lo", "judged", "recon", "part", "holds"])


def cells(pair_rows: pd.DataFrame) -> pd.DataFrame:
    """The map: one row per (optimiser, η_hi, η_lo) with the seeds the pair shares (``seeds``), those on which both
    runs trained (``judged``), and on how many of those each half and the whole trade-off hold. ``status`` is one
    of :data:`STATUSES`, by majority of the judged seeds."""
    rows = []
    for (opt, hi, lo), frame in pair_rows.groupby(["optimizer", "lr_hi", "lr_lo"], sort=False):
        j = frame[frame["judged"]]
        n = len(j)
        recon, part, holds = (int(j[c].sum()) for c in ("recon", "part", "holds"))
        if n == 0:
            status = "not judged"
        elif 2 * holds > n:
            status = "trade-off holds"
        elif 2 * recon > n:
            status = "reconstruction half only"
        elif 2 * part > n:
            status = "participation half only"
        else:
            status = "neither half"
        rows.append({"optimizer": opt, "lr_hi": hi, "lr_lo": lo, "seeds": len(frame), "judged": n,
                     "recon": recon, "part": part, "holds": holds, "status": status})
    return pd.DataFrame(rows, columns=["optimizer", "lr_hi", "lr_lo", "seeds", "judged", "recon", "part", "holds",
                                       "status"])
