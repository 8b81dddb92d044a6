"""The chapters' numbers side by side: tidy tables of the cross-links and every number the page quotes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lrlab import claims
from lrlab.studies.synthesis.load import LABELS, VERDICTS, Results, num

# ---- the scorecards side by side ---------------------------------------------------------------------------


def scorecards(res: Results) -> pd.DataFrame:
    """Every claim of every chapter: chapter, id, claim, verdict, and whether the chapter asserts it."""
    rows = [{"chapter": LABELS.get(c, c), "id": cl["id"], "claim": cl["claim"], "verdict": cl["verdict"],
             "asserted": bool(cl.get("expected", False))}
            for c, r in res.items() for cl in r.claims.values()]
    return pd.DataFrame(rows, columns=["chapter", "id", "claim", "verdict", "asserted"])


def verdict_summaries(res: Results) -> dict[str, str]:
    """One line per chapter, its claims grouped by verdict (``reproduced: C1, C2; partial: C7``), for prose that
    quotes a chapter's scorecard (the teaching page) without typing a verdict in."""
    out = {}
    for chapter, r in res.items():
        by: dict[str, list[str]] = {}
        for cid, c in r.claims.items():
            by.setdefault(str(c["verdict"]), []).append(cid)
        out[chapter] = "; ".join(f"{v} {', '.join(by[v])}" for v in claims.VERDICTS if v in by)
    return out


def verdict_counts(res: Results) -> pd.DataFrame:
    """Claims per chapter (rows, in the book's order) and verdict (columns)."""
    t = scorecards(res)
    out = pd.crosstab(t["chapter"], t["verdict"]).reindex(columns=list(VERDICTS), fill_value=0)
    return out.reindex([LABELS.get(c, c) for c in res]).fillna(0).astype(int)


def provenance_table(res: Results) -> pd.DataFrame:
    """Where each chapter's numbers come from: scale, commit, start time and run time of its execution, and how
    many of the claims it asserts are not reproduced (a chapter with any stops at its ``card.check()``, after
    writing ``claims.json`` but before ``provenance.json``, so its provenance is then the previous run's)."""
    def short(commit: str) -> str:
        return commit[:10] + ("+dirty" if commit.endswith("+dirty") else "")

    rows = [{"chapter": LABELS.get(c, c), "scale": r.scale, "commit": short(str(r.provenance.get("commit", "unknown"))),
             "started": str(r.provenance.get("started", "unknown")),
             "run time (s)": r.provenance.get("wall_s", math.nan),
             "asserted, failing": sum(1 for x in r.claims.values()
                                      if x.get("expected") and x["verdict"] != "reproduced")}
            for c, r in res.items()]
    return pd.DataFrame(rows).set_index("chapter")


# ---- one threshold: step × curvature ≈ 2 ------------------------------------------------------------------


def eos_edge(res: Results) -> pd.DataFrame:
    """The runs of ``eos_ntk`` C1 that reached the edge of stability: η, seed, the median of sharpness·η/2 over
    their EoS phase and the share of it within the chapter's band around 2/η (Cohen et al. 2021, §3)."""
    r = res["eos_ntk"]
    ratio, band = r.value("C1", "median_ratio"), r.value("C1", "in_band")
    rows = []
    for key, v in ratio.items():
        lr, seed = key.split("/s")
        rows.append({"lr": float(lr), "seed": int(seed), "ratio": num(v), "in_band": num(band.get(key, "nan"))})
    return pd.DataFrame(rows, columns=["lr", "seed", "ratio", "in_band"]).sort_values(["lr", "seed"],
                                                                                        ignore_index=True)


def catapult(res: Results) -> pd.DataFrame:
    """The catapult runs of ``eos_ntk`` C6 (2/η below the initial sharpness s₀): η, seed, s₀·η/2 at the start
    and the lowest sharpness·η/2 they are thrown to (Lewkowycz et al. 2020, §2)."""
    v = res["eos_ntk"].value("C6")
    keys = ("seed", "lr", "s0", "min_sharp_ratio")
    missing = [k for k in keys if k not in v]
    if missing:
        res["eos_ntk"].value("C6", missing[0])  # raises MissingResultsError naming the key
    return pd.DataFrame({"seed": [int(s) for s in v["seed"]], "lr": [num(x) for x in v["lr"]],
                         "start": [num(s) * num(lr) / 2 for s, lr in zip(v["s0"], v["lr"])],
                         "lowest": [num(x) for x in v["min_sharp_ratio"]]})


