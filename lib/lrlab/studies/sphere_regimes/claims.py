"""Claims of the sphere chapter: C1–C6 and C10 from Kodryan et al. (2022), C8–C9 on the paper's toy, C7 on
ours, C11–C12 on what the method rests on (scale invariance; the step of projected SGD, derived in the chapter).

Every claim is declared once in ``CLAIMS``; one function per claim measures it on the
:class:`~lrlab.studies.sphere_regimes.experiments.Results` of a run and records the verdict; :func:`scorecard` calls
them in order. Claims about the network are judged on the ELRs inside the paper's range
(:data:`~lrlab.studies.sphere_regimes.experiments.PAPER_RANGE`), seed by seed, and on quantities the regime
classifier does not read (it reads the training loss and accuracy only). Which criteria were set before any
run and which after a pilot run is recorded claim by claim in :mod:`lrlab.studies.sphere_regimes.ledger`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, at_least, at_most, verdict_from_parts, verdict_from_seeds
from lrlab.config import Config

from .experiments import (
    CHANCE,
    PAPER_RANGE,
    REGIMES,
    Results,
    boundaries,
    destabilisations,
    judged,
    optima_table,
    ordered,
    settled_elr,
    stationary,
)
from .groups import group_thresholds, groups_boundaries
from .ledger import LEDGER
from .toy import toy_boundaries, toy_thresholds

_ABSTRACT = "abstract"
_FIG1 = ("the abstract names the three regimes and says each has unique features; which features, and the "
         "numbers, are read from the official code's Plots.ipynb (its saved output; its README: one of the lines "
         "of Figure 1)")
RANDOM_WALK_DEG = 60.0
"""C12: a divergent run's median step angle is at least this (cos 60° = ½: a step keeps less than half of the
direction it starts from)."""
SMALL_STEP_DEG = 30.0
"""C12: a converging or equilibrium run's median step angle is at most this."""
INVARIANCE_TOL = 1e-2
"""C11: tolerance of the relative loss change under rescaling (BN's ε = 1e-5 and float32 leave about 1e-3)."""
ORTHOGONAL_TOL = 1e-3
"""C11: tolerance of the absolute cosine between ∇L and w (zero for a scale-invariant loss, by Euler's theorem)."""
ELR_TOL = 1e-3
"""C10: the measured ELR η/ρ² stays within this relative tolerance of the nominal ELR."""

