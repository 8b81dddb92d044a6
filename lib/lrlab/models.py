"""Models shared by the chapters: fully scale-invariant (SI) networks batched over K configurations, and plain
fully connected networks for full-batch gradient descent.

A network is *fully* scale-invariant when every trained weight feeds a normalisation layer without affine
parameters and the last layer is frozen (Li, Lyu & Arora 2020; Lobacheva et al. 2021, §3; Kodryan et al. 2022,
§2): then L(c·w) = L(w) for every c > 0, the gradient is orthogonal to w, and the optimisation lives on a sphere.
Used by the chapters ``sphere_regimes`` (Kodryan et al. 2022) and ``periodic_bn_wd`` (Lobacheva et al. 2021).

- :class:`SIMLP`: BLinear (no bias) → BN (no affine) → ReLU, …, then a frozen head rescaled to Frobenius norm
  ``head_norm`` (10 in both papers' code) per configuration. ``all_trained=True`` gives the "all parameters
  trained" variant (BN with affine, trainable head at its default init), the papers' ``…Af`` models.
- :class:`ConvNetSI`: the official ConvNetSI (width 32 in both papers' headline figures) for scale ``paper``.
- :func:`si_parameters`, :func:`cross_entropy` (and :func:`example_losses`), :func:`check_scale_invariance`.

Every trained tensor of these has the configuration axis first (``(K, ...)``), as :mod:`lrlab.optim` expects.

One network at a time, as ``nn.Sequential`` (chapter ``eos_ntk``, after Cohen et al. 2021's code):

- :func:`mlp` (Cohen et al.'s ``fc-tanh`` and ``fc-relu``; :func:`tanh_mlp`) and :func:`two_layer_linear`
  (f(x) = vᵀWx, bias-free);
  :class:`Squeeze` and :func:`scalar_net` give a one-output network the target's shape;
- :func:`half_mse`, Cohen et al.'s ``mse``: L = (1/2n) Σ_i ‖f(x_i) − y_i‖².
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lrlab.nn import BBatchNorm, BLinear, batch_normalize, batch_stats, bn_relu, generators, stat_dims, uniform_

HEAD_OFFSET = 7_919
"""Seed offset of the head's generator, so the head is not drawn from the hidden layers' stream."""


# ---- normalisation ------------------------------------------------------------------------------------------


class SIBatchNorm(BBatchNorm):
    """:class:`lrlab.nn.BBatchNorm` (no affine, batch statistics per configuration) with an optional frozen
    population statistic, so test accuracy can be measured with BN in eval mode as the papers do
    (see :func:`population_bn`). Input ``(K, B, width)``.
    """

    spatial_from: int | None = None
    """Statistics over the batch axis, plus the trailing axes from here on (:func:`lrlab.nn.batch_normalize`)."""

    def __init__(self, eps: float = 1e-5):
        super().__init__(eps)
        self.stats: tuple[Tensor, Tensor] | None = None
        self.collect = False
        self.sums: list | None = None
        """While :func:`population_bn` measures this layer chunk by chunk: count, Σx and Σx² (float64); ``[]``
        before its first chunk."""
        self.watch_var = False
        """When set, every training forward pass (gradients on) leaves its batch variance in ``batch_var``."""
        self.batch_var: Tensor | None = None
        """The batch variance of the last watched pass, per configuration and channel (float64 when fused)."""

    def forward(self, x: Tensor) -> Tensor:
        if self.sums is not None:
            self._accumulate(x)
            raise _LayerMeasuredError
        if self.stats is None and not self.collect:
            if self._watched():
                self.batch_var = batch_stats(x.detach(), self.spatial_from)[1]
            return batch_normalize(x, self.spatial_from, self.eps)
        if self.collect:
            self.stats = tuple(t.detach() for t in batch_stats(x, self.spatial_from))
        mean, var = self.stats
        return (x - mean) / torch.sqrt(var + self.eps)

    def _watched(self) -> bool:
        return self.watch_var and torch.is_grad_enabled()

    def relu_after(self, x: Tensor) -> Tensor:
        """``relu(self(x))``; with batch statistics (training) as one fused layer, :func:`lrlab.nn.bn_relu`, unless a
        forward hook is registered on this layer, which then runs as a module so that the hook fires."""
        plain = self.stats is None and not self.collect and self.sums is None and self.spatial_from is None
        if plain and not self._forward_hooks and not self._forward_pre_hooks:
            var = x.new_empty(x.shape[0], x.shape[2], dtype=torch.float64) if self._watched() else None
            out = bn_relu(x, self.eps, var)
            if var is not None:
                self.batch_var = var
            return out
        return torch.relu(self(x))

    def _accumulate(self, x: Tensor) -> None:
        dims = stat_dims(x, self.spatial_from)
        x = x.detach().double()
        add = [math.prod(x.shape[d] for d in dims), x.sum(dim=dims, keepdim=True),
               x.square().sum(dim=dims, keepdim=True)]
        self.sums = add if not self.sums else [a + b for a, b in zip(self.sums, add)]

    def _finish(self, dtype: torch.dtype) -> None:
        n, s1, s2 = self.sums
        mean = s1 / n
        self.stats = (mean.to(dtype), (s2 / n - mean.square()).clamp_min(0.0).to(dtype))
        self.sums = None


class _LayerMeasuredError(Exception):
    """Raised by the BN layer that :func:`population_bn` is measuring: the rest of the forward pass is not needed."""


class BAffine(nn.Module):
    """Per-configuration affine transform after BN (γ = 1, β = 0 at init): the "all trained" variant only."""

    def __init__(self, k: int, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(k, 1, width))
        self.bias = nn.Parameter(torch.zeros(k, 1, width))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.weight + self.bias


class ConvBN(SIBatchNorm):
    """BN without affine over ``(B, H, W)`` per channel and configuration; input ``(K, B, C, H, W)``."""

    spatial_from = 3


POPULATION_CHUNK = 2048
""":func:`population_bn` takes the statistics of at most this many inputs in one forward pass; more are taken
chunk by chunk (ConvNetSI's activations for all 50 000 CIFAR-10 images and 21 configurations would need 137 GB)."""


@contextmanager
def population_bn(model: nn.Module, x: Tensor, chunk: int = POPULATION_CHUNK):
    """Inside the block, every BN of ``model`` normalises with the statistics of ``x``.

    This is BN in eval mode with population statistics of ``x`` (the papers' test metrics use eval-mode BN,
    ``get_info.py --eval_model`` in the official code); on exit the layers go back to batch statistics. Up to
    ``chunk`` inputs are one forward pass in train mode, whose batch statistics are the population's. More are
    measured a layer at a time in the order the forward pass meets them: each layer's mean and variance are summed
    (in float64) over chunks of ``chunk`` inputs while the layers before it already use their population
    statistics, so the result is that of one pass over all of ``x``, up to rounding, in bounded memory.
    """
    if chunk < 1:
        raise ValueError(f"chunk = {chunk!r} is not allowed: it must be an integer >= 1")
    bns = [m for m in model.modules() if isinstance(m, SIBatchNorm)]
    try:
        with torch.no_grad():
            if len(x) <= chunk:
                for m in bns:
                    m.collect = True
                model(x)
            else:
                _population_by_chunks(model, bns, x, chunk)
        for m in bns:
            m.collect = False
        yield model
    finally:
        for m in bns:
            m.collect = False
            m.stats = None
            m.sums = None


def _population_by_chunks(model: nn.Module, bns: list[SIBatchNorm], x: Tensor, chunk: int) -> None:
    pending = set(range(len(bns)))
    while pending:
        for i in pending:
            bns[i].sums = []  # the first of them the forward pass reaches accumulates and stops the pass
        for start in range(0, len(x), chunk):
            with suppress(_LayerMeasuredError):
                model(x[start : start + chunk])
        measured = [i for i in pending if bns[i].sums]
        for i in pending:
            if not bns[i].sums:
                bns[i].sums = None
        if not measured:
            raise ValueError("population_bn: the forward pass reaches none of the remaining BN layers")
        bns[measured[0]]._finish(x.dtype)
        pending.discard(measured[0])


# ---- the SI MLP ---------------------------------------------------------------------------------------------


def _rescale_(w: Tensor, norm: float) -> None:
    """Rescale each configuration's slice of ``w`` (in place) to Frobenius norm ``norm``."""
    with torch.no_grad():
        n = w.reshape(w.shape[0], -1).norm(dim=1).clamp_min(1e-30)
        w.mul_((norm / n).view(-1, *([1] * (w.dim() - 1))))


class SIMLP(nn.Module):
    """K fully scale-invariant MLPs: ``sizes[0] → sizes[1] → … → sizes[-1]``.

    Hidden layers: BLinear without bias → BN without affine → ReLU. Head: BLinear ``sizes[-2] → sizes[-1]``
    without bias, rescaled to Frobenius norm ``head_norm`` per configuration and frozen (``requires_grad =
    False``: neither trained nor decayed), as ``--init_scale 10 --noninvlr 0`` in the official code.
    Configuration ``k`` is drawn from ``seeds[k]``; ``head_seed`` (if given) draws one head shared by all
    configurations, like the sphere paper's ``--same_last_layer``.

    ``all_trained=True``: BN with a trainable affine, head trainable at ``nn.Linear``'s default init (no
    rescaling): the papers' "all parameters trained" variant, which is no longer scale-invariant as a whole.
    Input ``(B, D)`` (shared) or ``(K, B, D)``; output logits ``(K, B, sizes[-1])``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        seeds: Sequence[int],
        *,
        head_norm: float = 10.0,
        head_seed: int | None = None,
        eps: float = 1e-5,
        all_trained: bool = False,
    ):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 3 or min(sizes) < 1:
            raise ValueError(f"sizes = {sizes!r} is not allowed: it must list >= 3 positive layer widths")
        if not len(seeds):
            raise ValueError("seeds = [] is not allowed: it must hold one seed per configuration")
        if not head_norm > 0:
            raise ValueError(f"head_norm = {head_norm!r} is not allowed: it must be > 0")
        self.k = len(seeds)
        self.sizes = tuple(sizes)
        self.all_trained = all_trained
        gens = generators(seeds)
        layers: list[nn.Module] = []
        self.hidden: list[BLinear] = []
        self.norms: list[SIBatchNorm] = []
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            lin, norm = BLinear(a, b, gens, bias=False), SIBatchNorm(eps)
            self.hidden.append(lin)
            self.norms.append(norm)
            layers += [lin, norm]
            if all_trained:
                layers.append(BAffine(self.k, b))
            layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        hgens = generators([head_seed] * self.k if head_seed is not None else seeds, offset=HEAD_OFFSET)
        self.head = BLinear(sizes[-2], sizes[-1], hgens, bias=False)
        if not all_trained:
            _rescale_(self.head.weight, head_norm)
            self.head.weight.requires_grad_(False)

    def si_parameters(self) -> list[Tensor]:
        """The scale-invariant weights: every hidden layer's weight (``(K, fan_in, fan_out)`` each)."""
        return [lin.weight for lin in self.hidden]

    def forward(self, x: Tensor) -> Tensor:
        if self.all_trained:
            return self.head(self.body(x))
        h = x
        for lin, norm in zip(self.hidden, self.norms):  # ``body``'s layers, BN and ReLU as one (``relu_after``)
            h = norm.relu_after(lin(h))
        return self.head(h)


# ---- the official ConvNetSI (scale `paper`) -----------------------------------------------------------------


class ConvNetSI(nn.Module):
    """The official ``ConvNetSI`` (``nets/convnet_si.py`` of both papers' repositories), batched over K.

    Conv3×3(3→w, no bias) → BN → ReLU; then three blocks Conv3×3 → BN → ReLU → MaxPool2 with channels
    w→2w→4w→8w; MaxPool4 → flatten → Linear(8w→10, bias) whose weight is rescaled to norm ``head_norm`` and
    frozen (the official code freezes it with lr 0; here ``requires_grad=False``). BN has no affine.
    Convolutions are initialised as ``nn.Conv2d`` (U(±1/√fan_in)). Input ``(B, 3, 32, 32)`` or
    ``(K, B, 3, 32, 32)``; output ``(K, B, 10)``. ``grouped=False`` (the default) convolves the K configurations
    one after another; ``grouped=True`` as one convolution with K groups (the same arithmetic in one kernel launch
    per layer; ``benchmarks/bench_paper_gpu.py`` times both on a GPU).
    """

    def __init__(
        self,
        seeds: Sequence[int] = (0,),
        width: int = 32,
        *,
        num_classes: int = 10,
        head_norm: float = 10.0,
        head_seed: int | None = None,
        eps: float = 1e-5,
        grouped: bool = False,
    ):
        super().__init__()
        if width < 1:
            raise ValueError(f"width = {width!r} is not allowed: it must be an integer >= 1")
        self.k = len(seeds)
        self.grouped = grouped
        gens = generators(seeds)
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        self.convs = nn.ParameterList(
            [nn.Parameter(uniform_((b, a, 3, 3), (a * 9) ** -0.5, gens)) for a, b in zip(chans[:-1], chans[1:])]
        )
        self.bns = nn.ModuleList([ConvBN(eps) for _ in self.convs])
        hgens = generators([head_seed] * self.k if head_seed is not None else seeds, offset=HEAD_OFFSET)
        self.head = BLinear(8 * width, num_classes, hgens, bias=True)
        _rescale_(self.head.weight, head_norm)
        self.head.weight.requires_grad_(False)
        self.head.bias.requires_grad_(False)

    def si_parameters(self) -> list[Tensor]:
        """The four convolution weights (``(K, out, in, 3, 3)`` each)."""
        return list(self.convs)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            x = x.unsqueeze(0).expand(self.k, *x.shape)
        h = x
        for i, (w, bn) in enumerate(zip(self.convs, self.bns)):
            h = self._conv(h, w)
            h = F.relu(bn(h))
            if i > 0:
                h = F.max_pool2d(h.flatten(0, 1), 2).unflatten(0, (self.k, -1))
        h = F.max_pool2d(h.flatten(0, 1), 4).unflatten(0, (self.k, -1)).flatten(2)
        return self.head(h)

    def _conv(self, h: Tensor, w: Tensor) -> Tensor:
        """3×3 convolution of each configuration's ``(B, C, H, W)`` slice with its own weight: ``(K, B, O, H, W)``."""
        if not self.grouped:
            return torch.stack([F.conv2d(h[c], w[c], padding=1) for c in range(self.k)])
        k, b, c, height, width = h.shape
        out = F.conv2d(h.transpose(0, 1).reshape(b, k * c, height, width), w.reshape(k * w.shape[1], c, 3, 3),
                       padding=1, groups=k)
        return out.view(b, k, w.shape[1], height, width).transpose(0, 1)


# ---- helpers ------------------------------------------------------------------------------------------------


def si_parameters(model: nn.Module) -> list[Tensor]:
    """The scale-invariant weights of ``model`` (its ``si_parameters()``); ``ValueError`` if it has none."""
    fn = getattr(model, "si_parameters", None)
    if fn is None:
        raise ValueError(f"model {type(model).__name__} declares no scale-invariant parameters")
    return list(fn())


def example_losses(logits: Tensor, y: Tensor) -> Tensor:
    """Cross-entropy of every example, ``(K, B)``, from logits ``(K, B, C)`` and labels ``(K, B)`` or ``(B,)``.

    The classes go to torch as dimension 1 of a transposed ``(K, C, B)`` view, not as the last dimension of ``(K·B,
    C)``: the same numbers, but torch's CPU ``log_softmax`` over a short last dimension (10 classes) is slow, and
    this layout makes the sphere chapter's loss, forward and backward, faster (``benchmarks/bench_training.py``
    measures both).
    """
    k, b, _ = logits.shape
    y = y.unsqueeze(0).expand(k, b) if y.dim() == 1 else y
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none")


def cross_entropy(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Mean cross-entropy per configuration: the K losses ``lrlab.train.train`` expects.

    ``y`` is ``(B,)`` (shared) or ``(K, B)``. Logits come out ``(K, B, C)``.
    """
    return example_losses(model(x), y).mean(1)


@dataclass(frozen=True)
class InvarianceCheck:
    """Result of :func:`check_scale_invariance`, per configuration (K values each)."""

    loss_rel_change: Tensor
    """Max over the tried scale factors of ``|L(c·w) − L(w)| / |L(w)|``."""
    grad_cosine: Tensor
    """``|cos(∇_w L, w)|`` over the SI weights (0 for an exactly SI model)."""
    grad_scaling: Tensor
    """max over c of | c·‖∇L(c·w)‖ / ‖∇L(w)‖ − 1 | (∇L(c·w) = ∇L(w)/c for an SI model)."""

    def ok(self, tol: float = 1e-3) -> bool:
        """All three deviations below ``tol`` (BN's ε and float32 leave ~1e-4 at ε = 1e-5)."""
        return bool(
            (self.loss_rel_change < tol).all() and (self.grad_cosine < tol).all() and (self.grad_scaling < tol).all()
        )


def check_scale_invariance(
    model: nn.Module, loss_fn, x: Tensor, y: Tensor, scales: Sequence[float] = (0.5, 3.0)
) -> InvarianceCheck:
    """Check scale invariance of ``model`` at its current weights on one batch ``(x, y)``.

    Rescales all SI weights jointly by each ``c`` in ``scales`` and measures the loss change, the cosine between
    the SI gradient and the SI weights, and ∇L(c·w)·c against ∇L(w). Weights are restored afterwards.
    """
    if not scales or min(scales) <= 0:
        raise ValueError(f"scales = {scales!r} is not allowed: it must be a non-empty list of numbers > 0")
    params = si_parameters(model)
    saved = [p.detach().clone() for p in params]
    k = params[0].shape[0]

    def loss_and_grad() -> tuple[Tensor, Tensor]:
        losses = loss_fn(model, x, y)
        grads = torch.autograd.grad(losses.sum(), params)
        return losses.detach(), torch.cat([g.reshape(k, -1) for g in grads], 1)

    flat_w = torch.cat([p.detach().reshape(k, -1) for p in params], 1)
    l0, g0 = loss_and_grad()
    cos = (g0 * flat_w).sum(1).abs() / (g0.norm(dim=1) * flat_w.norm(dim=1)).clamp_min(1e-30)
    rel = torch.zeros(k, device=l0.device)
    gscale = torch.zeros(k, device=l0.device)
    try:
        for c in scales:
            with torch.no_grad():
                for p, s in zip(params, saved):
                    p.copy_(s * c)
            lc, gc = loss_and_grad()
            rel = torch.maximum(rel, (lc - l0).abs() / l0.abs().clamp_min(1e-30))
            gscale = torch.maximum(gscale, (c * gc.norm(dim=1) / g0.norm(dim=1).clamp_min(1e-30) - 1).abs())
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)
    return InvarianceCheck(rel, cos, gscale)


# ---- plain networks for full-batch gradient descent (chapter ``eos_ntk``) ----------------------------------


ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
"""The hidden activations of :func:`mlp`: Cohen et al.'s ``fc-tanh`` and ``fc-relu``."""


def mlp(d_in: int, widths: tuple[int, ...], d_out: int, seed: int, activation: str = "tanh") -> nn.Sequential:
    """Cohen's ``fc-<activation>``: Linear → activation → … → Linear, biases on, PyTorch's default initialisation
    from ``seed`` (``activation`` one of :data:`ACTIVATIONS`). Chapter ``eos_ntk`` trains the tanh and the ReLU
    network on the same data, so that its alignment claims are judged on more than one architecture."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is not allowed: it must be one of {sorted(ACTIVATIONS)}")
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        sizes = (d_in, *widths, d_out)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
    finally:
        torch.random.set_rng_state(gen_state)
    return nn.Sequential(*layers)


def tanh_mlp(d_in: int, widths: tuple[int, ...], d_out: int, seed: int) -> nn.Sequential:
    """Cohen's ``fc-tanh``: :func:`mlp` with tanh between the linear layers."""
    return mlp(d_in, widths, d_out, seed, "tanh")


class Squeeze(nn.Module):
    """Drop the trailing output axis of a one-output network: (B, 1) → (B,)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.squeeze(-1)


def scalar_net(net: nn.Sequential, d_out: int) -> nn.Sequential:
    """Append ``Squeeze`` for one output, so f(x) has the target's shape."""
    return nn.Sequential(*net, Squeeze()) if d_out == 1 else net


def two_layer_linear(d: int, width: int, seed: int) -> nn.Sequential:
    """f(x) = vᵀ W x: two bias-free linear layers d → width → 1, PyTorch's default initialisation from ``seed``."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        net = nn.Sequential(nn.Linear(d, width, bias=False), nn.Linear(width, 1, bias=False), Squeeze())
    finally:
        torch.random.set_rng_state(gen_state)
    return net


def half_mse(out: Tensor, y: Tensor) -> Tensor:
    """Cohen et al.'s ``mse``: ½ × squared error summed over outputs, summed over examples, divided by n."""
    return 0.5 * (out - y).square().sum() / len(y)