def toy_edges(res: Results) -> dict[str, float]:
    """The toy example of ``sphere_regimes`` (C7): the measured brackets of its convergence and escape edges,
    divided by the analytic thresholds 2/a and 8/a (1 = on the threshold)."""
    v = res["sphere_regimes"].value("C7")
    conv, esc = num(v["converge"]), num(v["escape"])
    return {"converge_low": num(v["converge_low"]) / conv, "converge_high": num(v["converge_high"]) / conv,
            "escape_low": num(v["escape_low"]) / esc, "escape_high": num(v["escape_high"]) / esc,
            "converge": conv, "escape": esc}


def boosting_runs(res: Results) -> pd.DataFrame:
    """Every Poisson boosting run of ``boosting_paths`` C8 on the grid ν = factor·ν*: factor, seed, ν*, status,
    final loss gap and β range over the last iterations, and its outcome (Schulte & Rügamer 2025, §3.5).

    The outcome uses the chapter's own criterion: ``converges`` when the run ends ok with a gap below 1e-6,
    ``diverges`` when it overflowed or ends with a gap above 1, ``oscillates`` when β still moves by more than 1e-2.
    """
    r = res["boosting_paths"]
    by_factor = r.value("C8", "by_factor")
    nu_star = [num(x) for x in r.value("C8", "nu_star")]
    rows = []
    for f, runs in by_factor.items():
        for i, (status, gap, rng) in enumerate(zip(runs["status"], runs["final_gap"], runs["beta_range"])):
            gap, rng = num(gap), num(rng)
            if status == "ok" and gap < 1e-6 and rng <= 1e-2:
                outcome = "converges"
            elif status == "diverged" or gap > 1:
                outcome = "diverges"
            elif rng > 1e-2:
                outcome = "oscillates"
            else:
                outcome = "converges slowly"
            rows.append({"factor": float(f), "seed": i, "nu_star": nu_star[i] if i < len(nu_star) else math.nan,
                         "status": status, "final_gap": gap, "beta_range": rng, "outcome": outcome})
    return pd.DataFrame(rows).sort_values(["factor", "seed"], ignore_index=True)


def paper_grid(res: Results) -> pd.DataFrame:
    """The runs of ``boosting_paths`` C8 on the paper's own grid of steps (Schulte & Rügamer 2025, Figs. 5 and 12):
    ν, seed, ν/ν* and whether the run converged by the chapter's criterion."""
    rows = [{"nu": float(nu), "seed": i, "ratio": num(ratio), "converged": bool(ok)}
            for nu, runs in res["boosting_paths"].value("C8", "paper_grid").items()
            for i, (ok, ratio) in enumerate(zip(runs["converged"], runs["ratio"]))]
    return pd.DataFrame(rows, columns=["nu", "seed", "ratio", "converged"])


def stability(res: Results) -> pd.DataFrame:
    """Runs of three chapters placed on one axis, the step divided by its critical value (1 = the threshold
    step × curvature = 2): ``study``, ``label``, ``ratio``, ``outcome``, ``kind`` (``point`` or a ``bracket``
    with ``low``/``high``).

    - ``eos_ntk``: median sharpness·η/2 of every run at the edge (C1), and the catapult runs from s₀·η/2 to
      their lowest sharpness·η/2 (C6);
    - ``sphere_regimes``: the toy's measured convergence and escape edges over 2/a and 8/a (C7);
    - ``boosting_paths``: ν/ν* of every Poisson run with its outcome (C8).
    """
    rows: list[dict[str, Any]] = []
    for e in eos_edge(res).itertuples():
        rows.append({"study": "eos_ntk", "label": "edge", "ratio": e.ratio, "outcome": "at the edge",
                     "kind": "point", "low": math.nan, "high": math.nan})
    for c in catapult(res).itertuples():
        rows.append({"study": "eos_ntk", "label": "catapult", "ratio": c.start, "outcome": "converges",
                     "kind": "arrow", "low": c.lowest, "high": c.start})
    t = toy_edges(res)
    for edge in ("converge", "escape"):
        lo, hi = t[f"{edge}_low"], t[f"{edge}_high"]
        rows.append({"study": "sphere_regimes", "label": edge, "ratio": math.sqrt(lo * hi), "outcome": "at the edge",
                     "kind": "bracket", "low": lo, "high": hi})
    for b in boosting_runs(res).itertuples():
        rows.append({"study": "boosting_paths", "label": "poisson", "ratio": b.factor, "outcome": b.outcome,
                     "kind": "point", "low": math.nan, "high": math.nan})
    return pd.DataFrame(rows, columns=["study", "label", "ratio", "outcome", "kind", "low", "high"])


