"""Training scale-invariant networks on the sphere can happen in three regimes (Kodryan et al. 2022).

The study of the chapter ``chapters/sphere_regimes.ipynb``. A fully scale-invariant (SI) network is trained by
projected SGD on the sphere ‖w‖ = ρ₀ at a fixed effective learning rate ELR = η/ρ₀² (no weight decay, no
momentum). Depending on the ELR, training converges, settles into a chaotic equilibrium, or diverges (the
paper's Figure 1).

- :mod:`lrlab.studies.sphere_regimes.groups`: the paper's toy (its appendix A.1–A.2, as far as the fragments we read
  describe it): n SI groups on one sphere or on a sphere each, with thresholds 1/αᵢ and 1/Σαᵢ; the functions are ours.
- :mod:`lrlab.studies.sphere_regimes.toy`: our toy example, projected gradient descent on the circle for the SI function
  L(w) = (a/2)·w₁²w₂²/‖w‖⁴, whose regime thresholds 2/a, 4/a and 8/a follow analytically (derived in this
  chapter). The function is ours, not the paper's, and the chapter says so.
- :mod:`lrlab.studies.sphere_regimes.experiments`: the data, the SI model, projected SGD at a fixed ELR and the regime
  map, conventional SGD + weight decay, the "better optima" schedule, and the tables the claims read.
- :mod:`lrlab.studies.sphere_regimes.claims`: the claim table (C1–C12) and the scorecard;
  :mod:`lrlab.studies.sphere_regimes.ledger`: every change to a claim; :mod:`lrlab.studies.sphere_regimes.mutants`: the
  faults the audit runs the chapter with.
- :mod:`lrlab.studies.sphere_regimes.figures`: the chapter's figures.
"""

from __future__ import annotations

from lrlab.config import Param, Spec

from . import figures
from .claims import CLAIMS, scorecard
from .experiments import (
    BN_SAMPLES,
    CHANCE,
    FIT_MIN,
    PAPER_ELRS,
    PAPER_RANGE,
    REGIMES,
    SPREAD_MAX,
    STATIONARY,
    TREND_MAX,
    UNLEARNT,
    Data,
    Results,
    SphereRun,
    better_optima,
    boundaries,
    build_model,
    classify,
    conventional,
    destabilisations,
    invariance,
    judged,
    load_data,
    optima_table,
    ordered,
    regime_map,
    regime_table,
    settled_elr,
    stationary,
    summarise,
    train_on_sphere,
)
from .groups import group_thresholds, groups_boundaries, groups_grid, groups_run, groups_trajectory
from .mutants import MUTANTS
from .toy import (
    toy_boundaries,
    toy_cycle_loss,
    toy_grad,
    toy_grid,
    toy_loss,
    toy_run,
    toy_step,
    toy_thresholds,
    toy_trajectory,
)

__all__ = [
    "BN_SAMPLES", "CHANCE", "CLAIMS", "FIT_MIN", "MUTANTS", "PAPER_ELRS", "PAPER_RANGE", "REGIMES", "SPEC",
    "SPREAD_MAX", "STATIONARY", "TITLE", "TREND_MAX", "UNLEARNT", "Data", "Results", "SphereRun", "better_optima",
    "boundaries", "build_model", "classify", "conventional", "destabilisations", "figures", "group_thresholds",
    "groups_boundaries", "groups_grid", "groups_run", "groups_trajectory", "invariance", "judged", "load_data",
    "optima_table", "ordered", "regime_map", "regime_table", "scorecard", "settled_elr", "stationary", "summarise",
    "toy_boundaries", "toy_cycle_loss", "toy_grad", "toy_grid", "toy_loss", "toy_run", "toy_step",
    "toy_thresholds", "toy_trajectory", "train_on_sphere",
]

TITLE = "Three regimes of training scale-invariant networks on the sphere"

_ALL = ("quick", "book", "paper")


def _checks(values: dict) -> None:
    if values["probe_every"] > values["epochs"]:
        raise ValueError(
            f"parameter 'probe_every' = {values['probe_every']!r} is not allowed: it must be <= epochs "
            f"({values['epochs']})"
        )
    if values["finetune_elr"] >= values["pretrain_elr"]:
        raise ValueError(
            f"parameter 'finetune_elr' = {values['finetune_elr']!r} is not allowed: it must be < pretrain_elr "
            f"({values['pretrain_elr']})"
        )
    if values["pretrain_frac"] >= 1.0:
        raise ValueError(f"parameter 'pretrain_frac' = {values['pretrain_frac']!r} is not allowed: it must be < 1")
    if values["dataset"] == "cifar10" and values["model"] != "convnet":
        raise ValueError("parameter 'model' = 'mlp' is not allowed with dataset 'cifar10': use model 'convnet'")
    if values["dataset"] == "fashion_mnist" and values["model"] == "convnet":
        raise ValueError("parameter 'model' = 'convnet' is not allowed with dataset 'fashion_mnist': ConvNetSI takes "
                         "3-channel CIFAR-10 images (dataset 'cifar10'); on Fashion-MNIST use model 'mlp'")


