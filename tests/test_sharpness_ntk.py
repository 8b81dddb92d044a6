"""Ground-truth tests of the sharpness and NTK probes and of the eos_ntk study's building blocks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lrlab import models
from lrlab.probes import ntk, sharpness
from lrlab.studies import eos_ntk

torch.set_num_threads(1)


def tiny_problem(seed: int = 0):
    """A 3 → 4 → 1 tanh net (21 parameters) on 6 points, in float64 so exact Hessians are exact."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(6, generator=gen, dtype=torch.float64)
    model = models.scalar_net(models.tanh_mlp(3, (4,), 1, seed), 1).double()
    return model, x, y


def flat_loss(model: nn.Module, x, y):
    """The loss as a function of one flat parameter vector (for torch.autograd.functional.hessian)."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]

    def f(theta):
        parts = torch.split(theta, sizes)
        params = {n: t.reshape(s) for n, t, s in zip(names, parts, shapes)}
        out = torch.func.functional_call(model, params, (x,))
        return models.half_mse(out, y)

    return f


def exact_hessian(model, x, y) -> torch.Tensor:
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return torch.autograd.functional.hessian(flat_loss(model, x, y), theta)


def loss_fn(model, x, y):
    return lambda: models.half_mse(model(x), y)


# ---- sharpness ---------------------------------------------------------------------------------------------


def test_hvp_equals_exact_hessian_times_v():
    model, x, y = tiny_problem()
    H = exact_hessian(model, x, y)
    v = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    hv = sharpness.hvp(loss_fn(model, x, y), list(model.parameters()), v)
    torch.testing.assert_close(hv, H @ v, rtol=1e-10, atol=1e-12)


def test_hessian_operator_reuses_graph_and_counts_products():
    model, x, y = tiny_problem()
    op = sharpness.HessianOperator(loss_fn(model, x, y), list(model.parameters()))
    H = exact_hessian(model, x, y)
    for i in range(3):
        e = torch.zeros(op.size, dtype=torch.float64)
        e[i] = 1.0
        torch.testing.assert_close(op(e), H[:, i], rtol=1e-10, atol=1e-12)
    assert op.matvecs == 3
    with pytest.raises(ValueError, match="entries"):
        op(torch.zeros(op.size + 1, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lanczos_top_eigenvalue_matches_exact(seed):
    model, x, y = tiny_problem(seed)
    w = torch.linalg.eigvalsh(exact_hessian(model, x, y))
    eig = sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), tol=1e-10)
    assert abs(eig.value - w[-1].item()) / abs(w[-1].item()) < 1e-4
    assert eig.matvecs > 0 and np.isclose(np.linalg.norm(eig.vector), 1.0)


def test_lanczos_finds_largest_algebraic_not_largest_magnitude():
    """A quadratic loss ½θᵀAθ with eigenvalues {−5, 1, 2}: sharpness is 2, not −5 (eigsh's 'LM' would say −5)."""
    A = torch.diag(torch.tensor([-5.0, 1.0, 2.0, 0.5], dtype=torch.float64))
    theta = torch.ones(4, dtype=torch.float64, requires_grad=True)

    def quad():
        return 0.5 * theta @ A @ theta

    eig = sharpness.lanczos_top(quad, [theta], tol=1e-12)
    assert eig.value == pytest.approx(2.0, rel=1e-10)
    power = sharpness.power_iteration(quad, [theta], tol=1e-12, max_iter=2000)
    assert power.value == pytest.approx(-5.0, rel=1e-6)


def test_power_iteration_matches_exact_when_top_eigenvalue_dominates():
    model, x, y = tiny_problem(0)
    w = torch.linalg.eigvalsh(exact_hessian(model, x, y))
    assert w[-1] > abs(w[0])  # the top eigenvalue is also the largest in magnitude here
    eig = sharpness.power_iteration(loss_fn(model, x, y), list(model.parameters()), tol=1e-9, max_iter=5000)
    assert abs(eig.value - w[-1].item()) / w[-1].item() < 1e-4


def test_tracker_warm_start_saves_products_and_agrees():
    model, x, y = tiny_problem(0)
    tracker = sharpness.SharpnessTracker(tol=1e-8, ncv=6)
    cold = tracker(loss_fn(model, x, y), list(model.parameters()))
    warm = tracker(loss_fn(model, x, y), list(model.parameters()))
    assert warm.value == pytest.approx(cold.value, rel=1e-6)
    assert warm.matvecs <= cold.matvecs
    assert tracker.calls == 2 and tracker.matvecs == cold.matvecs + warm.matvecs


def test_hessian_operator_takes_a_loss_tensor_and_its_gradient_is_the_plain_one():
    """One backward pass with its graph gives both the products and the training gradient, bitwise (gd_run)."""
    model, x, y = tiny_problem(1)
    params = list(model.parameters())
    plain = torch.autograd.grad(loss_fn(model, x, y)(), params)
    op = sharpness.HessianOperator(loss_fn(model, x, y)(), params)
    for g, h in zip(plain, op.gradient()):
        assert torch.equal(g, h) and not h.requires_grad
    H = exact_hessian(model, x, y)
    v = torch.randn(op.size, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close(op(v), H @ v, rtol=1e-10, atol=1e-12)


def test_lanczos_on_a_used_operator_counts_only_its_own_products():
    model, x, y = tiny_problem(0)
    op = sharpness.HessianOperator(loss_fn(model, x, y), list(model.parameters()))
    op(torch.ones(op.size, dtype=torch.float64))
    eig = sharpness.lanczos(op, tol=1e-10)
    assert eig.matvecs == op.matvecs - 1
    top = float(torch.linalg.eigvalsh(exact_hessian(model, x, y))[-1])
    assert eig.value == pytest.approx(top, rel=1e-8)


def test_tracker_v0_warm_starts_the_first_call():
    """The chapter hands every η of a seed the eigenvector at initialisation: the first call then needs ~1 product."""
    model, x, y = tiny_problem(2)
    params = list(model.parameters())
    init = sharpness.lanczos_top(loss_fn(model, x, y), params, tol=1e-6)
    tracker = sharpness.SharpnessTracker(tol=1e-6, v0=init.vector)
    first = tracker(loss_fn(model, x, y), params)
    assert first.value == pytest.approx(init.value, rel=1e-6)
    assert first.matvecs < init.matvecs and first.matvecs <= 2


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_warm_started_lanczos_along_a_trajectory_agrees_with_cold_starts(activation):
    """Along a gradient-descent trajectory that sharpens to the edge and oscillates there (the chapter's use), the
    tracker, each call warm-started from the previous eigenvector, finds the same top eigenvalue as a cold start
    from a fresh random vector at the same point and as the exact Hessian, and needs fewer products in total."""
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(40, 5, generator=gen, dtype=torch.float64)
    y = torch.sign(torch.randn(40, generator=gen, dtype=torch.float64))
    net = models.scalar_net(models.mlp(5, (12,), 1, 3, activation), 1).double()
    params = list(net.parameters())
    top0 = float(torch.linalg.eigvalsh(exact_hessian(net, x, y))[-1])
    lr = 2 / (2.5 * top0)  # starts well below the edge; the network sharpens towards 2/η
    tracker = sharpness.SharpnessTracker(tol=1e-7, seed=0)
    warm = cold = 0
    ratios = []
    for step in range(301):
        loss = models.half_mse(net(x), y)
        op = sharpness.hessian_operator(net, x, y, loss)
        if step % 10 == 0:
            w = tracker.measure(op)
            c = sharpness.lanczos(sharpness.hessian_operator(net, x, y), tol=1e-7, seed=1000 + step)
            assert w.value == pytest.approx(c.value, rel=1e-5), step
            if step % 50 == 0:
                exact = float(torch.linalg.eigvalsh(exact_hessian(net, x, y))[-1])
                assert w.value == pytest.approx(exact, rel=1e-5), step
            warm, cold = warm + (w.matvecs if step else 0), cold + (c.matvecs if step else 0)
            ratios.append(w.value * lr / 2)
        eos_ntk.experiments.gd_step(params, op.gradient(), lr)
    assert max(ratios) > 0.9  # the trajectory did reach the edge: the eigenvector moved, not a frozen problem
    assert warm < cold


def test_gd_run_trajectory_does_not_depend_on_how_often_sharpness_is_measured():
    """Measuring reuses the step's gradient (HessianOperator): the weights must be bitwise those of plain GD."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 5, generator=gen), torch.randn(30, generator=gen)
    finals = []
    for every in (1, 7, 10**9):
        net = models.scalar_net(models.tanh_mlp(5, (8,), 1, 0), 1)
        r = eos_ntk.gd_run(net, x, y, 0.3, loss_goal=0.0, max_steps=40, every=every)
        assert r.steps == 40 and r.sharp_calls == (41 if every == 1 else 1 + 40 // every + (40 % every != 0))
        finals.append(torch.cat([p.detach().reshape(-1) for p in net.parameters()]))
    assert torch.equal(finals[0], finals[1]) and torch.equal(finals[0], finals[2])


def test_sharpness_validation():
    model, x, y = tiny_problem()
    with pytest.raises(ValueError, match="tol"):
        sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), tol=-1)
    with pytest.raises(ValueError, match="ncv"):
        sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), ncv=1)
    with pytest.raises(ValueError, match="max_iter"):
        sharpness.power_iteration(loss_fn(model, x, y), list(model.parameters()), max_iter=0)
    with pytest.raises(ValueError, match="scalar"):
        sharpness.HessianOperator(lambda: model(x), list(model.parameters()))
    with pytest.raises(ValueError, match="scalar"):
        sharpness.HessianOperator(model(x), list(model.parameters()))


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_lanczos_agrees_with_pyhessian():
    """Peer check: PyHessian's power iteration (PyPI ``pyhessian``, pinned) finds the same top eigenvalue."""
    from pyhessian import hessian as PyHessian

    gen = torch.Generator().manual_seed(5)
    x, y = torch.randn(40, 4, generator=gen), torch.randn(40, generator=gen)
    model = models.scalar_net(models.tanh_mlp(4, (8,), 1, seed=1), 1)  # float32, as PyHessian draws its vectors
    ours = sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), tol=0).value
    exact = float(torch.linalg.eigvalsh(exact_hessian(model.double(), x.double(), y.double()))[-1])
    model.float()
    torch.manual_seed(0)
    peer = PyHessian(model, models.half_mse, data=(x, y), cuda=False).eigenvalues(maxIter=3000, tol=1e-9)[0][0]
    assert abs(ours - exact) / exact < 1e-5
    assert abs(peer - ours) / ours < 1e-4


