"""Tables derived from the runs: destabilisations, periods, the order of the phases, decay rates, the period scan,
the norm recursion, the equilibrium, the controls.

:func:`analyse` applies the destabilisation detector (:func:`lrlab.probes.periodic.detect`) to every
configuration of every run and gathers the tables the figures and the scorecard read (:class:`Analysis`);
:func:`lrlab.studies.periodic_bn_wd.numbers.numbers` gives the numbers the chapter's prose quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lrlab.config import Config
from lrlab.probes import periodic as pr

from .experiments import Results, Run

MIN_PERIODS = 2
"""A scan configuration enters the period law with at least this many complete periods (the time before the first
destabilisation starts from the initialisation, not from a reset, and is left out)."""


def periodic_lrs(cfg: Config) -> list[float]:
    """The panel learning rates expected to be periodic: all but the largest, which sits in an equilibrium, and
    with three or more also all but the smallest, which may be too slow to destabilise within the budget (the
    official code's η = 0.001 at scale ``paper``)."""
    lrs = sorted(cfg.lrs)
    return lrs[1:-1] if len(lrs) > 2 else lrs[:1]


def detector(cfg: Config) -> pr.Detector:
    """The destabilisation detector with the thresholds of ``cfg`` (``window``, ``loss_factor``, ...)."""
    return pr.Detector(cfg.window, cfg.loss_factor, cfg.grad_factor, cfg.elr_drop)


def spikes(r: Run, cfg: Config) -> pd.DataFrame:
    """Every spike of every configuration of a run (see :func:`lrlab.probes.periodic.detect`), with labels and the
    run's name."""
    t = pr.detect_runs(r.series, ("config",), detector(cfg))
    t = t.merge(r.labels.reset_index(drop=True).rename_axis("config").reset_index(), on="config")
    return t.assign(run=r.name)


def period_table(r: Run, cfg: Config, sp: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per configuration: ``events`` (destabilisations), ``spikes``, ``periods`` (complete ones),
    ``mean_period`` (steps), ``eta_lambda`` = ηλ, ``elr_ratio`` (median ELR before / after an event), the labels,
    the run's name, and the period weight decay alone would need for that ratio
    (:func:`lrlab.probes.periodic.predicted_period`)."""
    sp = spikes(r, cfg) if sp is None else sp
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        ev = pr.events(sp[sp.config == c])
        per = pr.periods(ev["step"])
        ratio = float(np.median(ev["elr_before"] / ev["elr_after"])) if len(ev) else float("nan")
        rows.append({
            "run": r.name, "config": c, **lab.to_dict(), "eta_lambda": lab["lr"] * lab["wd"],
            "spikes": int((sp.config == c).sum()), "events": len(ev), "periods": len(per),
            "mean_period": float(per.mean()) if len(per) else float("nan"), "elr_ratio": ratio,
            "wd_period": float(pr.predicted_period(lab["lr"], lab["wd"], ratio)) if len(ev) and lab["wd"] > 0
            else float("nan"),
        })
    return pd.DataFrame(rows)


def _free_si(lab) -> bool:
    return not lab.get("fixed", False) and bool(lab.get("bn", True)) and lab["wd"] > 0


def phases(r: Run, cfg: Config, sp: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decay rates (:func:`~lrlab.probes.periodic.decay_phases`) of every complete period and the order of the
    phases (:func:`~lrlab.probes.periodic.phase_order`) around every event but the first, for every free-norm
    scale-invariant configuration with weight decay."""
    rates, order = [], []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if not _free_si(lab):
            continue
        ev = pr.events(sp[sp.config == c])
        s = r.series_of(c)
        rt = pr.decay_phases(s["step"], s["rho"], s["elr"], ev, lab["lr"], lab["wd"])
        mo = pr.phase_order(s["step"], s["rho"], s["loss"], s["eff_grad"], ev["step"])
        for t, out in ((rt, rates), (mo, order)):
            if len(t):
                out.append(t.assign(run=r.name, config=c, **{k: lab[k] for k in ("lr", "wd", "seed")}))
    extra = ["run", "config", "lr", "wd", "seed"]
    rate_cols = ["period", "start", "end", "rho_rate", "elr_rate", "wd_rate", "ratio", "elr_ratio", *extra]
    return (pd.concat(rates, ignore_index=True) if rates else pd.DataFrame(columns=rate_cols),
            pd.concat(order, ignore_index=True) if order else pd.DataFrame(columns=[*pr.ORDER_COLUMNS, *extra]))


# ---- the period scan -----------------------------------------------------------------------------------------


def interval(values, level: float = 0.95, errors=None) -> tuple[float, float, float, float]:
    """Mean, its standard error over the values (one per seed), and the Student-t interval at ``level``
    (NaN with fewer than two finite values).

    ``errors`` (one standard error per value, e.g. of each seed's own fit) floor the spread: each value scatters at
    least by its own error, so the standard error of the mean is at least √(mean error²/n), however closely a
    handful of values happen to agree."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    e = np.asarray(errors, dtype=float)[ok] if errors is not None else np.zeros(ok.sum())
    v = v[ok]
    if len(v) < 2:
        return (float(v.mean()) if len(v) else float("nan"), float("nan"), float("nan"), float("nan"))
    var = max(float(v.var(ddof=1)), float(np.nanmean(e**2)) if np.isfinite(e).any() else 0.0)
    m, se = float(v.mean()), float(np.sqrt(var / len(v)))
    h = float(stats.t.ppf(0.5 + level / 2, len(v) - 1)) * se
    return m, se, m - h, m + h


def scan_table(table: pd.DataFrame) -> pd.DataFrame:
    """The scan configurations with their periods (both runs): one row per configuration and seed, ``used`` when
    it has at least :data:`MIN_PERIODS` complete periods."""
    t = table[table.scan.astype(bool)].copy()
    t["used"] = (t.periods >= MIN_PERIODS) & (t.mean_period > 0)
    return t.sort_values(["seed", "eta_lambda", "series"]).reset_index(drop=True)


def scan_fits(scan: pd.DataFrame) -> pd.DataFrame:
    """Per seed: the log–log slope of the mean period against ηλ over the used scan configurations (``slope``,
    its regression ``se``, ``n`` configurations, ``span`` = largest / smallest ηλ), the same for each series
    alone, and ``log_ratio``: the mean over the equal-ηλ pairs of ln(period of the η-series / of the λ-series)."""
    rows = []
    for seed, g in scan.groupby("seed"):
        u = g[g.used]
        row = {"seed": int(seed), "n": len(u), "span": float(u.eta_lambda.max() / u.eta_lambda.min()) if len(u)
               else float("nan")}
        for key, part in (("", u), ("lambda_", u[u.series.isin(["lambda", "both"])]),
                          ("eta_", u[u.series.isin(["eta", "both"])])):
            fit = pr.fit_loglog(part.eta_lambda, part.mean_period) if part.eta_lambda.nunique() >= 2 else None
            row[f"{key}slope"] = fit.slope if fit else float("nan")
            if not key:
                row["se"] = fit.se if fit else float("nan")
        lam = u[u.series == "lambda"].set_index(u.eta_lambda.round(12)[u.series == "lambda"]).mean_period
        eta = u[u.series == "eta"].set_index(u.eta_lambda.round(12)[u.series == "eta"]).mean_period
        both = lam.index.intersection(eta.index)
        row["pairs"] = len(both)
        row["log_ratio"] = float(np.mean(np.log(eta[both].to_numpy() / lam[both].to_numpy()))) if len(both) \
            else float("nan")
        rows.append(row)
    cols = ["seed", "n", "span", "slope", "se", "lambda_slope", "eta_slope", "pairs", "log_ratio"]
    return pd.DataFrame(rows, columns=cols)


def judged_fits(fits: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """The seeds whose scan fit C3 judges: at least three used configurations spanning the whole range of ηλ."""
    xs = sorted(cfg.scan_etalambdas)
    return fits[(fits.n >= 3) & (fits.span >= 0.99 * xs[-1] / xs[0])] if len(fits) else fits


# ---- the norm recursion, the equilibrium, the controls --------------------------------------------------------


def recursion(r: Run) -> pd.DataFrame:
    """Per free-norm configuration: the largest one-step error of the norm recursion and the smallest pre-BN
    variance reached (compare with BN's ε); ``bn`` False marks the no-BN control, which is not scale-invariant."""
    a = r.steps
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if lab.get("fixed", False):
            continue
        res = pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], lab["lr"],
                                   lab["wd"])
        rows.append({"run": r.name, "config": c, **lab.to_dict(), "max_residual": float(np.nanmax(np.abs(res))),
                     "min_bn_var": float(np.nanmin(a["bn_var"][:, c])), "min_rho": float(a["rho_after"][:, c].min())})
    out = pd.DataFrame(rows)
    if len(out) and "bn" not in out:
        out["bn"] = True
    return out


def recursion_trace(r: Run, c: int) -> pd.DataFrame:
    """Measured ρ of configuration ``c`` at every step next to the recursion driven by the measured gradient
    norms from ρ₀ (:func:`~lrlab.probes.periodic.predict_rho`)."""
    a, lab = r.steps, r.labels.iloc[c]
    pred = pr.predict_rho(a["rho_before"][0, c], lab["lr"], lab["wd"], a["grad_norm"][:, c])
    return pd.DataFrame({"step": np.arange(len(pred)), "measured": np.r_[a["rho_before"][0, c], a["rho_after"][:, c]],
                         "recursion": pred})


def equilibrium(r: Run, c: int, sp: pd.DataFrame | None = None) -> dict[str, float]:
    """The equilibrium of configuration ``c`` over the second half of its steps.

    ``elr``: the median ELR η/ρ²; ``predicted``: the fixed point of the norm recursion for the effective
    gradients measured over the same steps, √(2ηλ − η²λ²) / RMS‖g̃‖ (at a stationary ρ the mean change of ρ² is
    zero, which is this equation); ``ratio`` = elr / predicted; ``drift``: median ELR of the last quarter over the
    third; ``loss_late``: the median batch loss; ``late_events``: destabilisations in the second half."""
    a, lab = r.steps, r.labels.iloc[c]
    n = a["loss"].shape[0]
    half = slice(n // 2, n)
    elr = lab["lr"] / a["rho_after"][half, c] ** 2
    rms = float(np.sqrt(np.mean(a["eff_grad"][half, c] ** 2)))
    pred = float(pr.equilibrium_elr(lab["lr"], lab["wd"], rms)) if lab["wd"] > 0 and rms > 0 else float("nan")
    q3, q4 = np.median(elr[: len(elr) // 2]), np.median(elr[len(elr) // 2:])
    late = 0
    if sp is not None:
        late = int((pr.events(sp[sp.config == c]).step > n // 2).sum())
    return {"elr": float(np.median(elr)), "predicted": pred, "ratio": float(np.median(elr)) / pred,
            "drift": float(q4 / q3), "elr_q4": float(q4), "loss_late": float(np.median(a["loss"][half, c])),
            "late_events": late}


def controls(r: Run, table: pd.DataFrame) -> pd.DataFrame:
    """One row per control configuration and seed (and its twin): events, spikes, the ELR at the start (η/ρ₀²) and
    at the end (median over the last tenth of the steps), whether ρ never fell, and the run's status."""
    a = r.steps
    n = a["loss"].shape[0]
    k = max(1, n // 10)
    rows = []
    t = table[(table.run == r.name) & ((table.control != "") | table.twin.astype(bool))]
    for row in t.itertuples():
        c = int(row.config)
        rho = np.r_[a["rho_before"][0, c], a["rho_after"][:, c]]
        rows.append({"control": row.control or "twin", "seed": int(row.seed), "lr": row.lr, "wd": row.wd,
                     "events": int(row.events), "spikes": int(row.spikes), "elr_start": float(row.lr / rho[0] ** 2),
                     "elr_end": float(np.median(row.lr / rho[-k:] ** 2)),
                     "rho_grows": bool((np.diff(rho) >= -1e-6 * rho.max()).all()), "status": r.status[c], "config": c})
    return pd.DataFrame(rows)


@dataclass
class Analysis:
    """Tables derived from :class:`~lrlab.studies.periodic_bn_wd.experiments.Results` that the chapter and the
    scorecard use (``table``, ``spikes``, ``rates``, ``order`` and ``recursion`` cover both SGD runs, with a
    ``run`` column)."""

    spikes: pd.DataFrame
    table: pd.DataFrame
    rates: pd.DataFrame
    order: pd.DataFrame
    scan: pd.DataFrame
    fits: pd.DataFrame
    recursion: pd.DataFrame
    controls: pd.DataFrame
    gd_table: pd.DataFrame
    at_table: pd.DataFrame
    at_recursion: pd.DataFrame

    def run_spikes(self, run: str) -> pd.DataFrame:
        """The spikes of one SGD run (``sgd`` or ``long``)."""
        return self.spikes[self.spikes.run == run]


def analyse(cfg: Config, res: Results) -> Analysis:
    """Every table of :class:`Analysis`, from the runs of ``res``."""
    sps, tables, rates, orders, recs = [], [], [], [], []
    for r in res.runs.values():
        sp = spikes(r, cfg)
        sps.append(sp)
        tables.append(period_table(r, cfg, sp))
        rt, od = phases(r, cfg, sp)
        rates.append(rt)
        orders.append(od)
        recs.append(recursion(r))
    table = pd.concat(tables, ignore_index=True)
    scan = scan_table(table)
    nonempty = [t for t in rates if len(t)] or rates[:1]
    return Analysis(pd.concat(sps, ignore_index=True), table, pd.concat(nonempty, ignore_index=True),
                    pd.concat([t for t in orders if len(t)] or orders[:1], ignore_index=True), scan, scan_fits(scan),
                    pd.concat(recs, ignore_index=True), controls(res.sgd, table), period_table(res.gd, cfg),
                    period_table(res.all_trained, cfg), recursion(res.all_trained))


def event_elrs(cfg: Config, an: Analysis) -> dict[str, dict[str, list[float]]]:
    """Per learning rate of the free-norm SGD runs of the main run at ``cfg.wd`` that destabilise, and per seed:
    the median ELR just before and just after its destabilisations (NaN for a seed without one). The book's
    synthesis (:mod:`lrlab.studies.synthesis`) sets these against the sphere chapter's regime boundaries."""
    t, sp = an.table, an.run_spikes("sgd")
    free = t[(t.run == "sgd") & ~t.fixed.astype(bool) & t.bn.astype(bool) & (t.wd == cfg.wd)]
    seeds = sorted(free.seed.unique())
    out: dict[str, dict[str, list[float]]] = {"elr_before": {}, "elr_after": {}}
    for lr, g in free.groupby("lr"):
        if not (g.events > 0).any():
            continue
        per_seed = [pr.events(sp[sp.config.isin(g[g.seed == s].config)]) for s in seeds]
        for key, by_lr in out.items():
            by_lr[f"{lr:g}"] = [float(np.median(ev[key])) if len(ev) else float("nan") for ev in per_seed]
    return out
