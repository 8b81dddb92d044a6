"""Optimisers for batched models: one learning rate (and weight decay) per configuration.

Every parameter has the configuration axis first (``(K, ...)``); ``lr`` and ``wd`` are length-K. The update
rules are written out so a chapter can show them: plain SGD with coupled L2 weight decay (Lobacheva et al. 2021,
eq. for w_{t+1} = (1 − ηλ) w_t − η ∇L(w_t)) and Adam (Kingma & Ba 2015, Algorithm 1). ``active`` freezes
configurations that diverged or reached their stopping criterion, so the others go on unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numba
import numpy as np
import torch
from torch import Tensor

from lrlab.nn import fused_ops


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


# ---- the sphere: each configuration's scale-invariant weights held at norm ρ₀ (projected SGD) ------------------


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _squares(row):  # pragma: no cover - compiled
    """Σ row² in float64 (vectorised: the additions may be reordered, always the same way for the same code)."""
    s = 0.0
    for j in range(row.size):
        v = np.float64(row[j])
        s += v * v
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _step_squares(w, g, keep, rate):  # pragma: no cover - compiled
    """``w ← keep · w − rate · g`` in place, and Σ w² of the result in float64 (as ``_squares``)."""
    s = 0.0
    for j in range(w.size):
        v = w[j] * keep - rate * g[j]
        w[j] = v
        s += np.float64(v) * v
    return s


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sphere_rows(ws, gs, rate, keep, rho0, mask, update):  # pragma: no cover - compiled
    """For each configuration k, in one pass while its rows are in cache: with ``update``, the SGD step
    ``ws[i][k] ← keep_k · ws[i][k] − rate_k · gs[i][k]``; then, if ``mask[k]``, every ``ws[i][k]`` times ρ₀,k / ρ
    with ρ = √(Σ_i ‖ws[i][k]‖²) in float64. A ρ that is not finite or not positive (a diverged configuration)
    leaves the configuration unscaled."""
    factor = np.empty(1, ws[0].dtype)  # the scale in the weights' own dtype
    for k in range(rho0.shape[0]):
        s = 0.0
        for i in range(len(ws)):
            if update:
                s += _step_squares(ws[i][k], gs[i][k], keep[k], rate[k])
            elif mask[k]:
                s += _squares(ws[i][k])
        if not mask[k]:
            continue
        r = np.sqrt(s)
        if not (np.isfinite(r) and r > 0):
            continue
        factor[0] = rho0[k] / max(r, 1e-30)
        f = factor[0]
        for w in ws:
            row = w[k]
            for j in range(row.size):
                row[j] *= f


def _rows(ts: Sequence[Tensor]) -> tuple[np.ndarray, ...] | None:
    """``(K, n)`` NumPy views of CPU tensors of one dtype, all contiguous; None if they are not."""
    first = ts[0]
    if first.device.type != "cpu" or any(t.dtype != first.dtype or not t.is_contiguous() for t in ts):
        return None
    return tuple(t.detach().view(t.shape[0], -1).numpy() for t in ts)


def sphere_norm(params: Sequence[Tensor]) -> Tensor:
    """The norm of each configuration's ``params`` taken together, ``(K,)``, without concatenating them."""
    per_tensor = [torch.linalg.vector_norm(p.detach().flatten(1), dim=1) for p in params]
    return torch.linalg.vector_norm(torch.stack(per_tensor, 1), dim=1)


@torch.no_grad()
def rescale_to_sphere_(params: Sequence[Tensor], rho0: Tensor, mask: Tensor) -> None:
    """Rescale each held configuration's ``params`` jointly, in place, to norm ``rho0`` (``(K,)`` each; ``mask``
    holds). A configuration whose norm is not finite or not positive is left alone. One compiled call on CPU
    (``_sphere_rows``), torch's ops elsewhere and inside :func:`lrlab.nn.unfused`.
    :class:`lrlab.probes.scale_invariant.Projector` uses it."""
    rows = _rows(params) if fused_ops() else None
    if rows is not None:
        unused = np.ones(len(rows[0]), rows[0].dtype)  # no update: its rate and decay are not read
        _sphere_rows(rows, rows, unused, unused, rho0.double().cpu().numpy(), mask.cpu().numpy(), False)
        return
    r = sphere_norm(params)
    held = mask & torch.isfinite(r) & (r > 0)
    factor = torch.where(held, rho0 / r.clamp_min(1e-30), 1.0)
    for p in params:
        p.mul_(_view(factor, p))


class Sphere(Protocol):
    """What :class:`SGD` needs to hold configurations on their sphere (a
    :class:`lrlab.probes.scale_invariant.Projector` is one): the tensors, the norms ρ₀ and which configurations."""

    params: list[Tensor]
    rho0: Tensor
    mask: Tensor