SPEC = Spec(
    "sphere_regimes",
    (
        Param("dataset", "str", {"quick": "fashion_mnist", "book": "fashion_mnist", "paper": "cifar10"},
              "training data: a Fashion-MNIST subset (book) or CIFAR-10 (the paper)",
              choices=("fashion_mnist", "cifar10")),
        Param("model", "str", {"quick": "mlp", "book": "mlp", "paper": "convnet"},
              "the SI MLP of lrlab.models or the official ConvNetSI", choices=("mlp", "convnet")),
        Param("n_train", "int", {"quick": 512, "book": 1024, "paper": 50_000}, "training images (the first n)",
              low=64, high=60_000),
        Param("n_test", "int", {"quick": 1000, "book": 2000, "paper": 10_000}, "test images (the first n)",
              low=64, high=10_000),
        Param("pool", "int", dict.fromkeys(_ALL, 2), "average-pooling factor of the 28×28 Fashion-MNIST images",
              low=1, high=7),
        Param("width", "int", {"quick": 64, "book": 64, "paper": 32},
              "hidden width of the MLP (two hidden layers) / ConvNetSI width (the paper: 32)", low=1, high=4096),
        Param("elrs", "floats",
              {"quick": (1e-4, 1e-3, 1e-2, 1e-1, 1.0),
               "book": (1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1, 3e-1, 1.0),
               "paper": PAPER_ELRS},
              "effective learning rates of the regime map (judged inside the paper's 1e-5 to 1e-1; shown beyond)",
              low=0.0, low_open=True, high=1e3, distinct=True),
        Param("n_seeds", "int", {"quick": 1, "book": 3, "paper": 1}, "seeds per ELR (seed, seed+1, …)",
              low=1, high=64),
        Param("epochs", "int", {"quick": 40, "book": 250, "paper": 1000}, "epochs on the sphere",
              low=1, high=100_000),
        Param("batch_size", "int", dict.fromkeys(_ALL, 128), "mini-batch size (the paper: 128)", low=1,
              high=100_000),
        Param("probe_every", "int", {"quick": 5, "book": 10, "paper": 10}, "epochs between probes", low=1,
              high=100_000),
        Param("head_norm", "float", dict.fromkeys(_ALL, 10.0), "Frobenius norm of the frozen head (the paper: 10)",
              low=0.0, low_open=True, high=1e4),
        Param("wd_lr", "float", {"quick": 0.1, "book": 0.1, "paper": 0.01},
              "learning rate of the conventional SGD + WD runs", low=0.0, low_open=True, high=100.0),
        Param("wds", "floats", {"quick": (5e-3,), "book": (5e-3, 3e-2), "paper": (1e-3,)},
              "weight decays of the conventional runs", low=0.0, low_open=True, high=1.0, distinct=True),
        Param("wd_epochs", "int", {"quick": 40, "book": 300, "paper": 1000}, "epochs of the conventional runs",
              low=1, high=100_000),
        Param("pretrain_elr", "float", {"quick": 1e-2, "book": 1e-2, "paper": 1e-3},
              "better optima: the ELR of the first phase (inside the equilibrium regime)", low=0.0, low_open=True,
              high=1e3),
        Param("finetune_elr", "float", {"quick": 1e-3, "book": 1e-3, "paper": 1e-4},
              "better optima: the small ELR of fine-tuning and of the baseline", low=0.0, low_open=True, high=1e3),
        Param("optima_epochs", "int", {"quick": 40, "book": 200, "paper": 400},
              "better optima: total epochs of each run", low=2, high=100_000),
        Param("optima_seeds", "int", {"quick": 2, "book": 8, "paper": 3},
              "better optima: seeds per schedule (seed, seed+1, …)", low=1, high=64),
        Param("optima_n_test", "int", {"quick": 1000, "book": 10_000, "paper": 10_000},
              "better optima: test images the final models are scored on (the first n)", low=64, high=10_000),
        Param("pretrain_frac", "float", dict.fromkeys(_ALL, 0.5),
              "better optima: fraction of the epochs spent at pretrain_elr", low=0.0, low_open=True, high=1.0),
        Param("toy_a", "float", dict.fromkeys(_ALL, 1.0), "curvature a of the toy function at its minima",
              low=0.0, low_open=True, high=1e6),
        Param("toy_n", "int", {"quick": 25, "book": 61, "paper": 61},
              "number of log-spaced toy ELRs between 0.25/a and 32/a", low=5, high=10_000),
        Param("toy_steps", "int", {"quick": 4000, "book": 20_000, "paper": 20_000}, "steps of each toy run",
              low=100, high=10_000_000),
        Param("group_alphas", "floats", dict.fromkeys(_ALL, (1.0, 2.0, 4.0)),
              "the paper's toy: the curvature scale αᵢ of each scale-invariant group", low=0.0, low_open=True,
              high=1e6),
        Param("group_n", "int", {"quick": 20, "book": 40, "paper": 40},
              "the paper's toy: number of log-spaced ELRs from 1/(8Σα) to 8/min α", low=4, high=10_000),
        Param("group_steps", "int", {"quick": 2000, "book": 8000, "paper": 8000},
              "the paper's toy: steps of each run", low=100, high=10_000_000),
    ),
    checks=(_checks,),
)
