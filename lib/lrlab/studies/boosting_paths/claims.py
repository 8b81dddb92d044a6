"""The boosting chapter's claims: the claim table and one judging function per claim.

Criteria were fixed from the paper's figures and the authors' code before any run; every claim that can be judged
per data seed must hold on each of the ``n_seeds`` seeds. C2, C4 and C8 are asserted at scale ``book`` only, C5,
C7, C9 and C10 are measured and shown but not asserted (each claim's note gives the reason).
"""

from __future__ import annotations

import numpy as np

from lrlab.claims import ClaimSpec, ClaimTable, Scorecard, verdict_from_seeds
from lrlab.config import Config

from .convergence import rho_order_failures
from .designs import seeds
from .experiments import Results

_SRC = "Schulte & Rügamer 2025"
_CITE = "schulte2025boosting"

CLAIMS = ClaimTable("boosting_paths", (
    ClaimSpec(
        "C1", "Boosting with least-squares or ridge base learners converges to the OLS solution, not to the ridge "
        "solution.",
        paper="Fig. 7 (componentwise LS and ridge learners, λ = 100, ν = 0.3, 1000 iterations); Fig. 1 (joint ridge "
        "learners end at OLS)",
        criterion="every seed ({n_seeds}): ‖β^[m] − β_OLS‖ < 1e-8 at the last iteration for LS, ridge and every "
        "joint learner with λ ≤ 1000; the ridge-boosting path stays > 0.03 ‖β_ridge − β_OLS‖ from β_ridge",
        source=f"{_SRC}, §3.5", cite=_CITE,
    ),
    ClaimSpec(
        "C2", "The boosting path of a joint ridge learner is not the ridge regularization path.",
        paper="Fig. 1 ('ridge crossing': BAM paths for 48 λ against the glmnet ridge path)",
        criterion="every seed ({n_seeds}) and every λ ≤ 1000: max_m dist(β^[m], ridge path) > 0.02 ‖β_OLS‖",
        source=f"{_SRC}, §3.5", cite=_CITE, expected={"book": "reproduced"},
        note="Asserted at scale book only. The paper grid of 48 penalties includes λ ≈ 100–1000, where the path "
        "crosses the ridge path and its largest distance from it falls to about 0.012 ‖β_OLS‖ on some seeds, below "
        "the 0.02 fixed in advance; the claim is reported as it comes out there.",
    ),
    ClaimSpec(
        "C3", "P-spline boosting passes the P-spline fit and converges to the unpenalized B-spline fit.",
        paper="Fig. 8 (bbs, 5 knots, λ = 10, ν = 0.1; iterations 1, 10, 30, 60, 50 000)",
        criterion="every seed ({n_seeds}), relative to ‖f_B − f_P‖: at m = {spline_m} ‖f − f_B‖ < 0.01 and "
        "‖f − f_P‖ > 0.95; min_m ‖f − f_P‖ > 0.1",
        source=f"{_SRC}, §3.5", cite=_CITE,
    ),
    ClaimSpec(
        "C4", "Componentwise L2 boosting converges linearly, at a rate bounded by 1 − ν(2 − ν)λ_min(R)/p, more "
        "slowly the worse the conditioning.",
        paper="Fig. 6 (p = 2, ν = 0.1, ρ ∈ [0, 0.75]: loss gap linear on a log scale, slope set by κ(XᵀX)); linear "
        "convergence theorem",
        criterion="every seed ({n_seeds}) and ρ: measured contraction over m ∈ {window} ≤ bound + 1e-3; iterations "
        "to a 1e-8 relative gap non-decreasing in κ and larger at the largest κ than at the smallest",
        source=f"{_SRC}, §3.4", cite=_CITE, expected={"book": "reproduced"},
        note="Asserted at scale book only. On the paper's grid of 31 correlations 0.025 apart, neighbouring "
        "condition numbers differ by less than the run-to-run noise of the iteration count (±10 iterations), so "
        "'non-decreasing in κ' fails there although the trend and the bound hold.",
    ),
    ClaimSpec(
        "C5", "The rate degrades as the number of learners grows towards n and as the correlation grows.",
        paper="Fig. 3 (n = 200, p = 1…600, ρ = 0…0.9: λ_pmin(Q) and γ = 1 − λ_pmin/p against p)",
        criterion="every seed ({n_seeds}): 1 − γ strictly decreasing in p for p < n; its minimum over p at "
        "0.75n ≤ p ≤ 1.25n; smaller at the largest ρ than at the smallest for every p ≥ 2; measured contraction "
        "≤ bound for every p in rate_learners and larger at the largest p than at the smallest",
        source=f"{_SRC}, §3.4 (Fig. 3 analogue)", cite=_CITE, expected={},
        note="Not asserted: at p = n − 1 the standardized design is square and λ_pmin ≈ 1e-8 for every ρ, so the "
        "ordering in ρ there is decided by noise; the criterion ('every p ≥ 2') was fixed before the run and is "
        "kept, so the claim is reported as it came out.",
    ),
    ClaimSpec(
        "C6", "Penalized base learners in an additive model drift to the unpenalized fit and away from the "
        "penalized one.",
        paper="pathology of §3.5 / Figs. 2, 4, 8, 9 ('fails to acknowledge penalizations from prior iterations')",
        criterion="every seed ({n_seeds}), relative to ‖f_unpen − f_pen‖: ‖f − f_unpen‖ strictly decreasing over "
        "the checkpoints {checkpoints}; ‖f − f_pen‖ > 0.9 from m = 1000 on",
        source=f"{_SRC}, §3.5; the additive example is derived in this chapter", cite=_CITE,
    ),
    ClaimSpec(
        "C7", "Run long, the additive model also loses its sparsity: a pure-noise covariate takes a growing share "
        "of the selections.",
        paper="none directly (an illustration of the §3.5 pathology derived in this chapter)",
        criterion="every seed ({n_seeds}): the noise covariate's share of the iterations 1..m selecting it > 20 % at "
        "m = 1000 and larger at the last checkpoint than at the first",
        source="derived in this chapter", expected={},
        note="Not asserted: a single exploratory draw gave 31 % at m = 1000 and 53 % at m = 100 000; across our "
        "seeds the share varies widely and does not always grow. C6 and C7 were fixed as one compound criterion "
        "and split after the first book run; no threshold changed.",
    ),
    ClaimSpec(
        "C8", "Poisson boosting with a fixed step converges below a data-dependent critical step ν* and oscillates "
        "or diverges above it.",
        paper="Figs. 5 and 12 (ν ∈ {{0.02, …, 0.07}}, 1000 iterations; β₁ over iterations 990–1000)",
        criterion="every seed ({n_seeds}): with ν* = min_j 2 x_jᵀx_j / x_jᵀŴx_j, every ν ≤ 0.95 ν* reaches a loss "
        "gap < 1e-6 at m = {glm_m}; every ν > ν* diverges, or ends with gap > 1 or a β range > 1e-2 over the last "
        "10 iterations",
        source=f"{_SRC}, §3.5", cite=_CITE, expected={"book": "reproduced"},
        note="Asserted at scale book only. With the paper's coefficients (3, −2), ν* falls to about 1e-3 on some "
        "seeds, so ν*/8 cannot converge within the paper's 1000 iterations; and with two learners a run above ν* "
        "can still converge (ν* guarantees local descent, it does not forbid convergence above it).",
    ),
    ClaimSpec(
        "C9", "Binomial (logistic) boosting converges for every step of the grid, slowly for small ν.",
        paper="Figs. 5 and 10 (n = 200, ν ∈ {{0.02, …, 0.07}}, 15 000 iterations)",
        criterion="every seed ({n_seeds}) and every ν ∈ {binom_grid}: loss gap < 1e-3 at m = {binom_m}",
        source=f"{_SRC}, §3.5", cite=_CITE, expected={},
        note="Not asserted: the threshold 1e-3 at 15 000 iterations came from a single exploratory draw (gap "
        "1.9e-4 at ν = 0.02); on our draws the smallest step is slower. The loss still falls steadily and no run "
        "oscillates (see the figure), so the contrast with Poisson stands, but the finite-budget criterion fails "
        "and is reported as such.",
    ),
    ClaimSpec(
        "C10", "Background (not this paper's claim): boosting with small ν tracks the lasso path when the lasso "
        "paths are monotone, and departs from it on the diabetes data.",
        paper="none: Efron et al. 2004; Hastie et al. 2007 (forward stagewise = monotone lasso)",
        criterion="designs with a monotone lasso path: max relative deviation < ν for every ν; diabetes (not "
        "monotone): deviation at the smallest ν > 0.03 and > 0.5 × the deviation at the largest ν, yet < ν down "
        "to α/α_max = 0.05",
        source="background", cite="efron2004lars,hastie2007monotonelasso", expected={},
    ),
))


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def c1(card: Scorecard, cfg: Config, res: Results) -> None:
    """C1: every path (LS, ridge, joint ridge with λ ≤ 1000) ends at OLS; ridge boosting never nears β_ridge."""
    ridge, cross = res.ridge.summary, res.crossing.summary
    small = cross[cross.lam <= 1000]
    holds = []
    for s in seeds(cfg):
        r = ridge[ridge.seed == s].iloc[0]
        c = small[small.seed == s]
        holds.append(bool(r.ls_end_to_ols < 1e-8 and r.rb_end_to_ols < 1e-8 and r.rb_min_to_ridge > 0.03
                          and (c.end_to_ols < 1e-8).all()))
    card.record(
        "C1",
        value={"ls_end_to_ols": ridge.ls_end_to_ols.max(), "ridge_end_to_ols": ridge.rb_end_to_ols.max(),
               "min_to_ridge_rel": ridge.rb_min_to_ridge.min(), "joint_end_to_ols": small.end_to_ols.max()},
        measured=(f"max over seeds ‖β^[{cfg.ridge_m}] − β_OLS‖: LS {_fmt(ridge.ls_end_to_ols.max())}, ridge "
                  f"{_fmt(ridge.rb_end_to_ols.max())}; joint ridge learners (λ ≤ 1000) at m = {cfg.cross_m}: "
                  f"{_fmt(small.end_to_ols.max())}; closest approach to the ridge solution "
                  f"{ridge.rb_min_to_ridge.min():.2f} × ‖β_ridge − β_OLS‖ (min over seeds)"),
        verdict=verdict_from_seeds(holds),
    )