def test_lanczos_deterministic():
    model, x, y = tiny_problem(0)
    a = sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), seed=3)
    b = sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()), seed=3)
    assert a.value == b.value and a.matvecs == b.matvecs


def test_top_ritz_is_bitwise_scipys_tridiagonal_solver():
    """The direct LAPACK calls are what ``eigh_tridiagonal(select="i")`` runs: the same bits, every size."""
    from scipy.linalg import eigh_tridiagonal

    rng = np.random.default_rng(0)
    for n in range(1, 41):
        alphas, betas = list(10 * rng.standard_normal(n)), list(np.abs(rng.standard_normal(n - 1)) + 1e-3)
        theta, s = sharpness._top_ritz(alphas, betas)
        w, v = eigh_tridiagonal(np.array(alphas), np.array(betas), select="i", select_range=(n - 1, n - 1))
        assert theta == w[0] and np.array_equal(s, v[:, 0] if n > 1 else np.ones(1))


def _networks():
    """The chapter's networks in float64 (fc-tanh of one and two hidden layers, three outputs, fc-relu with one and
    three outputs, the two-layer linear network), each with its data."""
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    y1, y3 = torch.randn(20, generator=gen, dtype=torch.float64), torch.randn(20, 3, generator=gen, dtype=torch.float64)
    return {
        "tanh 3-6-1": (models.scalar_net(models.tanh_mlp(3, (6,), 1, 0), 1).double(), x, y1),
        "tanh 3-5-4-1": (models.scalar_net(models.tanh_mlp(3, (5, 4), 1, 1), 1).double(), x, y1),
        "tanh 3-5-4-3": (models.scalar_net(models.tanh_mlp(3, (5, 4), 3, 2), 3).double(), x, y3),
        "relu 3-5-4-1": (models.scalar_net(models.mlp(3, (5, 4), 1, 4, "relu"), 1).double(), x, y1),
        "relu 3-6-3": (models.scalar_net(models.mlp(3, (6,), 3, 5, "relu"), 3).double(), x, y3),
        "linear 3-7-1": (models.two_layer_linear(3, 7, 3).double(), x, y1),
    }


