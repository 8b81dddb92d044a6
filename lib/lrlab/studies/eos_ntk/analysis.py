"""The tidy tables chapter ``eos_ntk`` shows and its claims read: where each run stands against the edge, the
edge-versus-sub-edge effects with their intervals over seeds, the changes along the traces, the NTK's top
eigenvalue at the edge, the catapult runs and what the probes cost.

Every effect is computed seed by seed (every η of a seed starts from the same initialisation, so a seed is one
paired comparison) and summarised by its mean over seeds with a percentile bootstrap interval over seeds
(:func:`bootstrap_mean`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .experiments import BAND, Results

LEVEL = 0.90
"""Coverage of every bootstrap interval the chapter reports."""
N_BOOT = 4000
"""Bootstrap resamples (of the seeds) per interval."""

EDGE_COLUMNS = ["setting", "seed", "lr", "two_over_lr", "s0", "regime", "entry_step", "eos_points", "median_ratio",
                "q25_ratio", "q75_ratio", "iqr_ratio", "in_band", "max_ratio"]


def bootstrap_mean(values, level: float = LEVEL, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """The mean of ``values`` (one per seed) and its percentile bootstrap interval at ``level``: the seeds are
    resampled with replacement. One value gives a zero-width interval; none gives NaNs."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return np.nan, np.nan, np.nan
    means = v[np.random.default_rng(seed).integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(v.mean()), float(lo), float(hi)


def edge_table(history: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, seed, η): where the run stands against the edge, from its stride measurements.

    ``s0`` initial sharpness. ``regime``: ``catapult`` when 2/η < s0; ``edge`` when it starts below
    (1 − BAND)·2/η and a later measurement reaches that (progressive sharpening to the edge); ``sub-edge`` when it
    starts below and never reaches it; ``near the edge`` when it starts within the band. The *EoS phase* of an
    edge run goes from its first measurement at the edge to its last stride measurement: ``median_ratio``,
    ``q25_ratio``, ``q75_ratio`` and ``iqr_ratio`` describe sharpness·η/2 there, ``in_band`` is the share within
    ±BAND of 1 and ``max_ratio`` the highest.
    """
    rows = []
    if not len(history):
        return pd.DataFrame(columns=EDGE_COLUMNS)
    stride = history[(history["probe"] == "stride") & history["sharpness"].notna()]
    for (setting, seed, lr), g in stride.groupby(["setting", "seed", "lr"], sort=False):
        ratio = (g["sharpness"] * lr / 2).to_numpy()
        start = ratio[0]
        hit = np.flatnonzero(ratio >= 1 - BAND)
        if start > 1:
            regime = "catapult"
        elif start >= 1 - BAND:
            regime = "near the edge"
        else:
            regime = "edge" if hit.size else "sub-edge"
        phase = ratio[hit[0]:] if regime == "edge" else np.array([])
        q25, q50, q75 = np.quantile(phase, [0.25, 0.5, 0.75]) if phase.size else (np.nan,) * 3
        rows.append({
            "setting": setting, "seed": seed, "lr": lr, "two_over_lr": 2 / lr, "s0": float(g["sharpness"].iloc[0]),
            "regime": regime, "entry_step": int(g["step"].iloc[hit[0]]) if regime == "edge" else np.nan,
            "eos_points": int(phase.size), "median_ratio": float(q50), "q25_ratio": float(q25),
            "q75_ratio": float(q75), "iqr_ratio": float(q75 - q25),
            "in_band": float(np.mean(np.abs(phase - 1) <= BAND)) if phase.size else np.nan,
            "max_ratio": float(phase.max()) if phase.size else np.nan,
        })
    return pd.DataFrame(rows, columns=EDGE_COLUMNS)


def classified(runs: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with each run's ``regime`` (:func:`edge_table`), and ``matched``: the run reached the matched loss."""
    e = edge_table(history)[["setting", "seed", "lr", "regime"]]
    out = runs.merge(e, on=["setting", "seed", "lr"], how="left")
    out["regime"] = out["regime"].fillna("unmeasured")
    out["matched"] = out["status"] == "stopped"
    return out


EFFECT_COLUMNS = ["seed", "n_edge", "n_sub", "edge", "sub", "effect", "sub_spread"]


def edge_effect(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per seed: the mean of ``column`` over the runs that reached the edge (``edge``), over those that stayed
    below it (``sub``), their difference (``effect``; NaN unless the seed has both), and the spread (max − min)
    of ``column`` among its sub-edge runs (``sub_spread``; NaN with fewer than two), the size of the tie that
    gradient flow predicts below the edge. Only runs that reached the matched loss count; catapult runs and runs
    that start near the edge are in neither group. ``table`` is :func:`classified` output (one setting)."""
    rows = []
    ok = table[table["matched"]]
    for seed in sorted(table["seed"].unique()):
        g = ok[ok["seed"] == seed]
        e = g.loc[g["regime"] == "edge", column].dropna()
        s = g.loc[g["regime"] == "sub-edge", column].dropna()
        rows.append({"seed": seed, "n_edge": len(e), "n_sub": len(s),
                     "edge": float(e.mean()) if len(e) else np.nan, "sub": float(s.mean()) if len(s) else np.nan,
                     "effect": float(e.mean() - s.mean()) if len(e) and len(s) else np.nan,
                     "sub_spread": float(s.max() - s.min()) if len(s) >= 2 else np.nan})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def effects(res: Results) -> pd.DataFrame:
    """The edge-versus-sub-edge effect of every setting (and of the two-layer linear network, on A_k), per seed,
    for KTA and A_k: :func:`edge_effect` stacked, with ``setting`` and ``metric`` columns."""
    frames = []
    tables = [(s, classified(g, res.history[res.history["setting"] == s])) for s, g in res.runs.groupby("setting",
                                                                                                       sort=False)]
    if res.linear is not None and len(res.linear):
        tables.append(("linear", classified(res.linear, res.linear_history)))
    for setting, t in tables:
        for metric, column in (("KTA", "kta_final"), ("A_k", "A_final")):
            frames.append(edge_effect(t, column).assign(setting=setting, metric=metric))
    cols = ["setting", "metric", *EFFECT_COLUMNS]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def summary(per_seed: pd.DataFrame, column: str = "effect") -> dict:
    """Mean of ``column`` over the seeds that have it, its bootstrap interval, and how many seeds it rests on."""
    v = per_seed[column].dropna().to_numpy() if len(per_seed) else np.array([])
    mean, lo, hi = bootstrap_mean(v)
    return {"mean": mean, "lo": lo, "hi": hi, "seeds": int(v.size),
            "positive": int((v > 0).sum())}


def effect_summary(res: Results) -> pd.DataFrame:
    """One row per (setting, metric): the mean edge-minus-sub-edge effect over seeds with its bootstrap interval,
    and the mean sub-edge spread (the tie) with its interval."""
    rows = []
    for (setting, metric), g in effects(res).groupby(["setting", "metric"], sort=False):
        e, t = summary(g), summary(g, "sub_spread")
        rows.append({"setting": setting, "metric": metric, **e, "tie": t["mean"], "tie_lo": t["lo"],
                     "tie_hi": t["hi"], "tie_seeds": t["seeds"]})
    return pd.DataFrame(rows, columns=["setting", "metric", "mean", "lo", "hi", "seeds", "positive", "tie", "tie_lo",
                                       "tie_hi", "tie_seeds"])


TRACE_CHANGE_COLUMNS = ["setting", "seed", "lr", "points", "falling", "rising", "dA_falling", "dA_rising", "dA_diff",
                        "corr_A", "dkta_falling", "dkta_rising", "dkta_diff", "corr_kta"]


def trace_changes(trace: pd.DataFrame) -> pd.DataFrame:
    """Per traced (setting, seed, η): over the intervals between trace points, the mean change of A_k when the
    sharpness fell and when it rose, their difference ``dA_diff`` (positive: A_k rises when the sharpness
    falls), and the correlation of ΔA_k with Δsharpness; the same for KTA."""
    rows = []
    for (setting, seed, lr), g in trace.groupby(["setting", "seed", "lr"], sort=False):
        g = g.sort_values("step")
        ds = np.diff(g["sharpness"].to_numpy())
        row = {"setting": setting, "seed": seed, "lr": lr, "points": len(g), "falling": int((ds < 0).sum()),
               "rising": int((ds > 0).sum())}
        for name, col in (("A", "A"), ("kta", "kta")):
            d = np.diff(g[col].to_numpy())
            fall = float(d[ds < 0].mean()) if (ds < 0).any() else np.nan
            rise = float(d[ds > 0].mean()) if (ds > 0).any() else np.nan
            row[f"d{name}_falling"], row[f"d{name}_rising"], row[f"d{name}_diff"] = fall, rise, fall - rise
            ok = ds.size >= 3 and ds.std() > 0 and d.std() > 0
            row[f"corr_{name}"] = float(np.corrcoef(ds, d)[0, 1]) if ok else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=TRACE_CHANGE_COLUMNS)


NTK_EDGE_COLUMNS = ["setting", "seed", "lr", "ntk_lmax_over_n", "two_over_lr", "ratio"]


def ntk_edge(res: Results) -> pd.DataFrame:
    """Per run that reached the edge and the matched loss, in a setting whose NTK covers every training example
    (there λ_max(K)/n is exactly the top eigenvalue of the Gauss–Newton matrix): λ_max(K)/n, 2/η and their ratio
    λ_max(K)·η/(2n)."""
    if not len(res.runs):
        return pd.DataFrame(columns=NTK_EDGE_COLUMNS)
    full = set(res.settings.loc[res.settings["ntk_n"] == res.settings["n"], "setting"])
    t = classified(res.runs, res.history)
    t = t[t["setting"].isin(full) & t["matched"] & (t["regime"] == "edge")].copy()
    t["two_over_lr"] = 2 / t["lr"]
    t["ratio"] = t["ntk_lmax_over_n"] / t["two_over_lr"]
    return t[NTK_EDGE_COLUMNS].reset_index(drop=True)


CATAPULT_COLUMNS = ["setting", "seed", "lr", "s0", "status", "loss_peak_ratio", "min_sharp_ratio", "step_of_min"]


def catapult_table(res: Results, early: int) -> pd.DataFrame:
    """Per run with 2/η < initial sharpness: over the first ``early`` steps, the highest loss relative to the
    initial one, the lowest sharpness relative to 2/η, and the run's status."""
    rows = []
    edges = edge_table(res.history)
    for r in edges[edges["regime"] == "catapult"].itertuples():
        g = res.history[(res.history["setting"] == r.setting) & (res.history["seed"] == r.seed)
                        & (res.history["lr"] == r.lr)]
        first = g[g["step"] <= early]
        m = first.dropna(subset=["sharpness"])
        run = res.runs[(res.runs["setting"] == r.setting) & (res.runs["seed"] == r.seed)
                       & (res.runs["lr"] == r.lr)].iloc[0]
        rows.append({"setting": r.setting, "seed": r.seed, "lr": r.lr, "s0": r.s0, "status": run["status"],
                     "loss_peak_ratio": float(first["loss"].max() / first["loss"].iloc[0]),
                     "min_sharp_ratio": float(m["sharpness"].min() * r.lr / 2),
                     "step_of_min": int(m.loc[m["sharpness"].idxmin(), "step"])})
    return pd.DataFrame(rows, columns=CATAPULT_COLUMNS)


def cost_table(res: Results) -> pd.DataFrame:
    """What the probes cost, per (setting, η) (summed over seeds): training, sharpness tracking, the trace, and
    the ratio of tracking to training. Runs on the catapult side also measure every one of their first steps."""
    g = res.runs.groupby(["setting", "lr"], sort=False)
    out = g[["steps", "train_s", "sharp_s", "trace_s", "matvecs", "sharp_calls"]].sum()
    out["matvecs_per_call"] = out["matvecs"] / out["sharp_calls"].where(out["sharp_calls"] > 0)
    out["sharp_over_train"] = out["sharp_s"] / out["train_s"]
    out["ms_per_step"] = 1000 * out["train_s"] / out["steps"].where(out["steps"] > 0)
    return out
