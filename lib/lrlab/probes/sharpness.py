"""Sharpness: the top eigenvalue of the training-loss Hessian (Cohen et al. 2021, §2; chapter ``eos_ntk``).

Cohen et al. call λ_max(∇²L(θ)) the *sharpness*; gradient descent on a quadratic is stable iff sharpness < 2/η,
and their Figure 1 shows it rising (progressive sharpening) until it reaches 2/η and then hovering there (the edge
of stability, EoS). Their code (``src/utilities.py`` of locuslab/edge-of-stability) computes it as we do here:

- a Hessian-vector product by double backward: g = ∇L with ``create_graph=True``, then ∇(g·v)
  (:class:`HessianOperator`; the graph of g is built once and reused by every product). For the chapter's
  networks (Linear layers with tanh, ReLU or nothing between, half-MSE) :class:`MLPHessian` computes the same
  product by
  Pearlmutter's R-operator: the same matrix products, a third of the elementwise passes, no graph to traverse.
  :func:`hessian_operator` picks the R-operator where :func:`fc_layers` recognises the model, double backward
  for any other;
- Lanczos on those products (:func:`lanczos_top`). Their code calls ``scipy.sparse.linalg.eigsh`` with the
  default ``which='LM'`` (largest *magnitude*), which can return a large negative eigenvalue; sharpness is the
  largest *algebraic* eigenvalue (``which='LA'``), which our Lanczos targets. It tests convergence after every
  product instead of after ARPACK's ~20. A :class:`SharpnessTracker` warm-starts each call
  from the previous eigenvector (``v0``), which cuts the number of products when the top direction moves little.
- :func:`power_iteration` is the textbook baseline (and PyHessian's method): it finds the eigenvalue of largest
  magnitude and converges at rate ``|λ₂/λ₁|``, slowly when eigenvalues pile up (as they do at EoS).

Products are computed in the parameters' dtype (float32 for the chapter's models); Lanczos works in float64.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import lapack
from torch import Tensor, nn

from lrlab.models import Squeeze, half_mse


def flatten(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate tensors into one flat vector (the order of ``params``)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def n_params(params: Sequence[Tensor]) -> int:
    """Total number of entries of ``params``."""
    return int(sum(p.numel() for p in params))


class HessianOperator:
    """v ↦ ∇²L(θ) v for one loss value, by double backward; counts its products in ``matvecs``.

    ``loss`` is the scalar loss computed from ``params`` (which need ``requires_grad``), or a function returning
    it. The gradient is taken once with ``create_graph=True`` and its graph is kept for every product; it is also
    the training gradient (:meth:`gradient`), so a run that measures sharpness at step t needs no second backward
    pass for its update (``lrlab.studies.eos_ntk.experiments.gd_run``). ``create_graph=False`` is for subclasses
    that compute the products another way (:class:`MLPHessian`).
    """

    def __init__(self, loss: Tensor | Callable[[], Tensor], params: Sequence[Tensor], *, create_graph: bool = True):
        self.params = [p for p in params]
        if not self.params or not all(p.requires_grad for p in self.params):
            raise ValueError("params must be a non-empty list of tensors that require grad")
        if callable(loss):
            loss = loss()
        if not isinstance(loss, Tensor) or loss.dim() != 0:
            shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"the loss must be a scalar tensor, got {shape}")
        self.loss = float(loss.detach())
        self.grads = torch.autograd.grad(loss, self.params, create_graph=create_graph)
        self.grad = flatten(self.grads)
        self.size = self.grad.numel()
        self.matvecs = 0

    def gradient(self) -> list[Tensor]:
        """∇L(θ), one detached tensor per parameter (bitwise the gradient a plain backward pass gives)."""
        return [g.detach() for g in self.grads]

    def __call__(self, v: Tensor) -> Tensor:
        """∇²L v for a flat vector ``v`` of ``size`` entries."""
        v = torch.as_tensor(v).reshape(-1).to(self.grad.dtype).to(self.grad.device)
        if v.numel() != self.size:
            raise ValueError(f"v has {v.numel()} entries, the parameters have {self.size}")
        self.matvecs += 1
        return self._product(v)

    def _product(self, v: Tensor) -> Tensor:
        hv = torch.autograd.grad(self.grad @ v, self.params, retain_graph=True)
        return flatten(hv).detach()


class MLPHessian(HessianOperator):
    """v ↦ ∇²L(θ) v for Cohen et al.'s half-MSE L = ½/n Σᵢ ‖f(xᵢ) − yᵢ‖² of a multilayer perceptron, by
    Pearlmutter's R-operator (*Fast exact multiplication by the Hessian*, Neural Computation 1994, §3–4).

    f is a stack of ``nn.Linear`` layers (``layers``), each but the last followed by the activation ``acts[i]``:
    ``"tanh"``, ``"relu"`` or ``None`` (nothing; ``True`` and ``False`` are read as tanh and nothing): the chapter
    ``eos_ntk``'s fc-tanh and fc-relu networks and its two-layer linear network. ReLU's second derivative vanishes
    wherever it is defined, so its layers contribute no −2 δa ⊙ a-like term (autograd's double backward agrees:
    tested). The parameters are every layer's weight, then bias, in order (``model.parameters()`` of the
    ``nn.Sequential``); all must require grad. ``loss`` is L at these parameters, computed by the caller's own
    forward pass: the gradient (:meth:`HessianOperator.gradient`) comes from a plain backward pass on it, bitwise
    the training gradient. The products use a forward and backward pass of their own, done by hand once per
    operator, which keeps every activation a, its derivative s (1 − a² for tanh, 1[z > 0] for ReLU),
    backpropagated error g and, for tanh, its −2 δa ⊙ a term; a
    product is then a forward pass of R{z} = R{a} Wᵀ + a Vᵀ + c and a backward pass of R{g}: for two hidden layers
    the fourteen matrix products of autograd's double backward, but a third of its elementwise passes and no graph
    to traverse, for the same Hessian (tested against the exact one). ``benchmarks/bench_sharpness.py`` measures
    both.
    """

    def __init__(self, layers: Sequence[nn.Linear], acts: Sequence[str | bool | None], x: Tensor, y: Tensor,
                 loss: Tensor | Callable[[], Tensor]):
        if not layers or len(acts) != len(layers) - 1:
            raise ValueError(f"acts must name the activation of each of the {len(layers) - 1} gaps between "
                             f"{len(layers)} layers, got {len(acts)}")
        names = [{True: "tanh", False: None}.get(a, a) if isinstance(a, bool) else a for a in acts]
        if not all(a in ACTS for a in names):
            raise ValueError(f"acts = {list(acts)!r} is not allowed: each must be one of {ACTS}")
        params = [p for layer in layers for p in (layer.weight, layer.bias) if p is not None]
        super().__init__(loss, params, create_graph=False)
        self.weights = [layer.weight.detach() for layer in layers]
        self.biases = [None if layer.bias is None else layer.bias.detach() for layer in layers]
        self.sizes = [p.numel() for p in self.params]  # how a flat direction splits into the parameters
        self._prepare(x.detach(), y.detach(), names)

    def _prepare(self, x: Tensor, y: Tensor, acts: list[str | None]) -> None:
        """The forward and backward pass every product reuses (index l: the input of layer l, l = 0 … L−1)."""
        a, s = [x], [None]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a[-1] @ w.t() if b is None else torch.addmm(b, a[-1], w.t())
            if l == len(self.weights) - 1:
                f = z
            elif acts[l] == "tanh":
                a.append(torch.tanh(z))
                s.append(1 - a[-1] * a[-1])
            elif acts[l] == "relu":
                a.append(torch.relu(z))
                s.append((z > 0).to(z.dtype))
            else:
                a.append(z)
                s.append(None)
        self.n = len(x)
        g = (f - y.reshape(f.shape)) / self.n  # ∂L/∂f
        gs, extra = [g], [None]
        for l in range(len(self.weights) - 1, 0, -1):  # g of layer l−1's output z, from layer l's
            da = gs[0] @ self.weights[l]
            gs.insert(0, da if s[l] is None else da * s[l])
            extra.insert(0, -2 * da * a[l] if acts[l - 1] == "tanh" else None)
        self.a, self.s, self.g, self.extra = a, s, gs, extra

    def _split(self, v: Tensor) -> tuple[list[Tensor], list[Tensor | None]]:
        """``v`` as one direction per weight (shaped like it) and per bias (None where a layer has none)."""
        chunks = iter(torch.split(v, self.sizes))
        vw: list[Tensor] = []
        vb: list[Tensor | None] = []
        for w, b in zip(self.weights, self.biases):
            vw.append(next(chunks).view(w.shape))
            vb.append(None if b is None else next(chunks))
        return vw, vb

    def _product(self, v: Tensor) -> Tensor:
        vw, vb = self._split(v)
        L = len(self.weights)
        ra: list[Tensor | None] = [None]  # R{a} of each layer's input; the data's is zero
        for l in range(L):
            a = self.a[l]
            rz = a @ vw[l].t() if vb[l] is None else torch.addmm(vb[l], a, vw[l].t())
            if l > 0:
                rz.addmm_(ra[l], self.weights[l].t())
            if l < L - 1:
                ra.append(rz if self.s[l + 1] is None else rz.mul_(self.s[l + 1]))
        rg = rz.div_(self.n)  # R{∂L/∂f} = R{f}/n
        out: list[Tensor] = []
        for l in range(L - 1, -1, -1):
            parts = [rg.t() @ self.a[l]]
            if l > 0:
                parts[0].addmm_(self.g[l].t(), ra[l])
            if vb[l] is not None:
                parts.append(rg.sum(0))
            out = parts + out
            if l > 0:
                rda = torch.addmm(self.g[l] @ vw[l], rg, self.weights[l])
                if self.s[l] is None:
                    rg = rda
                elif self.extra[l - 1] is None:
                    rg = rda.mul_(self.s[l])
                else:
                    rg = torch.addcmul(rda.mul_(self.s[l]), self.extra[l - 1], ra[l])
        return torch.cat([t.reshape(-1) for t in out])


ACTS: tuple[str | None, ...] = ("tanh", "relu", None)
"""The activations :class:`MLPHessian` handles between two linear layers (``None``: nothing)."""
_ACT_MODULES: dict[type[nn.Module], str] = {nn.Tanh: "tanh", nn.ReLU: "relu"}


def fc_layers(model: nn.Module) -> tuple[list[nn.Linear], list[str | None]] | None:
    """The linear layers of ``model`` and the activation after each but the last (``"tanh"``, ``"relu"`` or None),
    when ``model`` is an ``nn.Sequential`` of ``nn.Linear`` layers with ``nn.Tanh``, ``nn.ReLU`` or nothing between
    them (and :class:`~lrlab.models.Squeeze` after a one-output last layer) whose parameters all train:
    :func:`lrlab.models.mlp` and :func:`lrlab.models.two_layer_linear`. Else None."""
    if not isinstance(model, nn.Sequential):
        return None
    mods = list(model)
    if mods and isinstance(mods[-1], Squeeze):
        mods.pop()
        if not mods or not isinstance(mods[-1], nn.Linear) or mods[-1].out_features != 1:
            return None
    layers: list[nn.Linear] = []
    acts: list[str | None] = []
    for m in mods:
        if type(m) is nn.Linear:
            if layers and len(acts) < len(layers):
                acts.append(None)
            layers.append(m)
        elif type(m) in _ACT_MODULES and layers and len(acts) < len(layers):
            acts.append(_ACT_MODULES[type(m)])
        else:
            return None
    if not layers or len(acts) != len(layers) - 1 or not all(p.requires_grad for p in model.parameters()):
        return None
    return layers, acts


def hessian_operator(model: nn.Module, x: Tensor, y: Tensor, loss: Tensor | None = None) -> HessianOperator:
    """The Hessian of L = :func:`~lrlab.models.half_mse` (``model(x)``, ``y``) at the model's parameters, as
    products: :class:`MLPHessian` (Pearlmutter's R-operator) for the networks :func:`fc_layers` recognises,
    :class:`HessianOperator` (double backward) for any other model. ``loss`` is L from the caller's forward pass
    (computed when omitted); both give its plain gradient."""
    if loss is None:
        loss = half_mse(model(x), y)
    fc = fc_layers(model)
    if fc is None:
        return HessianOperator(loss, [p for p in model.parameters() if p.requires_grad])
    return MLPHessian(*fc, x, y, loss)


def hvp(loss_fn: Callable[[], Tensor], params: Sequence[Tensor], v: Tensor) -> Tensor:
    """One Hessian-vector product ∇²L(θ) v by double backward (``v`` flat, in the order of ``params``)."""
    return HessianOperator(loss_fn, params)(v)


@dataclass
class Eigen:
    """A top-eigenvalue estimate: the value, its unit eigenvector (float64), products used and seconds spent."""

    value: float
    vector: np.ndarray
    matvecs: int
    seconds: float


def _top_ritz(alphas: list[float], betas: list[float]) -> tuple[float, np.ndarray]:
    """Largest eigenvalue of the Lanczos tridiagonal T (diagonal ``alphas``, off-diagonal ``betas``) and its
    eigenvector in the Krylov basis.

    LAPACK's bisection (``dstebz``, index range) and inverse iteration (``dstein``), called directly: what
    ``scipy.linalg.eigh_tridiagonal(select="i")`` runs, bitwise, without its argument checks, which cost about five
    times the solve at every Lanczos step (``benchmarks/bench_sharpness.py``: one Lanczos step against one product).
    """
    n = len(alphas)
    if n == 1:
        return alphas[0], np.ones(1)
    d, e = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
    m, w, iblock, isplit, info = lapack.dstebz(d, e, 2, 0.0, 1.0, n, n, 0.0, "B")
    if info == 0 and m == 1:
        v, info = lapack.dstein(d, e, w[:1], iblock, isplit)
    if info != 0 or m != 1:
        raise np.linalg.LinAlgError(f"the Lanczos tridiagonal's top eigenpair failed (LAPACK info = {info})")
    return float(w[0]), v[:, 0]


def lanczos_top(
    loss_fn: Tensor | Callable[[], Tensor],
    params: Sequence[Tensor],
    v0: np.ndarray | None = None,
    tol: float = 1e-3,
    ncv: int | None = None,
    maxiter: int | None = None,
    seed: int = 0,
) -> Eigen:
    """Largest algebraic Hessian eigenvalue by Lanczos on Hessian-vector products, stopping as soon as it is
    accurate (Golub & Van Loan, *Matrix Computations*, §10.1; what ``eigsh(k=1, which='LA')`` computes).

    Builds the :class:`HessianOperator` of ``loss_fn`` (a scalar loss tensor or a function returning it) and runs
    :func:`lanczos` on it; ``seconds`` includes the first gradient. See :func:`lanczos` for the arguments.
    """
    start = time.perf_counter()
    eig = lanczos(HessianOperator(loss_fn, params), v0=v0, tol=tol, ncv=ncv, maxiter=maxiter, seed=seed)
    eig.seconds = time.perf_counter() - start
    return eig


def lanczos(
    op: HessianOperator,
    v0: np.ndarray | None = None,
    tol: float = 1e-3,
    ncv: int | None = None,
    maxiter: int | None = None,
    seed: int = 0,
) -> Eigen:
    """Largest algebraic eigenvalue of the operator ``op`` by Lanczos (the algorithm behind :func:`lanczos_top`).

    After every product the top Ritz pair (θ, y) of the tridiagonal is checked: its residual ‖Hy − θy‖ =
    β_j·abs(s_j) costs nothing to compute, and the run stops when it is at most ``tol``·abs(θ) (ARPACK's test; ``tol =
    0`` means the precision of the products). Then θ lies within ``tol``·abs(θ) of an eigenvalue. ARPACK's ``eigsh``
    builds ``ncv`` ≈ 20 vectors before its first test; checking every step needs about half the products
    (``benchmarks/bench_sharpness.py``). Vectors are fully reorthogonalised in float64. ``ncv`` caps the basis
    (default 40); past it Lanczos restarts from the current Ritz vector. ``v0`` warm-starts the basis (e.g. the
    previous eigenvector); without it a Gaussian vector drawn from ``seed`` is used, so the result is
    deterministic. ``maxiter`` bounds the products (default 2000). ``seconds`` counts the products' time. A product
    that is not finite (the curvature overflowed the parameters' dtype) raises ``FloatingPointError``.
    """
    if tol < 0:
        raise ValueError(f"tol = {tol!r} is not allowed: it must be a number >= 0")
    if ncv is not None and ncv < 2:
        raise ValueError(f"ncv = {ncv!r} is not allowed: it must be an integer >= 2")
    start = time.perf_counter()
    first = op.matvecs
    if v0 is None:
        v0 = np.random.default_rng(seed).standard_normal(op.size)
    q = torch.as_tensor(np.asarray(v0, dtype=np.float64)).reshape(-1).clone()
    if q.numel() != op.size:
        raise ValueError(f"v0 has {q.numel()} entries, the parameters have {op.size}")
    if not torch.isfinite(q).all() or q.norm() == 0:
        raise ValueError("v0 must be a finite, non-zero vector")
    floor = 50 * torch.finfo(op.grad.dtype).eps  # what a product computed in the parameters' dtype can resolve
    tol = max(tol, float(floor))
    dim = min(ncv or 40, op.size)
    budget = maxiter or 2000
    theta, vector = float("nan"), q / q.norm()
    while True:
        basis = torch.empty(dim, op.size, dtype=torch.float64)
        alphas: list[float] = []
        betas: list[float] = []
        q = vector
        for j in range(dim):
            basis[j] = q
            w = op(q).double().cpu()
            alpha = float(q @ w)
            if not math.isfinite(alpha):
                raise FloatingPointError(f"the Hessian-vector product after {op.matvecs - first} products is not "
                                         "finite (inf or NaN): the loss's curvature overflows at these parameters")
            alphas.append(alpha)
            done = basis[: j + 1]
            for _ in range(2):  # full reorthogonalisation, twice is enough ("twice is enough", Parlett)
                w.sub_(torch.mv(done.T, torch.mv(done, w)))
            beta = float(torch.linalg.vector_norm(w))
            theta, s = _top_ritz(alphas, betas)
            converged = beta * abs(s[-1]) <= tol * abs(theta) or beta <= floor * abs(theta)
            if converged or j + 1 == dim or op.matvecs - first >= budget:
                break
            betas.append(beta)
            q = w / beta
        vector = torch.as_tensor(s) @ basis[: len(alphas)]
        vector /= vector.norm()
        if converged or op.matvecs - first >= budget or dim == op.size:
            return Eigen(theta, vector.numpy(), op.matvecs - first, time.perf_counter() - start)


def power_iteration(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    v0: np.ndarray | None = None,
    tol: float = 1e-3,
    max_iter: int = 1000,
    seed: int = 0,
) -> Eigen:
    """Eigenvalue of largest *magnitude* by power iteration on Hessian-vector products (the baseline).

    Stops when the Rayleigh quotient changes by less than ``tol`` relative to its value (PyHessian's rule), or
    after ``max_iter`` products. Converges at rate ``|λ₂/λ₁|`` per product, and to a negative eigenvalue when that
    one is largest in magnitude: use :func:`lanczos_top` for sharpness.
    """
    if tol <= 0:
        raise ValueError(f"tol = {tol!r} is not allowed: it must be a number > 0")
    if max_iter < 1:
        raise ValueError(f"max_iter = {max_iter!r} is not allowed: it must be an integer >= 1")
    start = time.perf_counter()
    op = HessianOperator(loss_fn, params)
    gen = torch.Generator().manual_seed(seed)
    if v0 is None:
        v = torch.randn(op.size, generator=gen, dtype=torch.float64)
    else:
        v = torch.as_tensor(np.asarray(v0, dtype=np.float64)).reshape(-1)
    v = v / v.norm()
    value = float("nan")
    for _ in range(max_iter):
        hv = op(v).double().cpu()
        new = float(v @ hv)
        norm = hv.norm()
        if norm == 0:
            return Eigen(0.0, v.numpy(), op.matvecs, time.perf_counter() - start)
        v = hv / norm
        if np.isfinite(value) and abs(new - value) <= tol * (abs(value) + 1e-12):
            value = new
            break
        value = new
    return Eigen(value, v.numpy(), op.matvecs, time.perf_counter() - start)


class SharpnessTracker:
    """Sharpness along a training run: Lanczos warm-started from the previous call's eigenvector.

    ``v0`` warm-starts the first call too (e.g. the eigenvector at initialisation, which every η of one seed
    shares). ``tracker(loss_fn, params)`` builds the operator; ``tracker.measure(op)`` reuses one whose gradient
    the caller also needs. Both return an :class:`Eigen`; ``matvecs`` and ``seconds`` add up the cost.
    """

    def __init__(self, tol: float = 1e-3, ncv: int | None = None, seed: int = 0, v0: np.ndarray | None = None):
        self.tol = tol
        self.ncv = ncv
        self.seed = seed
        self.last: np.ndarray | None = None if v0 is None else np.asarray(v0, dtype=np.float64)
        self.matvecs = 0
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, loss_fn: Tensor | Callable[[], Tensor], params: Sequence[Tensor]) -> Eigen:
        start = time.perf_counter()
        op = HessianOperator(loss_fn, params)
        self.seconds += time.perf_counter() - start  # the first gradient; measure() adds the products
        return self.measure(op)

    def measure(self, op: HessianOperator) -> Eigen:
        """The top eigenvalue of ``op``, warm-started from the last eigenvector."""
        eig = lanczos(op, v0=self.last, tol=self.tol, ncv=self.ncv, seed=self.seed)
        self.last = eig.vector
        self.matvecs += eig.matvecs
        self.seconds += eig.seconds
        self.calls += 1
        return eig