@pytest.mark.parametrize("name", list(_networks()))
def test_r_operator_products_equal_the_exact_hessian(name):
    """Pearlmutter's R-operator (MLPHessian) against the Hessian autograd builds entry by entry, every column."""
    model, x, y = _networks()[name]
    op = sharpness.hessian_operator(model, x, y)
    assert isinstance(op, sharpness.MLPHessian)
    H = exact_hessian(model, x, y)
    cols = torch.stack([op(e) for e in torch.eye(op.size, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(cols, H, rtol=1e-12, atol=1e-13)
    assert op.matvecs == op.size
    plain = torch.autograd.grad(models.half_mse(model(x), y), list(model.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(op.gradient(), plain))  # the update's gradient, bitwise


def test_r_operator_in_float32_agrees_with_double_backward():
    """In the chapter's dtype the two routes round differently but compute the same product."""
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(64, 8, generator=gen), torch.randn(64, generator=gen)
    model = models.scalar_net(models.tanh_mlp(8, (16, 16), 1, 0), 1)
    rop = sharpness.hessian_operator(model, x, y)
    ref = sharpness.HessianOperator(models.half_mse(model(x), y), list(model.parameters()))
    v = torch.randn(rop.size, generator=gen, dtype=torch.float64)
    hv = rop(v)
    assert hv.dtype == torch.float32
    torch.testing.assert_close(hv, ref(v), rtol=1e-4, atol=1e-5 * float(ref(v).abs().max()))


def test_hessian_operator_uses_the_r_operator_only_where_it_applies():
    x, y = torch.randn(8, 3), torch.randn(8)
    gelu = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1), models.Squeeze())
    frozen = models.scalar_net(models.tanh_mlp(3, (4,), 1, 0), 1)
    frozen[0].bias.requires_grad_(False)
    tanh_last = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1), nn.Tanh())
    wide_squeeze = nn.Sequential(nn.Linear(3, 2), models.Squeeze())
    for model in (gelu, frozen, tanh_last, wide_squeeze, nn.Sequential(), nn.Linear(3, 1)):
        assert sharpness.fc_layers(model) is None
    op = sharpness.hessian_operator(gelu, x, y)
    assert type(op) is sharpness.HessianOperator
    layers, acts = sharpness.fc_layers(models.two_layer_linear(3, 5, 0))
    assert len(layers) == 2 and acts == [None]
    assert sharpness.fc_layers(models.mlp(3, (4, 4), 2, 0, "relu"))[1] == ["relu", "relu"]
    with pytest.raises(ValueError, match="acts must name"):
        sharpness.MLPHessian(layers, [True, True], x, y, models.half_mse(torch.zeros(8), y))
    with pytest.raises(ValueError, match="not allowed"):
        sharpness.MLPHessian(layers, ["gelu"], x, y, models.half_mse(torch.zeros(8), y))
    with pytest.raises(ValueError, match="activation"):
        models.mlp(3, (4,), 1, 0, "gelu")


