"""The chapter's claims C1–C10, each judged against a criterion fixed before the runs that judge it.

The abstract of Lobacheva et al. (2021) is the only text of the paper this book has read: C1, C9 and C10 rest on
it; the other claims are consequences of the norm recursion the chapter derives (its source class says so). The
thresholds are the constants below; where one was changed after a run, the ledger
(:mod:`lrlab.studies.periodic_bn_wd.ledger`) says when, why and on which numbers.
"""

from __future__ import annotations

import numpy as np

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, at_least, at_most, verdict_from_seeds
from lrlab.config import Config
from lrlab.probes import periodic as pr

from .analysis import MIN_PERIODS, Analysis, analyse, equilibrium, event_elrs, interval, judged_fits, periodic_lrs
from .experiments import Results
from .ledger import LEDGER

SLOPE_HALF_WIDTH = 0.25
"""C3: the 95 % interval of the slope over seeds must be at most ±0.25 wide, narrow enough to tell −1 from the
≈ −0.5 of a scan in which the period followed λ alone in one series and did not move in the other."""
RATIO_LIMIT = float(np.log(1.5))
"""C3: the 95 % interval of ln(period of the η-series / period of the λ-series) at equal ηλ must lie within ±ln 1.5;
the two members of a pair differ in η several-fold (×5 and ×10 at scale book), so a period that followed η or λ
alone would miss by as much."""
ORDER_MIN = 0.8
"""C2: at least this fraction of the destabilisations shows the phases in order (0.8 leaves room for a
destabilisation that follows the previous one too closely for its window to hold a converged phase)."""
RATE_RANGE = (0.8, 1.05)
"""C7: late in a period ρ decays at this fraction of the weight-decay rate −ln(1 − ηλ); above 1 is impossible for an
exact SI model beyond noise (the gradient only pushes ρ outwards), 0.8 allows for a gradient term not yet gone."""
RESIDUAL_MAX = 1e-4
"""C8: the largest relative one-step error of the norm recursion over every step of every free-norm run; float32
rounding gives ~1e-7, a weight that BN's ε no longer makes scale-invariant gives ⟨∇L, w⟩ ≠ 0 and more."""
EQUILIBRIUM_TOL = 1.25
"""C6: the measured ELR must lie within ×1.25 of the fixed point of the recursion for the measured effective
gradients; ρ² fluctuates by about ±10 % around an equilibrium, and the fixed point is the stationarity condition
of ρ², so the two agree to that noise unless weight decay or the gradient term acts otherwise than assumed."""
STATIONARY = 1.5
"""C6: the median ELR of the last quarter of training within this factor of the third quarter's."""
ELR_FALL = 1.1
"""C10: without weight decay the ELR ends at least 10 % below its initial value η/ρ₀² (ρ can only grow; a norm that
does not move would leave the ELR where it started)."""

_SRC = "Lobacheva et al. 2021"
_CITE = "lobacheva2021periodic"
_ABS = "“the training process regularly exhibits destabilizations that, however, do not lead to complete divergence " \
       "but cause a new period of training” (abstract)"
_DERIVED = "derived in this chapter"