# ---- the ELR of SGD + weight decay on the sphere's regime map ------------------------------------------------


def sphere_regime_map(res: Results) -> pd.DataFrame:
    """The regime of every (seed, ELR) of the sphere chapter's map (``sphere_regimes`` C1)."""
    rows = [{"seed": int(s), "elr": float(e), "regime": reg}
            for s, by_elr in res["sphere_regimes"].value("C1", "regime").items() for e, reg in by_elr.items()]
    return pd.DataFrame(rows, columns=["seed", "elr", "regime"]).sort_values(["seed", "elr"], ignore_index=True)


def sphere_bands(res: Results) -> dict[str, float]:
    """The ELR bands of the sphere chapter's three regimes, common to all seeds (Kodryan et al. 2022, Fig. 1).

    ``conv_max``: every seed converges up to here; ``equ_min``–``equ_max``: every seed is in equilibrium there;
    ``div_min``: every seed diverges from here. The convergence/equilibrium boundary lies in
    [``conv_max``, ``equ_min``] and the equilibrium/divergence boundary in [``equ_max``, ``div_min``], to within the
    ELR grid.
    """
    m = sphere_regime_map(res)

    def per_seed(regime: str, how: str) -> pd.Series:
        return m[m.regime == regime].groupby("seed").elr.agg(how).reindex(sorted(m.seed.unique()))

    return {"conv_max": float(per_seed("convergence", "max").min()),
            "equ_min": float(per_seed("equilibrium", "min").max()),
            "equ_max": float(per_seed("equilibrium", "max").min()),
            "div_min": float(per_seed("divergence", "min").max())}


def regime_of(elr: float, bands: dict[str, float]) -> str:
    """Where ``elr`` falls on the sphere's map (:func:`sphere_bands`): a regime, or the boundary between two."""
    if not math.isfinite(elr):
        return "unknown"
    if elr <= bands["conv_max"]:
        return "convergence"
    if elr < bands["equ_min"]:
        return "convergence–equilibrium boundary"
    if elr <= bands["equ_max"]:
        return "equilibrium"
    if elr < bands["div_min"]:
        return "equilibrium–divergence boundary"
    return "divergence"