class _Root(nn.Module):
    """f(x) = √θ·x₁ at θ = 1e-30: a finite loss whose curvature (∝ θ^(-3/2)) overflows float32."""

    def __init__(self):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(1e-30))

    def forward(self, x):
        return self.theta.sqrt() * x[:, 0]


def test_lanczos_refuses_a_product_that_is_not_finite():
    x, y = torch.ones(4, 2), torch.ones(4)
    model = _Root()
    assert math.isfinite(float(models.half_mse(model(x), y).detach()))
    with pytest.raises(FloatingPointError, match="not finite"):
        sharpness.lanczos_top(loss_fn(model, x, y), list(model.parameters()))


def test_gd_run_records_overflowing_curvature_as_divergence():
    x, y = torch.ones(4, 2), torch.ones(4)
    r = eos_ntk.gd_run(_Root(), x, y, 0.1, loss_goal=0.0, max_steps=10, every=1)
    assert r.status == "diverged" and r.steps == 0 and np.isnan(r.history["sharpness"].iloc[-1])


# ---- NTK ---------------------------------------------------------------------------------------------------


def test_ntk_equals_explicit_jacobian_product():
    model, x, _ = tiny_problem(1)
    J = ntk.jacobian_loop(model, x)  # one autograd.grad per example: rows ∂f(x_i)/∂θ
    torch.testing.assert_close(ntk.jacobian(model, x), J, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ntk.empirical_ntk(model, x), J @ J.T, rtol=1e-10, atol=1e-12)
    x2 = x[:2] + 0.5
    torch.testing.assert_close(ntk.empirical_ntk(model, x, x2), J @ ntk.jacobian_loop(model, x2).T,
                               rtol=1e-10, atol=1e-12)


