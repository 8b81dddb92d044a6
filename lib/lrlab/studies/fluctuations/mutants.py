"""Mutants of the fluctuations chapter (:mod:`lrlab.audit.mutants`): each breaks one mechanism a claim is about.

- ``no-training``: every learning rate drops to 0 after the first epoch. The network keeps its first epoch's
  step and nothing else: it has not learned the shapes (C5) and its units stop moving (C3).
- ``shuffled-targets``: each training image is trained to reproduce another, randomly paired image. The best the
  network can then do is the mean image, so no run learns to reconstruct (C5).
- ``one-learning-rate``: every configuration trains with the first η of its optimiser's grid; the per-configuration
  step is lost, so nothing the claims compare depends on η any more (C3, C5).
- ``aliased-bias-snapshot``: a broken hook. The recorder keeps a view of the live bias instead of a copy, so every
  snapshot ends up equal to the last and the biases seem never to have moved (C3).

Each patches the name where the chapter looks it up at call time (``experiments.train``, ``experiments.Batches``,
``lrlab.optim.make``, ``NeuronRecorder.bias_snapshot``), so the notebook runs unchanged.
"""

from __future__ import annotations

import torch

from lrlab import optim
from lrlab.audit.mutants import Mutant
from lrlab.probes.neurons import NeuronRecorder

from . import experiments


def _train_one_epoch(original):
    """``train`` whose optimiser sets every learning rate to 0 once it has taken one epoch of steps."""

    def train(model, loss_fn, batches, optimizer, epochs, **kwargs):
        step, per_epoch, taken = optimizer.step, len(batches), [0]

        def step_then_stop() -> None:
            step()
            taken[0] += 1
            if taken[0] == per_epoch:
                optimizer.lr.zero_()

        optimizer.step = step_then_stop
        return original(model, loss_fn, batches, optimizer, epochs, **kwargs)

    return train


def _shuffled_batches(original):
    """``Batches`` whose targets are the training images in a fixed random order."""

    def batches(x, y, batch_size, seeds):
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(12345)).to(y.device)
        return original(x, y[order], batch_size, seeds)

    return batches


def _one_rate(original):
    """``optim.make`` that gives every configuration the first configuration's learning rate."""

    def make(name, params, lr, wd=0.0):
        rates = list(lr) if not isinstance(lr, float) else [lr]
        return original(name, params, [rates[0]] * len(rates), wd)

    return make


def _aliased(_original):
    """``bias_snapshot`` returning a view of the live parameter (CPU), not a copy."""

    def snapshot(lin):
        return lin.bias.detach()[:, 0, :].numpy()

    return staticmethod(snapshot)


MUTANTS = (
    Mutant("no-training", "every learning rate drops to 0 after the first epoch: the network stops learning",
           ("C3", "C5"), ((experiments, "train", _train_one_epoch),), wraps=True),
    Mutant("shuffled-targets", "each image is trained to reproduce a randomly paired other image: only the mean "
           "image can be learned", ("C5",), ((experiments, "Batches", _shuffled_batches),), wraps=True),
    Mutant("one-learning-rate", "every configuration trains with the first η of its grid: the step no longer "
           "depends on η", ("C3", "C5"), ((optim, "make", _one_rate),), wraps=True),
    Mutant("aliased-bias-snapshot", "broken hook: the recorder stores a view of the live bias, so every snapshot "
           "equals the last", ("C3",), ((NeuronRecorder, "bias_snapshot", _aliased),), wraps=True),
)
