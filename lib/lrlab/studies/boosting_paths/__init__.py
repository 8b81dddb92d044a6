"""Additive model boosting: paths and pathologies (Schulte & Rügamer 2025, AISTATS).

Chapter ``chapters/boosting_paths.ipynb``. Componentwise L2 and GLM boosting with linear, ridge and P-spline base
learners (:mod:`lrlab.boosting`), on the authors' simulation designs read from their code
(``rickmer-schulte/Pathologies_BAMs``) at reduced scale. Every claim about a penalty is measured on the boosting loop
against a prediction computed from the closed forms alone (:mod:`lrlab.studies.boosting_paths.exact`):

- paths against penalized paths: ridge learners reach OLS and pass the ridge solution where the closed form says
  (Figs. 7 and 1), the joint ridge learner's path crosses the ridge path exactly once for λ > 0 (Fig. 1), the
  penalty sets the speed, P-spline boosting passes near the P-spline fit on its way to the B-spline fit (Fig. 8),
  and paths at different ν meet the flow ``I − e^{−tS}`` as ν → 0 (derived in this chapter);
- the linear convergence bound ``γ = 1 − ν(2 − ν)λ_pmin(R)/p`` per iteration against conditioning (Fig. 6) and the
  number of learners up to ``p ≈ n`` (Fig. 3);
- the penalized-learner pathology in an additive model (derived in this chapter), and selection with unequal
  degrees of freedom (background, Hofner et al. 2011);
- the Poisson step-size pathology in the paper's setting (Figs. 5, 12), with a critical step at the optimum and one
  along the path (derived in this chapter), and the binomial contrast (Figs. 5, 10);
- background, not the paper's claim: small-ν boosting against scikit-learn's lasso path.

The R seeds of the paper cannot be reproduced in numpy, so every design is drawn from our own seeds; the chapter
says so. The package:

- :mod:`lrlab.studies.boosting_paths.designs`: the designs, the data seeds, what an experiment returns;
- :mod:`lrlab.studies.boosting_paths.exact`: the closed-form predictions (nothing there calls the boosting loop);
- :mod:`lrlab.studies.boosting_paths.experiments`: the paths and the additive model, and
  :class:`~lrlab.studies.boosting_paths.experiments.Results`, every experiment of a run;
- :mod:`lrlab.studies.boosting_paths.limits`: the small-step limit and selection with unequal df;
- :mod:`lrlab.studies.boosting_paths.convergence`: the rate against conditioning and the number of learners;
- :mod:`lrlab.studies.boosting_paths.glm`: the Poisson and binomial runs;
- :mod:`lrlab.studies.boosting_paths.background`: boosting against the lasso;
- :mod:`lrlab.studies.boosting_paths.claims`: the claim table and the scorecard; ``ledger``: every change to it;
- :mod:`lrlab.studies.boosting_paths.mutants`: the faults the claims must catch;
- :mod:`lrlab.studies.boosting_paths.figures`: the figures.
"""

from __future__ import annotations

import numpy as np

from lrlab.config import Param, Spec

from . import figures
from .background import lasso, lasso_designs
from .claims import CLAIMS, scorecard
from .convergence import rate_vs_p, rates, rho_order_failures
from .designs import Experiment, seeds
from .experiments import Results, additive, pspline_path, ridge_boosting, ridge_crossing, run_all
from .glm import binomial, poisson
from .limits import selection, small_step
from .mutants import MUTANTS

__all__ = [
    "CLAIMS", "MUTANTS", "SPEC", "TITLE", "Experiment", "Results", "additive", "binomial", "figures", "lasso",
    "lasso_designs", "poisson", "pspline_path", "rate_vs_p", "rates", "rho_order_failures", "ridge_boosting",
    "ridge_crossing", "run_all", "scorecard", "seeds", "selection", "small_step",
]

TITLE = "Additive model boosting: paths and pathologies"
SCALES = ("quick", "book", "paper")


def _same(value):
    return dict.fromkeys(SCALES, value)