def c2(card: Scorecard, cfg: Config, res: Results) -> None:
    """C2: for every λ ≤ 1000 the path strays more than 0.02 ‖β_OLS‖ from the ridge path."""
    cross = res.crossing.summary
    small = cross[cross.lam <= 1000]
    holds = [bool((small[small.seed == s].max_to_ridge_path > 0.02).all()) for s in seeds(cfg)]
    crossed = cross[cross.crossings > 0]
    card.record(
        "C2", value={"min_max_dist": small.max_to_ridge_path.min(), "max_max_dist": small.max_to_ridge_path.max()},
        measured=(f"max distance to the ridge path {small.max_to_ridge_path.min():.3f}–"
                  f"{small.max_to_ridge_path.max():.3f} × ‖β_OLS‖ over λ ≤ 1000 and seeds; "
                  f"{len(crossed)} of {len(cross)} (λ, seed) paths cross the ridge path"),
        verdict=verdict_from_seeds(holds),
    )


def c3(card: Scorecard, cfg: Config, res: Results) -> None:
    """C3: the P-spline path ends at f_B, far from f_P, after passing f_P at a distance."""
    sp = res.spline.summary
    holds = [bool(r.end_to_unpen < 0.01 and r.end_to_pen > 0.95 and r.min_to_pen > 0.1) for r in sp.itertuples()]
    card.record(
        "C3", value={"end_to_unpen": sp.end_to_unpen.max(), "end_to_pen": sp.end_to_pen.min(),
                     "min_to_pen": sp.min_to_pen.min()},
        measured=(f"at m = {cfg.spline_m}: ‖f − f_B‖ ≤ {_fmt(sp.end_to_unpen.max())}, ‖f − f_P‖ ≥ "
                  f"{sp.end_to_pen.min():.3f}; closest approach to f_P {sp.min_to_pen.min():.2f} "
                  f"(at m ≈ {int(sp.argmin_to_pen.median())})"),
        verdict=verdict_from_seeds(holds),
    )


