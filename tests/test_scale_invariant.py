"""Scale-invariant models, probes and the sphere_regimes chapter's library code, against ground truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrlab.models import (
    SIMLP,
    ConvNetSI,
    check_scale_invariance,
    cross_entropy,
    example_losses,
    population_bn,
    si_parameters,
)
from lrlab.optim import SGD
from lrlab.probes import scale_invariant as si
from lrlab.studies import sphere_regimes as study
from lrlab.studies.sphere_regimes import experiments as ex
from lrlab.studies.sphere_regimes import toy


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _batch(n=32, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 4, (n,), generator=g)


# ---- models --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 17, 10), (1, 5, 2), (2, 9, 31)])
def test_example_losses_equal_the_flat_cross_entropy_and_its_gradient(shape):
    k, b, c = shape
    gen = torch.Generator().manual_seed(0)
    base, y = 4 * torch.randn(k, b, c, generator=gen), torch.randint(0, c, (k, b), generator=gen)
    ours, flat = base.clone().requires_grad_(), base.clone().requires_grad_()
    got = example_losses(ours, y)
    want = torch.nn.functional.cross_entropy(flat.reshape(k * b, c), y.reshape(-1), reduction="none").view(k, b)
    got.square().sum().backward()
    want.square().sum().backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ours.grad, flat.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(example_losses(base, y[0]), example_losses(base, y[0].expand(k, b)), rtol=0, atol=0)


def test_mlp_is_scale_invariant_and_gradient_orthogonal():
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2], eps=0.0)
    c = check_scale_invariance(m, cross_entropy, x, y, scales=(0.1, 0.5, 7.0))
    assert c.ok(1e-4)
    assert float(c.grad_cosine.max()) < 1e-5
    assert float(c.loss_rel_change.max()) < 1e-5


def test_check_fails_for_a_non_invariant_model():
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0], eps=0.0, all_trained=True)
    m.si_parameters = lambda: [m.hidden[0].weight, m.head.weight]  # the head is not scale-invariant
    assert not check_scale_invariance(m, cross_entropy, x, y).ok()


def test_head_is_frozen_at_norm_10_and_configs_are_independent():
    m = SIMLP([6, 8, 8, 4], seeds=[3, 4], head_norm=10.0)
    norms = m.head.weight.reshape(2, -1).norm(dim=1)
    assert torch.allclose(norms, torch.full((2,), 10.0), atol=1e-5)
    assert not m.head.weight.requires_grad
    alone = SIMLP([6, 8, 8, 4], seeds=[4])
    assert torch.equal(alone.hidden[0].weight[0], m.hidden[0].weight[1])
    assert torch.equal(alone.head.weight[0], m.head.weight[1])
    shared = SIMLP([6, 8, 8, 4], seeds=[3, 4], head_seed=228)
    assert torch.equal(shared.head.weight[0], shared.head.weight[1])


def test_all_trained_variant_has_affine_bn_and_trainable_head():
    m = SIMLP([6, 8, 8, 4], seeds=[0], all_trained=True)
    names = {n for n, p in m.named_parameters() if p.requires_grad}
    assert "head.weight" in names and any(n.endswith(".bias") for n in names)
    assert len(si_parameters(m)) == 2


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="sizes"):
        SIMLP([6, 4], seeds=[0])
    with pytest.raises(ValueError, match="head_norm"):
        SIMLP([6, 8, 4], seeds=[0], head_norm=0.0)


def test_convnet_si_is_scale_invariant():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, 32, 32, generator=g), torch.tensor([0, 1, 2, 3])
    m = ConvNetSI([0], width=2, eps=0.0)
    assert m(x).shape == (1, 4, 10)
    c = check_scale_invariance(m, cross_entropy, x, y)
    assert c.ok(1e-4)
    assert len(si_parameters(m)) == 4


def test_population_bn_equals_full_batch_statistics():
    x, y = _batch(n=40)
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
    with torch.no_grad():
        full = m(x)
    with population_bn(m, x), torch.no_grad():
        parts = torch.cat([m(x[:10]), m(x[10:])], dim=1)
    assert torch.allclose(full, parts, atol=1e-5)
    assert all(b.stats is None for b in m.modules() if hasattr(b, "stats"))


@pytest.mark.parametrize("model, shape", [(lambda: SIMLP([6, 8, 8, 4], seeds=[0, 1, 2]), (300, 6)),
                                          (lambda: ConvNetSI([0, 1], width=2), (45, 3, 32, 32))])
def test_population_bn_by_chunks_equals_one_pass(model, shape):
    """More inputs than one pass may hold: measured a layer at a time over chunks, the statistics are those of one
    pass over all of them (the later layers see the earlier ones normalised by the population's statistics)."""
    m, x = model(), torch.randn(*shape, generator=torch.Generator().manual_seed(3)) * 2 + 1
    probe = x[:20]
    with population_bn(m, x), torch.no_grad():
        one_pass = m(probe)
    for chunk in (7, 16, len(x) - 1):
        with population_bn(m, x, chunk=chunk), torch.no_grad():
            chunked = m(probe)
        assert torch.allclose(chunked, one_pass, rtol=1e-5, atol=1e-5), chunk
    with torch.no_grad():
        assert not torch.allclose(m(probe), one_pass, atol=1e-3)  # on exit: batch statistics again
    assert all(b.stats is None and b.sums is None for b in m.modules() if hasattr(b, "sums"))


def test_population_bn_rejects_a_chunk_below_one():
    with pytest.raises(ValueError, match="chunk = 0"), population_bn(SIMLP([6, 8, 4], seeds=[0]), torch.randn(5, 6),
                                                                     chunk=0):
        pass


# ---- probes --------------------------------------------------------------------------------------------------


def _hand_model():
    m = SIMLP([2, 2, 2, 2], seeds=[0, 1])
    with torch.no_grad():
        m.hidden[0].weight.fill_(1.0)  # 2 configs × 4 ones
        m.hidden[1].weight.copy_(torch.tensor([[[3.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]]]))
    return m


def test_rho_and_elr_against_hand_values():
    m = _hand_model()
    assert torch.allclose(si.rho(m), torch.tensor([math.sqrt(4 + 9), math.sqrt(4 + 4)]))
    assert torch.allclose(si.elr([0.13, 0.08], si.rho(m)).float(), torch.tensor([0.01, 0.01]))
    want = torch.tensor([0.04, 0.09], dtype=torch.float64)
    assert torch.allclose(si.lr_for_elr(0.01, torch.tensor([2.0, 3.0])), want)
    with pytest.raises(ValueError, match="rho"):
        si.elr(0.1, 0.0)


def test_rho_and_projection_of_a_configuration_do_not_depend_on_its_neighbours():
    """Bitwise: configuration k's ρ and projected weights are the same in a batch of 30 as alone."""
    many = SIMLP([196, 64, 64, 10], seeds=list(range(30)))
    with torch.no_grad():
        for p in si_parameters(many):
            p.mul_(torch.linspace(0.5, 3.0, 30).view(-1, *[1] * (p.dim() - 1)))
    alone = []
    for k in range(30):
        one = SIMLP([196, 64, 64, 10], seeds=[0])
        with torch.no_grad():
            for p, q in zip(si_parameters(one), si_parameters(many)):
                p.copy_(q[k : k + 1])
        alone.append(one)
    r = si.rho(many)
    si.Projector(many, rho0=2.0)(many)
    for k, one in enumerate(alone):
        assert torch.equal(si.rho(one), r[k : k + 1])
        si.Projector(one, rho0=2.0)(one)
        for p, q in zip(si_parameters(one), si_parameters(many)):
            assert torch.equal(p[0], q[k])


def test_angle_against_a_known_rotation():
    m = SIMLP([2, 2, 2, 2], seeds=[0])
    w0 = si.snapshot(m)
    u = torch.randn_like(w0)
    u -= (u * w0).sum() / (w0 * w0).sum() * w0
    target = w0 / w0.norm() * math.cos(0.3) + u / u.norm() * math.sin(0.3)
    with torch.no_grad():
        a = m.hidden[0].weight.numel()
        m.hidden[0].weight.copy_(target[:, :a].view_as(m.hidden[0].weight))
        m.hidden[1].weight.copy_(target[:, a:].view_as(m.hidden[1].weight))
    assert si.angle(m, w0).item() == pytest.approx(0.3, abs=1e-5)


def test_projection_keeps_rho_at_rho0():
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2])
    proj = si.Projector(m)
    opt = SGD([p for p in m.parameters() if p.requires_grad], lr=[0.5, 5.0, 50.0])
    for _ in range(20):
        opt.zero_grad()
        cross_entropy(m, x, y).sum().backward()
        opt.step()
        proj(m)
        assert torch.allclose(si.rho(m), proj.rho0, rtol=1e-6, atol=0)
    fixed = si.Projector(m, rho0=2.0)
    fixed(m)
    assert torch.allclose(si.rho(m), torch.full((3,), 2.0), rtol=1e-6)


