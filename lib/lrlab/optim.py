"""Optimisers for batched models: one learning rate (and weight decay) per configuration.

Every parameter has the configuration axis first (``(K, ...)``); ``lr`` and ``wd`` are length-K. The update
rules are written out so a chapter can show them: plain SGD with coupled L2 weight decay (Lobacheva et al. 2021,
eq. for w_{t+1} = (1 − ηλ) w_t − η ∇L(w_t)) and Adam (Kingma & Ba 2015, Algorithm 1). ``active`` freezes
configurations that diverged or reached their stopping criterion, so the others go on unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor


def _per_config(values: float | Sequence[float] | Tensor, k: int, name: str) -> Tensor:
    t = torch.as_tensor(values, dtype=torch.float32).flatten()
    if t.numel() == 1:
        t = t.expand(k).clone()
    if t.numel() != k:
        raise ValueError(f"{name} has {t.numel()} values but the model has {k} configurations")
    return t


def _view(t: Tensor, p: Tensor) -> Tensor:
    return t.to(p.device, p.dtype).view(-1, *([1] * (p.dim() - 1)))


class BatchedOptimizer:
    """Base: parameters with a leading configuration axis, per-configuration ``lr``, an ``active`` mask."""

    def __init__(self, params: Iterable[Tensor], lr: float | Sequence[float] | Tensor):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("the optimiser got no trainable parameters")
        self.k = self.params[0].shape[0]
        self.lr = _per_config(lr, self.k, "lr")
        if (self.lr < 0).any():
            raise ValueError(f"lr = {self.lr.tolist()} is not allowed: every learning rate must be >= 0")
        self.active = torch.ones(self.k, dtype=torch.bool)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _rate(self, p: Tensor) -> Tensor:
        return _view(self.lr * self.active, p)


class SGD(BatchedOptimizer):
    """SGD with coupled L2 weight decay and no momentum: ``w ← (1 − ηλ) w − η g``."""

    def __init__(self, params: Iterable[Tensor], lr, wd: float | Sequence[float] | Tensor = 0.0):
        super().__init__(params, lr)
        self.wd = _per_config(wd, self.k, "wd")

    @torch.no_grad()
    def step(self) -> None:
        decay = bool((self.wd != 0).any())
        for p in self.params:
            if p.grad is None:
                continue
            rate = self._rate(p)
            if decay:
                p.mul_(1 - rate * _view(self.wd, p))
            p.addcmul_(p.grad, rate, value=-1.0)


class Adam(BatchedOptimizer):
    """Adam (Kingma & Ba 2015) with bias correction, per-configuration learning rate, no weight decay."""

    def __init__(self, params: Iterable[Tensor], lr, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.b1, self.b2 = betas
        self.eps = eps
        self.t = torch.zeros(self.k)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self) -> None:
        self.t += self.active.float()
        t = self.t.clamp(min=1)
        c1 = 1 - self.b1**t
        c2 = 1 - self.b2**t
        act = self.active.float()
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = torch.nan_to_num(p.grad) if not self.active.all() else p.grad
            m.lerp_(g, _view(act * (1 - self.b1), p))  # m ← β1 m + (1 − β1) g  (active configurations)
            v.lerp_(g * g, _view(act * (1 - self.b2), p))  # v ← β2 v + (1 − β2) g²
            denom = (v / _view(c2, p)).sqrt_().add_(self.eps)  # √v̂ + ε
            p.addcmul_(m / denom, _view(self.lr * self.active / c1, p), value=-1.0)  # θ ← θ − η m̂ / (√v̂ + ε)


def make(name: str, params: Iterable[Tensor], lr, wd: float | Sequence[float] = 0.0) -> BatchedOptimizer:
    """``sgd`` or ``adam`` by name (the chapters' ``optimizer`` parameter)."""
    if name == "sgd":
        return SGD(params, lr, wd)
    if name == "adam":
        if _per_config(wd, 1 if isinstance(wd, float) else len(wd), "wd").abs().sum() > 0:
            raise ValueError("optimizer = 'adam' here has no weight decay; use wd = 0")
        return Adam(params, lr)
    raise ValueError(f"optimizer = {name!r} is not allowed: it must be 'sgd' or 'adam'")