def c4(card: Scorecard, cfg: Config, res: Results) -> None:
    """C4: measured contraction within the bound; iterations to a 1e-8 gap grow with the condition number."""
    rt = res.rates.summary
    holds = []
    for s in seeds(cfg):
        r = rt[rt.seed == s].sort_values("kappa")
        it = r["iters_to_1e-8"].to_numpy()
        holds.append(bool((r.contraction <= r.bound + 1e-3).all() and np.all(it[1:] >= it[:-1])
                          and it[-1] > it[0]))  # compare, not subtract: inf >= inf holds
    slack = (rt.bound - rt.contraction).min()
    card.record(
        "C4", value={"min_bound_minus_measured": slack,
                     "worst_single_step_minus_bound": float((rt.worst_step - rt.bound).max())},
        measured=(f"bound − measured ≥ {slack:.2g} over all (seed, ρ); iterations to 1e-8: "
                  + ", ".join(f"ρ={k:g}: {v:.0f}" for k, v in rt.groupby("rho")["iters_to_1e-8"].median().items())
                  + " (median over seeds)"),
        verdict=verdict_from_seeds(holds), window=list(cfg.rate_window),
    )


def c5(card: Scorecard, cfg: Config, res: Results) -> None:
    """C5: the bound 1 − γ falls with p up to about n and with ρ; measured contraction stays within it."""
    b, meas = res.rate_p.paths, res.rate_p.summary
    holds, unordered = [], rho_order_failures(res.rate_p)
    for s in seeds(cfg):
        bs = b[b.seed == s]
        ok = True
        for _rho, g in bs.groupby("rho"):
            below = g[g.p < cfg.rate_n].sort_values("p")
            ok &= bool(np.all(np.diff(below.one_minus_gamma) < 0))
            p_min = int(g.loc[g.one_minus_gamma.idxmin(), "p"])
            ok &= 0.75 * cfg.rate_n <= p_min <= 1.25 * cfg.rate_n
        ok &= not any(seed == s for seed, _p in unordered)
        ms = meas[meas.seed == s]
        ok &= bool((ms.contraction <= ms.bound + 1e-12).all())
        for _rho, g in ms.groupby("rho"):
            g = g.sort_values("p")
            ok &= bool(g.contraction.iloc[-1] > g.contraction.iloc[0])
        holds.append(ok)
    dips = b.loc[b.groupby(["seed", "rho"]).one_minus_gamma.idxmin(), "p"]
    card.record(
        "C5", value={"dip_p": sorted(set(int(v) for v in dips)), "min_one_minus_gamma": b.one_minus_gamma.min(),
                     "rho_order_fails_at": unordered},
        measured=(f"1 − γ dips at p ∈ {sorted(set(int(v) for v in dips))} (n = {cfg.rate_n}); measured "
                  f"contraction {meas.contraction.min():.4f}–{meas.contraction.max():.4f}, bound "
                  f"{meas.bound.min():.5f}–{meas.bound.max():.5f}; the ρ ordering fails at (seed, p) "
                  f"{unordered or 'nowhere'}"),
        verdict=verdict_from_seeds(holds),
    )