def test_projection_with_a_mask_holds_only_the_masked_configurations():
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2])
    free = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2])  # the same weights, never projected
    proj = si.Projector(m, mask=[True, False, True])
    opts = [SGD([p for p in net.parameters() if p.requires_grad], lr=[5.0, 5.0, 5.0], wd=0.01) for net in (m, free)]
    for _ in range(10):
        for net, opt in zip((m, free), opts):
            opt.zero_grad()
            cross_entropy(net, x, y).sum().backward()
            opt.step()
        proj(m)
    r, r_free = si.rho(m), si.rho(free)
    torch.testing.assert_close(r[[0, 2]], proj.rho0[[0, 2]], rtol=1e-6, atol=0)
    assert not torch.allclose(r_free[[0, 2]], proj.rho0[[0, 2]], rtol=1e-3, atol=0)  # the projection did something
    assert torch.equal(r[1], r_free[1])  # the unmasked configuration trains as if there were no hook
    with pytest.raises(ValueError, match="mask has 2 entries, but the model has 3 configurations"):
        si.Projector(m, mask=[True, False])


def test_norm_and_elr_recursion_of_sgd_with_weight_decay():
    """rho²_{t+1} = (1 − ηλ)² rho_t² + η² ‖∇L‖² (the gradient is orthogonal to w), and its ELR form."""
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1], eps=0.0)
    lr, wd = torch.tensor([0.3, 1.0]), torch.tensor([0.01, 0.05])
    opt = SGD([p for p in m.parameters() if p.requires_grad], lr=lr, wd=wd)
    for _ in range(3):
        r0 = si.rho(m).double()
        opt.zero_grad()
        cross_entropy(m, x, y).sum().backward()
        g2 = sum(p.grad.reshape(2, -1).double().pow(2).sum(1) for p in si_parameters(m))
        opt.step()
        lr_d, wd_d = lr.double(), wd.double()
        pred = (1 - lr_d * wd_d) ** 2 * r0**2 + lr_d**2 * g2
        assert torch.allclose(si.rho(m).double() ** 2, pred, rtol=1e-5)
        e0, e1 = si.elr(lr, r0), si.elr(lr, si.rho(m))
        eff2 = g2 * r0**2  # ‖g̃‖² = rho² ‖∇L‖²
        assert torch.allclose(1 / e1, (1 - lr_d * wd_d) ** 2 / e0 + e0 * eff2, rtol=1e-5)


