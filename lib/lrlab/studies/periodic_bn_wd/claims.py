"""The chapter's claims C1–C9, each judged seed by seed against a criterion fixed from the paper.

The criteria's thresholds are the constants below, set from the paper's Figure 2 before the book's runs.
"""

from __future__ import annotations

import numpy as np

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, verdict_from_seeds
from lrlab.config import Config

from .analysis import Analysis, analyse, equilibrium, event_elrs, periodic_lrs
from .experiments import Results

SLOPE_TOL = 0.3
"""C3: the fitted log–log slope of the mean period against ηλ must lie in [−1 − 0.3, −1 + 0.3]. From the paper's
Figure 2 (λ = 1e-3): the mean interval between destabilisations is ≈ 220 epochs at η = 0.01 and ≈ 65 epochs at
η = 0.03, a two-point slope of ≈ −1.1, with a spread of intervals within one run of about ±30 % that makes that
slope uncertain by ≈ ±0.2; the recursion predicts −1 when the ELR ratio of a period does not depend on ηλ."""
ORDER_MIN = 0.8
"""C2: at least this fraction of the complete periods shows the whole mechanism in order (the paper shows it in
every period of Figure 2; 0.8 leaves room for a period cut short by mini-batch noise at our tiny scale)."""
RATE_RANGE = (0.8, 1.05)
"""C7: late in a period ρ decays at this fraction of the weight-decay rate −ln(1 − ηλ). In the paper's Figure 2
(η = 0.01) ρ halves (12.6 → ≈ 6) in the first 200 epochs where weight decay alone gives ×0.46: ≈ 0.95 of the
rate. Above 1 is impossible for an exact SI model (the gradient only pushes ρ outwards) beyond noise."""
RESIDUAL_MAX = 1e-4
"""C8: the largest relative one-step error of the norm recursion over every step of every free-norm run; float32
rounding gives ~1e-7, a weight that BN's ε no longer makes scale-invariant gives ⟨∇L, w⟩ ≠ 0 and more."""
STATIONARY = 1.5
"""C6: in the equilibrium the median ELR of the last quarter of training is within this factor of the third
quarter's (the paper's η = 1.0 curve: ELR 7e-4–1.5e-3 with no trend after the first epochs)."""

_SRC = "Lobacheva et al. 2021"
_CITE = "lobacheva2021periodic"