def _additive_holds(cfg: Config, res: Results) -> tuple[list[bool], list[bool]]:
    """Per seed: the drift criterion of C6 and the noise-share criterion of C7."""
    ad = res.additive.summary
    drift, noise = [], []
    for s in seeds(cfg):
        a = ad[ad.seed == s].sort_values("m")
        late = a[a.m >= 1000]
        at1000 = a[a.m == 1000]
        drift.append(bool(np.all(np.diff(a.to_unpenalized) < 0) and len(late)
                          and (late.to_penalized > 0.9).all()))
        noise.append(bool(len(at1000) and at1000.share_x3.iloc[0] > 0.2
                          and a.share_x3.iloc[-1] > a.share_x3.iloc[0]))
    return drift, noise


def c6(card: Scorecard, cfg: Config, res: Results) -> None:
    """C6: the additive fit moves steadily towards f_unpen and stays far from f_pen from m = 1000 on."""
    ad = res.additive.summary
    drift, _ = _additive_holds(cfg, res)
    last = ad[ad.m == ad.m.max()]
    card.record(
        "C6", value={"to_unpen_last": last.to_unpenalized.max(), "to_pen_last": last.to_penalized.min()},
        measured=("‖f − f_unpen‖ (max over seeds) "
                  + ", ".join(f"{int(m)}: {v:.3f}" for m, v in ad.groupby("m").to_unpenalized.max().items())
                  + f"; ‖f − f_pen‖ ≥ {ad[ad.m >= 1000].to_penalized.min():.3f} from m = 1000 on"),
        verdict=verdict_from_seeds(drift), checkpoints=list(cfg.additive_checkpoints),
    )


def c7(card: Scorecard, cfg: Config, res: Results) -> None:
    """C7: the noise covariate's share of the selections exceeds 20 % by m = 1000 and keeps growing."""
    _, noise = _additive_holds(cfg, res)
    shares = res.additive.summary.pivot(index="m", columns="seed", values="share_x3")
    card.record(
        "C7", value={"share_x3": {int(m): row.tolist() for m, row in shares.iterrows()}},
        measured="noise share per seed: " + "; ".join(
            f"m={int(m)}: " + "/".join(f"{v:.0%}" for v in row) for m, row in shares.iterrows()),
        verdict=verdict_from_seeds(noise),
    )


