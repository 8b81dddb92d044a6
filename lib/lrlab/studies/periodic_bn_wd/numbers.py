"""The numbers the chapter's prose quotes (glued as ``pb-<key>``): all measured or read from the presets, none
typed in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lrlab.config import Config
from lrlab.probes import periodic as pr

from .analysis import Analysis, equilibrium, interval, judged_fits, periodic_lrs, spikes
from .experiments import Results
from .presets import SPEC


def _median(v) -> float:
    v = np.asarray(v, dtype=float)
    return float(np.median(v)) if len(v) else float("nan")


def _paper() -> dict[str, float]:
    """The official code's example run (the preset ``paper``): ηλ, steps, and steps × ηλ."""
    p = SPEC.preset("paper")
    x = sorted(p["lrs"])[1] * p["wd"]
    steps = p["epochs"] * -(-p["n_train"] // p["batch_size"])
    return {"paper-etalambda": x, "paper-steps": steps, "paper-budget": steps * x}


def numbers(cfg: Config, res: Results, an: Analysis) -> dict[str, float | int | str]:
    """Every number of the chapter's prose, by its glue key."""
    t, sp = an.table, an.run_spikes("sgd")
    main = t[t.run == "sgd"]
    free = main[~main.fixed.astype(bool) & main.bn.astype(bool)]
    mid = periodic_lrs(cfg)
    mid_rows = free[free.lr.isin(mid) & (free.wd == cfg.wd) & free.panel.astype(bool)]
    ev = pr.events(sp[sp.config.isin(mid_rows.config)])
    lr_max = max(cfg.lrs)
    big = free[(free.lr == lr_max) & (free.wd == cfg.wd)]
    eq = [equilibrium(res.sgd, int(c), sp) for c in big.config]
    rc, ct, f, scan = an.recursion, an.controls, judged_fits(an.fits, cfg), an.scan
    si_rc, plain = rc[rc.bn.astype(bool)], rc[~rc.bn.astype(bool)]
    m, se, lo, hi = interval(f.slope, errors=f.se) if len(f) else (float("nan"),) * 4
    rm, _, rlo, rhi = interval(f.log_ratio) if len(f) else (float("nan"),) * 4
    lowest = scan[scan.eta_lambda == scan.eta_lambda.min()] if len(scan) else scan
    twin_ev = pr.events(sp[sp.config.isin(main[main.twin.astype(bool)].config)])
    gd_ev = pr.events(spikes(res.gd, cfg))
    now, nobn = ct[ct.control == "no_wd"], ct[ct.control == "no_bn"]
    destab = ct[ct.control == "fixed_destab"]
    xs = sorted(cfg.scan_etalambdas)
    main_steps = int(res.sgd.series.step.max())
    long_steps = int(res.long.series.step.max())
    paper = _paper()
    scan_ev = an.spikes[an.spikes.config.notna()].merge(
        an.table[an.table.scan.astype(bool)][["run", "config", "eta_lambda"]], on=["run", "config"])
    scan_ev = scan_ev[scan_ev.norm_jump.astype(bool)]
    x_max = max(cfg.lrs) * cfg.wd
    return {
        "configs": int(len(res.sgd.labels)),
        "configs-long": int(len(res.long.labels)),
        "steps": main_steps,
        "steps-long": long_steps,
        "wall": float(res.wall_s),
        "mid-lrs": ", ".join(f"{v:g}" for v in mid),
        "events-mid": "; ".join(
            ", ".join(str(int(v)) for v in mid_rows[mid_rows.lr == lr].events) + f" at η = {lr:g}" for lr in mid),
        "loss-spike": _median(ev.loss_peak / ev.loss_base),
        "grad-spike": _median(ev.grad_peak / ev.grad_base),
        "elr-before": _median(ev.elr_before),
        "elr-after": _median(ev.elr_after),
        "order-frac": float(an.order.ordered.mean()) if len(an.order) else float("nan"),
        "order-n": int(len(an.order)),
        "order-spike-first": float(an.order.spike_first.mean()) if len(an.order) else float("nan"),
        "order-converged": float(an.order.converged.mean()) if len(an.order) else float("nan"),
        "n-periods": int(len(an.rates)),
        "rate-ratio": _median(an.rates.ratio),
        "max-residual": float(si_rc.max_residual.max()),
        "min-bn-var": float(si_rc.min_bn_var.min()),
        "nobn-residual": float(plain.max_residual.min()) if len(plain) else float("nan"),
        "at-min-bn-var": float(an.at_recursion.min_bn_var.min()),
        "at-max-residual": float(an.at_recursion.max_residual.max()),
        "x-lo": xs[0], "x-hi": xs[-1], "x-span": xs[-1] / xs[0],
        "slope": m, "slope-se": se, "slope-lo": lo, "slope-hi": hi,
        "slopes": ", ".join(f"{v:.2f}" for v in f.slope) if len(f) else "",
        "lambda-slope": _median(f.lambda_slope) if len(f) else float("nan"),
        "eta-slope": _median(f.eta_slope) if len(f) else float("nan"),
        "pair-ratio": float(np.exp(rm)), "pair-lo": float(np.exp(rlo)), "pair-hi": float(np.exp(rhi)),
        "scan-seeds": int(len(f)),
        "lo-periods": f"{int(lowest.periods.min())}–{int(lowest.periods.max())}" if len(lowest) else "",
        "lo-period": _median(lowest.mean_period),
        "tx-lo": _median(lowest.mean_period * lowest.eta_lambda),
        "tx-hi": _median((s := scan[scan.eta_lambda == scan.eta_lambda.max()]).mean_period * s.eta_lambda)
        if len(scan) else float("nan"),
        "destab-spikes": int(destab.spikes.sum()),
        "twin-elr-start": _median(ct[ct.control == "twin"].elr_start),
        "twin-elr-lo": float(twin_ev.elr_before.min()) if len(twin_ev) else float("nan"),
        "twin-elr-hi": float(twin_ev.elr_before.max()) if len(twin_ev) else float("nan"),
        "twin-events": ", ".join(str(int(v)) for v in ct[ct.control == "twin"].events),
        "nowd-events": int(now.events.sum()),
        "nowd-fall": _median(now.elr_start / now.elr_end),
        "nobn-events": int(nobn.events.sum()),
        "nobn-loss": _median([res.sgd.steps["loss"][-len(res.sgd.steps["loss"]) // 10:, c].mean()
                              for c in nobn.config]),
        "gd-events": ", ".join(str(int(v)) for v in an.gd_table.events),
        "gd-elr-before": _median(gd_ev.elr_before),
        "at-events": ", ".join(str(int(v)) for v in an.at_table.events),
        "big-events": int(big.events.sum()),
        "eq-elr": _median([e["elr"] for e in eq]),
        "eq-elr-pred": _median([e["predicted"] for e in eq]),
        "eq-ratio": _median([e["ratio"] for e in eq]),
        "eq-loss": _median([e["loss_late"] for e in eq]),
        "destab-elr-lo": _median(scan_ev[np.isclose(scan_ev.eta_lambda, xs[0])].elr_before),
        "destab-elr-hi": _median(scan_ev[np.isclose(scan_ev.eta_lambda, xs[-1])].elr_before),
        "x-max": x_max,
        "paper-ratio-lo": xs[0] / paper["paper-etalambda"],
        "paper-ratio-hi": x_max / paper["paper-etalambda"],
        "budget-lo": long_steps * xs[0],
        "budget-hi": main_steps * xs[-1],
        **paper,
    }


def scan_summary(an: Analysis) -> pd.DataFrame:
    """The scan as the chapter shows it: mean period per (ηλ, series) over seeds, with the number of seeds used."""
    s = an.scan[an.scan.used]
    return s.groupby(["eta_lambda", "series", "lr", "wd"]).agg(
        seeds=("seed", "nunique"), periods=("periods", "median"), mean_period=("mean_period", "median")).round(1)
