"""Batched layers: K independent models trained as one computation.

A chapter's grid (learning rates × seeds) is K small models. Stacking their weights on a leading axis and using
``torch.bmm`` trains them in one pass: on one CPU thread a hand-batched ``bmm`` ran 1.3× the throughput of K
sequential models and 2× ``torch.func.vmap`` (benchmarks/). Configuration ``k`` is initialised from its own
generator seeded with ``seeds[k]``, so its numbers do not depend on which other configurations share the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def generators(seeds: Sequence[int], offset: int = 0) -> list[torch.Generator]:
    """One CPU generator per configuration, seeded with ``seed + offset`` (offsets separate streams)."""
    return [torch.Generator().manual_seed(int(s) + offset) for s in seeds]


def uniform_(shape: tuple[int, ...], bound: float, gens: Sequence[torch.Generator]) -> Tensor:
    """A ``(K, *shape)`` tensor, slice ``k`` drawn from ``U(-bound, bound)`` with generator ``k``."""
    return torch.stack([(torch.rand(shape, generator=g) * 2 - 1) * bound for g in gens])


NARROW = 16
"""Layers with fewer outputs than this are computed with their weight padded by zero columns to this many outputs,
and the padding sliced off. torch's CPU ``bmm`` is slow when the product's last axis is narrow: a (15, 128, 64) ×
(15, 64, 10) head ran at 7 GFLOP/s against 64 for 64 outputs; padded, the head's forward and backward (with the
ReLU and cross-entropy around it) took 0.6–0.8 of the time (``benchmarks/bench_training.py``)."""


class BLinear(nn.Module):
    """K independent ``nn.Linear`` layers: ``(K, B, fan_in) → (K, B, fan_out)``.

    Initialised as ``nn.Linear`` is (Kaiming-uniform with a=√5: ``U(±1/√fan_in)`` for weight and bias).
    ``weight`` has shape ``(K, fan_in, fan_out)``; row ``weight[k, :, j]`` is the incoming weight of unit ``j``.
    """

    def __init__(self, fan_in: int, fan_out: int, gens: Sequence[torch.Generator], bias: bool = True):
        super().__init__()
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = nn.Parameter(uniform_((fan_in, fan_out), bound, gens))
        self.bias = nn.Parameter(uniform_((1, fan_out), bound, gens)) if bias else None

    @property
    def k(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # one batch shared by every configuration
            x = x.unsqueeze(0).expand(self.k, -1, -1)
        n = self.weight.shape[-1]
        if n < NARROW:
            pad = (0, NARROW - n)
            w = F.pad(self.weight, pad)
            out = torch.bmm(x, w) if self.bias is None else torch.baddbmm(F.pad(self.bias, pad), x, w)
            return out[..., :n]
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class BBatchNorm(nn.Module):
    """Batch normalisation without affine parameters, per configuration, over the batch axis (train mode).

    With no affine parameters the layer makes the weights feeding it scale-invariant (Lobacheva et al. 2021, §0
    of the study notes): rescaling them leaves the output unchanged.
    """

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return batch_normalize(x, None, self.eps)


def stat_dims(x: Tensor, spatial_from: int | None) -> tuple[int, ...]:
    """The axes BN takes its statistics over: the batch axis (1) and, when ``spatial_from`` is given, the trailing
    axes from it on."""
    return (1,) if spatial_from is None else (1, *range(spatial_from, x.dim()))


def batch_stats(x: Tensor, spatial_from: int | None) -> tuple[Tensor, Tensor]:
    """Mean and biased variance per configuration and channel over the batch axis (1) and, when ``spatial_from``
    is given, the trailing axes from it on; both keep their dimensions. The layout is :func:`batch_normalize`'s."""
    dims = stat_dims(x, spatial_from)
    mean = x.mean(dim=dims, keepdim=True)
    return mean, (x - mean).square().mean(dim=dims, keepdim=True)


def batch_normalize(x: Tensor, spatial_from: int | None, eps: float) -> Tensor:
    """(x − mean) / √(var + eps), statistics per configuration and channel over the batch axis (1) and, when
    ``spatial_from`` is given, the trailing axes from it on (``None`` for ``(K, B, W)``; ``3`` for
    ``(K, B, C, H, W)``, per channel over batch and pixels).

    Computed by torch's fused ``batch_norm`` kernel on a ``(B, K·C, rest)`` view (biased variance, as
    ``nn.BatchNorm`` in training mode): 4× faster forward and backward than the same formula written out, which
    dominated the sphere and periodic chapters' training profiles (``benchmarks/bench_training.py``).
    """
    if eps <= 0:  # exact scale invariance (the tests' eps = 0): torch's kernel refuses it, write the formula out
        mean, var = batch_stats(x, spatial_from)
        return (x - mean) / torch.sqrt(var + eps)
    K, B = x.shape[:2]
    channels = math.prod(x.shape[2:spatial_from])
    flat = x.transpose(0, 1).reshape(B, K * channels, -1)
    y = F.batch_norm(flat, None, None, training=True, eps=eps)
    return y.reshape(B, K, *x.shape[2:]).transpose(0, 1)


class BMLP(nn.Sequential):
    """K independent MLPs ``sizes[0] → … → sizes[-1]`` with ``activation`` between layers.

    ``out_activation`` (e.g. ``nn.Sigmoid()``) follows the last layer if given. Used by the fluctuations
    chapter (the autoencoder) and as the building block of the chapters' small models.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        activation: type[nn.Module] = nn.ReLU,
        out_activation: nn.Module | None = None,
        bias: bool = True,
    ):
        gens = generators(seeds)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(BLinear(a, b, gens, bias=bias))
            if i < len(sizes) - 2:
                layers.append(activation())
        if out_activation is not None:
            layers.append(out_activation)
        super().__init__(*layers)
        self.k = len(seeds)

    def linears(self) -> list[BLinear]:
        return [m for m in self if isinstance(m, BLinear)]
