"""Tables derived from the runs: destabilisations, periods, decay phases, the norm recursion, the equilibrium.

:func:`analyse` applies the destabilisation detector (:func:`lrlab.probes.periodic.detect`) to every
configuration and gathers the tables the figures and the scorecard read (:class:`Analysis`); :func:`numbers` gives
the numbers the chapter's prose quotes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab.config import Config
from lrlab.probes import periodic as pr

from .experiments import Results, Run


def periodic_lrs(cfg: Config) -> list[float]:
    """The panel learning rates expected to be periodic: all but the smallest and the largest (the paper's
    η = 0.001 is too slow to destabilise within its budget and η = 1.0 sits in an equilibrium)."""
    lrs = sorted(cfg.lrs)
    return lrs[1:-1] if len(lrs) > 2 else lrs[:1]


def detector(cfg: Config) -> pr.Detector:
    """The destabilisation detector with the thresholds of ``cfg`` (``window``, ``loss_factor``, ...)."""
    return pr.Detector(cfg.window, cfg.loss_factor, cfg.grad_factor, cfg.elr_drop)


def spikes(r: Run, cfg: Config) -> pd.DataFrame:
    """Every spike of every configuration of a run (see :func:`lrlab.probes.periodic.detect`), with labels."""
    t = pr.detect_runs(r.series, ("config",), detector(cfg))
    return t.merge(r.labels.reset_index(drop=True).rename_axis("config").reset_index(), on="config")


def period_table(r: Run, cfg: Config, sp: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per configuration: ``events`` (destabilisations), ``spikes``, ``periods`` (complete ones),
    ``mean_period`` (steps), ``eta_lambda`` = ηλ, the labels, and the predicted period of weight decay alone
    for the run's median ELR ratio (:func:`lrlab.probes.periodic.predicted_period`)."""
    sp = spikes(r, cfg) if sp is None else sp
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        s = sp[sp.config == c]
        ev = pr.events(s)
        per = pr.periods(ev["step"])
        ratio = float(np.median(ev["elr_before"] / ev["elr_after"])) if len(ev) else float("nan")
        rows.append({
            "config": c, **lab.to_dict(), "eta_lambda": lab["lr"] * lab["wd"], "spikes": len(s),
            "events": len(ev), "periods": len(per),
            "mean_period": float(per.mean()) if len(per) else float("nan"),
            "elr_ratio": ratio,
            "wd_period": float(pr.predicted_period(lab["lr"], lab["wd"], ratio)) if len(ev) and lab["wd"] > 0
            else float("nan"),
        })
    return pd.DataFrame(rows)


def phases(r: Run, cfg: Config, sp: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decay rates (:func:`~lrlab.probes.periodic.decay_phases`) and mechanism order
    (:func:`~lrlab.probes.periodic.mechanism`) of every complete period of every free-norm configuration."""
    sp = spikes(r, cfg) if sp is None else sp
    rates, order = [], []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if lab.get("fixed", False) or lab["wd"] == 0:
            continue
        ev = pr.events(sp[sp.config == c])
        s = r.series_of(c)
        rt = pr.decay_phases(s["step"], s["rho"], s["elr"], ev, lab["lr"], lab["wd"])
        mo = pr.mechanism(s["step"], s["rho"], s["elr"], s["eff_grad"], ev, detector(cfg))
        for t, out in ((rt, rates), (mo, order)):
            if len(t):
                t = t.assign(config=c, **{k: lab[k] for k in ("lr", "wd", "seed")})
                out.append(t)
    extra = ["config", "lr", "wd", "seed"]
    rate_cols = ["period", "start", "end", "rho_rate", "elr_rate", "wd_rate", "ratio", "elr_ratio", *extra]
    order_cols = ["period", "spike_before_jump", "reset", "converges", "decays", "ordered", *extra]
    return (pd.concat(rates, ignore_index=True) if rates else pd.DataFrame(columns=rate_cols),
            pd.concat(order, ignore_index=True) if order else pd.DataFrame(columns=order_cols))


def fits(table: pd.DataFrame) -> dict[int, pr.PowerLaw]:
    """Per seed, the power law of the mean period against ηλ over the scan configurations with a period."""
    out = {}
    for seed, g in table[table.scan].groupby("seed"):
        g = g[g.periods > 0]
        if g["eta_lambda"].nunique() >= 2:
            out[int(seed)] = pr.fit_loglog(g["eta_lambda"], g["mean_period"])
    return out


def recursion(r: Run) -> pd.DataFrame:
    """Per free-norm configuration: the largest one-step error of the norm recursion and the smallest pre-BN
    variance reached (compare with BN's ε)."""
    a = r.steps
    rows = []
    for c, lab in r.labels.reset_index(drop=True).iterrows():
        if lab.get("fixed", False):
            continue
        res = pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], lab["lr"],
                                   lab["wd"])
        rows.append({"config": c, **lab.to_dict(), "max_residual": float(np.nanmax(np.abs(res))),
                     "min_bn_var": float(np.nanmin(a["bn_var"][:, c])), "min_rho": float(a["rho_after"][:, c].min())})
    return pd.DataFrame(rows)


def recursion_trace(r: Run, c: int) -> pd.DataFrame:
    """Measured ρ of configuration ``c`` at every step next to the recursion driven by the measured gradient
    norms from ρ₀ (:func:`~lrlab.probes.periodic.predict_rho`) and weight decay alone from each block start."""
    a, lab = r.steps, r.labels.iloc[c]
    pred = pr.predict_rho(a["rho_before"][0, c], lab["lr"], lab["wd"], a["grad_norm"][:, c])
    return pd.DataFrame({"step": np.arange(len(pred)), "measured": np.r_[a["rho_before"][0, c], a["rho_after"][:, c]],
                         "recursion": pred})


