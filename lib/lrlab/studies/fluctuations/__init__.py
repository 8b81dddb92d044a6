"""Neuronal fluctuations: learning rates vs participating neurons (Pareek, Kumar, Rao, Janjam 2025).

Chapter ``chapters/fluctuations.ipynb``. A dense ReLU autoencoder learns to reconstruct eight synthetic shapes at
η ∈ {1e-2, 1e-3, 1e-4}; hooks record every hidden unit's weights, biases, activations and gradients, and the
chapter compares reconstruction, participation and fluctuation across η, and maps where the paper's trade-off
holds over η and the optimiser. The paper's text gives the dataset, the η grid, the 1000 epochs and the hooks, but
not the architecture, optimiser, loss or statistics: the choices here are ours and the chapter says so.

- :mod:`lrlab.studies.fluctuations.experiments`: the shapes, the autoencoder, the (η, seed) grids and their tables;
- :mod:`lrlab.studies.fluctuations.tradeoff`: which runs trained, and the trade-off's halves per pair of rates;
- :mod:`lrlab.studies.fluctuations.claims`: the claim table and the scorecard (its ledger in ``ledger``);
- :mod:`lrlab.studies.fluctuations.mutants`: the faults the audit runs the chapter with;
- :mod:`lrlab.studies.fluctuations.figures`: the chapter's figures.
"""

from __future__ import annotations

from lrlab.config import Param, Spec

from . import figures, tradeoff
from .claims import CLAIMS, scorecard
from .experiments import (
    Dataset,
    GridRun,
    Results,
    autoencoder,
    contrast_optimizer,
    final_table,
    layer_names,
    load_data,
    neuron_table,
    participation_table,
    reconstruction_grid,
    reconstruction_loss,
    run,
    run_grid,
    training_loss,
    unit_traces,
)
from .mutants import MUTANTS

__all__ = [
    "CLAIMS", "MUTANTS", "SPEC", "TITLE", "Dataset", "GridRun", "Results", "autoencoder", "contrast_optimizer",
    "figures", "final_table", "layer_names", "load_data", "neuron_table", "participation_table",
    "reconstruction_grid", "reconstruction_loss", "run", "run_grid", "scorecard", "tradeoff", "training_loss",
    "unit_traces",
]

TITLE = "Neuronal fluctuations: learning rates vs participating neurons"


def _probe_every_fits(values: dict) -> None:
    if values["probe_every"] > values["epochs"]:
        raise ValueError(
            f"parameter 'probe_every' = {values['probe_every']!r} is not allowed: it must be <= epochs "
            f"({values['epochs']})"
        )


SPEC = Spec(
    "fluctuations",
    (
        Param("lrs", "floats", dict.fromkeys(("quick", "book", "paper"), (1e-2, 1e-3, 1e-4)),
              "learning rates η compared (the paper's grid)", low=0.0, low_open=True, high=10.0, distinct=True),
        Param("optimizer", "str", dict.fromkeys(("quick", "book", "paper"), "sgd"),
              "sgd | adam: the optimiser of the main grid", choices=("sgd", "adam")),
        Param("contrast_seeds", "int", {"quick": 1, "book": 1, "paper": 5},
              "seeds of the other optimiser on the same grid, for claim C1' (0: none)", low=0, high=64),
        Param("loss", "str", dict.fromkeys(("quick", "book", "paper"), "sum"),
              "sum | mean: reduction over an image's pixels of the squared error trained on",
              choices=("sum", "mean")),
        Param("epochs", "int", {"quick": 20, "book": 1000, "paper": 1000}, "training epochs (the paper: 1000)",
              low=1, high=100_000),
        Param("n_seeds", "int", {"quick": 1, "book": 3, "paper": 5}, "model seeds per η (seed, seed+1, …)",
              low=1, high=64),
        Param("per_class", "int", {"quick": 16, "book": 32, "paper": 100}, "training images per shape", low=1,
              high=10_000),
        Param("test_per_class", "int", {"quick": 8, "book": 32, "paper": 100}, "held-out images per shape",
              low=1, high=10_000),
        Param("batch_size", "int", dict.fromkeys(("quick", "book", "paper"), 64), "mini-batch size", low=1,
              high=100_000),
        Param("widths", "ints", dict.fromkeys(("quick", "book", "paper"), (128, 16)),
              "encoder widths; the decoder mirrors them (784-128-16-128-784)", low=1, high=4096),
        Param("probe_every", "int", {"quick": 2, "book": 10, "paper": 10},
              "epochs between snapshots of every hidden unit", low=1, high=100_000),
        Param("tau", "float", dict.fromkeys(("quick", "book", "paper"), 0.01),
              "participation threshold τ: active on more than this fraction of the inputs", low=0.0,
              high=1.0),
        Param("trained_factor", "float", dict.fromkeys(("quick", "book", "paper"), 1.5),
              "a run trained when its held-out error is this factor below the mean image's", low=1.0, high=100.0),
        Param("map_lrs", "floats", {"quick": (0.1,), "book": (0.1, 0.00316), "paper": (0.1, 0.0316, 0.00316, 1e-5)},
              "extra learning rates of the main optimiser for the trade-off map", low=0.0, low_open=True, high=10.0,
              distinct=True),
        Param("map_seeds", "int", {"quick": 1, "book": 1, "paper": 3},
              "seeds per extra rate of the map (0: the map holds the paper's grid only)", low=0, high=64),
    ),
    checks=(_probe_every_fits,),
)