def test_effective_gradient_is_rho_times_mean_batch_gradient_norm():
    x, y = _batch(n=24)
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
    got = si.effective_gradient(m, x, y, batch_size=8)
    norms = []
    for i in range(3):
        losses = cross_entropy(m, x[8 * i : 8 * i + 8], y[8 * i : 8 * i + 8])
        gs = torch.autograd.grad(losses.sum(), si_parameters(m))
        norms.append(torch.cat([g.reshape(2, -1) for g in gs], 1).norm(dim=1))
    want = si.rho(m).double() * torch.stack(norms).double().mean(0)
    assert torch.allclose(got, want, rtol=1e-5)
    assert all(p.grad is None for p in m.parameters())


def test_si_probe_returns_k_values():
    x, y = _batch()
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
    out = si.si_probe([0.1, 0.2], x, y, x, y, batch_size=16, w0=si.snapshot(m))(m, 0)
    assert set(out) == {"rho", "elr", "train_loss", "train_acc", "eff_grad", "test_acc", "angle"}
    assert all(v.shape == (2,) for v in out.values())
    assert torch.allclose(out["angle"], torch.zeros(2, dtype=torch.float64), atol=1e-3)


def test_step_angle_of_a_projected_step_is_arctan_elr_times_effective_gradient():
    x, y = _batch(n=16)
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
    elr = torch.tensor([0.05, 50.0])
    proj = si.Projector(m)
    opt = SGD(m.parameters(), lr=si.lr_for_elr(elr, proj.rho0.double()).float(), sphere=proj)
    hook = si.StepAngle(m, every=1)
    assert torch.isnan(hook.last).all()
    hook(m)  # the snapshot before the first measured step
    losses = cross_entropy(m, x, y)
    grads = torch.autograd.grad(losses.sum(), si_parameters(m), retain_graph=True)
    eff = si.rho(m).double() * torch.cat([g.reshape(2, -1) for g in grads], 1).double().norm(dim=1)
    losses.sum().backward()
    opt.step()
    hook(m)
    want = si.angular_step_bound(elr.double(), eff)
    assert torch.allclose(hook.last, want, rtol=1e-4) and bool((hook.last < math.pi / 2).all())
    assert hook.last[1] > math.radians(80)  # a huge ELR: nearly a right angle, never more
    assert si.angular_step_bound(1.0, 1.0) == pytest.approx(math.pi / 4)
    assert np.allclose(si.angular_step_bound(np.array([0.0, 1e9]), np.array([1.0, 1.0])), [0.0, math.pi / 2])