def equilibrium(r: Run, c: int) -> dict[str, float]:
    """Median ELR of the third and last quarter of training, their ratio, and the median loss of the last half."""
    s = r.series_of(c)
    n = len(s)
    q3, q4 = s["elr"].iloc[n // 2: 3 * n // 4].median(), s["elr"].iloc[3 * n // 4:].median()
    return {"elr_q3": float(q3), "elr_q4": float(q4), "ratio": float(q4 / q3),
            "loss_late": float(s["loss"].iloc[n // 2:].median())}


@dataclass
class Analysis:
    """Tables derived from :class:`~lrlab.studies.periodic_bn_wd.experiments.Results` that the chapter and the
    scorecard use."""

    spikes: pd.DataFrame
    table: pd.DataFrame
    rates: pd.DataFrame
    order: pd.DataFrame
    fits: dict[int, pr.PowerLaw]
    recursion: pd.DataFrame
    gd_table: pd.DataFrame
    at_table: pd.DataFrame
    at_recursion: pd.DataFrame


def analyse(cfg: Config, res: Results) -> Analysis:
    """Every table of :class:`Analysis`, from the three runs of ``res``."""
    sp = spikes(res.sgd, cfg)
    table = period_table(res.sgd, cfg, sp)
    rates, order = phases(res.sgd, cfg, sp)
    return Analysis(sp, table, rates, order, fits(table), recursion(res.sgd), period_table(res.gd, cfg),
                    period_table(res.all_trained, cfg), recursion(res.all_trained))


def event_elrs(cfg: Config, an: Analysis) -> dict[str, dict[str, list[float]]]:
    """Per learning rate of the free-norm SGD runs at ``cfg.wd`` that destabilise, and per seed: the median ELR
    just before and just after its destabilisations (NaN for a seed without one). The book's synthesis
    (:mod:`lrlab.studies.synthesis`) sets these against the sphere chapter's regime boundaries."""
    t, sp = an.table, an.spikes
    free = t[~t.fixed & (t.wd == cfg.wd)]
    seeds = sorted(free.seed.unique())
    out: dict[str, dict[str, list[float]]] = {"elr_before": {}, "elr_after": {}}
    for lr, g in free.groupby("lr"):
        if not (g.events > 0).any():
            continue
        per_seed = [pr.events(sp[sp.config.isin(g[g.seed == s].config)]) for s in seeds]
        for key, by_lr in out.items():
            by_lr[f"{lr:g}"] = [float(np.median(ev[key])) if len(ev) else float("nan") for ev in per_seed]
    return out


def numbers(cfg: Config, res: Results, an: Analysis) -> dict[str, float | str]:
    """The numbers the chapter's prose quotes (glued as ``pb-<key>``), all measured, none typed in."""
    t, sp = an.table, an.spikes
    free = t[~t.fixed]
    mid = periodic_lrs(cfg)
    ev = pr.events(sp[sp.config.isin(free[free.lr.isin(mid) & (free.wd == cfg.wd)].config)])
    big = free[(free.lr == max(cfg.lrs)) & (free.wd == cfg.wd)]
    late = pd.concat([s.iloc[len(s) // 2:] for s in (res.sgd.series_of(int(c)) for c in big.config)])
    eq_pred = float(np.median(pr.equilibrium_elr(max(cfg.lrs), cfg.wd, late.eff_grad)))
    rc = an.recursion
    slopes = [an.fits[s].slope for s in sorted(an.fits)]
    gd_ev = pr.events(spikes(res.gd, cfg))
    return {
        "configs": int(len(res.sgd.labels)),
        "steps": int(res.sgd.series.step.max()),
        "wall": float(res.wall_s),
        "mid-lrs": ", ".join(f"{v:g}" for v in mid),
        "events-mid": "; ".join(
            ", ".join(str(int(v)) for v in free[(free.lr == lr) & (free.wd == cfg.wd)].events) + f" at η = {lr:g}"
            for lr in mid),
        "loss-spike": float(np.median(ev.loss_peak / ev.loss_base)) if len(ev) else float("nan"),
        "grad-spike": float(np.median(ev.grad_peak / ev.grad_base)) if len(ev) else float("nan"),
        "elr-before": float(np.median(ev.elr_before)) if len(ev) else float("nan"),
        "elr-after": float(np.median(ev.elr_after)) if len(ev) else float("nan"),
        "order-frac": float(an.order.ordered.mean()) if len(an.order) else float("nan"),
        "n-periods": int(len(an.order)),
        "rate-ratio": float(an.rates.ratio.median()) if len(an.rates) else float("nan"),
        "max-residual": float(rc.max_residual.max()),
        "min-bn-var": float(rc.min_bn_var.min()),
        "at-min-bn-var": float(an.at_recursion.min_bn_var.min()),
        "at-max-residual": float(an.at_recursion.max_residual.max()),
        "slopes": ", ".join(f"{v:.2f}" for v in slopes),
        "slope-mean": float(np.mean(slopes)) if slopes else float("nan"),
        "slope-sd": float(np.std(slopes, ddof=1)) if len(slopes) > 1 else float("nan"),
        "fixed-spikes": int(t[t.control].spikes.sum()),
        "gd-events": ", ".join(str(int(v)) for v in an.gd_table.events),
        "gd-elr-before": float(np.median(gd_ev.elr_before)) if len(gd_ev) else float("nan"),
        "at-events": ", ".join(str(int(v)) for v in an.at_table.events),
        "big-events": int(big.events.sum()),
        "eq-elr": float(late.elr.median()),
        "eq-elr-pred": eq_pred,
        "eq-loss": float(late.loss.median()),
    }