def _explicit(model, x, x2=None):
    J = ntk.jacobian_loop(model, x)
    return J @ (J if x2 is None else ntk.jacobian_loop(model, x2)).T


def test_structured_ntk_equals_explicit_jacobian_product_multi_output():
    """Two hidden layers, three outputs, a frozen bias, and a second input set: every block of J Jᵀ."""
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    x2 = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    model = models.tanh_mlp(3, (6, 5), 3, seed=2).double()
    model[2].bias.requires_grad_(False)
    for method in ("structured", "jacobian", "auto"):
        torch.testing.assert_close(ntk.empirical_ntk(model, x, method=method), _explicit(model, x),
                                   rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(ntk.empirical_ntk(model, x, x2, method=method), _explicit(model, x, x2),
                                   rtol=1e-10, atol=1e-12)


def test_structured_ntk_refuses_what_it_cannot_handle():
    bn = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).double()
    assert "couples the examples" in ntk.structured_unsupported(bn)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(ValueError, match="BatchNorm1d"):
        ntk.structured_ntk(bn, x)
    ln = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 1)).double()  # LayerNorm has parameters
    assert "LayerNorm" in ntk.structured_unsupported(ln)
    torch.testing.assert_close(ntk.empirical_ntk(ln, x), _explicit(ln, x), rtol=1e-10, atol=1e-12)  # auto: J
    emb = nn.Sequential(nn.Embedding(5, 3), nn.Flatten(), nn.Linear(6, 1))
    assert "Embedding" in ntk.structured_unsupported(emb)
    shared = nn.Linear(3, 3).double()
    with pytest.raises(ValueError, match="twice"):
        ntk.structured_ntk(nn.Sequential(shared, nn.Tanh(), shared), x)
    with pytest.raises(ValueError, match="method = 'fast'"):
        ntk.empirical_ntk(shared, x, method="fast")
    with pytest.raises(ValueError, match="empty"):
        ntk.structured_ntk(shared, x[:0])


def test_ntk_of_linear_model_is_gram_matrix():
    """f(x) = wᵀx (+ b): ∂f/∂w = x, so K = XXᵀ (+ 1 with a bias)."""
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lin = nn.Sequential(nn.Linear(3, 1, bias=False), models.Squeeze()).double()
    torch.testing.assert_close(ntk.empirical_ntk(lin, x), x @ x.T)
    lin_b = nn.Sequential(nn.Linear(3, 1), models.Squeeze()).double()
    torch.testing.assert_close(ntk.empirical_ntk(lin_b, x), x @ x.T + 1)