def _window_fits(values: dict) -> None:
    lo, hi = values["rate_window"]
    if not lo < hi <= values["rate_m"]:
        raise ValueError(
            f"parameter 'rate_window' = {list(values['rate_window'])!r} is not allowed: it must be two iterations "
            f"[lo, hi] with lo < hi <= rate_m ({values['rate_m']})"
        )


def _pairs(values: dict) -> None:
    for name in ("ridge_beta", "cross_beta", "rate_beta", "glm_beta", "binom_beta"):
        if len(values[name]) != 2:
            raise ValueError(
                f"parameter {name!r} = {list(values[name])!r} is not allowed: it must be two coefficients (p = 2)"
            )


def _flow_grid(values: dict) -> None:
    nus = sorted(values["flow_nus"], reverse=True)
    ratios = [nus[0] / v for v in nus]
    if len(set(nus)) != len(nus) or any(abs(r - round(r)) > 1e-9 * r for r in ratios) or values["flow_t"] < nus[0]:
        raise ValueError(
            f"parameter 'flow_nus' = {list(values['flow_nus'])!r} is not allowed: the steps must be distinct, the "
            f"largest a whole multiple of each (so every path has an iterate at each t), and flow_t >= the largest"
        )


def _sorted_unique(values: dict) -> None:
    for name in ("additive_checkpoints", "rate_ps", "rate_learners"):
        v = values[name]
        if list(v) != sorted(set(v)):
            raise ValueError(f"parameter {name!r} = {list(v)!r} is not allowed: it must be increasing, no repeats")
    if max(values["rate_ps"]) > 5 * values["rate_n"] or max(values["rate_learners"]) > values["rate_n"]:
        raise ValueError(
            f"parameter 'rate_ps' or 'rate_learners' is not allowed: rate_ps must stay <= 5 * rate_n and "
            f"rate_learners <= rate_n ({values['rate_n']})"
        )


PAPER_LAMS = (0.0, *[float(v) for v in np.round(10 ** np.linspace(0, 4, 47), 6)])

