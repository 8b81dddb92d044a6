"""Periodic behaviour of training with batch normalization and weight decay (Lobacheva et al. 2021).

Chapter ``chapters/periodic_bn_wd.ipynb``. A fully scale-invariant network (BN without affine parameters, a
frozen head of norm 10: :class:`lrlab.models.SIMLP`) is trained by plain SGD with coupled weight decay, no
momentum and a constant learning rate. The paper's abstract (NeurIPS 2021, arXiv 2106.15739): training then
"regularly exhibits destabilizations that, however, do not lead to complete divergence but cause a new period of
training". The chapter derives the mechanism from the norm recursion (weight decay shrinks the norm ρ of the
scale-invariant weights, the effective learning rate η/ρ² climbs until the optimisation destabilises, the big
gradient steps inflate ρ and reset it) and tests what follows from it.

Every configuration of one experiment is trained at once as one batched model
(:mod:`~lrlab.studies.periodic_bn_wd.experiments`); a :class:`lrlab.probes.periodic.StepRecorder` records every
step, the destabilisation detector (:func:`lrlab.probes.periodic.detect`) finds the events
(:mod:`~lrlab.studies.periodic_bn_wd.analysis`), and :func:`~lrlab.studies.periodic_bn_wd.claims.scorecard`
judges claims C1–C10 (:mod:`~lrlab.studies.periodic_bn_wd.claims`, with its ledger and mutants). The official
code's scale (ConvNetSI-32 on CIFAR-10, 1001 epochs) is the preset ``paper``; the book runs a 64-wide
two-hidden-layer SI MLP on 256 Fashion-MNIST images (14×14), where a period lasts a few hundred to a few thousand
steps.
"""

from __future__ import annotations

from . import figures
from .analysis import Analysis, analyse, periodic_lrs
from .claims import CLAIMS, scorecard
from .experiments import Dataset, Results, Run, dataset, grid, run, run_all, scan_configs
from .mutants import MUTANTS
from .numbers import numbers, scan_summary
from .presets import SPEC

TITLE = "Periodic behaviour of training with batch normalization and weight decay"

__all__ = [
    "CLAIMS", "MUTANTS", "SPEC", "TITLE", "Analysis", "Dataset", "Results", "Run", "analyse", "dataset", "figures",
    "grid", "numbers", "periodic_lrs", "run", "run_all", "scan_configs", "scan_summary", "scorecard",
]
