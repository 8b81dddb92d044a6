"""The empirical neural tangent kernel and its alignment with the target (Jiang, Cohen & Li 2025; chapter ``eos_ntk``).

For a network f(x; θ) with k outputs on n inputs, the Jacobian J = ∂f/∂θ has one row per (example, output) pair
(example-major, so ``y.reshape(-1)`` is the matching target) and the empirical NTK is K = J Jᵀ ∈ R^{nk×nk}.

- :func:`jacobian` computes J with ``torch.func`` (``vmap`` over examples of ``jacrev`` of the one-example
  network), the "Jacobian contraction" route of the PyTorch NTK tutorial; :func:`empirical_ntk` contracts it.
  :func:`jacobian_loop` is the per-example ``autograd.grad`` loop it replaces (the baseline, and a check).
- :func:`structured_ntk` computes the same K without forming J, for networks whose parameters all sit in
  ``nn.Linear`` layers applied to each example on its own (the chapter's tanh MLPs and the two-layer linear
  network). A linear layer z = W a + b has ∂f/∂W = δ aᵀ with δ = ∂f/∂z, so its block of J Jᵀ is
  (δ_i·δ_j)(a_i·a_j) (+ δ_i·δ_j for the bias): two Gram matrices of widths ``out`` and ``in`` instead of one of width
  ``out·in`` (the "structured derivatives" of Novak et al. 2022, *Fast finite width neural tangent kernel*, §3).
  One forward and one backward pass per output give every δ and a. :func:`empirical_ntk` uses it when it applies.
- Kernel-target alignment (Cristianini et al. 2001): KTA(K, y) = ⟨K, yyᵀ⟩_F / (‖K‖_F ‖yyᵀ‖_F)
  = yᵀKy / (‖K‖_F ‖y‖²) (:func:`kta`).
- With K = Σ_i λ_i u_i u_iᵀ (λ descending), the paper's Figure 1 normalises the eigenvalues by ‖λ‖₂ = ‖K‖_F
  (:func:`normalized_eigenvalues`) and measures the alignment of each eigenvector with the target,
  a_i = (u_iᵀy)² / ‖y‖² (:func:`eigen_alignment`), which sums to 1 over a full eigenbasis; A_k = Σ_{i≤k} a_i
  is the cumulative top-k alignment (:func:`cumulative_alignment`).
- The two views are one object: KTA = Σ_i (λ_i / ‖λ‖₂) a_i (the identity the chapter derives; tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, vmap


def _params(model: nn.Module) -> dict[str, Tensor]:
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def jacobian(model: nn.Module, x: Tensor, chunk_size: int | None = None) -> Tensor:
    """J = ∂f(x_i; θ)/∂θ for every example and output, shape ``(n·k, P)`` (example-major rows).

    ``model`` maps a batch ``(B, *in)`` to ``(B,)`` or ``(B, k)``; P counts its trainable parameters in the order of
    ``model.named_parameters()``. ``chunk_size`` bounds how many examples ``vmap`` handles at once (memory).
    """
    params = _params(model)
    if not params:
        raise ValueError("the model has no trainable parameters")
    if len(x) == 0:
        raise ValueError("x is empty: the NTK needs at least one example")

    def one(p: dict[str, Tensor], xi: Tensor) -> Tensor:
        return functional_call(model, p, (xi.unsqueeze(0),)).reshape(-1)

    jac = vmap(jacrev(one), in_dims=(None, 0), chunk_size=chunk_size)(params, x)
    n = len(x)
    blocks = [jac[name].reshape(n, -1, params[name].numel()) for name in params]  # (n, k, P_name)
    return torch.cat(blocks, dim=2).reshape(-1, sum(p.numel() for p in params.values()))


def jacobian_loop(model: nn.Module, x: Tensor) -> Tensor:
    """The same J by one ``autograd.grad`` per example and output (the slow baseline, and a check)."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(len(x)):
        out = model(x[i : i + 1]).reshape(-1)
        for j in range(out.numel()):
            grads = torch.autograd.grad(out[j], params, retain_graph=j + 1 < out.numel())
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


_BATCH_COUPLED = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm, nn.GroupNorm)


