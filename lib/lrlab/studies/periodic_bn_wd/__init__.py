"""Periodic behaviour of training with batch normalization and weight decay (Lobacheva et al. 2021).

Chapter ``chapters/periodic_bn_wd.ipynb``. A fully scale-invariant network (BN without affine parameters, a
frozen head of norm 10: :class:`lrlab.models.SIMLP`) is trained by plain SGD with coupled weight decay, no
momentum and a constant learning rate. The paper (NeurIPS 2021, arXiv 2106.15739) shows that training then
destabilises again and again: the loss converges, weight decay shrinks the norm ρ of the scale-invariant weights
exponentially so that the effective learning rate η/ρ² climbs, the optimisation blows up (loss and effective
gradient spike), the big gradient steps inflate ρ (the ELR is reset) and a new period begins (its Figure 2).

Every (lr, wd, seed) configuration of one experiment is trained at once as one batched model
(:mod:`~lrlab.studies.periodic_bn_wd.experiments`); a :class:`lrlab.probes.periodic.StepRecorder` records every
step, the destabilisation detector (:func:`lrlab.probes.periodic.detect`) finds the events
(:mod:`~lrlab.studies.periodic_bn_wd.analysis`), and :func:`~lrlab.studies.periodic_bn_wd.claims.scorecard`
judges claims C1–C9 seed by seed (:mod:`~lrlab.studies.periodic_bn_wd.claims`). The paper's scale (ConvNetSI-32
on CIFAR-10, 1000 epochs) is the preset ``paper``; the book runs a 64-wide two-hidden-layer SI MLP on 256
Fashion-MNIST images (14×14), where a period lasts a few hundred steps (see the chapter for why 256 images).
"""

from __future__ import annotations

from . import figures
from .analysis import Analysis, analyse, numbers, periodic_lrs
from .claims import CLAIMS, scorecard
from .experiments import Dataset, Results, Run, dataset, run, run_all, sgd_grid
from .presets import SPEC

TITLE = "Periodic behaviour of training with batch normalization and weight decay"

__all__ = [
    "CLAIMS", "SPEC", "TITLE", "Analysis", "Dataset", "Results", "Run", "analyse", "dataset", "figures", "numbers",
    "periodic_lrs", "run", "run_all", "scorecard", "sgd_grid",
]