CLAIMS = ClaimTable("periodic_bn_wd", (
    ClaimSpec(
        "C1", "Training with BN and weight decay destabilises repeatedly without diverging.",
        paper=_ABS,
        criterion="every seed: at each panel η expected to be periodic ({mid}; all but the largest, and with three "
        "or more panels also all but the smallest) ≥ 3 destabilisations (≥ 2 complete periods), no run diverged",
        source=f"{_SRC}, abstract", cite=_CITE, kind="abstract"),
    ClaimSpec(
        "C2", "Inside each period: convergence, exponential norm decay, spike of loss and effective gradient, "
        "norm jump, ELR reset.",
        paper="the abstract says the mechanism was investigated “from both empirical and theoretical points of "
        "view”; the order is the one the norm recursion implies",
        criterion=f"every seed: ≥ {ORDER_MIN:.0%} of the destabilisations after the first, in the free-norm runs, "
        "show in one window around the event (half the gap to the nearer neighbouring event on either side, the "
        "same for every quantity) the loss and effective-gradient spikes beginning no later than half the norm "
        "jump, ρ falling into the event, and the effective gradient of the window's first quarter ≥ 10× below its "
        "peak",
        source=f"{_SRC}, abstract; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C3", "The period scales like 1/(ηλ): it depends on η and λ only through their product.",
        paper="not in the abstract; weight decay alone raises the ELR by (1 − ηλ)⁻² per step, so a period spans "
        "ln r / (2ηλ) steps (eq. pb-period)",
        criterion=f"scan (λ varied at η = {{scan_lr:g}}, η varied at λ = {{scan_wd:g}}, ηλ from {{x_lo:g}} to "
        f"{{x_hi:g}}; configurations with ≥ {MIN_PERIODS} complete periods): the 95 % t-interval over seeds of the "
        "log–log slope of the mean period against ηλ (its standard error at least that of the seeds' own fits) "
        f"contains −1 and is at most ±{SLOPE_HALF_WIDTH} wide, and the "
        "95 % interval of the mean ln ratio of the periods of equal-ηλ pairs contains 0 and lies within ±ln 1.5",
        source=f"{_SRC}; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C4", "With the norm fixed the periods vanish, even at the ELR where the free runs destabilise.",
        paper="nothing but the norm resets the ELR (norm recursion); the official code trains with the norm fixed "
        "(option fix_si_pnorm)",
        criterion="every seed: the run at η = {control_lr:g} with its norm held where the ELR is {control_elr:g} "
        "shows < 2 loss-and-gradient spikes (no complete period), while its free-norm twin has ≥ 3 "
        "destabilisations; and {control_elr:g} lies within the range of the twin's destabilisation ELRs",
        source=f"{_SRC}; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C5", "Periodic behaviour persists with full-batch gradient descent.",
        paper="the norm recursion needs no mini-batch noise; the official code trains with full-batch GD "
        "(option fbgd)",
        criterion="every seed: ≥ 2 destabilisations in the full-batch GD run",
        source=f"{_SRC}; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C6", "A large learning rate settles into the equilibrium of the norm recursion, without periods.",
        paper="the abstract calls periodic behaviour a generalisation of the “equilibrium presumption”; the fixed "
        "point of the recursion is √(2ηλ − η²λ²)/‖g̃‖ (eq. pb-equilibrium)",
        criterion=f"every seed, at the largest panel η = {{lr_max:g}}, over the second half of the steps: the median "
        f"ELR within ×{EQUILIBRIUM_TOL} of the fixed point √(2ηλ − η²λ²)/RMS‖g̃‖ of the measured effective "
        f"gradients, the ELR drifting less than ×{STATIONARY} from the third to the last quarter, no destabilisation",
        source=f"{_SRC}, abstract; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C7", "Between events ρ decays exponentially at the weight-decay rate of the recursion.",
        paper="with g̃ ≈ 0 the recursion leaves ρ shrinking by (1 − ηλ) per step (eq. pb-norm)",
        criterion="every seed: median over periods of (fitted decay rate of ρ in the late half of the period) / "
        f"−ln(1 − ηλ) in [{RATE_RANGE[0]}, {RATE_RANGE[1]}]",
        source=f"{_SRC}; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C8", "Scale invariance holds in these runs: BN's ε is never reached and the norm recursion is exact.",
        paper="the mechanism needs exact scale invariance (⟨∇L, w⟩ = 0); BN's ε breaks it when pre-BN variances "
        "shrink towards it",
        criterion=f"every seed: the norm recursion holds at every step of every free-norm scale-invariant run to "
        f"{RESIDUAL_MAX:g} (relative), which needs the smallest pre-BN variance ≫ ε = {{bn_eps:g}}",
        source=f"{_SRC}; norm recursion", cite=_CITE, kind=_DERIVED),
    ClaimSpec(
        "C9", "The all-parameters-trained variant (BN affine, trainable head, all decayed) is periodic too.",
        paper="“we … analyze the conditions in which it occurs in practice” (abstract); the official code has "
        "this variant (ConvNetSIAf)",
        criterion="every seed: ≥ 2 destabilisations of the SI weights' norm",
        source=f"{_SRC}, abstract", cite=_CITE, kind="abstract",
        note="the least robust of the asserted claims at this budget: on seed sets never used for it, some seeds "
        "destabilise fewer than twice"),
    ClaimSpec(
        "C10", "Periodic behaviour needs both BN and weight decay.",
        paper="“their combined use may result in a surprising periodic behavior of optimization dynamics” (abstract)",
        criterion="every seed, at η = {control_lr:g}: without weight decay < 2 destabilisations (no complete "
        "period), ρ never falls and the ELR ends ≥ 10 % below its initial value η/ρ₀²; without BN (λ = {wd:g}) "
        "< 2 destabilisations",
        source=f"{_SRC}, abstract", cite=_CITE, kind="abstract"),
), ledger=LEDGER)