def structured_unsupported(model: nn.Module) -> str | None:
    """Why :func:`structured_ntk` cannot handle ``model`` (``None`` when it can).

    It needs every trainable parameter to belong to an ``nn.Linear`` and no module that mixes examples
    (batch normalisation in training mode).
    """
    for name, module in model.named_modules():
        if isinstance(module, _BATCH_COUPLED) and module.training:
            return f"module {name!r} ({type(module).__name__}) couples the examples of a batch"
        own = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if own and not isinstance(module, nn.Linear):
            return f"module {name!r} ({type(module).__name__}) has parameters and is not nn.Linear"
    if not any(p.requires_grad for p in model.parameters()):
        return "the model has no trainable parameters"
    return None


@dataclass
class _LayerFactors:
    """For one linear layer: its inputs a (n, in), its output gradients δ (n·k, out), and which parts train."""

    a: Tensor
    delta: Tensor
    weight: bool
    bias: bool


def _layer_factors(model: nn.Module, x: Tensor) -> list[_LayerFactors]:
    """a and δ = ∂f_o(x_i)/∂z_i of every linear layer, rows example-major like :func:`jacobian`."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    inputs: dict[nn.Linear, Tensor] = {}
    outputs: dict[nn.Linear, Tensor] = {}

    def hook(module: nn.Linear, args: tuple[Tensor, ...], out: Tensor) -> None:
        if module in inputs:
            raise ValueError("structured_ntk: an nn.Linear is applied twice in one forward pass (shared weights)")
        if args[0].dim() != 2:
            raise ValueError(f"structured_ntk: nn.Linear inputs must be (batch, features), got {tuple(args[0].shape)}")
        inputs[module] = args[0].detach()
        outputs[module] = out

    handles = [m.register_forward_hook(hook) for m in linears]
    try:
        with torch.enable_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    out = out.reshape(len(x), -1)
    used = [m for m in linears if m in outputs]
    zs = [outputs[m] for m in used]
    k = out.shape[1]
    per_output = [torch.autograd.grad(out[:, o].sum(), zs, retain_graph=o + 1 < k) for o in range(k)]
    factors = []
    for i, m in enumerate(used):
        delta = torch.stack([g[i] for g in per_output], dim=1).reshape(len(x) * k, -1)  # (n·k, out)
        bias = m.bias is not None and m.bias.requires_grad
        factors.append(_LayerFactors(inputs[m], delta, m.weight.requires_grad, bias))
    return factors


def structured_ntk(model: nn.Module, x: Tensor, x2: Tensor | None = None) -> Tensor:
    """K = J(x) J(x2)ᵀ from per-layer Gram matrices, without forming J (Novak et al. 2022, §3; see the module doc).

    K = Σ_layers (Δ Δ₂ᵀ) ⊙ ((A A₂ᵀ) ⊗ 1_{k×k} [+ 1 with a bias]), with Δ the (n·k, out) output gradients and A the
    (n, in) inputs of each ``nn.Linear``. Raises ``ValueError`` for models it cannot handle
    (:func:`structured_unsupported`). Chapter ``eos_ntk`` computes every kernel this way.
    """
    if len(x) == 0 or (x2 is not None and len(x2) == 0):
        raise ValueError("x is empty: the NTK needs at least one example")
    why = structured_unsupported(model)
    if why:
        raise ValueError(f"structured_ntk cannot handle this model: {why}; use method='jacobian'")
    f1 = _layer_factors(model, x)
    f2 = f1 if x2 is None else _layer_factors(model, x2)
    k = len(f1[0].delta) // len(x)
    K = torch.zeros(len(f1[0].delta), len(f2[0].delta), dtype=f1[0].delta.dtype, device=f1[0].delta.device)
    for a, b in zip(f1, f2):
        dd = a.delta @ b.delta.T
        if a.weight:
            aa = a.a @ b.a.T
            if k > 1:
                aa = aa.repeat_interleave(k, 0).repeat_interleave(k, 1)
            K.addcmul_(dd, aa.add_(1.0) if a.bias else aa)  # in place: one pass over n² entries per layer
        elif a.bias:
            K.add_(dd)
    return K.detach()


def empirical_ntk(
    model: nn.Module, x: Tensor, x2: Tensor | None = None, chunk_size: int | None = None, method: str = "auto"
) -> Tensor:
    """K = J(x) J(x2)ᵀ (``x2`` defaults to ``x``).

    ``method``: ``"structured"`` (:func:`structured_ntk`), ``"jacobian"`` (form J with ``torch.func`` and contract
    it), or ``"auto"``: structured when the model allows it, else the Jacobian. Both give the same kernel (tested).
    """
    if method not in ("auto", "structured", "jacobian"):
        raise ValueError(f"method = {method!r} is not allowed: it must be one of 'auto', 'structured', 'jacobian'")
    if method == "structured" or (method == "auto" and structured_unsupported(model) is None):
        return structured_ntk(model, x, x2)
    j1 = jacobian(model, x, chunk_size)
    j2 = j1 if x2 is None else jacobian(model, x2, chunk_size)
    return j1 @ j2.T


def _np(a: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    if isinstance(a, Tensor):
        return a.detach().cpu().double().numpy()
    return np.asarray(a, dtype=np.float64)


def _check_pair(K: np.ndarray, y: np.ndarray) -> None:
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square matrix, got shape {K.shape}")
    if y.shape != (K.shape[0],):
        raise ValueError(f"y must have {K.shape[0]} entries to match K, got shape {y.shape}")
    if not np.any(y):
        raise ValueError("y is all zeros: alignment with it is undefined")


def kta(K: Tensor | np.ndarray, y: Tensor | np.ndarray) -> float:
    """Kernel-target alignment yᵀKy / (‖K‖_F ‖y‖²) (Cristianini et al. 2001); ``y`` flattened example-major."""
    K, y = _np(K), _np(y).reshape(-1)
    _check_pair(K, y)
    fro = np.linalg.norm(K)
    if fro == 0:
        raise ValueError("K is the zero matrix: alignment with it is undefined")
    return float(y @ K @ y / (fro * (y @ y)))


def spectrum(K: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and unit eigenvectors (columns, same order) of the symmetric ``K``, in float64."""
    K = _np(K)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square matrix, got shape {K.shape}")
    w, U = np.linalg.eigh((K + K.T) / 2)
    return w[::-1].copy(), U[:, ::-1].copy()


