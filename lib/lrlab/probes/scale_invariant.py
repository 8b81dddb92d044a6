"""Probes of scale-invariant (SI) training, defined as the official code of both papers defines them.

Used by the chapters ``sphere_regimes`` (Kodryan et al. 2022) and ``periodic_bn_wd`` (Lobacheva et al. 2021).
Every function returns K values, one per configuration of a batched model (see :mod:`lrlab.models`).

- ρ (:func:`rho`): the *total* norm of all SI weights concatenated (``prebn_pnorm`` in the code).
- ELR (:func:`elr`): η / ρ², the learning rate the model would have on the unit sphere.
- effective gradient (:func:`effective_gradient`): ρ · ‖∇_SI L_batch‖, averaged over the mini-batches of the
  train set (``gnorm_m × prebn_pnorm`` with ``--prebn_only``): the mean of the norms, not the norm of the mean.
- train loss and accuracy with train-mode BN over chunks of ``batch_size`` (:func:`evaluate`);
  test accuracy with eval-mode BN, population statistics of the train set (:func:`evaluate` with ``bn_from``).
- angle to the initial point (:func:`angle`), from ``calc_cos_init`` of the sphere paper's code.
- angle of one training step (:class:`StepAngle`): between the SI weights just before and just after a step of
  the training loop, the quantity that tells a random walk on the sphere (steps near 90°) from a descent.
- :class:`Projector`: after every step, rescale each configuration's SI weights jointly back to norm ρ₀
  (``training_utils.fix_si_pnorm``): projected SGD on the sphere at a fixed ELR = η / ρ₀².
- :func:`si_probe`: all of the above as one probe for :func:`lrlab.train.train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from lrlab.models import cross_entropy, example_losses, population_bn, si_parameters
from lrlab.optim import rescale_to_sphere_, sphere_norm

LossFn = Callable[[nn.Module, Tensor, Tensor], Tensor]


def _flat(params: Sequence[Tensor]) -> Tensor:
    k = params[0].shape[0]
    return torch.cat([p.detach().reshape(k, -1) for p in params], 1)


def rho(model: nn.Module) -> Tensor:
    """Total norm ρ of the SI weights, per configuration: ``(K,)`` (:func:`lrlab.optim.sphere_norm`: the norm of
    the per-tensor norms, each reduction along one configuration's row, so ρ does not depend on which
    configurations share the batch)."""
    return sphere_norm(si_parameters(model))


def elr(lr: float | Sequence[float] | Tensor, rho_: Tensor | float) -> Tensor:
    """Effective learning rate η / ρ² (per configuration)."""
    lr_t = torch.as_tensor(lr, dtype=torch.float64)
    r = torch.as_tensor(rho_, dtype=torch.float64)
    if (r <= 0).any():
        raise ValueError(f"rho = {r.tolist()} is not allowed: every norm must be > 0")
    return lr_t / r**2


def lr_for_elr(elr_: float | Sequence[float] | Tensor, rho0: Tensor | float) -> Tensor:
    """The raw learning rate η = ELR · ρ₀² that trains at ELR ``elr_`` on the sphere of radius ρ₀."""
    e = torch.as_tensor(elr_, dtype=torch.float64)
    if (e < 0).any():
        raise ValueError(f"elr = {e.tolist()} is not allowed: every ELR must be >= 0")
    return e * torch.as_tensor(rho0, dtype=torch.float64) ** 2


def snapshot(model: nn.Module) -> Tensor:
    """A copy of the flattened SI weights ``(K, n_si)``, e.g. the initial point for :func:`angle`."""
    return _flat(si_parameters(model)).clone()


def angle(model: nn.Module, w0: Tensor) -> Tensor:
    """Angle (radians) between the current SI weights and ``w0`` (from :func:`snapshot`), per configuration."""
    w = _flat(si_parameters(model)).double()
    w0 = w0.double()
    cos = (w * w0).sum(1) / (w.norm(dim=1) * w0.norm(dim=1)).clamp_min(1e-30)
    return torch.arccos(cos.clamp(-1.0, 1.0))


class Projector:
    """``after_step`` hook: rescale each configuration's SI weights jointly to norm ``rho0`` (one global sphere).

    ``rho0`` defaults to the model's current ρ (its initial norm when built before training). ``mask`` (one bool
    per configuration, default all) picks the configurations held on their sphere, the others being left alone:
    the sphere chapter projects every configuration, the periodic chapter only its fixed-norm control
    (``--fix_si_pnorm``). A configuration whose norm is not finite (it diverged) is left alone.

    Given to :class:`lrlab.optim.SGD` as its ``sphere`` instead of as a hook, the projection is fused with the
    update of the same weights (one compiled pass on CPU): how both chapters train.
    """

    def __init__(self, model: nn.Module, rho0: Tensor | Sequence[float] | float | None = None,
                 mask: Sequence[bool] | Tensor | None = None):
        current = rho(model)
        self.rho0 = (current.clone() if rho0 is None else
                     torch.as_tensor(rho0, dtype=current.dtype, device=current.device).expand_as(current))
        if (self.rho0 <= 0).any():
            raise ValueError(f"rho0 = {self.rho0.tolist()} is not allowed: every norm must be > 0")
        every = torch.ones_like(current, dtype=torch.bool)
        self.mask = every if mask is None else torch.tensor([bool(b) for b in mask], device=current.device)
        if self.mask.shape != current.shape:
            raise ValueError(f"mask has {self.mask.numel()} entries, but the model has {current.numel()} "
                             "configurations: it needs one bool per configuration")
        self._any = bool(self.mask.any())
        self.params = si_parameters(model)
        """The SI weights held (read by :class:`lrlab.optim.SGD` when this is its ``sphere``)."""

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> None:
        if self._any:
            rescale_to_sphere_(si_parameters(model), self.rho0, self.mask)


class StepAngle:
    """``after_step`` hook: the angle (radians) between the SI weights just before and just after one step of
    every ``every`` steps, per configuration (the last step of each epoch when ``every`` is the number of
    mini-batches per epoch).

    On the sphere, the step of projected SGD is orthogonal to w (scale invariance), so this angle is
    arctan(ELR · ‖g̃‖) of that step's mini-batch (:func:`angular_step_bound`): below π/2 however large the ELR,
    and close to π/2 when the weights jump to an unrelated direction at every step (a random walk). ``last``
    holds the latest measurement (NaN before the first); :func:`si_probe` reports it as ``step_angle``. Only
    one snapshot of the weights is kept, taken on the step before the measured one.
    """

    def __init__(self, model: nn.Module, every: int):
        if every < 1:
            raise ValueError(f"every = {every!r} is not allowed: it must be an integer >= 1")
        self.every = int(every)
        self.count = 0
        self._before: Tensor | None = None
        self.last = torch.full((rho(model).numel(),), math.nan, dtype=torch.float64)

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> None:
        self.count += 1
        phase = self.count % self.every
        if phase == 0 and self._before is not None:  # this step ended the stretch: measure it
            self.last = angle(model, self._before).cpu()
            self._before = None
        if phase == self.every - 1 or self.every == 1:  # the next step is the one measured
            self._before = snapshot(model)


def _chunks(x: Tensor, y: Tensor, batch_size: int):
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def _accuracy(logits: Tensor, y: Tensor) -> Tensor:
    return (logits.argmax(-1) == y.unsqueeze(0)).double().sum(1)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 128, bn_from: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy and accuracy over ``(x, y)``, per configuration: two ``(K,)`` tensors.

    ``bn_from=None``: train-mode BN over consecutive chunks of ``batch_size`` (the papers' train metrics,
    ``--train_mode``). ``bn_from=x_train``: eval-mode BN with the population statistics of ``x_train`` (the
    papers' test metrics).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r} is not allowed: it must be an integer >= 1")

    def run() -> tuple[Tensor, Tensor]:
        loss_sum, correct = 0.0, 0.0
        for xb, yb in _chunks(x, y, batch_size):
            logits = model(xb)
            loss_sum = loss_sum + example_losses(logits, yb).double().sum(1)
            correct = correct + _accuracy(logits, yb)
        return loss_sum / len(x), correct / len(x)

    if bn_from is None:
        return run()
    with population_bn(model, bn_from):
        return run()


def effective_gradient(
    model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 128, loss_fn: LossFn = cross_entropy
) -> Tensor:
    """Mean over mini-batches of ρ · ‖∇_SI L_batch‖ (train-mode BN, consecutive batches), per configuration.

    The gradient is taken over the SI weights only (the sphere paper's ``--prebn_only``) and does not touch
    ``.grad`` of the parameters, so it can run inside a training loop.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r} is not allowed: it must be an integer >= 1")
    params = si_parameters(model)
    r = rho(model).double()
    total = torch.zeros_like(r)
    n = 0
    for xb, yb in _chunks(x, y, batch_size):
        grads = torch.autograd.grad(loss_fn(model, xb, yb).sum(), params)
        total += torch.cat([g.reshape(len(r), -1) for g in grads], 1).double().norm(dim=1)
        n += 1
    return r * total / n