def test_ntk_multi_output_is_example_major():
    """A 3 → 2 linear layer: K[(i,a),(j,b)] = (x_iᵀx_j + 1)·δ_ab, rows ordered (example, output)."""
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lin = nn.Linear(3, 2).double()
    expected = torch.kron(x @ x.T + 1, torch.eye(2, dtype=torch.float64))
    torch.testing.assert_close(ntk.empirical_ntk(lin, x), expected)
    torch.testing.assert_close(ntk.jacobian(lin, x), ntk.jacobian_loop(lin, x))


def test_two_layer_linear_ntk_closed_form():
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(2))
    net = models.two_layer_linear(5, 6, seed=0)
    torch.testing.assert_close(ntk.empirical_ntk(net, x), eos_ntk.linear_ntk(net, x), rtol=1e-5, atol=1e-5)


def test_kta_on_hand_made_kernels():
    y = np.array([1.0, -1.0, 1.0])
    assert ntk.kta(np.outer(y, y), y) == pytest.approx(1.0)  # the ideal kernel
    assert ntk.kta(np.eye(3), y) == pytest.approx(3 / (np.sqrt(3) * 3))  # yᵀy / (‖I‖_F ‖y‖²) = 1/√3
    K = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    # by hand: yᵀKy = 2+2+2 −2·1 −2·1 + 0 = 2; ‖K‖_F = √(4·3 + 1·4) = 4; ‖y‖² = 3
    assert ntk.kta(K, y) == pytest.approx(2 / (4 * 3))
    assert ntk.kta(torch.tensor(K), torch.tensor(y)) == pytest.approx(2 / 12)
    assert ntk.kta(-np.outer(y, y), y) == pytest.approx(-1.0)


def test_kta_is_weighted_sum_of_eigen_alignments():
    """KTA = Σ_i (λ_i/‖λ‖₂) a_i, and Σ_i a_i = 1."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 5))
    K = A @ A.T + 0.1 * np.eye(8)
    y = rng.standard_normal(8)
    w, U = ntk.spectrum(K)
    a = ntk.eigen_alignment(U, y)
    assert a.sum() == pytest.approx(1.0)
    assert np.all(np.diff(w) <= 0)
    assert np.sum(ntk.normalized_eigenvalues(w) * a) == pytest.approx(ntk.kta(K, y))
    assert np.linalg.norm(w) == pytest.approx(np.linalg.norm(K))  # ‖λ‖₂ = ‖K‖_F
    st = ntk.kernel_stats(K, y)
    assert st.kta == pytest.approx(ntk.kta(K, y))
    assert st.top(8) == pytest.approx(1.0) and st.top(3) == pytest.approx(a[:3].sum())
    np.testing.assert_allclose(ntk.cumulative_alignment(a), np.cumsum(a))


def test_eigen_alignment_of_target_eigenvector():
    """y is an eigenvector of K: all its mass sits on that eigenvector."""
    y = np.array([1.0, 1.0, -1.0, -1.0])
    K = 3 * np.outer(y, y) / 4 + np.diag([0.1, 0.2, 0.3, 0.4]) * 0  # rank one, top eigenvector ∝ y
    K = K + 0.5 * np.eye(4)
    _, U = ntk.spectrum(K)
    a = ntk.eigen_alignment(U, y)
    assert a[0] == pytest.approx(1.0) and ntk.cumulative_alignment(a, 1) == pytest.approx(1.0)


def test_ntk_validation():
    with pytest.raises(ValueError, match="square"):
        ntk.kta(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="entries"):
        ntk.kta(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="zeros"):
        ntk.kta(np.eye(2), np.zeros(2))
    with pytest.raises(ValueError, match="zero matrix"):
        ntk.kta(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="k = 5"):
        ntk.cumulative_alignment(np.ones(3) / 3, 5)
    with pytest.raises(ValueError, match="empty"):
        ntk.jacobian(nn.Linear(2, 1), torch.zeros(0, 2))


# ---- the study's building blocks -----------------------------------------------------------------------------


def test_half_mse_is_cohens_convention():
    out = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    y = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert models.half_mse(out, y).item() == pytest.approx(0.5 * (1 + 4 + 1) / 2)


def test_parity_target_and_sharp_every():
    np.testing.assert_array_equal(eos_ntk.parity_target(np.array([0, 1, 2, 7])), [1, -1, 1, -1])
    np.testing.assert_array_equal(eos_ntk.onehot_target(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert eos_ntk.sharp_every(0.1, 10.0) == 100
    assert eos_ntk.sharp_every(0.4, 10.0) == 26 and eos_ntk.sharp_every(0.8, 10.0) == 14
    assert eos_ntk.sharp_every(100.0, 1.0) == 2


@pytest.mark.parametrize("dt", [1.0, 2.0, 5.0, 10.0])
def test_sharpness_strides_are_even_at_every_scale(dt):
    """An odd stride reads the two sides of EoS's period-two oscillation alternately."""
    for lr in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 3.0):
        every = eos_ntk.sharp_every(lr, dt)
        assert every % 2 == 0 and every >= dt / lr - 1e-9
    for scale in ("quick", "book", "paper"):
        cfg = eos_ntk.SPEC.resolve(scale=scale)
        for lr in (*cfg.lrs, *cfg.relu_lrs, *cfg.multi_lrs):
            assert eos_ntk.sharp_every(lr, cfg.sharp_dt) % 2 == 0
        for lr in cfg.linear_lrs:
            assert eos_ntk.sharp_every(lr, eos_ntk.LINEAR_SHARP_DT) % 2 == 0
        assert cfg.trace_every % 2 == 0