CLAIMS = ClaimTable("periodic_bn_wd", (
    ClaimSpec(
        "C1", "Training with BN and weight decay destabilises repeatedly without diverging.",
        paper="η = 0.01: destabilisations at ≈ epochs 200, 400, 555, 860 of 1000 (Figure 2)",
        criterion="every seed: at each intermediate panel η ({mid}) ≥ 3 destabilisations (≥ 2 complete periods), "
        "no run diverged",
        source=f"{_SRC}, §3, Fig. 2", cite=_CITE),
    ClaimSpec(
        "C2", "Inside each period: convergence, exponential norm decay, spike of loss and effective gradient, "
        "norm jump, ELR reset.",
        paper="every period of Figure 2 follows this order (§3)",
        criterion=f"every seed: ≥ {ORDER_MIN:.0%} of the complete periods of the free-norm SGD runs have the "
        "gradient spike no later than the norm peak, an ELR reset ≥ elr_drop, a gradient fall ≥ grad_factor and "
        "the ELR climbing back ≥ elr_drop before the next event",
        source=f"{_SRC}, §3", cite=_CITE),
    ClaimSpec(
        "C3", "The period scales like 1/(ηλ).",
        paper="mean period ≈ 220 epochs at η = 0.01 and ≈ 65 at η = 0.03 (λ = 1e-3): slope ≈ −1.1 (Figure 2); "
        "weight decay alone predicts −1",
        criterion=f"every seed: log–log slope of the mean period against ηλ over ≥ 4 scan values in "
        f"[{-1 - SLOPE_TOL:.1f}, {-1 + SLOPE_TOL:.1f}]",
        source=f"{_SRC}, Fig. 2", cite=_CITE, expected={},
        note="not asserted: at scale book each mean period rests on two or three periods, and the timing of a "
        "destabilisation is sensitive to float rounding; replacing the written-out batch-norm formula by torch's "
        "fused kernel (equal to 1e-6) moved seed 0's slope from −0.81 to −0.59, so the verdict is reported, not "
        "asserted"),
    ClaimSpec(
        "C4", "With the norm fixed the periods vanish.",
        paper="training with the SI norm fixed at its initial value shows no destabilisations (§5, fix_si_pnorm)",
        criterion="every seed: no loss-and-gradient spike at all in the fixed-norm run, while the free-norm run at "
        "the same (η, λ) has ≥ 2 destabilisations",
        source=f"{_SRC}, §5", cite=_CITE),
    ClaimSpec(
        "C5", "Periodic behaviour persists with full-batch gradient descent.",
        paper="periodic behaviour is not caused by stochasticity: it also appears with full-batch GD (§5, --fbgd)",
        criterion="every seed: ≥ 2 destabilisations in the full-batch GD run",
        source=f"{_SRC}, §5", cite=_CITE),
    ClaimSpec(
        "C6", "A large learning rate settles into an equilibrium without periods.",
        paper="η = 1.0: ρ settles near 35, ELR ≈ 7e-4–1.5e-3, loss flat ≈ 0.3–0.5, no destabilisation (Figure 2)",
        criterion="every seed, at the largest panel η = {lr_max:g}: no destabilisation and the median ELR of the "
        f"last quarter within ×{STATIONARY} of the third quarter's",
        source=f"{_SRC}, Fig. 2", cite=_CITE),
    ClaimSpec(
        "C7", "Between events ρ decays exponentially at the weight-decay rate of the recursion.",
        paper="ρ 12.6 → ≈ 6 over the first 200 epochs at η = 0.01 where (1 − ηλ) alone gives ×0.46: ≈ 0.95 of the "
        "rate (Figure 2; recursion of §3)",
        criterion="every seed: median over periods of (fitted decay rate of ρ in the late half of the period) / "
        f"−ln(1 − ηλ) in [{RATE_RANGE[0]}, {RATE_RANGE[1]}]",
        source=f"{_SRC}, §3", cite=_CITE),
    ClaimSpec(
        "C8", "Scale invariance holds in these runs: BN's ε is never reached and the norm recursion is exact.",
        paper="the mechanism needs exact scale invariance; ε is what the instability literature blames (§2, §6)",
        criterion=f"every seed: the norm recursion holds at every step of every free-norm run to "
        f"{RESIDUAL_MAX:g} (relative), which needs the smallest pre-BN variance ≫ ε = {{bn_eps:g}}",
        source=f"{_SRC}, §6", cite=_CITE),
    ClaimSpec(
        "C9", "The all-parameters-trained variant (BN affine, trainable head, all decayed) is periodic too.",
        paper="periodic behaviour in practical settings with all parameters trained (Figure 1)",
        criterion="every seed: ≥ 2 destabilisations of the SI weights' norm",
        source=f"{_SRC}, Fig. 1", cite=_CITE),
))


def _verdict(holds: list[bool]) -> str:
    """Verdict of a per-seed criterion; no run to judge counts as not reproduced."""
    return verdict_from_seeds(holds) if holds else "not reproduced"