def si_probe(
    lr: Tensor | Sequence[float] | float,
    x_train: Tensor,
    y_train: Tensor,
    x_test: Tensor | None = None,
    y_test: Tensor | None = None,
    *,
    batch_size: int = 128,
    w0: Tensor | None = None,
    grad: bool = True,
    loss_fn: LossFn = cross_entropy,
    bn_from: Tensor | None = None,
    step_angle: StepAngle | None = None,
) -> Callable[[nn.Module, int], dict[str, Tensor]]:
    """A probe for :func:`lrlab.train.train` returning ``rho``, ``elr``, ``train_loss``, ``train_acc``,
    ``eff_grad`` (if ``grad``), ``test_acc`` (if test data is given), ``angle`` (if ``w0`` is given) and
    ``step_angle`` (the latest measurement of ``step_angle``, a :class:`StepAngle` hook the loop runs).

    ``lr`` is the raw learning rate per configuration; ``elr`` is computed as ``lr / rho²`` from the current ρ
    (on the sphere it stays the fixed ELR; under weight decay it moves). Test accuracy uses eval-mode BN with
    the population statistics of ``bn_from`` (default: all of ``x_train``; pass a subset for large data).
    """
    lr_t = torch.as_tensor(lr, dtype=torch.float64)

    def probe(model: nn.Module, epoch: int) -> dict[str, Tensor]:
        r = rho(model).double().cpu()
        out = {"rho": r, "elr": elr(lr_t, r)}
        out["train_loss"], out["train_acc"] = evaluate(model, x_train, y_train, batch_size)
        if grad:
            out["eff_grad"] = effective_gradient(model, x_train, y_train, batch_size, loss_fn)
        if x_test is not None and y_test is not None:
            stats = x_train if bn_from is None else bn_from
            out["test_acc"] = evaluate(model, x_test, y_test, max(batch_size, 1024), bn_from=stats)[1]
        if w0 is not None:
            out["angle"] = angle(model, w0).double()
        if step_angle is not None:
            out["step_angle"] = step_angle.last.clone()
        return out

    return probe


def angular_step_bound(elr_, eff_grad):
    """Angle of one projected step, tan Δθ = ELR · ‖g̃‖ (derived in the chapter ``sphere_regimes``): always below
    π/2. Floats give a float; arrays (NumPy or torch) give the angle of each element."""
    if isinstance(elr_, (int, float)) and isinstance(eff_grad, (int, float)):
        return math.atan(elr_ * eff_grad)
    if isinstance(elr_, Tensor) or isinstance(eff_grad, Tensor):
        return torch.atan(torch.as_tensor(elr_, dtype=torch.float64) * torch.as_tensor(eff_grad, dtype=torch.float64))
    return np.arctan(np.asarray(elr_, dtype=float) * np.asarray(eff_grad, dtype=float))