def test_gd_on_quadratic_is_stable_iff_sharpness_below_two_over_lr():
    """The 2/η threshold the chapter draws: GD on f(x) = wᵀx with one input converges iff η·λ < 2."""
    x = torch.tensor([[2.0]])
    y = torch.tensor([1.0])  # L = ½ (2w − 1)², sharpness 4: stable iff η < 0.5
    for lr, expected in ((0.45, "stopped"), (0.55, "diverged")):
        net = nn.Sequential(nn.Linear(1, 1, bias=False), models.Squeeze())
        with torch.no_grad():
            net[0].weight.fill_(0.0)
        r = eos_ntk.gd_run(net, x, y, lr, loss_goal=1e-8, max_steps=5000, every=1)
        assert r.status == expected
        assert r.history["sharpness"].iloc[0] == pytest.approx(4.0, rel=1e-6)


def test_spec_validates_parameters():
    cfg = eos_ntk.SPEC.resolve(scale="quick")
    assert cfg.trace_lr in cfg.lrs
    for scale in ("quick", "book", "paper"):
        eos_ntk.SPEC.resolve(scale=scale)
    with pytest.raises(ValueError, match="'trace_lr'"):
        eos_ntk.SPEC.resolve(scale="quick", trace_lr=0.3)
    with pytest.raises(ValueError, match="'trace_every'"):
        eos_ntk.SPEC.resolve(scale="quick", trace_every=5)
    with pytest.raises(ValueError, match="'lrs'"):
        eos_ntk.SPEC.resolve(scale="quick", lrs=(0.1, -0.2))
    with pytest.raises(ValueError, match="'ntk_n'"):
        eos_ntk.SPEC.resolve(scale="quick", ntk_n=10_000)
    with pytest.raises(ValueError, match="'n'"):
        eos_ntk.SPEC.resolve(scale="quick", n=2000, ntk_n=100, trace_n=100)
    with pytest.raises(ValueError, match="'linear_top_k'"):
        eos_ntk.SPEC.resolve(scale="quick", linear_top_k=100)
    with pytest.raises(ValueError, match="'top_k'"):
        eos_ntk.SPEC.resolve(scale="quick", trace_n=5)
    with pytest.raises(ValueError, match="'multi_ntk_n'"):
        eos_ntk.SPEC.resolve(scale="quick", multi_n=20, multi_ntk_n=30)
    with pytest.raises(ValueError, match="'top_k'"):
        eos_ntk.SPEC.resolve(scale="quick", multi_ntk_n=5)
    eos_ntk.SPEC.resolve(scale="quick", multiclass=False, multi_ntk_n=5)  # not run: not checked
    with pytest.raises(ValueError, match="'dataset'"):
        eos_ntk.SPEC.resolve(scale="quick", dataset="mnist")