def elr_ruler(res: Results) -> pd.DataFrame:
    """The ELRs at which conventional SGD + weight decay destabilises or settles, one row per (run, kind), with
    where each falls on the sphere's regime map (:func:`regime_of`).

    ``kind`` is ``spike`` (``sphere_regimes`` C5: median ELR just before a loss spike, or the settled ELR of a run
    without spikes), ``before``/``after`` (``periodic_bn_wd`` C1: median ELR just before and after a
    destabilisation, per learning rate that destabilises), ``settled`` (``periodic_bn_wd`` C6: the last quarter's
    median ELR at the largest η) and ``fixed`` (``periodic_bn_wd`` C4: the ELR η/ρ₀² of the fixed-norm control).
    """
    bands = sphere_bands(res)
    rows: list[dict[str, Any]] = []
    sr, pb = res["sphere_regimes"], res["periodic_bn_wd"]
    for wd, runs in sr.value("C5", "by_wd").items():
        for seed, n, elr in zip(runs["seed"], runs["spikes"], runs["elr"]):
            rows.append({"chapter": "sphere_regimes", "kind": "spike" if int(n) else "settled", "lr": math.nan,
                         "wd": float(wd), "seed": int(seed), "elr": num(elr)})
    wd_pb = num(pb.parameters.get("wd", math.nan))
    for kind in ("before", "after"):
        for lr, per_seed in pb.value("C1", f"elr_{kind}").items():
            for i, elr in enumerate(per_seed):
                rows.append({"chapter": "periodic_bn_wd", "kind": kind, "lr": float(lr), "wd": wd_pb, "seed": i,
                             "elr": num(elr)})
    lrs = pb.parameters.get("lrs")
    for seed, v in pb.value("C6").items():
        if isinstance(v, dict) and "elr_q4" in v:
            rows.append({"chapter": "periodic_bn_wd", "kind": "settled",
                         "lr": float(max(lrs)) if lrs else math.nan, "wd": wd_pb, "seed": int(seed),
                         "elr": num(v["elr_q4"])})
    for i, elr in enumerate(pb.value("C4", "fixed_elr")):
        rows.append({"chapter": "periodic_bn_wd", "kind": "fixed", "lr": num(pb.parameters.get("control_lr", "nan")),
                     "wd": wd_pb, "seed": i, "elr": num(elr)})
    out = pd.DataFrame(rows, columns=["chapter", "kind", "lr", "wd", "seed", "elr"])
    out["regime"] = [regime_of(e, bands) for e in out.elr]
    return out.dropna(subset=["elr"]).reset_index(drop=True)


# ---- what a larger step does besides -------------------------------------------------------------------------


def _curve(study: str, quantity: str, by_step: dict[Any, Any]) -> pd.DataFrame:
    pts = sorted((float(k), num(v)) for k, v in by_step.items())
    step, value = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    return pd.DataFrame({"study": study, "quantity": quantity, "step": step, "value": value,
                         "step_ratio": step / step[0], "value_ratio": value / value[0]})


def step_effects(res: Results) -> pd.DataFrame:
    """Measures against the step, each divided by its value at the grid's smallest step: ``study``,
    ``quantity``, ``step``, ``value``, ``step_ratio``, ``value_ratio``.

    ``fluctuations`` C3 (mean fluctuation of a bias around its own path) and C1 (held-out MSE, SGD); ``eos_ntk`` C2
    (final KTA) and C3 (A₁₀); ``sphere_regimes`` C3 (stationary train loss in the equilibrium regime, mean over seeds,
    against the ELR).
    """
    fl, eos, sr = res["fluctuations"], res["eos_ntk"], res["sphere_regimes"]
    eq = pd.DataFrame([(float(e), num(v)) for per in sr.value("C3", "loss").values() for e, v in per.items()],
                      columns=["elr", "loss"]).groupby("elr").loss.mean()
    parts = [
        _curve("fluctuations", "bias fluctuation", fl.value("C3", "fluct_bias")),
        _curve("fluctuations", "held-out MSE", fl.value("C1", "test_mse")),
        _curve("eos_ntk", "final KTA", eos.value("C2", "kta_final_mean")),
        _curve("eos_ntk", "A_10", eos.value("C3", "A_final_mean")),
        _curve("sphere_regimes", "equilibrium loss", eq.to_dict()),
    ]
    return pd.concat(parts, ignore_index=True)


# ---- the numbers of the page ---------------------------------------------------------------------------------


def _g(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}g}"


def _span(values: Sequence[float], digits: int = 2) -> str:
    v = [x for x in values if math.isfinite(x)]
    if not v:
        return "none"
    lo, hi = min(v), max(v)
    return _g(lo, digits) if _g(lo, digits) == _g(hi, digits) else f"{_g(lo, digits)}–{_g(hi, digits)}"


