"""Batched layers: K independent models trained as one computation.

A chapter's grid (learning rates × seeds) is K small models. Stacking their weights on a leading axis and using
``torch.bmm`` trains them in one pass: on one CPU thread a hand-batched ``bmm`` ran 1.3× the throughput of K
sequential models and 2× ``torch.func.vmap`` (benchmarks/). Configuration ``k`` is initialised from its own
generator seeded with ``seeds[k]``, so its numbers do not depend on which other configurations share the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager

import numba
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable


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

    def _padded_weight(self, pad: tuple[int, int]) -> Tensor:
        """The weight padded with zero columns; a frozen weight's padding is kept until the weight changes (its
        version counter moves), instead of being redone at every step (the SI models' frozen head)."""
        w = self.weight
        if w.requires_grad or torch._C._are_functorch_transforms_active():  # (under torch.func, no storage to key)
            return F.pad(w, pad)
        key = (w._version, w.data_ptr(), w.device, w.dtype, pad)
        cached = getattr(self, "_pad_cache", None)
        if cached is None or cached[0] != key:
            cached = (key, F.pad(w.detach(), pad))
            self._pad_cache = cached
        return cached[1]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # one batch shared by every configuration
            x = x.unsqueeze(0).expand(self.k, -1, -1)
        n = self.weight.shape[-1]
        if n < NARROW:
            pad = (0, NARROW - n)
            w = self._padded_weight(pad)
            out = torch.bmm(x, w) if self.bias is None else torch.baddbmm(F.pad(self.bias, pad), x, w)
            return out[..., :n]
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class BBatchNorm(nn.Module):
    """Batch normalisation without affine parameters, per configuration, over the batch axis (train mode).

    With no affine parameters the layer makes the weights feeding it scale-invariant (Lobacheva et al. 2021):
    rescaling them leaves the output unchanged.
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


# ---- batch norm and ReLU, fused (CPU) ------------------------------------------------------------------------
# In the sphere and periodic chapters' step, BN and the ReLU after it cost as much as the hidden layers' products:
# torch runs them as a copy into BN's layout, the BN kernel, a copy back, the ReLU, and as many passes backward.
# One compiled pass per direction and layer, each configuration's (B, C) slice staying in cache, replaces them.


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _bn_relu_forward(h, eps, y, mean, rstd, var):  # pragma: no cover - compiled
    """``h`` (K, B, C) → ``y`` = max((h − mean) · rstd, 0) with ``mean`` (K, C) and ``rstd`` = 1 / √(var + eps)
    per (k, c) over b; ``var`` (K, C, float64) receives the biased variance, accumulated in float64 in two passes
    (the mean, then the variance)."""
    k_, b_, c_ = h.shape
    zero = np.zeros(1, h.dtype)[0]
    s = np.empty(c_)
    q = np.empty(c_)
    for k in range(k_):
        s[:] = 0.0
        for b in range(b_):
            for c in range(c_):
                s[c] += h[k, b, c]
        for c in range(c_):
            s[c] /= b_
        q[:] = 0.0
        for b in range(b_):
            for c in range(c_):
                d = h[k, b, c] - s[c]
                q[c] += d * d
        for c in range(c_):
            mean[k, c] = s[c]
            var[k, c] = q[c] / b_
            rstd[k, c] = 1.0 / np.sqrt(var[k, c] + eps)
        m, r = mean[k], rstd[k]
        for b in range(b_):
            for c in range(c_):
                v = (h[k, b, c] - m[c]) * r[c]
                y[k, b, c] = v if v > 0 else zero


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _bn_relu_backward(gy, h, mean, rstd, gx):  # pragma: no cover - compiled
    """The gradient through ReLU and BN, with x̂ = (h − mean) · rstd recomputed as the forward pass computed it:
    g = gy where x̂ > 0 (else 0), gx = rstd · (g − mean_b g − x̂ · mean_b(g · x̂)), the two means in float64."""
    k_, b_, c_ = gy.shape
    zero = np.zeros(1, gy.dtype)[0]
    sg = np.empty(c_)
    sgx = np.empty(c_)
    mg = np.empty(c_, gy.dtype)
    mgx = np.empty(c_, gy.dtype)
    for k in range(k_):
        m, r = mean[k], rstd[k]
        sg[:] = 0.0
        sgx[:] = 0.0
        for b in range(b_):
            for c in range(c_):
                v = (h[k, b, c] - m[c]) * r[c]
                g = gy[k, b, c] if v > 0 else zero
                sg[c] += g
                sgx[c] += g * v
        for c in range(c_):
            mg[c] = sg[c] / b_
            mgx[c] = sgx[c] / b_
        for b in range(b_):
            for c in range(c_):
                v = (h[k, b, c] - m[c]) * r[c]
                g = gy[k, b, c] if v > 0 else zero
                gx[k, b, c] = r[c] * (g - mg[c] - v * mgx[c])


class _BNReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: Tensor, eps: float, var: Tensor) -> Tensor:  # noqa: ANN001 - torch's signature
        h = h.detach().contiguous()
        y = torch.empty_like(h)
        mean, rstd = h.new_empty(h.shape[0], h.shape[2]), h.new_empty(h.shape[0], h.shape[2])
        _bn_relu_forward(h.numpy(), float(eps), y.numpy(), mean.numpy(), rstd.numpy(), var.numpy())
        ctx.save_for_backward(h, mean, rstd)  # h, not x̂: the backward pass recomputes x̂ (one write less)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy: Tensor) -> tuple[Tensor, None]:  # noqa: ANN001 - torch's signature
        h, mean, rstd = ctx.saved_tensors
        gy = gy.contiguous()
        gx = torch.empty_like(gy)
        _bn_relu_backward(gy.numpy(), h.numpy(), mean.numpy(), rstd.numpy(), gx.numpy())
        return gx, None, None


_FUSED = [True]


@contextmanager
def unfused():
    """Inside the block, :func:`bn_relu`, projected :class:`lrlab.optim.SGD` and :class:`lrlab.optim.Adam` run torch's
    own ops, as on a GPU: an A/B switch for checks and benchmarks (the compiled passes and torch's kernels round
    differently, and training amplifies rounding)."""
    before = _FUSED[0]
    _FUSED[0] = False
    try:
        yield
    finally:
        _FUSED[0] = before


def fused_ops() -> bool:
    """Whether the compiled CPU passes may run (:func:`bn_relu`, projected :class:`lrlab.optim.SGD`,
    :class:`lrlab.optim.Adam`): False inside :func:`unfused`."""
    return _FUSED[0]


def _fusable(x: Tensor, eps: float) -> bool:
    return (fused_ops() and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64) and x.dim() == 3
            and x.shape[1] > 1 and eps > 0 and not torch._C._are_functorch_transforms_active())


def bn_relu(x: Tensor, eps: float, var: Tensor | None = None) -> Tensor:
    """``relu(batch_normalize(x, None, eps))`` for ``(K, B, C)``: BN without affine over the batch axis, then ReLU.

    On CPU (float32 or float64) one compiled pass forward and one backward per layer
    (``_bn_relu_forward``, ``_bn_relu_backward``): the same function as torch's kernels to rounding, with
    the statistics accumulated in float64; elsewhere (a GPU, ``torch.func`` transforms, ``eps = 0``) torch's ops.
    ``var``, a ``(K, C)`` float64 tensor, receives the batch variance the layer used (the periodic chapter's
    probe of the smallest pre-BN variance). First-order only: a second derivative through it raises. Used by
    :class:`lrlab.models.SIMLP` (chapters ``sphere_regimes`` and ``periodic_bn_wd``);
    ``benchmarks/bench_training.py`` times it against torch's ops.
    """
    if _fusable(x, eps):
        out = var if var is not None else torch.empty(x.shape[0], x.shape[2], dtype=torch.float64)
        return _BNReLU.apply(x, eps, out)
    if var is not None:
        var.copy_(batch_stats(x.detach(), None)[1].squeeze(1))
    return torch.relu(batch_normalize(x, None, eps))


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