class SGD(BatchedOptimizer):
    """SGD with coupled L2 weight decay and no momentum: ``w ← (1 − ηλ) w − η g``.

    With ``sphere`` (a :class:`lrlab.probes.scale_invariant.Projector`), projected SGD: after the update, the
    sphere's held configurations have their scale-invariant weights rescaled jointly to norm ρ₀ (both papers'
    ``fix_si_pnorm``; the sphere chapter's fixed-ELR runs, the periodic chapter's fixed-norm control). On CPU the
    update of those weights and their rescaling are one compiled pass (``_sphere_rows``); the numbers are those
    of the update followed by :func:`rescale_to_sphere_`, to rounding.
    """

    def __init__(self, params: Iterable[Tensor], lr, wd: float | Sequence[float] | Tensor = 0.0,
                 sphere: Sphere | None = None):
        super().__init__(params, lr)
        self.wd = _per_config(wd, self.k, "wd")
        self.sphere = sphere
        if sphere is not None:
            ours = {id(p) for p in self.params}
            if any(id(p) not in ours for p in sphere.params):
                raise ValueError("sphere holds tensors this optimiser does not train: pass it the model's trainable "
                                 "parameters, scale-invariant ones included")

    @torch.no_grad()
    def step(self) -> None:
        decay = bool((self.wd != 0).any())
        fused = self._fused_sphere(decay)
        rates: dict[tuple, Tensor] = {}  # η per configuration (0 when frozen), once per step, dtype and shape
        for p in self.params:
            if p.grad is None or id(p) in fused:
                continue
            key = (p.device, p.dtype, p.dim())
            if key not in rates:
                rates[key] = self._rate(p)
            rate = rates[key]
            if decay:
                p.mul_(1 - rate * _view(self.wd, p))
            p.addcmul_(p.grad, rate, value=-1.0)
        if self.sphere is not None and not fused:
            rescale_to_sphere_(self.sphere.params, self.sphere.rho0, self.sphere.mask)

    def _fused_sphere(self, decay: bool) -> set[int]:
        """Update and rescale the sphere's tensors in one compiled pass when they allow it (CPU, one dtype,
        contiguous, every gradient present, not inside :func:`lrlab.nn.unfused`); the ids of the tensors done, empty
        if none."""
        sphere = self.sphere
        if sphere is None or not fused_ops() or any(p.grad is None for p in sphere.params):
            return set()
        ws, gs = _rows(sphere.params), _rows([p.grad for p in sphere.params])
        if ws is None or gs is None or ws[0].dtype != gs[0].dtype:
            return set()
        rate = self._rate(sphere.params[0]).reshape(-1)
        keep = 1 - rate * self.wd.to(rate.dtype) if decay else torch.ones_like(rate)
        _sphere_rows(ws, gs, rate.numpy(), keep.numpy(), sphere.rho0.double().cpu().numpy(), sphere.mask.cpu().numpy(),
                     True)
        return {id(p) for p in sphere.params}


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _adam_rows(p, g, m, v, w1, w2, c2, rate, eps, active):  # pragma: no cover - compiled
    """One Adam step of every active configuration k, in one pass over its rows ``(K, n)``, in place:
    m ← m + w1_k (g − m), v ← v + w2_k (g² − v) (torch's ``lerp_``, a fused multiply-add, as here), then
    p ← p − rate_k · m / (√(v / c2_k) + eps). A frozen configuration is skipped whole, so a NaN gradient of a
    diverged one never reaches its moments."""
    for k in range(p.shape[0]):
        if not active[k]:
            continue
        a1, a2, c, r = w1[k], w2[k], c2[k], rate[k]
        pk, gk, mk, vk = p[k], g[k], m[k], v[k]
        for j in range(pk.size):
            gj = gk[j]
            mj = mk[j] + a1 * (gj - mk[j])
            vj = vk[j] + a2 * (gj * gj - vk[j])
            mk[j] = mj
            vk[j] = vj
            pk[j] = pk[j] - r * (mj / (np.sqrt(vj / c) + eps))


class Adam(BatchedOptimizer):
    """Adam (Kingma & Ba 2015) with bias correction, per-configuration learning rate, no weight decay.

    On CPU each parameter's step is one compiled pass (``_adam_rows``) instead of eight tensor operations, each a
    pass over memory (the fluctuations chapter's Adam grid: 1.9 million weights per step); the numbers are torch's
    operations' to rounding (torch's vectorised square root is not always correctly rounded, so they are not
    bitwise equal). Inside :func:`lrlab.nn.unfused`, and on other devices, torch's operations run.
    """

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
        w1, w2, rate = act * (1 - self.b1), act * (1 - self.b2), self.lr * self.active / c1  # per configuration
        compiled: dict[np.dtype, tuple] = {}  # the same factors as the compiled pass takes them, once per dtype
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            rows = _rows([p, p.grad, m, v]) if fused_ops() else None
            if rows is not None:
                dt = rows[0].dtype
                if dt not in compiled:
                    compiled[dt] = (*(f.numpy().astype(dt) for f in (w1, w2, c2, rate)), dt.type(self.eps),
                                    self.active.numpy())
                _adam_rows(*rows, *compiled[dt])
                continue
            g = torch.nan_to_num(p.grad) if not self.active.all() else p.grad
            m.lerp_(g, _view(w1, p))  # m ← β1 m + (1 − β1) g  (active configurations)
            v.lerp_(g * g, _view(w2, p))  # v ← β2 v + (1 − β2) g²
            denom = (v / _view(c2, p)).sqrt_().add_(self.eps)  # √v̂ + ε
            p.addcmul_(m / denom, _view(rate, p), value=-1.0)  # θ ← θ − η m̂ / (√v̂ + ε)


def make(name: str, params: Iterable[Tensor], lr, wd: float | Sequence[float] = 0.0) -> BatchedOptimizer:
    """``sgd`` or ``adam`` by name (the chapters' ``optimizer`` parameter)."""
    if name == "sgd":
        return SGD(params, lr, wd)
    if name == "adam":
        if _per_config(wd, 1 if isinstance(wd, float) else len(wd), "wd").abs().sum() > 0:
            raise ValueError("optimizer = 'adam' here has no weight decay; use wd = 0")
        return Adam(params, lr)
    raise ValueError(f"optimizer = {name!r} is not allowed: it must be 'sgd' or 'adam'")