def c1(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C1: at each intermediate panel η, every seed destabilises at least three times and no run diverges."""
    free = an.table[~an.table.fixed]
    mid = periodic_lrs(cfg)
    pan = free[free.panel & free.lr.isin(mid) & (free.wd == cfg.wd)]
    holds = [bool((g.events >= 3).all()) for _, g in pan.groupby("seed")]
    card.record(
        "C1",
        value={"events": {f"{lr:g}": pan[pan.lr == lr].events.tolist() for lr in mid}, **event_elrs(cfg, an)},
        measured="destabilisations per seed: " + "; ".join(
            f"η={lr:g}: {pan[pan.lr == lr].events.tolist()}" for lr in mid),
        verdict=_verdict([a and "diverged" not in res.sgd.status for a in holds]),
        mid=", ".join(f"{v:g}" for v in mid),
    )


def c2(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C2: the fraction of complete periods that show the whole mechanism in order, per seed."""
    o = an.order
    seeds = sorted(an.table.seed.unique())
    frac = {int(s): float(o[o.seed == s].ordered.mean()) if (o.seed == s).any() else float("nan") for s in seeds}
    card.record(
        "C2", value=frac,
        measured="fraction of periods in order per seed: " + ", ".join(
            f"{v:.2f} of {int((o.seed == s).sum()) if len(o) else 0}" for s, v in frac.items()),
        verdict=_verdict([np.isfinite(v) and v >= ORDER_MIN for v in frac.values()]),
    )


def c3(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C3: the log–log slope of the mean period against ηλ, per seed, over the scan."""
    seeds = sorted(an.table.seed.unique())
    slopes = {s: an.fits[s].slope if s in an.fits else float("nan") for s in seeds}
    npts = {s: an.fits[s].n if s in an.fits else 0 for s in seeds}
    card.record(
        "C3", value={int(s): v for s, v in slopes.items()},
        measured="slope per seed: " + ", ".join(f"{v:.2f} ({npts[s]} points)" for s, v in slopes.items()),
        verdict=_verdict([npts[s] >= 4 and abs(v + 1) <= SLOPE_TOL for s, v in slopes.items()]),
    )


def c4(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C4: no spike in the fixed-norm control while its free-norm twin destabilises, per seed."""
    t = an.table
    ctl = t[t.control]
    ref = t[~t.fixed & (t.lr == cfg.control_lr) & (t.wd == cfg.wd)]
    holds = []
    for s in sorted(t.seed.unique()):
        a, b = ctl[ctl.seed == s], ref[ref.seed == s]
        holds.append(bool(len(a) and (a.spikes == 0).all() and len(b) and (b.events >= 2).all()))
    card.record(
        "C4",
        value={"fixed_spikes": ctl.spikes.tolist(), "free_events": ref.events.tolist(),
               "fixed_elr": [float(res.sgd.series_of(int(c)).elr.median()) for c in ctl.config]},
        measured=f"spikes at fixed norm: {ctl.spikes.tolist()}; destabilisations with free norm: "
        f"{ref.events.tolist()}",
        verdict=_verdict(holds),
    )


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
    """C6: at the largest panel η, no destabilisation and a stationary ELR over the second half, per seed."""
    t = an.table
    lr_max = sorted(cfg.lrs)[-1]
    big = t[~t.fixed & t.panel & (t.lr == lr_max) & (t.wd == cfg.wd)]
    eq = {int(r.seed): equilibrium(res.sgd, int(r.config)) for r in big.itertuples()}
    holds = [bool(r.events == 0 and 1 / STATIONARY <= eq[int(r.seed)]["ratio"] <= STATIONARY)
             for r in big.itertuples()]
    card.record(
        "C6", value={s: {"events": int(big[big.seed == s].events.iloc[0]), **v} for s, v in eq.items()},
        measured="; ".join(f"seed {s}: {int(big[big.seed == s].events.iloc[0])} events, ELR ratio "
                           f"{v['ratio']:.2f}, late loss {v['loss_late']:.2f}" for s, v in eq.items()),
        verdict=_verdict(holds), lr_max=lr_max,
    )


def c7(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C7: the median over periods of ρ's late decay rate against the weight-decay rate, per seed."""
    rt = an.rates
    med = {int(s): float(rt[rt.seed == s].ratio.median()) if len(rt) and (rt.seed == s).any() else float("nan")
           for s in sorted(an.table.seed.unique())}
    card.record(
        "C7", value=med,
        measured="median rate ratio per seed: " + ", ".join(f"{v:.3f}" for v in med.values()),
        verdict=_verdict([RATE_RANGE[0] <= v <= RATE_RANGE[1] for v in med.values()]),
    )


def c8(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C8: the largest one-step error of the norm recursion and the smallest pre-BN variance, per seed."""
    per_seed = {int(s): (float(g.max_residual.max()), float(g.min_bn_var.min()))
                for s, g in an.recursion.groupby("seed")}
    card.record(
        "C8", value={s: {"max_residual": a, "min_bn_var": b} for s, (a, b) in per_seed.items()},
        measured="; ".join(f"seed {s}: residual {a:.1e}, smallest pre-BN variance {b:.1e}"
                           for s, (a, b) in per_seed.items()),
        verdict=_verdict([a <= RESIDUAL_MAX for a, _ in per_seed.values()]),
    )


def c9(card: Scorecard, cfg: Config, res: Results, an: Analysis) -> None:
    """C9: at least two destabilisations per seed in the all-parameters-trained variant."""
    at = an.at_table
    card.record(
        "C9", value=at.events.tolist(), measured=f"destabilisations per seed: {at.events.tolist()}",
        verdict=_verdict([bool(r.events >= 2) for r in at.itertuples()]),
    )


def scorecard(cfg: Config, res: Results, an: Analysis | None = None) -> Scorecard:
    """Claims C1–C9 of the chapter, each judged seed by seed; ``an`` is computed from ``res`` when not given."""
    an = analyse(cfg, res) if an is None else an
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c5, c6, c7, c8, c9):
        judge(card, cfg, res, an)
    return card
