"""The neural tangent kernel at the edge of stability (Jiang, Cohen & Li 2025, on Cohen et al. 2021).

Chapter ``chapters/eos_ntk.ipynb``. Full-batch gradient descent with the loss convention of Cohen et al.'s code,
L(θ) = (1/2n) Σ_i ‖f(x_i; θ) − y_i‖² (``src/utilities.py``, ``mse``; :func:`lrlab.models.half_mse`), in three
settings: Cohen's fc-tanh on standardised scikit-learn digits with a ±1 parity target, fc-relu on the same data,
and fc-tanh on a ten-class one-hot target (:func:`lrlab.models.mlp`). For each η of a grid, GD runs from the same
initialisation until the training loss first reaches ``loss_goal`` (Jiang et al.'s Figure 1 protocol as described
by others: "each learning rate was trained until reaching roughly the same loss value"). Along the way we track
the sharpness (Cohen et al.'s Figure 1); at the start and the end we compute the empirical NTK, its kernel-target
alignment (KTA) and the alignment A_k of its top-k eigenvectors with the target. Runs that reach the edge of
stability (EoS) by progressive sharpening are compared with runs that stay below it, seed by seed; for the rates
from ``trace_lr`` up we follow sharpness and A_k every few steps through the EoS phase. A bias-free two-layer
linear network on a linear teacher is the paper's theoretical setting; the catapult side is an η whose 2/η lies
below the initial sharpness (Lewkowycz et al. 2020).

- :mod:`lrlab.studies.eos_ntk.experiments`: the data and settings, one GD run
  (:func:`~lrlab.studies.eos_ntk.experiments.gd_run`), the grids, the two-layer linear network;
- :mod:`lrlab.studies.eos_ntk.analysis`: the tidy tables the chapter shows and the claims read (regimes, effects with
  bootstrap intervals over seeds, trace changes, the NTK's top eigenvalue);
- :mod:`lrlab.studies.eos_ntk.claims`: the claim table ``CLAIMS`` and :func:`~lrlab.studies.eos_ntk.claims.scorecard`;
  :mod:`lrlab.studies.eos_ntk.ledger`: its history;
- :mod:`lrlab.studies.eos_ntk.mutants`: the faults the audit applies;
- :mod:`lrlab.studies.eos_ntk.figures`: the chapter's figures (``fig_*``).
"""

from __future__ import annotations

from lrlab.config import Param, Spec

from . import figures
from .analysis import (
    bootstrap_mean,
    catapult_table,
    classified,
    cost_table,
    edge_effect,
    edge_table,
    effect_summary,
    effects,
    ntk_edge,
    trace_changes,
)
from .claims import CLAIMS, scorecard
from .experiments import (
    BAND,
    CLASSES,
    DIVERGED_LOSS,
    LINEAR_SHARP_DT,
    Data,
    Results,
    RunResult,
    Setting,
    Trace,
    gd_run,
    linear_ntk,
    linear_teacher,
    load_data,
    load_multiclass,
    onehot_target,
    parity_target,
    run,
    run_grid,
    run_linear,
    run_setting,
    settings,
    sharp_every,
)
from .mutants import MUTANTS

__all__ = [
    "BAND", "CLAIMS", "CLASSES", "DIVERGED_LOSS", "LINEAR_SHARP_DT", "MUTANTS", "SPEC", "TITLE", "Data", "Results",
    "RunResult", "Setting", "Trace", "bootstrap_mean", "catapult_table", "classified", "cost_table", "edge_effect",
    "edge_table", "effect_summary", "effects", "figures", "gd_run", "linear_ntk", "linear_teacher", "load_data",
    "load_multiclass", "ntk_edge", "onehot_target", "parity_target", "run", "run_grid", "run_linear", "run_setting",
    "scorecard", "settings", "sharp_every", "trace_changes",
]

TITLE = "The neural tangent kernel at the edge of stability"

_ALL = ("quick", "book", "paper")


def _same(value):
    return dict.fromkeys(_ALL, value)


def _checks(values: dict) -> None:
    if values["trace_lr"] not in values["lrs"]:
        raise ValueError(
            f"parameter 'trace_lr' = {values['trace_lr']!r} is not allowed: it must be one of lrs {values['lrs']}"
        )
    if values["trace_every"] % 2:
        raise ValueError(
            f"parameter 'trace_every' = {values['trace_every']!r} is not allowed: it must be an even integer "
            "(EoS oscillates with period 2; an odd stride aliases that oscillation into the changes)"
        )
    for name in ("ntk_n", "trace_n"):
        if values[name] > values["n"]:
            raise ValueError(f"parameter {name!r} = {values[name]!r} is not allowed: it must be <= n ({values['n']})")
    if values["dataset"] == "digits" and values["n"] > 1797:
        raise ValueError(f"parameter 'n' = {values['n']!r} is not allowed: digits has 1797 examples (n <= 1797)")
    if values["top_k"] > min(values["ntk_n"], values["trace_n"]):
        raise ValueError(f"parameter 'top_k' = {values['top_k']!r} is not allowed: it must be <= ntk_n and <= trace_n")
    if values["multiclass"]:
        if values["multi_ntk_n"] > values["multi_n"]:
            raise ValueError(f"parameter 'multi_ntk_n' = {values['multi_ntk_n']!r} is not allowed: it must be <= "
                             f"multi_n ({values['multi_n']})")
        if values["top_k"] > values["multi_ntk_n"]:
            raise ValueError(f"parameter 'top_k' = {values['top_k']!r} is not allowed: it must be <= multi_ntk_n "
                             f"({values['multi_ntk_n']}) when multiclass is on")
    if values["linear_top_k"] > values["linear_d"]:
        raise ValueError(
            f"parameter 'linear_top_k' = {values['linear_top_k']!r} is not allowed: it must be <= linear_d "
            f"({values['linear_d']}), the rank of the linear network's NTK"
        )