CLAIMS = ClaimTable("sphere_regimes", (
    ClaimSpec(
        "C1", "Training on the sphere falls into three regimes, in ELR order.",
        paper="abstract: convergence, chaotic equilibrium and divergence, depending on the ELR; Figure 1 (official "
        "notebook): convergence ≤ 5e-4 < equilibrium ≤ 5e-3 < divergence ≥ 5e-2 (ConvNetSI-32, CIFAR-10)",
        criterion="per seed, over the ELRs in the paper's range [1e-5, 1e-1]: all three regimes appear and never "
        "go back as the ELR grows",
        source="fig-sr-map", cite="kodryan2022sphere", kind=_ABSTRACT,
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C2", "Within convergence, a higher ELR reaches a lower loss in a fixed budget.",
        paper="Figure 1 (official notebook): ELR 5e-4 reaches train loss ≈ 2e-4, lower than 1e-4 (≈ 8e-4) and "
        "1e-5 (≈ 7e-3)",
        criterion="per seed (≥ 3 converging ELRs in the paper's range): Spearman ρ between the ELR and the "
        "last-quarter median train loss of the converging runs ≤ −0.7 (at most a swap or two of neighbours)",
        source="fig-sr-map", cite="kodryan2022sphere", kind=_ABSTRACT,
        note=_FIG1 + "; the stricter form, the lowest loss at the highest converging ELR, holds in {strict} seeds: "
        "at the edge of convergence a run already spikes now and then",
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C3", "Within the chaotic equilibrium, the stationary loss rises with the ELR.",
        paper="Figure 1 (official notebook): stationary loss ≈ 0.5, 1, 1.7 at ELR 1e-3, 2e-3, 5e-3",
        criterion="per seed (≥ 2 equilibrium ELRs in the paper's range): the second-half median train loss "
        "strictly increases with the ELR",
        source="fig-sr-map", cite="kodryan2022sphere", kind=_ABSTRACT, note=_FIG1,
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C4", "Divergence: chance-level accuracy and an effective gradient orders of magnitude larger.",
        paper="Figure 1 (official notebook): test error ≈ 90 % and eff. grad ≈ 1e4–3e4 at ELR 5e-2 and 1e-1, "
        "against ≈ 20–50 in equilibrium",
        criterion="per seed, every divergent run in the paper's range: median test accuracy (held-out images, not "
        "read by the classifier) < chance + 0.1 and median effective gradient ≥ 100× the median of the seed's "
        "equilibrium runs",
        source="fig-sr-map", cite="kodryan2022sphere", kind=_ABSTRACT,
        note=_FIG1 + "; not reproduced here: inside the paper's range our divergence only begins (its top ELR); "
        "the wider ELRs, shown and not judged, reach {beyond}",
        expected={"book": "not reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C5", "The regimes are visible in conventional training: SGD + WD destabilises or settles at an ELR inside "
        "the band the sphere map predicts.",
        paper="abstract: the regimes are reflected in conventional training of normalized networks",
        criterion="per (wd, seed): the median ELR just before a loss spike (or, without spikes, the settled ELR) "
        "lies in [highest converging, lowest divergent] sphere ELR of the same seed, in the paper's range",
        source="fig-sr-wd", cite="kodryan2022sphere,lobacheva2021periodic", kind=_ABSTRACT,
        expected={"book": "partial"},
        note="with the smaller weight decay, conventional training destabilises right at the highest ELR that still "
        "converges on the sphere, a few percent above or below it from seed to seed: a seed set can land with "
        "every seed inside the band, and then the verdict is reproduced",
    ),
    ClaimSpec(
        "C6", "Pre-training at an equilibrium ELR and fine-tuning at a small ELR beats the small ELR from the start.",
        paper="abstract: the regimes can be leveraged to achieve better optima",
        criterion="the paired gain in final test accuracy on all the test images (high→low minus low, same seed "
        "and epochs) is positive by a one-sided paired t-test at 5 % over the seeds",
        source="fig-sr-optima", cite="kodryan2022sphere", kind=_ABSTRACT,
        expected={"book": "reproduced"},
        note="mean gain {gain:+.4f} ± {gain_se:.4f} (standard error over seeds), t = {t:.2f}; one binomial standard "
        "error of a test accuracy near 0.8 on this test set is {se:.4f}",
    ),
    ClaimSpec(
        "C7", "In the toy example the regime boundaries sit at the analytic thresholds.",
        paper="our toy, not the paper's: thresholds 2/a and 8/a, derived in the chapter",
        criterion="each analytic threshold lies between the simulated bracketing ELRs (all seeds agree)",
        source="fig-sr-toy", cite="kodryan2022sphere", kind="derived in this chapter",
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C8", "With n scale-invariant groups, each group alone converges below ELR 1/αᵢ and all groups on one "
        "sphere converge below 1/Σαᵢ.",
        paper="appendix A.1–A.2 (fragments): individual thresholds ηᵢ < 1/αᵢ, total threshold 1/Σαᵢ; the "
        "functions fᵢ are ours",
        criterion="every analytic threshold (1/αᵢ per group on its own sphere, 1/Σαᵢ on one sphere) lies between "
        "the simulated bracketing ELRs (all seeds agree)",
        source="fig-sr-groups", cite="kodryan2022sphere", kind="paper",
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C9", "Above 1/Σαᵢ, at every iteration at least one individual ELR exceeds its convergence threshold.",
        paper="appendix A.2, Remark 2 (fragment): \"if, conversely, η > 1/Σαᵢ, then at each iteration at least one "
        "of the individual ELRs exceeds its convergence threshold: ηᵢ > 1/αᵢ\"",
        criterion="on one sphere, every run above 1/Σαᵢ has some ηᵢαᵢ > 1 in every step of its second half (the "
        "runs below are C8's)",
        source="fig-sr-groups", cite="kodryan2022sphere", kind="paper",
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C10", "In the chaotic equilibrium the loss and the effective gradient are stationary at the fixed ELR.",
        paper="abstract: a chaotic equilibrium; Figure 1 (official notebook): flat, noisy loss and effective "
        "gradient at ELR 1e-3 to 5e-3",
        criterion="every equilibrium run in the paper's range: last-quarter median of the train loss and of the "
        "effective gradient within a factor 2 of the second-quarter median, and the measured ELR η/ρ² within "
        "1e-3 of the nominal one over the second half",
        source="fig-sr-curves", cite="kodryan2022sphere", kind=_ABSTRACT, note=_FIG1,
        expected={"book": "partial"},
    ),
    ClaimSpec(
        "C11", "The network is scale-invariant, before and after training on the sphere.",
        paper="abstract: normalization makes the pre-normalization parameters scale invariant",
        criterion="every run of the map in the paper's range, at initialisation and at the end, on 4 batches: "
        "relative loss change under rescaling by ½ and 2 ≤ 1e-2 and |cos(∇L, w)| ≤ 1e-3",
        note="the deviation of c‖∇L(cw)‖ from ‖∇L(w)‖ is shown, not judged: BN's ε = 1e-5 makes it grow as the "
        "pre-normalisation variance of a single unit shrinks",
        source="sr-invariance", cite="kodryan2022sphere", kind=_ABSTRACT,
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
    ClaimSpec(
        "C12", "Divergence is a random walk on the sphere: each step turns the weights by nearly 90°, while "
        "convergence and equilibrium take small steps.",
        paper="derived in the chapter: tan Δθ = ELR·‖g̃‖ < ∞, so Δθ < 90°, and Δθ → 90° as ELR·‖g̃‖ grows",
        criterion="per seed, in the paper's range: every divergent run's median angle between successive weights "
        "≥ 60° and every other run's ≤ 30° (a seed without a divergent run fails)",
        source="fig-sr-steps", cite="kodryan2022sphere", kind="derived in this chapter",
        expected={"book": "reproduced", "paper": "reproduced"},
    ),
), generic={"beyond": "chance and a far larger effective gradient", "gain": math.nan, "gain_se": math.nan,
            "t": math.nan, "se": math.nan, "strict": "some"}, ledger=LEDGER)


def _seeds(table) -> list:
    return sorted(table["seed"].unique())


def _verdict(holds: list) -> str:
    """Seed by seed: None where the seed lacks the runs the claim needs (it counts as not holding), "not judged"
    when every seed lacks them."""
    if not holds or all(h is None for h in holds):
        return "not judged"
    return verdict_from_seeds([bool(h) for h in holds])


def _in_range(results: Results):
    return judged(results.table)


def c1(card: Scorecard, cfg: Config, results: Results) -> None:
    """C1: per seed, all three regimes appear in the paper's range, in ELR order."""
    table, inside = results.table, _in_range(results)
    if inside.empty:
        card.record("C1", value={"holds": []}, measured="no ELR inside the paper's range", verdict="not judged")
        return
    seeds = _seeds(inside)
    per_seed = []
    for s in seeds:
        g = inside[inside["seed"] == s].sort_values("elr")
        per_seed.append(ordered(g["regime"]) and set(g["regime"]) == set(REGIMES))
    bnd = boundaries(inside).set_index("seed")
    card.record(
        "C1",
        # the regime map (every ELR, judged or not) and its judged boundaries, for lrlab.studies.synthesis
        value={"holds": [bool(x) for x in per_seed],
               "regime": {int(s): dict(zip(g["elr"], g["regime"]))
                          for s, g in table.sort_values("elr").groupby("seed")},
               "conv_max": {int(s): bnd.loc[s, "conv_max"] for s in seeds},
               "div_min": {int(s): bnd.loc[s, "div_min"] for s in seeds}},
        measured="; ".join(
            f"seed {s}: " + " ".join(r[:3] for r in inside[inside['seed'] == s].sort_values('elr')['regime'])
            for s in seeds
        ),
        verdict=verdict_from_seeds(per_seed),
    )


def c2(card: Scorecard, cfg: Config, results: Results) -> None:
    """C2: per seed, the last-quarter loss of the converging runs falls with the ELR (Spearman ρ ≤ −0.7); the
    stricter form (the lowest loss at the highest converging ELR) is counted and shown."""
    inside = _in_range(results)
    holds, parts, strict = [], [], []
    for s in _seeds(inside):
        g = inside[(inside["seed"] == s) & (inside["regime"] == "convergence")]
        if len(g) < 3:
            holds.append(None)
            parts.append(f"seed {s}: {len(g)} converging ELR(s)")
            continue
        with warnings.catch_warnings():  # identical losses (no ELR effect at all) give ρ = NaN, which fails
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            rho = float(stats.spearmanr(g["elr"], g["loss_q4"])[0])
        best = g.loc[g["loss_q4"].idxmin(), "elr"]
        holds.append(bool(at_most(rho, -0.7)))
        strict.append(bool(best == g["elr"].max()))
        parts.append(f"seed {s}: ρ = {rho:.2f}, lowest {g['loss_q4'].min():.2g} at {best:g} of max {g['elr'].max():g}")
    card.record("C2", value={"holds": holds, "strict": strict}, verdict=_verdict(holds),
                measured="; ".join(parts) or "no run in the paper's range", strict=f"{sum(strict)} of {len(strict)}")


def c3(card: Scorecard, cfg: Config, results: Results) -> None:
    """C3: per seed, the equilibrium loss rises strictly with the ELR."""
    inside = _in_range(results)
    holds, parts, loss = [], [], {}
    for s in _seeds(inside):
        g = inside[(inside["seed"] == s) & (inside["regime"] == "equilibrium")].sort_values("elr")
        holds.append(bool(np.all(np.diff(g["train_loss"].to_numpy()) > 0)) if len(g) >= 2 else None)
        parts.append(f"seed {s}: " + (", ".join(f"{e:g}→{v:.3g}" for e, v in zip(g["elr"], g["train_loss"]))
                                      or "no equilibrium run"))
        loss[int(s)] = dict(zip(g["elr"], g["train_loss"]))
    verdict = _verdict(holds)
    card.record("C3", value={"holds": holds, "loss": loss}, measured="; ".join(parts) or "no run", verdict=verdict)


def _beyond(results: Results) -> str:
    """The divergence signatures of the ELRs above the paper's range (shown, not judged)."""
    t = results.table
    above = t[(t["elr"] > PAPER_RANGE[1] * (1 + 1e-9)) & (t["regime"] == "divergence")]
    inside = _in_range(results)
    eq = inside[inside["regime"] == "equilibrium"]["eff_grad"].median()
    if above.empty or not np.isfinite(eq):
        return "no divergent run above the range"
    ratio = above["eff_grad"].median() / eq
    return (f"test accuracy {above['test_acc'].median():.3f} and an effective gradient {ratio:.0f}× "
            f"the equilibrium's (ELR {', '.join(f'{e:g}' for e in sorted(above['elr'].unique()))})")


def c4(card: Scorecard, cfg: Config, results: Results) -> None:
    """C4: per seed, every divergent run in the range sits at chance with an effective gradient ≥ 100× the
    equilibrium's median."""
    inside = _in_range(results)
    holds, parts = [], []
    for s in _seeds(inside):
        g = inside[inside["seed"] == s]
        dv, eq = g[g["regime"] == "divergence"], g[g["regime"] == "equilibrium"]
        if len(dv) and len(eq):
            ratio = float(dv["eff_grad"].min() / eq["eff_grad"].median())
            acc = float(dv["test_acc"].max())
            holds.append(bool(not at_least(acc, CHANCE + 0.1) and at_least(ratio, 100.0)))
            parts.append(f"seed {s}: test acc ≤ {acc:.3f}, eff. grad ≥ ×{ratio:.0f}")
        else:
            holds.append(None)
            parts.append(f"seed {s}: no divergence/equilibrium pair in the range")
    verdict = _verdict(holds)
    card.record("C4", value=holds, measured="; ".join(parts) or "no run", verdict=verdict, beyond=_beyond(results))


def c5(card: Scorecard, cfg: Config, results: Results) -> None:
    """C5: per (wd, seed), SGD + WD destabilises or settles inside the sphere map's band of the same seed."""
    bnd = boundaries(_in_range(results)).set_index("seed")
    spikes = destabilisations(results.wd_history)
    settled = settled_elr(results.wd_history)
    holds, parts = [], []
    by_wd: dict[str, dict[str, list]] = {}
    for (wd, s), g in settled.groupby(["wd", "seed"]):
        sp = spikes[(spikes["wd"] == wd) & (spikes["seed"] == s)]
        e = float(sp["elr_before"].median()) if len(sp) else float(g["elr"].iloc[0])
        lo, hi = (bnd.loc[s, "conv_max"], bnd.loc[s, "div_min"]) if s in bnd.index else (math.nan, math.nan)
        what = f"{len(sp)} spikes at ELR ≈ {e:.2g}" if len(sp) else f"settles at ELR ≈ {e:.2g}"
        holds.append(bool(at_least(e, lo) and at_most(e, hi)) if np.isfinite(lo) and np.isfinite(hi) else None)
        parts.append(f"wd {wd:g} seed {s}: {what}, band [{lo:g}, {hi:g}]")
        row = by_wd.setdefault(f"{wd:g}", {"seed": [], "spikes": [], "elr": []})
        row["seed"].append(int(s))
        row["spikes"].append(len(sp))
        row["elr"].append(e)
    card.record("C5", value={"holds": holds, "by_wd": by_wd}, measured="; ".join(parts) or "no run",
                verdict=_verdict(holds))


def c6(card: Scorecard, cfg: Config, results: Results) -> None:
    """C6: the paired gain of high→low over low in final test accuracy (on all the test images scored, when the
    run scored more than it probes), one-sided paired t-test at 5 %."""
    tab = optima_table(results.optima)
    col = "test_acc_all" if "test_acc_all" in tab.columns.get_level_values(0) else "test_acc"
    acc = tab[col]
    gain = (acc["high→low"] - acc["low"]).to_numpy(dtype=float)
    n_col = "n_test_all" if col == "test_acc_all" else "n_test"
    n_test = int(results.optima[n_col].iloc[0]) if n_col in results.optima else 0
    se = math.sqrt(0.2 * 0.8 / n_test) if n_test else math.nan
    measured = f"{n_test} test images; " + "; ".join(
        f"seed {s}: {acc.loc[s, 'high→low']:.4f} vs {acc.loc[s, 'low']:.4f}" for s in acc.index)
    if len(gain) < 2:
        card.record("C6", value={"gain": gain.tolist()}, measured=measured + " (one seed: no t-test)",
                    verdict="not judged", gain=float(gain.mean()) if len(gain) else math.nan, gain_se=math.nan,
                    t=math.nan, se=se)
        return
    gain_se = float(gain.std(ddof=1)) / math.sqrt(len(gain))
    t = float(gain.mean() / gain_se) if gain_se > 0 else (math.inf if gain.mean() > 0 else -math.inf)
    p = float(stats.t.sf(t, df=len(gain) - 1))
    card.record("C6", value={"gain": gain.tolist(), "t": t, "p": p}, measured=f"{measured}; one-sided p = {p:.2g}",
                verdict="reproduced" if at_most(p, 0.05) else "not reproduced",
                gain=float(gain.mean()), gain_se=gain_se, t=t, se=se)


def c7(card: Scorecard, cfg: Config, results: Results) -> None:
    """C7: both analytic thresholds of our toy lie between the simulated bracketing ELRs."""
    th = toy_thresholds(results.a)
    b = toy_boundaries(results.toy)
    parts = [
        at_most(b["converge_low"], th["converge"]) and at_most(th["converge"], b["converge_high"]),
        at_most(b["escape_low"], th["escape"]) and at_most(th["escape"], b["escape_high"]),
    ]
    card.record(
        "C7",
        value={**b, **th},
        measured=(
            f"convergence ends in [{b['converge_low']:.3g}, {b['converge_high']:.3g}] (theory {th['converge']:.3g}); "
            f"divergence starts in [{b['escape_low']:.3g}, {b['escape_high']:.3g}] (theory {th['escape']:.3g})"
        ),
        verdict=verdict_from_parts(parts),
    )


def c8(card: Scorecard, cfg: Config, results: Results) -> None:
    """C8: every threshold of the paper's toy lies between the simulated bracketing ELRs."""
    if results.groups_individual is None or results.groups_total is None:
        card.record("C8", value={}, measured="the paper's toy was not run", verdict="not judged")
        return
    b = groups_boundaries(results.groups_individual, results.groups_total)
    parts = [bool(at_most(r.low, r.threshold) and at_most(r.threshold, r.high)) for r in b.itertuples()]
    card.record(
        "C8",
        value={r.key: {"low": r.low, "high": r.high, "threshold": r.threshold} for r in b.itertuples()},
        measured="; ".join(f"{r.what}: [{r.low:.3g}, {r.high:.3g}] (theory {r.threshold:.3g})" for r in b.itertuples()),
        verdict=verdict_from_parts(parts),
    )


def c9(card: Scorecard, cfg: Config, results: Results) -> None:
    """C9: above 1/Σαᵢ, some individual ELR exceeds its threshold at every step of the second half (Remark 2);
    the runs below are reported (their convergence is C8's)."""
    tot = results.groups_total
    if tot is None:
        card.record("C9", value={}, measured="the paper's toy was not run", verdict="not judged")
        return
    total = group_thresholds(tot.groupby("group")["alpha"].first().to_numpy())["total"]
    runs = tot.groupby(["elr", "seed"]).agg(frac=("unstable_frac", "first"), conv=("converged", "first")).reset_index()
    above, below = runs[runs["elr"] > total], runs[runs["elr"] < total]
    if above.empty:
        card.record("C9", value={}, measured="no ELR of the grid above 1/Σα", verdict="not judged")
        return
    measured = (f"above 1/Σα ({len(above)} runs): smallest fraction of steps with an unstable group "
                f"{above['frac'].min():.3f}; below ({len(below)} runs): largest such fraction "
                f"{below['frac'].max() if len(below) else math.nan:.3f}, {int(below['conv'].sum())} converged")
    card.record("C9", value={"above_min_frac": float(above["frac"].min()), "below_converged": int(below["conv"].sum()),
                             "below_runs": len(below)},
                measured=measured, verdict="reproduced" if all(at_least(f, 1.0) for f in above["frac"])
                else "not reproduced")


def c10(card: Scorecard, cfg: Config, results: Results) -> None:
    """C10: every equilibrium run in the range is stationary (loss, effective gradient) at its nominal ELR."""
    eq = _in_range(results)
    eq = eq[eq["regime"] == "equilibrium"].sort_values(["elr", "seed"])
    if eq.empty:
        card.record("C10", value={}, measured="no equilibrium run in the paper's range", verdict="not judged")
        return
    ok = [stationary(r.trend) and stationary(r.grad_trend) and at_most(r.elr_drift, ELR_TOL) for r in eq.itertuples()]
    per_elr = {f"{e:g}": int(sum(o for o, x in zip(ok, eq["elr"]) if x == e)) for e in eq["elr"].unique()}
    measured = "; ".join(f"ELR {e:g}: loss ×{g['trend'].min():.2f}–{g['trend'].max():.2f}, eff. grad "
                         f"×{g['grad_trend'].min():.2f}–{g['grad_trend'].max():.2f}, {per_elr[f'{e:g}']}/{len(g)} "
                         f"stationary" for e, g in eq.groupby("elr"))
    measured += f"; largest ELR drift {eq['elr_drift'].max():.1e}"
    card.record("C10", value={"stationary": per_elr, "runs": {f"{e:g}": int((eq['elr'] == e).sum())
                                                              for e in eq['elr'].unique()}},
                measured=measured, verdict=verdict_from_parts(ok))


def c11(card: Scorecard, cfg: Config, results: Results) -> None:
    """C11: every configuration in the paper's range is scale-invariant at initialisation and at the end of
    training; the runs beyond the range are reported, not judged."""
    inv = results.invariance
    if inv is None or inv.empty:
        card.record("C11", value={}, measured="no invariance check recorded", verdict="not judged")
        return
    cols = ["loss_change", "grad_cosine", "grad_scaling"]
    inside = judged(inv)
    beyond = inv[~inv.index.isin(inside.index)]
    worst = {w: {c: float(g[c].max()) for c in cols} for w, g in inside.groupby("when")}
    finite = inside.dropna(subset=cols)
    parts = [all(at_most(v, INVARIANCE_TOL) for v in finite["loss_change"]),
             all(at_most(v, ORTHOGONAL_TOL) for v in finite["grad_cosine"]), len(finite) == len(inside)]
    measured = "; ".join(f"{w}: loss change ≤ {v['loss_change']:.1e}, |cos| ≤ {v['grad_cosine']:.1e}, gradient "
                         f"scaling ≤ {v['grad_scaling']:.1e}" for w, v in worst.items())
    if len(finite) < len(inside):
        measured += f"; {len(inside) - len(finite)} checks not finite"
    if len(beyond):
        measured += (f"; beyond the range (not judged), at the end: loss change ≤ "
                     f"{beyond[beyond['when'] == 'end']['loss_change'].max():.1e}, gradient scaling ≤ "
                     f"{beyond[beyond['when'] == 'end']['grad_scaling'].max():.1e}")
    verdict = "not judged" if inside.empty else "reproduced" if all(parts) else "not reproduced"
    card.record("C11", value=worst, measured=measured, verdict=verdict)


def c12(card: Scorecard, cfg: Config, results: Results) -> None:
    """C12: per seed, divergent runs step by ≥ 60°, the others by ≤ 30° (median over the second half)."""
    inside = _in_range(results)
    if "step_angle" not in inside:
        card.record("C12", value={}, measured="no step angle recorded", verdict="not judged")
        return
    holds, parts = [], []
    for s in _seeds(inside):
        g = inside[inside["seed"] == s]
        deg = np.degrees(g["step_angle"].to_numpy(dtype=float))
        div = (g["regime"] == "divergence").to_numpy()
        big = [at_least(x, RANDOM_WALK_DEG) for x in deg[div]]
        small = [at_most(x, SMALL_STEP_DEG) for x in deg[~div]]
        holds.append(bool(all(big) and all(small)) if div.any() else None)
        parts.append(f"seed {s}: divergent {', '.join(f'{x:.0f}°' for x in deg[div]) or 'none'}; others ≤ "
                     f"{deg[~div].max() if (~div).any() else math.nan:.1f}°")
    verdict = _verdict(holds)
    card.record("C12", value=holds, measured="; ".join(parts) or "no run", verdict=verdict)


def scorecard(cfg: Config, results: Results) -> Scorecard:
    """Claims C1–C12 in order."""
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12):
        judge(card, cfg, results)
    return card