def _verdict(holds: list[bool]) -> str:
    """Verdict of a per-seed criterion; no run to judge counts as not reproduced."""
    return verdict_from_seeds(holds) if holds else "not reproduced"


def _free(t):
    return t[~t.fixed.astype(bool) & t.bn.astype(bool)]


def c1(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C1: at each panel η expected to be periodic (:func:`lrlab.studies.periodic_bn_wd.analysis.periodic_lrs`),
    every seed destabilises at least three times and no run diverges."""
    free = _free(an.table[an.table.run == "sgd"])
    mid = periodic_lrs(cfg)
    pan = free[free.panel.astype(bool) & free.lr.isin(mid) & (free.wd == cfg.wd)]
    seeds = sorted(free[free.panel.astype(bool)].seed.unique())
    holds = [bool(len(g := pan[pan.seed == s]) and (g.events >= 3).all()) for s in seeds]
    bad = [n for r in res.runs.values() for n, st, b in zip(r.labels.index, r.status, r.labels.bn) if b
           and st == "diverged"]
    card.record(
        "C1",
        value={"events": {f"{lr:g}": pan[pan.lr == lr].events.tolist() for lr in mid}, **event_elrs(cfg, an)},
        measured="destabilisations per seed: " + "; ".join(
            f"η={lr:g}: {pan[pan.lr == lr].events.tolist()}" for lr in mid) + f"; diverged runs: {len(bad)}",
        verdict=_verdict([a and not bad for a in holds]), mid=", ".join(f"{v:g}" for v in mid),
    )


def c2(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C2: per seed, the fraction of destabilisations (after the first of each run) with the phases in order."""
    o = an.order
    seeds = sorted(_free(an.table).seed.unique())
    frac = {int(s): float(o[o.seed == s].ordered.mean()) if len(o) and (o.seed == s).any() else float("nan")
            for s in seeds}
    counts = {int(s): int((o.seed == s).sum()) if len(o) else 0 for s in seeds}
    card.record(
        "C2", value={"fraction": frac, "events": counts},
        measured="fraction of events in order per seed: " + ", ".join(
            f"{v:.2f} of {counts[s]}" for s, v in frac.items()),
        verdict=_verdict([bool(np.isfinite(v) and at_least(v, ORDER_MIN)) for v in frac.values()]),
    )


def c3(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C3: the slope of the period against ηλ and the equal-ηλ ratio, each with its interval over seeds."""
    f = an.fits
    xs = sorted(cfg.scan_etalambdas)
    fields = {"x_lo": xs[0], "x_hi": xs[-1]}
    judged = judged_fits(f, cfg)
    m, se, lo, hi = interval(judged.slope, errors=judged.se) if len(judged) else interval([])
    rm, rse, rlo, rhi = interval(judged.log_ratio if len(judged) else [])
    value = {"slope": m, "se": se, "ci": [lo, hi], "log_ratio": rm, "ratio_ci": [rlo, rhi],
             "per_seed": f.to_dict("list"), "seeds_judged": len(judged)}
    if len(judged) < 3 or not np.isfinite(hi):
        card.record("C3", value=value, verdict="not judged", measured=f"{len(judged)} seed(s) with ≥ 3 scan "
                    f"configurations of ≥ {MIN_PERIODS} periods across the whole ηλ range: an interval over seeds "
                    "needs three", **fields)
        return
    slope_ok = at_most(lo, -1.0) and at_least(hi, -1.0) and at_most((hi - lo) / 2, SLOPE_HALF_WIDTH)
    # pairs whose members do not both complete periods in two seeds or more fail the ratio
    ratio_ok = bool(np.isfinite(rhi)) and at_most(rlo, 0.0) and at_least(rhi, 0.0) and \
        at_least(rlo, -RATIO_LIMIT) and at_most(rhi, RATIO_LIMIT)
    verdict = "reproduced" if slope_ok and ratio_ok else "partial" if slope_ok or ratio_ok else "not reproduced"
    ratio = (f"period ratio of equal-ηλ pairs {np.exp(rm):.2f} (interval [{np.exp(rlo):.2f}, {np.exp(rhi):.2f}])"
             if np.isfinite(rhi) else f"equal-ηλ pairs with both members periodic in {int((judged.pairs > 0).sum())} "
             "seed(s): no interval")
    card.record(
        "C3", value=value, verdict=verdict,
        measured=f"slope {m:.2f} ± {se:.2f} (95 % interval [{lo:.2f}, {hi:.2f}], {len(judged)} seeds; per seed "
        + ", ".join(f"{v:.2f}" for v in judged.slope) + f"); {ratio}", **fields)


def c4(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C4: no complete period in the fixed-norm run while its free twin destabilises, per seed."""
    ct = an.controls
    fixed, twin = ct[ct.control == "fixed_destab"], ct[ct.control == "twin"]
    t, sp = an.table, an.run_spikes("sgd")
    ev = pr.events(sp[sp.config.isin(t[(t.run == "sgd") & t.twin.astype(bool)].config)])
    rng = (float(ev.elr_before.min()), float(ev.elr_before.max())) if len(ev) else (float("nan"),) * 2
    inside = bool(len(ev) and at_least(cfg.control_elr, rng[0]) and at_most(cfg.control_elr, rng[1]))
    holds = []
    for s in sorted(fixed.seed.unique()):
        a, b = fixed[fixed.seed == s], twin[twin.seed == s]
        holds.append(bool(len(a) and (a.spikes < 2).all() and len(b) and (b.events >= 3).all()))
    value = {"fixed_spikes": fixed.spikes.tolist(), "free_events": twin[twin.seed.isin(fixed.seed)].events.tolist(),
             "fixed_elr": fixed.elr_start.tolist(), "twin_elr_range": list(rng)}
    measured = (f"spikes at fixed norm (ELR {cfg.control_elr:g}): {value['fixed_spikes']}; free twin's "
                f"destabilisations {value['free_events']}; its destabilisation ELRs {rng[0]:.3f}–{rng[1]:.3f}")
    if len(ev) and not inside:  # a twin without destabilisations fails the claim below instead
        card.record("C4", value=value, verdict="not judged", measured=measured + f": {cfg.control_elr:g} is "
                    "outside them, so the fixed-norm run does not test the destabilisation ELR")
        return
    card.record("C4", value=value, measured=measured, verdict=_verdict(holds))


def c5(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C5: at least two destabilisations per seed in the full-batch GD run."""
    gd = an.gd_table
    card.record(
        "C5", value=gd.events.tolist(),
        measured=f"destabilisations per seed: {gd.events.tolist()}; mean period "
        + ", ".join(f"{v:.0f}" for v in gd.mean_period) + " steps",
        verdict=_verdict([bool(r.events >= 2) for r in gd.itertuples()]),
    )


def c6(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C6: at the largest panel η, the ELR at the fixed point of the recursion, stationary, no event, per seed."""
    t = an.table
    lr_max = sorted(cfg.lrs)[-1]
    big = t[(t.run == "sgd") & ~t.fixed.astype(bool) & t.bn.astype(bool) & t.panel.astype(bool) & (t.lr == lr_max)
            & (t.wd == cfg.wd)]
    sp = an.run_spikes("sgd")
    eq = {int(r.seed): equilibrium(res.sgd, int(r.config), sp) for r in big.itertuples()}
    holds = [bool(at_most(abs(np.log(v["ratio"])), np.log(EQUILIBRIUM_TOL)) and at_most(abs(np.log(v["drift"])),
             np.log(STATIONARY)) and v["late_events"] == 0) for v in eq.values()]
    card.record(
        "C6", value=eq,
        measured="; ".join(f"seed {s}: ELR {v['elr']:.3f} vs fixed point {v['predicted']:.3f} (×{v['ratio']:.2f}), "
                           f"drift ×{v['drift']:.2f}, {v['late_events']} late events, late loss {v['loss_late']:.2f}"
                           for s, v in eq.items()),
        verdict=_verdict(holds), lr_max=lr_max,
    )


def c7(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C7: the median over periods of ρ's late decay rate against the weight-decay rate, per seed."""
    rt = an.rates
    med = {int(s): float(rt[rt.seed == s].ratio.median()) if len(rt) and (rt.seed == s).any() else float("nan")
           for s in sorted(_free(an.table).seed.unique())}
    if not any(np.isfinite(v) for v in med.values()):
        card.record("C7", value=med, verdict="not judged", measured="no free-norm run of any seed has a complete "
                    "period (two destabilisations), so there is no late decay of ρ to measure")
        return
    card.record(
        "C7", value=med,
        measured="median rate ratio per seed: " + ", ".join(f"{v:.3f}" for v in med.values()),
        verdict=_verdict([at_least(v, RATE_RANGE[0]) and at_most(v, RATE_RANGE[1]) for v in med.values()]),
    )


def c8(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C8: the largest one-step error of the norm recursion and the smallest pre-BN variance, per seed; the no-BN
    control shows what a network that is not scale-invariant gives."""
    rc = an.recursion
    si_runs, plain = rc[rc.bn.astype(bool)], rc[~rc.bn.astype(bool)]
    per_seed = {int(s): (float(g.max_residual.max()), float(g.min_bn_var.min())) for s, g in si_runs.groupby("seed")}
    card.record(
        "C8", value={s: {"max_residual": a, "min_bn_var": b} for s, (a, b) in per_seed.items()}
        | {"no_bn_residual": plain.max_residual.tolist()},
        measured="; ".join(f"seed {s}: residual {a:.1e}, smallest pre-BN variance {b:.1e}"
                           for s, (a, b) in per_seed.items())
        + (f"; without BN: residual {plain.max_residual.min():.1e}–{plain.max_residual.max():.1e}" if len(plain)
           else ""),
        verdict=_verdict([at_most(a, RESIDUAL_MAX) for a, _ in per_seed.values()]),
    )


def c9(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C9: at least two destabilisations per seed in the all-parameters-trained variant."""
    at = an.at_table
    card.record(
        "C9", value=at.events.tolist(), measured=f"destabilisations per seed: {at.events.tolist()}",
        verdict=_verdict([bool(r.events >= 2) for r in at.itertuples()]),
    )


def c10(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C10: the λ = 0 and no-BN controls: no destabilisation, and without weight decay the ELR only falls."""
    ct = an.controls
    now, nobn = ct[ct.control == "no_wd"], ct[ct.control == "no_bn"]
    holds = []
    for s in sorted(set(now.seed) | set(nobn.seed)):
        a, b = now[now.seed == s], nobn[nobn.seed == s]
        no_bn_ok = bool((b.events < 2).all()) if len(b) else cfg.model != "mlp"  # ConvNetSI has no no-BN variant
        holds.append(bool(len(a) and (a.events < 2).all() and a.rho_grows.all()
                          and all(at_least(x, ELR_FALL) for x in a.elr_start / a.elr_end) and no_bn_ok))
    card.record(
        "C10", value={"no_wd": now[["seed", "events", "elr_start", "elr_end", "rho_grows"]].to_dict("list"),
                      "no_bn": nobn[["seed", "events", "spikes", "status"]].to_dict("list")},
        measured=f"λ = 0: destabilisations {now.events.tolist()}, ELR fell ×"
        + ", ".join(f"{v:.1f}" for v in now.elr_start / now.elr_end)
        + f", ρ never fell: {now.rho_grows.tolist()}; no BN: destabilisations {nobn.events.tolist()} "
        f"({', '.join(nobn.status)})",
        verdict=_verdict(holds),
    )


def scorecard(cfg: Config, res: Results, an: Analysis | None = None) -> Scorecard:
    """Claims C1–C10 of the chapter; ``an`` is computed from ``res`` when not given."""
    an = analyse(cfg, res) if an is None else an
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10):
        judge(card, cfg, res, an)
    return card