def normalized_eigenvalues(eigenvalues: np.ndarray) -> np.ndarray:
    """λ_i / ‖λ‖₂, i.e. the eigenvalues over the Frobenius norm of the kernel (the paper's Figure 1)."""
    w = _np(eigenvalues)
    norm = np.linalg.norm(w)
    if norm == 0:
        raise ValueError("every eigenvalue is zero: they cannot be normalised")
    return w / norm


def eigen_alignment(eigenvectors: np.ndarray, y: Tensor | np.ndarray) -> np.ndarray:
    """a_i = (u_iᵀy)² / ‖y‖² for each column u_i; sums to 1 when the columns are a full orthonormal basis."""
    U, y = _np(eigenvectors), _np(y).reshape(-1)
    if U.ndim != 2 or U.shape[0] != y.size:
        raise ValueError(f"eigenvectors must be (n, m) with n = {y.size} rows, got shape {U.shape}")
    if not np.any(y):
        raise ValueError("y is all zeros: alignment with it is undefined")
    return (U.T @ y) ** 2 / (y @ y)


def cumulative_alignment(alignment: np.ndarray, k: int | None = None) -> np.ndarray | float:
    """A_k = Σ_{i≤k} a_i: the whole cumulative curve, or its value at ``k`` when given."""
    a = _np(alignment)
    if k is None:
        return np.cumsum(a)
    if not 1 <= k <= a.size:
        raise ValueError(f"k = {k!r} is not allowed: it must be an integer in [1, {a.size}]")
    return float(a[:k].sum())


@dataclass
class KernelStats:
    """What the chapter reports about one kernel: KTA, λ_max, normalised eigenvalues and eigen-alignment."""

    kta: float
    lambda_max: float
    eigenvalues: np.ndarray
    normalized: np.ndarray
    alignment: np.ndarray

    def top(self, k: int) -> float:
        """A_k, the target's mass on the top-k eigenvectors."""
        return cumulative_alignment(self.alignment, k)


def kernel_stats(K: Tensor | np.ndarray, y: Tensor | np.ndarray) -> KernelStats:
    """KTA, spectrum and eigenvector alignment of ``K`` with ``y`` (one eigendecomposition, float64)."""
    Kn, yn = _np(K), _np(y).reshape(-1)
    _check_pair(Kn, yn)
    w, U = spectrum(Kn)
    return KernelStats(
        kta=kta(Kn, yn),
        lambda_max=float(w[0]),
        eigenvalues=w,
        normalized=normalized_eigenvalues(w),
        alignment=eigen_alignment(U, yn),
    )