# ---- the toy example --------------------------------------------------------------------------------------------


def test_toy_gradient_is_exact_orthogonal_and_scales():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 2))
    g = toy.toy_grad(w, 2.0)
    assert np.allclose((g * w).sum(1), 0, atol=1e-12)
    assert np.allclose(toy.toy_grad(3 * w, 2.0), g / 3)
    h = 1e-6
    fd = np.stack([(toy.toy_loss(w + h * e, 2.0) - toy.toy_loss(w - h * e, 2.0)) / (2 * h) for e in np.eye(2)], 1)
    assert np.allclose(fd, g, atol=1e-7)
    theta = 0.4
    assert toy.toy_loss(np.array([math.cos(theta), math.sin(theta)]), 2.0)[0] == pytest.approx(
        2.0 / 8 * math.sin(2 * theta) ** 2
    )


def test_toy_thresholds_are_analytic():
    a = 2.5
    th = toy.toy_thresholds(a)
    assert th == {"converge": 2 / a, "cycle": 4 / a, "escape": 8 / a}
    # converge: the linearised angle map θ ↦ (1 − ELR·a)θ has multiplier −1 at 2/a
    eps = 1e-6
    w = np.array([[math.cos(eps), math.sin(eps)]])
    w1 = toy.toy_step(w, np.array([th["converge"]]), a)
    assert math.atan2(w1[0, 1], w1[0, 0]) / eps == pytest.approx(-1.0, abs=1e-6)
    # escape: min over the basin of θ − atan((ELR·a/4) sin 4θ) touches −π/4 exactly at 8/a (at θ = π/12)
    theta = np.linspace(1e-9, math.pi / 4, 400_001)
    gap = (theta - np.arctan(th["escape"] * a / 4 * np.sin(4 * theta))).min() + math.pi / 4
    assert gap == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="a ="):
        toy.toy_thresholds(0.0)


def test_toy_cycle_loss_matches_simulation():
    a, elr = 1.0, 3.0
    runs = toy.toy_run([elr], seeds=[0, 1], steps=2000, a=a)
    assert np.allclose(runs["loss_mean"], toy.toy_cycle_loss(elr, a), rtol=1e-6)
    assert toy.toy_cycle_loss(elr, a) == pytest.approx(a / 8 * (1 - 2 / 3))


def test_toy_regimes_sit_on_the_thresholds():
    runs = toy.toy_run([1.9, 2.1, 3.9, 7.8, 8.3], seeds=[0, 1, 2], steps=20_000)
    regime = runs.groupby("elr")["regime"].agg(set)
    assert regime[1.9] == {"convergence"}
    assert regime[2.1] == {"equilibrium"} and regime[3.9] == {"equilibrium"} and regime[7.8] == {"equilibrium"}
    assert regime[8.3] == {"divergence"}
    b = toy.toy_boundaries(runs)
    assert b["converge_low"] == 1.9 and b["converge_high"] == 2.1
    assert b["escape_low"] == 7.8 and b["escape_high"] == 8.3