def numbers(res: Results) -> dict[str, float | int | str]:
    """Every number the synthesis quotes in its prose, as plain Python values (``myst_nb.glue`` needs them)."""
    out: dict[str, float | int | str] = {}
    t = scorecards(res)
    out["n-chapters"] = len(res)
    out["n-claims"] = len(t)
    for v in VERDICTS:
        out[f"n-{v.replace(' ', '-')}"] = int((t.verdict == v).sum())
    out["n-asserted"] = int(t.asserted.sum())
    out["n-asserted-failing"] = int((t.asserted & (t.verdict != "reproduced")).sum())
    scales = sorted({r.scale for r in res.values()})
    out["scales"] = ", ".join(scales)
    out["all-book"] = "yes" if scales == ["book"] else "no"
    for chapter, r in res.items():  # every verdict, as v-<chapter>-<id> (C1' → C1p)
        for cid, c in r.claims.items():
            out[f"v-{chapter}-{cid}".replace("_", "-").replace("'", "p")] = str(c["verdict"])

    # sharpness against 2/η
    e = eos_edge(res)
    out["eos-n-edge"] = len(e)
    out["eos-ratio-median"] = float(e.ratio.median())
    out["eos-ratio-span"] = _span(e.ratio.tolist(), 3)
    out["eos-ratio-maxdev"] = float((e.ratio - 1).abs().max())
    out["eos-inband-span"] = _span(e.in_band.tolist())
    out["eos-c1"] = res["eos_ntk"].claim("C1")["verdict"]
    out["eos-c1-criterion"] = str(res["eos_ntk"].claim("C1")["criterion"])
    cp = catapult(res)
    out["cat-lr"] = _span(cp.lr.tolist(), 3)
    out["cat-start"] = _span(cp.start.tolist())
    out["cat-lowest"] = _span(cp.lowest.tolist())
    out["cat-c6"] = res["eos_ntk"].claim("C6")["verdict"]
    toy = toy_edges(res)
    out["toy-converge"] = float(toy["converge"])
    out["toy-escape"] = float(toy["escape"])
    out["toy-converge-span"] = f"{toy['converge_low']:.2f}–{toy['converge_high']:.2f}"
    out["toy-escape-span"] = f"{toy['escape_low']:.2f}–{toy['escape_high']:.2f}"
    out["toy-c7"] = res["sphere_regimes"].claim("C7")["verdict"]

    # the boosting step against ν*
    b = boosting_runs(res)
    below, above = b[b.factor < 1], b[b.factor > 1]
    out["nu-star-span"] = _span(b.groupby("seed").nu_star.first().tolist(), 2)
    out["nu-factors-below"] = ", ".join(f"{f:g}" for f in sorted(below.factor.unique()))
    out["nu-factors-above"] = ", ".join(f"{f:g}" for f in sorted(above.factor.unique()))
    out["nu-below-n"] = len(below)
    out["nu-below-converged"] = int((below.outcome == "converges").sum())
    out["nu-below-max-gap"] = f"{below.final_gap.max():.1e}" if len(below) else "none"
    out["nu-above-n"] = len(above)
    out["nu-above-diverged"] = int((above.outcome == "diverges").sum())
    out["nu-above-oscillating"] = int((above.outcome == "oscillates").sum())
    out["nu-above-converged"] = int(above.outcome.isin(["converges", "converges slowly"]).sum())
    out["bp-c8"] = res["boosting_paths"].claim("C8")["verdict"]
    out["nu-n-draws"] = int(b.seed.nunique())
    grid = paper_grid(res)
    conv, other = grid[grid.converged], grid[~grid.converged]
    out["nu-paper-span"] = _span(grid.nu.tolist(), 3) if len(grid) else "unknown"
    out["nu-paper-n"] = len(grid)
    out["nu-paper-converged"] = len(conv)
    out["nu-paper-conv-max-ratio"] = float(conv.ratio.max()) if len(conv) else math.nan
    out["nu-paper-other-min-ratio"] = float(other.ratio.min()) if len(other) else math.nan
    out["nu-paper-max-ratio"] = float(grid.ratio.max()) if len(grid) else math.nan

    # the ELR of SGD + weight decay on the sphere's map
    bands = sphere_bands(res)
    for k, v in bands.items():
        out[f"sr-{k.replace('_', '-')}"] = v
    ruler = elr_ruler(res)

    def pick(chapter: str, kind: str) -> pd.DataFrame:
        return ruler[(ruler.chapter == chapter) & (ruler.kind == kind)]

    sp = ruler[ruler.chapter == "sphere_regimes"]
    out["sr-wd-elr"] = "; ".join(f"{_span(g.elr.tolist())} at λ = {wd:g}" for wd, g in sp.groupby("wd"))
    out["sr-wd-where"] = _where(sp.regime)
    out["sr-c5"] = res["sphere_regimes"].claim("C5")["verdict"]
    before, after = pick("periodic_bn_wd", "before"), pick("periodic_bn_wd", "after")
    out["pb-lrs"] = ", ".join(f"{v:g}" for v in sorted(before.lr.unique()))
    out["pb-before-median"] = float(before.elr.median()) if len(before) else math.nan
    out["pb-before-span"] = _span(before.elr.tolist())
    out["pb-before-where"] = _where(before.regime)
    out["pb-before-over-equ-min"] = out["pb-before-median"] / bands["equ_min"]
    out["pb-after-median"] = float(after.elr.median()) if len(after) else math.nan
    out["pb-after-span"] = _span(after.elr.tolist())
    out["pb-after-where"] = _where(after.regime)
    settled, fixed = pick("periodic_bn_wd", "settled"), pick("periodic_bn_wd", "fixed")
    out["pb-settled-lr"] = _span(settled.lr.tolist(), 3)
    out["pb-settled-span"] = _span(settled.elr.tolist())
    out["pb-settled-where"] = _where(settled.regime)
    out["pb-fixed-span"] = _span(fixed.elr.tolist())
    out["pb-fixed-where"] = _where(fixed.regime)
    out["pb-wd"] = num(res["periodic_bn_wd"].parameters.get("wd", "nan"))
    events = ruler[ruler.kind.isin(["spike", "before"])]
    between = int(((events.elr >= bands["conv_max"]) & (events.elr <= bands["div_min"])).sum())
    out["wd-total"] = len(events)
    out["wd-between"] = f"all {between}" if between == len(events) else f"{between} of {len(events)}"
    spikes = ruler[ruler.kind == "spike"]
    by_wd = spikes.groupby("wd").elr.median().sort_index().to_numpy()
    out["sr-wd-trend"] = ("grows" if len(by_wd) > 1 and (np.diff(by_wd) > 0).all() else
                          "falls" if len(by_wd) > 1 and (np.diff(by_wd) < 0).all() else "does not move monotonically")
    out["pb-over-sr"] = float(before.elr.median() / spikes.elr.median()) if len(spikes) and len(before) \
        else math.nan
    for chapter, key in (("sphere_regimes", "sr"), ("periodic_bn_wd", "pb")):
        p = res[chapter].parameters
        out[f"{key}-n-train"] = int(p["n_train"]) if "n_train" in p else -1
        out[f"{key}-setup"] = (f"{p.get('model', '?')} of width {p.get('width', '?')} on {p.get('dataset', '?')}, "
                               f"pooled by {p.get('pool', '?')}")
    out["same-setup"] = "the same" if out["sr-setup"] == out["pb-setup"] else "a different"

    # what a larger step does besides
    part = {float(k): num(v) for k, v in res["fluctuations"].value("C2", "participating").items()}
    out["fl-part-hi"] = part[max(part)]
    out["fl-part-lo"] = part[min(part)]
    fx = step_effects(res)
    for (study, quantity), g in fx.groupby(["study", "quantity"], sort=False):
        key = f"fx-{study}-{quantity}".replace(" ", "-").replace("_", "-").lower()
        out[key] = float(g.value_ratio.iloc[-1])
        out[f"{key}-steps"] = float(g.step_ratio.iloc[-1])
    return out


def _where(regimes: pd.Series) -> str:
    """``'all 6 in the equilibrium band'``-style summary of where a set of ELRs falls on the sphere's map."""
    counts = regimes.value_counts()

    def place(regime: str) -> str:
        return f"at the {regime}" if regime.endswith("boundary") else f"in the {regime} band"

    if counts.empty:
        return "nowhere (no such runs)"
    if len(counts) == 1:
        n = int(counts.iloc[0])
        return f"all {n} {place(counts.index[0])}" if n > 1 else place(counts.index[0])
    return ", ".join(f"{int(n)} {place(r)}" for r, n in counts.items())