SPEC = Spec(
    "boosting_paths",
    (
        Param("n_seeds", "int", {"quick": 2, "book": 3, "paper": 5},
              "data seeds per experiment (seed, seed+1, …); verdicts must hold for every one", low=1, high=100),
        # paths: ridge learners (Fig. 7)
        Param("ridge_n", "int", _same(200), "observations, Fig. 7 design", low=10, high=100_000),
        Param("ridge_rho", "float", _same(-0.6), "correlation of the two covariates (Fig. 7: -0.6)",
              low=-0.99, high=0.99),
        Param("ridge_beta", "floats", _same((5.0, 3.0)), "true coefficients (Fig. 7: 5, 3)", low=-1e3, high=1e3),
        Param("ridge_lam", "float", _same(100.0), "penalty λ of the ridge learners (Fig. 7: 100)", low=0.0,
              high=1e8),
        Param("ridge_nu", "float", _same(0.3), "step ν (Fig. 7: 0.3)", low=0.0, low_open=True, high=1.0),
        Param("ridge_m", "int", {"quick": 300, "book": 1000, "paper": 1000}, "iterations (Fig. 7: 1000)",
              low=1, high=10**6),
        # paths: the ridge crossing (Fig. 1)
        Param("cross_n", "int", _same(100), "observations, Fig. 1 design", low=10, high=100_000),
        Param("cross_rho", "float", _same(0.7), "ρ in X2 ← ρ X1 + sqrt(1 - ρ²) Z (Fig. 1: 0.7)", low=-0.99, high=0.99),
        Param("cross_beta", "floats", _same((3.0, -2.0)), "true coefficients (Fig. 1: 3, -2)", low=-1e3, high=1e3),
        Param("cross_lams", "floats",
              {"quick": (0.0, 10.0, 100.0, 1000.0), "book": (0.0, 1.0, 10.0, 100.0, 1000.0, 10000.0),
               "paper": PAPER_LAMS},
              "penalties λ of the joint ridge learner (Fig. 1: 0 and 47 values 10^0..10^4)", low=0.0, high=1e8,
              distinct=True),
        Param("cross_nu", "float", _same(0.1), "step ν (Fig. 1 plots 0.1)", low=0.0, low_open=True, high=1.0),
        Param("cross_m", "int", {"quick": 2000, "book": 10_000, "paper": 10_000}, "iterations (Fig. 1: 10 000)",
              low=1, high=10**7),
        Param("speed_eps", "float", _same(1e-6), "distance to OLS, relative to ‖β_OLS‖, whose iteration count is "
              "compared with 1/(ν s_min)", low=1e-12, high=0.1),
        # the small-step limit (derived in this chapter)
        Param("flow_lam", "float", _same(100.0), "penalty λ of the joint ridge learner run at several steps",
              low=0.0, high=1e8),
        Param("flow_nus", "floats", {"quick": (0.2, 0.1, 0.05), "book": (0.2, 0.1, 0.05, 0.025, 0.0125),
                                     "paper": (0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625)},
              "steps ν compared at equal νm (each the largest divided by a whole number)", low=1e-3, high=0.5,
              distinct=True),
        Param("flow_t", "float", _same(40.0), "largest time νm compared with the flow", low=0.0, low_open=True,
              high=1000.0),
        # paths: P-splines (Fig. 8)
        Param("spline_n", "int", _same(100), "equispaced points on [0, 1.5] (Fig. 8: 100)", low=20, high=100_000),
        Param("spline_knots", "int", _same(5), "interior knots of the cubic B-splines (Fig. 8: 5)", low=1, high=200),
        Param("spline_lam", "float", _same(10.0), "penalty λ of the P-spline learner (Fig. 8: 10)",
              low=0.0, low_open=True, high=1e8),
        Param("spline_nu", "float", _same(0.1), "step ν (Fig. 8: 0.1)", low=0.0, low_open=True, high=1.0),
        Param("spline_m", "int", {"quick": 5000, "book": 50_000, "paper": 50_000}, "iterations (Fig. 8: 50 000)",
              low=60, high=10**8),
        # convergence rate against conditioning (Fig. 6)
        Param("rate_n", "int", _same(200), "observations (Figs. 3 and 6: 200)", low=10, high=100_000),
        Param("rate_rhos", "floats",
              {"quick": (0.0, 0.5, 0.9), "book": (0.0, 0.25, 0.5, 0.75, 0.9, 0.99),
               "paper": tuple(round(0.025 * i, 3) for i in range(31))},
              "correlations of the two covariates (Fig. 6: 0, 0.025, …, 0.75)", low=-0.999, high=0.999, distinct=True),
        Param("rate_beta", "floats", _same((15.0, -8.0)), "true coefficients (Fig. 6: 15, -8)", low=-1e3, high=1e3),
        Param("rate_nu", "float", _same(0.1), "step ν (Fig. 6: 0.1)", low=0.0, low_open=True, high=1.0),
        Param("rate_m", "int", {"quick": 600, "book": 1200, "paper": 1200},
              "iterations (Fig. 6: 1000, reference at 1200)", low=10, high=10**6),
        Param("rate_window", "ints", _same((50, 400)), "iterations [lo, hi] over which the contraction is measured",
              low=0, high=10**6),
        # rate against the number of learners (Fig. 3)
        Param("rate_ps", "ints",
              {"quick": (2, 5, 10, 20, 50, 100, 150, 190, 199, 210, 300),
               "book": (2, 5, 10, 20, 50, 100, 150, 180, 190, 195, 199, 205, 220, 250, 300, 400, 500, 600),
               "paper": tuple(range(1, 601))},
              "numbers of covariates p for the bound 1 - γ (Fig. 3: 1..600)", low=1, high=10**5, distinct=True),
        Param("rate_p_rhos", "floats",
              {"quick": (0.0, 0.9), "book": (0.0, 0.5, 0.9), "paper": tuple(round(0.1 * i, 1) for i in range(10))},
              "equicorrelations for Fig. 3 (0, 0.1, …, 0.9)", low=0.0, high=0.99, distinct=True),
        Param("rate_learners", "ints", {"quick": (2, 10, 50, 150), "book": (2, 10, 50, 100, 150, 199),
                                        "paper": (2, 5, 10, 20, 50, 100, 150, 190, 199)},
              "numbers of learners whose rate is measured by boosting (up to p ≈ n)", low=2, high=10**5, distinct=True),
        # the penalized-learner pathology in an additive model (derived in this chapter)
        Param("additive_n", "int", _same(200), "observations of the additive model", low=20, high=100_000),
        Param("additive_knots", "int", _same(8), "interior knots of each P-spline learner", low=1, high=200),
        Param("additive_df", "float", _same(4.0), "degrees of freedom of each learner, tr(2S - SᵀS) (mboost: 4)",
              low=2.0, low_open=True, high=100.0),
        Param("additive_nu", "float", _same(0.1), "step ν", low=0.0, low_open=True, high=1.0),
        Param("additive_checkpoints", "ints",
              {"quick": (100, 1000, 5000), "book": (100, 1000, 10_000, 100_000),
               "paper": (100, 1000, 10_000, 100_000)},
              "iterations at which the fit is compared (the last one is mstop)", low=1, high=10**7, distinct=True),
        # GLM step size (Figs. 5, 10, 12)
        Param("glm_n", "int", _same(100), "observations, Poisson (Fig. 5: 100)", low=10, high=100_000),
        Param("glm_rho", "float", _same(0.5), "correlation of the two covariates (Fig. 5: 0.5)", low=-0.99,
              high=0.99),
        Param("glm_beta", "floats", _same((3.0, -2.0)), "Poisson coefficients (Fig. 5: 3, -2)", low=-20.0, high=20.0),
        Param("glm_factors", "floats", _same((0.8, 0.95, 1.25, 2.5)),
              "steps ν as multiples of the critical ν* computed from the data (shown)", low=0.0, low_open=True,
              high=100.0, distinct=True),
        Param("glm_nus", "floats", _same((0.02, 0.03, 0.04, 0.05, 0.06, 0.07)),
              "the paper's step grid (Fig. 5), on which C8 is judged", low=0.0, low_open=True, high=100.0,
              distinct=True),
        Param("glm_m", "int", _same(1000), "iterations (Fig. 5: 1000)", low=20, high=10**6),
        Param("binom_n", "int", _same(200), "observations, binomial (Fig. 5: 200)", low=10, high=100_000),
        Param("binom_beta", "floats", _same((3.0, -2.0)), "binomial coefficients (Fig. 5: 3, -2)", low=-20.0,
              high=20.0),
        Param("binom_nus", "floats", {"quick": (0.07, 1.0), "book": (0.02, 0.07, 1.0),
                                      "paper": (0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 1.0)},
              "binomial steps ν (Fig. 5: 0.02, …, 0.07)", low=0.0, low_open=True, high=100.0, distinct=True),
        Param("binom_m", "int", {"quick": 2000, "book": 15_000, "paper": 15_000}, "iterations (Fig. 5: 15 000)",
              low=100, high=10**6),
        # background: selection with unequal degrees of freedom (Hofner et al. 2011)
        Param("select_n", "int", _same(100), "observations of the selection experiment", low=20, high=100_000),
        Param("select_reps", "int", {"quick": 200, "book": 300, "paper": 2000},
              "pure-noise responses per seed and pair of learners", low=10, high=10**6),
        Param("select_knots", "int", _same(20), "interior knots of the spline learner (mboost: 20)", low=4, high=200),
        Param("select_df", "float", _same(4.0), "df of the spline learner in the unequal pair (mboost: 4)",
              low=2.5, high=20.0),
        # background: the lasso (not the paper's claim)
        Param("lasso_nus", "floats", {"quick": (0.05, 0.01), "book": (0.01, 0.002), "paper": (0.1, 0.01, 0.001)},
              "steps ν compared with the lasso path", low=0.0, low_open=True, high=1.0, distinct=True),
        Param("lasso_alpha_min", "float", _same(0.01), "compare down to this fraction of α_max", low=1e-4, high=0.5),
        Param("lasso_max_iter", "int", _same(2_000_000), "iteration cap per lasso comparison", low=100,
              high=10**8),
    ),
    checks=(_window_fits, _pairs, _sorted_unique, _flow_grid),
)