def c8(card: Scorecard, cfg: Config, res: Results) -> None:
    """C8: Poisson runs converge for ν ≤ 0.95 ν* and diverge or oscillate for ν > ν*."""
    po = res.poisson.summary
    fac = po[po.grid == "factor"]
    conv = fac[fac.factor <= 0.95 + 1e-9]
    div = fac[fac.factor > 1.0]
    converged = (conv.status == "ok") & (conv.final_gap < 1e-6)
    failed = (div.status == "diverged") | (div.final_gap > 1) | (div.beta_range > 1e-2)
    holds = [bool(converged[conv.seed == s].all() and failed[div.seed == s].all()) for s in seeds(cfg)]
    card.record(
        "C8",
        value={"nu_star": fac.groupby("seed").nu_star.first().tolist(),
               "max_gap_below": conv.final_gap.max(), "status_above": div.status.tolist(),
               # every run of the ν/ν* grid, per seed (for the book's synthesis, lrlab.studies.synthesis)
               "by_factor": {f"{f:g}": {"status": g.status.tolist(), "final_gap": g.final_gap.tolist(),
                                        "beta_range": g.beta_range.tolist()}
                             for f, g in fac.sort_values("seed").groupby(fac.factor.round(6))}},
        measured=("ν* = " + ", ".join(f"{v:.3f}" for v in fac.groupby("seed").nu_star.first())
                  + f"; ν ≤ 0.95ν*: max gap {_fmt(conv.final_gap.max())} at m = {cfg.glm_m}; ν > ν*: "
                  + f"{int((div.status == 'diverged').sum())} of {len(div)} runs diverged, "
                  + f"{int(((div.status == 'ok') & failed).sum())} oscillate"
                  + (f" (β range {div[div.status == 'ok'].beta_range.min():.2g}–"
                     f"{div[div.status == 'ok'].beta_range.max():.2g})" if (div.status == "ok").any() else "")),
        verdict=verdict_from_seeds(holds),
    )


def c9(card: Scorecard, cfg: Config, res: Results) -> None:
    """C9: every binomial run ends with a loss gap below 1e-3."""
    bi = res.binomial.summary
    holds = [bool(((g.status == "ok") & (g.final_gap < 1e-3)).all()) for _, g in bi.groupby("seed")]
    by_nu = bi.groupby("nu").final_gap.max()
    card.record(
        "C9", value={"max_final_gap_by_nu": {float(k): float(v) for k, v in by_nu.items()},
                     "min_nu_star": bi.nu_star.min()},
        measured=("final gap (max over seeds) " + ", ".join(f"ν={k:g}: {_fmt(v)}" for k, v in by_nu.items())
                  + f"; every run status ok; ν* ≥ {bi.nu_star.min():.1f}, far above the grid"),
        verdict=verdict_from_seeds(holds), binom_grid=list(cfg.binom_nus),
    )


def c10(card: Scorecard, cfg: Config, res: Results) -> None:
    """C10 (background): small-ν boosting tracks monotone lasso paths and leaves the diabetes one."""
    la = res.lasso.summary
    mono = la[la.monotone & (la.design != "diabetes")]
    dia = la[la.design == "diabetes"].sort_values("nu")
    parts = [bool(len(mono)) and bool((mono.max_dev < mono.nu).all()),
             bool(len(dia)) and bool(dia.max_dev.iloc[0] > 0.03 and dia.max_dev.iloc[0] > 0.5 * dia.max_dev.iloc[-1]
                                     and dia["max_dev_to_0.05"].iloc[0] < dia.nu.iloc[0]
                                     and not dia.monotone.iloc[0])]
    card.record(
        "C10",
        value={"monotone_designs": sorted(set(mono.design)), "monotone_max_dev_over_nu":
               float((mono.max_dev / mono.nu).max()) if len(mono) else None,
               "diabetes_dev": dia.max_dev.tolist()},
        measured=("monotone designs: max deviation/ν = "
                  + (f"{(mono.max_dev / mono.nu).max():.2f}" if len(mono) else "n/a")
                  + f" ({', '.join(sorted(set(mono.design)))}); diabetes: "
                  + ", ".join(f"ν={r.nu:g}: {r.max_dev:.3f}" for r in dia.itertuples())),
        verdict=("reproduced" if all(parts) else "partial" if any(parts) else "not reproduced"),
    )


def scorecard(cfg: Config, res: Results) -> Scorecard:
    """The chapter's claims C1–C10, judged on every experiment of the run."""
    card = CLAIMS.scorecard(cfg)
    for judge in (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10):
        judge(card, cfg, res)
    return card
