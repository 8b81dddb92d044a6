"""The faults ``lrlab audit`` applies to chapter ``eos_ntk``, each breaking one mechanism its claims are about.

Each patches one of the three names through which the chapter touches what it measures
(:mod:`lrlab.studies.eos_ntk.experiments`): :func:`~lrlab.studies.eos_ntk.experiments.measure_sharpness`,
:func:`~lrlab.studies.eos_ntk.experiments.gd_step` and :func:`~lrlab.studies.eos_ntk.experiments.kernel`. The notebook
runs unchanged around them.
"""

from __future__ import annotations

import numpy as np
import torch

from lrlab.audit.mutants import Mutant

from . import experiments

SHUFFLE_SEED = 12_345
"""Seed of the fixed permutation of the examples in ``_shuffled_kernel``."""


def _gradient_norm(tracker, op) -> float:
    """‖∇L‖ where the sharpness belongs: a curvature probe that measures the slope instead."""
    return float(op.grad.detach().double().norm())


def _shuffled_kernel(original):
    """The NTK with its examples permuted (rows and columns alike, every output of an example kept together):
    the same spectrum, but eigenvectors no longer lined up with the targets they are compared with."""

    def kernel(model, x):
        K = original(model, x)
        n = len(x)
        d = K.shape[0] // n
        perm = np.random.default_rng(SHUFFLE_SEED).permutation(n)
        idx = torch.as_tensor((perm[:, None] * d + np.arange(d)).reshape(-1), device=K.device)
        return K[idx][:, idx]

    return kernel


def _half_step(original):
    """The update takes half the step the chapter records as η."""

    def gd_step(params, grads, lr):
        return original(params, grads, lr / 2)

    return gd_step


MUTANTS = (
    Mutant("sharpness-is-gradient-norm", "the sharpness probe returns the gradient norm instead of the top Hessian "
           "eigenvalue", ("C1", "C2", "C3", "C4", "C5", "C7", "C2r", "C3r", "C2m", "C3m"),
           ((experiments, "measure_sharpness", _gradient_norm),)),
    Mutant("ntk-of-shuffled-outputs", "the NTK's rows and columns are permuted across examples before it is compared "
           "with the targets", ("C2", "C3", "C4", "C5", "C2r", "C3r", "C2m", "C3m"),
           ((experiments, "kernel", _shuffled_kernel),), wraps=True),
    Mutant("step-size-halved", "gradient descent takes steps of η/2 while the chapter records η",
           ("C1", "C5", "C7"), ((experiments, "gd_step", _half_step),), wraps=True),
)