# ---- the chapter's study package -------------------------------------------------------------------------------


def test_spec_validation():
    cfg = study.SPEC.resolve(scale="paper")
    assert cfg.elrs == ex.PAPER_ELRS and cfg.model == "convnet" and cfg.width == 32
    study.SPEC.resolve(scale="quick")
    with pytest.raises(ValueError, match="elrs"):
        study.SPEC.resolve(scale="quick", elrs=[-1.0])
    with pytest.raises(ValueError, match="finetune_elr"):
        study.SPEC.resolve(scale="quick", finetune_elr=0.1, pretrain_elr=0.01)
    with pytest.raises(ValueError, match="model"):
        study.SPEC.resolve(scale="quick", dataset="cifar10", model="mlp")
    with pytest.raises(ValueError, match="probe_every"):
        study.SPEC.resolve(scale="quick", probe_every=100, epochs=10)


def _tiny():
    cfg = study.SPEC.resolve(scale="quick", width=8, epochs=3, probe_every=1, batch_size=16)
    g = torch.Generator().manual_seed(1)
    x, xt = torch.randn(48, 6, generator=g), torch.randn(32, 6, generator=g)
    y, yt = torch.randint(0, 10, (48,), generator=g), torch.randint(0, 10, (32,), generator=g)
    return cfg, ex.Data(x, y, xt, yt, {})


def test_sphere_training_is_deterministic_and_stays_on_the_sphere():
    cfg, d = _tiny()
    a, net = ex.train_on_sphere(cfg, d, [1e-2, 1.0], [0, 1], 3, desc="t")
    b, _ = ex.train_on_sphere(cfg, d, [1e-2, 1.0], [0, 1], 3, desc="t")
    pd.testing.assert_frame_equal(a.history, b.history)
    assert np.allclose(si.rho(net).numpy(), a.rho0, rtol=1e-6)
    assert np.allclose(a.history["elr_measured"], a.history["elr"], rtol=1e-5)
    assert np.allclose(a.lr, np.array([1e-2, 1.0]) * a.rho0**2, rtol=1e-6)


def test_classify_rules():
    s = pd.DataFrame(
        {
            "status": ["finished"] * 5,
            "loss0": [4.0] * 5,
            "train_loss": [0.01, 0.05, 0.3, 4.0, 2.5],
            "train_acc": [1.0, 0.99, 0.9, 0.11, 0.5],  # the last: above chance, yet it has not learnt
            "trend": [0.4, 0.5, 1.0, 1.0, 1.0],
            "spread": [2.0, 30.0, 2.0, 1.5, 1.5],
        }
    )
    assert list(ex.classify(s)) == ["convergence", "equilibrium", "equilibrium", "divergence", "divergence"]
    assert ex.ordered(["convergence", "equilibrium", "divergence"])
    assert not ex.ordered(["convergence", "equilibrium", "convergence"])


def test_destabilisations_find_spikes():
    h = pd.DataFrame(
        {
            "wd": 0.1,
            "seed": 0,
            "epoch": range(8),
            "train_loss": [1.0, 0.1, 0.01, 0.5, 0.02, 0.01, 0.2, 0.1],
            "elr": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    sp = ex.destabilisations(h)
    assert list(sp["epoch"]) == [3, 6] and list(sp["elr_before"]) == [3, 6]


@pytest.mark.parametrize("shape, dims, spatial_from", [((3, 16, 5), (1,), None), ((2, 8, 4, 3, 3), (1, 3, 4), 3)])
def test_fused_batch_normalize_equals_the_written_out_formula(shape, dims, spatial_from):
    """lrlab.nn.batch_normalize (torch's fused kernel) = (x − mean)/√(var + eps) per configuration, values and
    gradients, for the MLP's (K, B, W) and the ConvNet's (K, B, C, H, W) layouts."""
    from lrlab.nn import batch_normalize

    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mean = x.mean(dim=dims, keepdim=True)
    expected = (x - mean) / torch.sqrt((x - mean).square().mean(dim=dims, keepdim=True) + 1e-5)
    got = batch_normalize(x, spatial_from, 1e-5)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    g_expected, = torch.autograd.grad((expected * w).sum(), x)
    g_got, = torch.autograd.grad((got * w).sum(), x)
    torch.testing.assert_close(g_got, g_expected, rtol=1e-10, atol=1e-12)


# ---- the compiled layers and projected SGD (CPU) ---------------------------------------------------------------


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
def test_bn_relu_equals_relu_of_batch_normalize_values_and_gradients(dtype, tol):
    """lrlab.nn.bn_relu (one compiled pass each way) = relu((x − mean)/√(var + eps)) written out, per configuration,
    with a mean far from zero (the two-pass variance) and some units dead for the whole batch."""
    from lrlab.nn import bn_relu

    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 16, 7, generator=g, dtype=torch.float64) * 0.5 + 3.0).to(dtype).requires_grad_()
    w = torch.randn(3, 16, 7, generator=g, dtype=torch.float64).to(dtype)
    mean = x.mean(dim=1, keepdim=True)
    expected = torch.relu((x - mean) / torch.sqrt((x - mean).square().mean(dim=1, keepdim=True) + 1e-5))
    got = bn_relu(x, 1e-5)
    assert got.grad_fn is not None and "BNReLU" in type(got.grad_fn).__name__  # the compiled layer ran
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)
    g_expected, = torch.autograd.grad((expected * w).sum(), x)
    g_got, = torch.autograd.grad((got * w).sum(), x)
    torch.testing.assert_close(g_got, g_expected, rtol=tol, atol=tol)