def _tiny(**kw):
    base = dict(n=60, ntk_n=60, trace_n=30, lrs=(0.4, 0.8), trace_lr=0.4, trace_steps=8, loss_goal=0.1,
                relu_lrs=(0.1, 0.6), multi_n=40, multi_ntk_n=12, multi_lrs=(0.2, 0.6), linear_lrs=(0.3, 0.6, 1.0),
                linear_n=40, linear_d=6, linear_width=8, linear_loss_goal=0.01)
    return eos_ntk.SPEC.resolve(scale="quick", **{**base, **kw})


def test_small_grid_deterministic_and_scored():
    cfg = _tiny()
    data = eos_ntk.load_data(cfg)
    a = eos_ntk.run_grid(cfg, data)
    b = eos_ntk.run_grid(cfg, data)
    cols = ["steps", "kta_final", "sharp_final", "A_final"]
    np.testing.assert_array_equal(a.runs[cols].to_numpy(), b.runs[cols].to_numpy())
    assert set(a.runs["status"]) <= {"stopped", "max_steps", "diverged"}
    assert list(a.settings["setting"]) == ["tanh", "relu", "multiclass"]
    assert a.runs.loc[a.runs.setting == "multiclass", "k"].iloc[0] == cfg.top_k * eos_ntk.CLASSES
    lin, hist = eos_ntk.run_linear(cfg)
    assert len(lin) == 3 and {"seed", "lr", "step", "sharpness", "probe"} <= set(hist.columns)
    a.linear, a.linear_history = lin, hist
    card = eos_ntk.scorecard(cfg, a)
    assert [c.id for c in card.claims] == [c.id for c in eos_ntk.CLAIMS]
    card.check()  # nothing is asserted at quick
    import matplotlib.pyplot as plt

    for fig in (eos_ntk.figures.fig_training(a, cfg.seed), eos_ntk.figures.fig_alignment(a),
                eos_ntk.figures.fig_spectrum(a, cfg.seed), eos_ntk.figures.fig_linear(a, cfg.seed),
                eos_ntk.figures.fig_catapult(a, cfg.seed), eos_ntk.figures.fig_effects(a),
                eos_ntk.figures.fig_ntk_edge(a), eos_ntk.figures.fig_trace(a, cfg.seed)):
        assert len(fig.axes) >= 2
        plt.close(fig)
    assert {"sharp_over_train", "matvecs_per_call"} <= set(eos_ntk.cost_table(a).columns)


def test_multi_output_grid_runs():
    """The scale-`paper` path: ten one-hot outputs, an (n·10 × n·10) NTK and y flattened example-major."""
    cfg = eos_ntk.SPEC.resolve(scale="quick", n=30, ntk_n=12, trace_n=6, top_k=5, widths=(8,), lrs=(0.5,),
                               trace_lr=0.5, trace_steps=4, loss_goal=0.2, max_steps=300, linear_lrs=(0.3,),
                               relu=False, multiclass=False)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(30, 5, generator=gen)
    y = torch.eye(10)[torch.randint(0, 10, (30,), generator=gen)]
    res = eos_ntk.run_grid(cfg, eos_ntk.Data("toy", x, y, "none"), n_show=5)
    row = res.runs.iloc[0]
    assert row["status"] in {"stopped", "max_steps"}
    assert 0 < row["kta_final"] <= 1 and 0 < row["A_final"] <= 1 and row["k"] == 50
    assert res.spectra["i"].max() == 5
