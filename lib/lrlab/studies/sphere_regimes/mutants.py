"""Mutants of the sphere chapter: each breaks one mechanism its claims are about (:mod:`lrlab.audit.mutants`).

- ``projection-skipped``: projected SGD without the projection. The norm of the SI weights then grows at every
  step (the gradient is orthogonal to them), the ELR η/ρ² decays, and a run at a large nominal ELR ends up at a
  small one. Applied to the network (:class:`lrlab.probes.scale_invariant.Projector` holds no configuration),
  to the paper's toy (:func:`lrlab.studies.sphere_regimes.groups.rescale`) and to ours
  (:func:`lrlab.studies.sphere_regimes.toy.toy_step`).
- ``bn-removed``: batch normalisation is the identity, so the network is no longer scale-invariant (its output
  is homogeneous of degree 2 in the hidden weights); the sphere and the ELR lose their meaning.
- ``elr-not-fixed``: the learning rate is the nominal ELR itself instead of ELR·ρ₀², so the step is not
  rescaled by the squared norm and the run trains at ELR/ρ₀² (the network's and the paper's toy's).
- ``elr-ignored``: every configuration trains at one ELR (the geometric mean of its grid), so the knob the
  regimes depend on is disconnected.
"""

from __future__ import annotations

import numpy as np
import torch

from lrlab.audit.mutants import Mutant
from lrlab.models import SIBatchNorm
from lrlab.probes import scale_invariant as si

from . import groups, toy


class _Unprojected(si.Projector):
    """A projector that holds no configuration on its sphere (``mask`` all False)."""

    def __init__(self, model, rho0=None, mask=None):
        super().__init__(model, rho0, mask=[False] * si.rho(model).numel())


def _toy_step_unprojected(w: np.ndarray, elr: np.ndarray, a: float = 1.0) -> np.ndarray:
    return w - elr[:, None] * toy.toy_grad(w, a)


def _rescale_nothing(theta: np.ndarray, radius: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    return theta


_bn_forward = SIBatchNorm.forward


def _bn_identity(self: SIBatchNorm, x: torch.Tensor) -> torch.Tensor:
    if self.sums is not None:  # population statistics being measured: the layer records them (and stops the pass)
        return _bn_forward(self, x)
    return x


def _relu_of_identity(self: SIBatchNorm, x: torch.Tensor) -> torch.Tensor:
    return torch.relu(self(x))


def _lr_is_elr(elr_, rho0) -> torch.Tensor:
    return torch.as_tensor(elr_, dtype=torch.float64) * torch.as_tensor(rho0, dtype=torch.float64) ** 0


def _lr_one_elr(elr_, rho0) -> torch.Tensor:
    e = torch.as_tensor(elr_, dtype=torch.float64)
    mean = torch.exp(torch.log(e.clamp_min(1e-300)).mean())
    return torch.full_like(e, float(mean)) * torch.as_tensor(rho0, dtype=torch.float64) ** 2


MUTANTS = (
    Mutant("projection-skipped",
           "projected SGD without the projection: the norm grows, the ELR decays during training",
           targets=("C1", "C2", "C3", "C6", "C7", "C8", "C9", "C10", "C12"),
           patches=((si, "Projector", _Unprojected), (groups, "rescale", _rescale_nothing),
                    (toy, "toy_step", _toy_step_unprojected))),
    Mutant("bn-removed", "batch normalisation replaced by the identity: the network is not scale-invariant",
           targets=("C11",),
           patches=((SIBatchNorm, "forward", _bn_identity), (SIBatchNorm, "relu_after", _relu_of_identity))),
    Mutant("elr-not-fixed", "the learning rate set to the ELR, not ELR·ρ₀²: the step is not rescaled by the norm",
           targets=("C1", "C3", "C8", "C9", "C10", "C12"),
           patches=((si, "lr_for_elr", _lr_is_elr),)),
    Mutant("elr-ignored", "every configuration trained at one ELR (the grid's geometric mean)",
           targets=("C1", "C2", "C3", "C6", "C8", "C12"),
           patches=((si, "lr_for_elr", _lr_one_elr),)),
)
"""The chapter's mutants; ``targets`` are the claims each should flip."""