def test_bn_relu_falls_back_to_torch_where_it_cannot_compile_and_is_first_order_only():
    from lrlab.nn import bn_relu, unfused

    x = torch.randn(2, 8, 3, dtype=torch.float64, requires_grad=True)
    with unfused():
        assert "BNReLU" not in type(bn_relu(x, 1e-5).grad_fn).__name__
    assert "BNReLU" not in type(bn_relu(x, 0.0).grad_fn).__name__  # eps = 0: the formula written out
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):  # torch's own error for B = 1
        bn_relu(torch.randn(2, 1, 3), 1e-5)
    g, = torch.autograd.grad(bn_relu(x, 1e-5).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|does not require grad|doesn't require grad"):
        torch.autograd.grad(g.sum(), x)


def test_si_mlp_fused_and_unfused_train_alike_and_a_bn_hook_still_fires():
    """SIMLP's forward fuses BN and ReLU; with torch's kernels instead the same training agrees to rounding, and a
    forward hook on a BN layer (the periodic chapter's variance probe) makes that layer run unfused, so it fires."""
    from lrlab.nn import unfused

    x, y = _batch()

    def trained():
        m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
        opt = SGD([p for p in m.parameters() if p.requires_grad], lr=[0.1, 0.3])
        for _ in range(5):
            opt.zero_grad()
            cross_entropy(m, x, y).sum().backward()
            opt.step()
        return m

    fused = trained()
    with unfused():
        plain = trained()
    for a, b in zip(fused.si_parameters(), plain.si_parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    seen = []
    fused.norms[0].register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape))
    fused(x)
    assert seen == [(2, 32, 8)]


def test_sgd_on_the_sphere_equals_sgd_then_the_projector_hook():
    """SGD(sphere=Projector) (update and rescaling in one compiled pass) = SGD, then the Projector as a hook, to
    rounding (float64: at η = 50 float32 rounding grows past any tight tolerance in ten steps); with weight decay, a
    mask and a frozen configuration; the unmasked configuration is not rescaled."""
    x, y = _batch()
    x = x.double()
    nets = [SIMLP([6, 8, 8, 4], seeds=[0, 1, 2]).double() for _ in range(2)]
    hook = si.Projector(nets[0], mask=[True, False, True])
    fused = si.Projector(nets[1], mask=[True, False, True])
    opts = [SGD([p for p in nets[0].parameters() if p.requires_grad], lr=[0.5, 5.0, 50.0], wd=0.01),
            SGD([p for p in nets[1].parameters() if p.requires_grad], lr=[0.5, 5.0, 50.0], wd=0.01, sphere=fused)]
    for step in range(10):
        if step == 5:
            for opt in opts:
                opt.active[2] = False  # frozen from here on: its weights must not move
            frozen = [p[2].clone() for p in nets[1].si_parameters()]
        for net, opt in zip(nets, opts):
            opt.zero_grad()
            cross_entropy(net, x, y).sum().backward()
            opt.step()
        hook(nets[0])
    for a, b in zip(nets[0].si_parameters(), nets[1].si_parameters()):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    r = si.rho(nets[1])
    torch.testing.assert_close(r[0], fused.rho0[0], rtol=1e-12, atol=0)
    assert not torch.allclose(r[1], fused.rho0[1], rtol=1e-3)  # weight decay shrinks the free configuration
    for p, q in zip(nets[1].si_parameters(), frozen):
        torch.testing.assert_close(p[2], q, rtol=1e-12, atol=0)
    other = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2])
    with pytest.raises(ValueError, match="sphere holds tensors this optimiser does not train"):
        SGD([p for p in other.parameters() if p.requires_grad], lr=0.1, sphere=fused)