SPEC = Spec(
    "eos_ntk",
    (
        Param("dataset", "str", {"quick": "digits", "book": "digits", "paper": "cifar10-5k"},
              "digits (sklearn, ±1 parity target) or cifar10-5k (Cohen's 5000 CIFAR-10 images, one-hot)",
              choices=("digits", "cifar10-5k")),
        Param("n", "int", {"quick": 250, "book": 500, "paper": 5000}, "training examples (the first n)", low=2,
              high=50_000),
        Param("widths", "ints", {"quick": (100, 100), "book": (100, 100), "paper": (200, 200)},
              "hidden widths of the MLPs (Cohen's fc-tanh and fc-relu: 200, 200)", low=1, high=4096),
        Param("lrs", "floats", {"quick": (0.05, 0.4, 0.8), "book": (0.05, 0.1, 0.2, 0.4, 0.8),
                                "paper": (0.005, 0.01, 0.02, 0.04, 0.08)},
              "the tanh MLP's learning-rate grid η, below the edge to the catapult side", low=0.0, low_open=True,
              high=100.0, distinct=True),
        Param("n_seeds", "int", {"quick": 1, "book": 3, "paper": 3}, "initialisations per η (seed, seed+1, …)",
              low=1, high=64),
        Param("loss_goal", "float", {"quick": 0.02, "book": 0.01, "paper": 0.01},
              "the matched training loss (½·MSE) at which every run stops", low=0.0, low_open=True),
        Param("max_steps", "int", {"quick": 3000, "book": 20_000, "paper": 200_000},
              "give up after this many steps (status 'max_steps')", low=1),
        Param("sharp_dt", "float", {"quick": 10.0, "book": 10.0, "paper": 5.0},
              "gradient-flow time η·t between sharpness measurements (every 2⌈sharp_dt/2η⌉ steps: even)", low=0.0,
              low_open=True),
        Param("lanczos_tol", "float", _same(1e-3), "relative accuracy of the Lanczos eigenvalue", low=0.0),
        Param("top_k", "int", _same(10), "k of the top-k eigenvector alignment A_k, per output", low=1),
        Param("catapult_steps", "int", {"quick": 15, "book": 30, "paper": 30},
              "catapult side (2/η below the initial sharpness): sharpness at each of the first steps",
              low=0, high=10_000),
        Param("ntk_n", "int", {"quick": 250, "book": 500, "paper": 500},
              "examples of the NTK at init and at the end (the first ntk_n)", low=2),
        Param("trace_lr", "float", {"quick": 0.4, "book": 0.2, "paper": 0.02},
              "the smallest η whose EoS phase is followed step by step (C4): it and every larger η of lrs that "
              "reaches the edge by sharpening", low=0.0, low_open=True),
        Param("trace_every", "int", _same(4), "steps between trace points (even)", low=2),
        Param("trace_steps", "int", {"quick": 60, "book": 240, "paper": 2000},
              "trace length in steps, from the first sharpness measurement at the edge", low=2),
        Param("trace_n", "int", {"quick": 100, "book": 250, "paper": 200},
              "examples of the NTK along the trace (a fixed subset)", low=2),
        Param("relu", "bool", _same(True), "also train the ReLU MLP (Cohen's fc-relu) on the same data", ),
        Param("relu_lrs", "floats", {"quick": (0.05, 0.4), "book": (0.05, 0.1, 0.3, 0.5),
                                     "paper": (0.005, 0.01, 0.02, 0.04, 0.08)},
              "the ReLU MLP's learning-rate grid η", low=0.0, low_open=True, high=100.0, distinct=True),
        Param("multiclass", "bool", {"quick": True, "book": True, "paper": False},
              "also train the tanh MLP on a ten-class one-hot digits target", ),
        Param("multi_n", "int", {"quick": 150, "book": 300, "paper": 300},
              "ten-class target: training examples (the first multi_n digits)", low=2, high=1797),
        Param("multi_lrs", "floats", {"quick": (0.1, 0.4), "book": (0.1, 0.2, 0.4), "paper": (0.1, 0.2, 0.4)},
              "ten-class target: the learning-rate grid η", low=0.0, low_open=True, high=100.0, distinct=True),
        Param("multi_ntk_n", "int", {"quick": 50, "book": 100, "paper": 100},
              "ten-class target: examples of the NTK (a (10·multi_ntk_n)² kernel)", low=2),
        Param("linear_n", "int", _same(200), "linear teacher: examples", low=2, high=100_000),
        Param("linear_d", "int", _same(50), "linear teacher: input dimension", low=1, high=10_000),
        Param("linear_width", "int", _same(100), "two-layer linear network: hidden width", low=1, high=10_000),
        Param("linear_lrs", "floats", {"quick": (0.3, 0.8, 1.0), "book": (0.3, 0.6, 0.8, 1.0, 1.2),
                                       "paper": (0.1, 0.3, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2)},
              "two-layer linear network: η grid", low=0.0, low_open=True, high=100.0, distinct=True),
        Param("linear_loss_goal", "float", _same(1e-4),
              "two-layer linear network: matched loss (lower than the MLP's: EoS needs time)",
              low=0.0, low_open=True),
        Param("linear_top_k", "int", _same(5), "k of A_k for the linear network", low=1),
    ),
    checks=(_checks,),
)