def test_projector_leaves_a_diverged_configuration_alone():
    m = SIMLP([6, 8, 8, 4], seeds=[0, 1])
    proj = si.Projector(m, rho0=2.0)
    with torch.no_grad():
        m.si_parameters()[0][1, 0, 0] = float("inf")
    before = [p[1].clone() for p in m.si_parameters()]
    proj(m)
    torch.testing.assert_close(si.rho(m)[0], torch.tensor(2.0), rtol=1e-6, atol=0)
    for p, q in zip(m.si_parameters(), before):
        assert torch.equal(p[1], q)


def test_frozen_padded_head_follows_a_change_of_its_weight():
    """BLinear keeps a frozen narrow layer's padded weight between calls, but not past an in-place change."""
    from lrlab.nn import BLinear, generators

    head = BLinear(5, 3, generators([0, 1]), bias=False)
    head.weight.requires_grad_(False)
    x = torch.randn(2, 4, 5)
    torch.testing.assert_close(head(x), torch.bmm(x, head.weight))
    with torch.no_grad():
        head.weight.mul_(2.0)
    torch.testing.assert_close(head(x), torch.bmm(x, head.weight))


def test_si_mlp_under_torch_func_vmap_gives_the_autograd_gradients():
    """torch.func.vmap over grad of one configuration's loss (the benchmark's peer) runs through SIMLP's torch
    path (the compiled layer and the head's kept padding step aside) and gives autograd's gradients."""
    from torch.func import functional_call, grad, vmap

    one = SIMLP([6, 8, 8, 4], seeds=[0])
    many = SIMLP([6, 8, 8, 4], seeds=[0, 1, 2])
    names = [n for n, p in many.named_parameters() if p.requires_grad]
    ws = [p.detach() for n, p in many.named_parameters() if p.requires_grad]
    x = torch.randn(3, 16, 6, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 4, (3, 16), generator=torch.Generator().manual_seed(1))

    def loss_one(w, h, xk, yk):
        out = functional_call(one, {**dict(zip(names, [t[None] for t in w])), "head.weight": h[None]}, (xk[None],))
        return torch.nn.functional.cross_entropy(out[0], yk)

    got = vmap(grad(loss_one))(ws, many.head.weight.detach(), x, y)
    expected = torch.autograd.grad(cross_entropy(many, x, y).sum(), [p for p in many.parameters() if p.requires_grad])
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_rescale_to_sphere_compiled_and_torch_paths_agree():
    """lrlab.optim.rescale_to_sphere_: the compiled pass (contiguous CPU tensors) and torch's ops (any other
    layout, as on a GPU) give the same rescaled tensors, holding only the masked configurations."""
    from lrlab.optim import rescale_to_sphere_, sphere_norm

    g = torch.Generator().manual_seed(0)
    a = [torch.randn(3, 5, 4, generator=g, dtype=torch.float64), torch.randn(3, 7, generator=g, dtype=torch.float64)]
    b = [t.transpose(-1, -2).contiguous().transpose(-1, -2) if t.dim() == 3 else t.clone() for t in a]
    assert not b[0].is_contiguous()  # the torch path
    rho0, mask = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), torch.tensor([True, False, True])
    before = sphere_norm(a)
    rescale_to_sphere_(a, rho0, mask)
    rescale_to_sphere_(b, rho0, mask)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-14, atol=0)
    r = sphere_norm(a)
    torch.testing.assert_close(r[[0, 2]], rho0[[0, 2]], rtol=1e-14, atol=0)
    assert r[1] == before[1]
