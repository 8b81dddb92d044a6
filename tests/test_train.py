"""The batched spine against ground truth: standalone torch modules and optimisers."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lrlab import optim
from lrlab.nn import BMLP, BBatchNorm, BLinear, generators
from lrlab.train import Batches, train


def _standalone(blin: BLinear, k: int) -> nn.Linear:
    lin = nn.Linear(blin.weight.shape[1], blin.weight.shape[2])
    with torch.no_grad():
        lin.weight.copy_(blin.weight[k].T)
        lin.bias.copy_(blin.bias[k, 0])
    return lin


def test_blinear_slices_are_independent_linear_layers():
    layer = BLinear(5, 3, generators([0, 1, 2]))
    x = torch.randn(7, 5)
    out = layer(x)
    for k in range(3):
        torch.testing.assert_close(out[k], _standalone(layer, k)(x))
    assert layer.weight.abs().max() <= 1 / np.sqrt(5)


@pytest.mark.parametrize("fan_out", [1, 10, 16, 20])
def test_blinear_narrow_padding_gives_the_plain_products_and_gradients(fan_out: int):
    layer = BLinear(6, fan_out, generators([0, 1]))
    x = torch.randn(2, 9, 6, requires_grad=True)
    g = torch.randn(2, 9, fan_out)
    out = layer(x)
    grads = torch.autograd.grad(out, [x, layer.weight, layer.bias], g)
    x2 = x.detach().clone().requires_grad_()
    w, b = layer.weight.detach().clone().requires_grad_(), layer.bias.detach().clone().requires_grad_()
    plain = torch.baddbmm(b, x2, w)
    torch.testing.assert_close(out, plain)
    for got, want in zip(grads, torch.autograd.grad(plain, [x2, w, b], g)):
        torch.testing.assert_close(got, want)


def test_init_of_a_configuration_does_not_depend_on_its_neighbours():
    a = BMLP([4, 6, 2], [7])
    b = BMLP([4, 6, 2], [3, 7, 9])
    for la, lb in zip(a.linears(), b.linears()):
        torch.testing.assert_close(la.weight[0], lb.weight[1])


def test_batchnorm_without_affine_normalises_each_configuration():
    x = torch.randn(2, 50, 4) * torch.tensor([1.0, 5.0]).view(2, 1, 1) + 3
    y = BBatchNorm()(x)
    torch.testing.assert_close(y.mean(1), torch.zeros(2, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(1, unbiased=False), torch.ones(2, 4), atol=1e-3, rtol=0)
    ref = nn.BatchNorm1d(4, affine=False)(x[1])
    torch.testing.assert_close(y[1], ref, atol=1e-5, rtol=1e-4)


def test_sgd_with_weight_decay_matches_the_formula():
    w = nn.Parameter(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    w.grad = torch.tensor([[0.5, 0.5], [1.0, -1.0]])
    opt = optim.SGD([w], lr=[0.1, 0.01], wd=[0.5, 0.0])
    opt.step()
    expected = torch.tensor([[(1 - 0.05) * 1 - 0.05, (1 - 0.05) * -2 - 0.05], [3 - 0.01, 4 + 0.01]])
    torch.testing.assert_close(w.detach(), expected)


def test_adam_matches_torch_adam_per_configuration():
    torch.manual_seed(0)
    w0 = torch.randn(2, 3)
    grads = [torch.randn(2, 3) for _ in range(5)]
    w = nn.Parameter(w0.clone())
    opt = optim.Adam([w], lr=[0.1, 0.001])
    refs = [nn.Parameter(w0[k].clone()) for k in range(2)]
    ref_opts = [torch.optim.Adam([refs[k]], lr=lr) for k, lr in enumerate([0.1, 0.001])]
    for g in grads:
        w.grad = g.clone()
        opt.step()
        for k in range(2):
            refs[k].grad = g[k].clone()
            ref_opts[k].step()
    for k in range(2):
        torch.testing.assert_close(w.detach()[k], refs[k].detach())


def test_inactive_configuration_is_frozen():
    w = nn.Parameter(torch.ones(2, 3))
    w.grad = torch.ones(2, 3)
    opt = optim.Adam([w], lr=[0.1, 0.1])
    opt.active[1] = False
    opt.step()
    assert torch.equal(w.detach()[1], torch.ones(3)) and not torch.equal(w.detach()[0], torch.ones(3))


def test_optimizer_names_and_errors():
    p = [nn.Parameter(torch.zeros(2, 1))]
    assert isinstance(optim.make("sgd", p, 0.1), optim.SGD)
    with pytest.raises(ValueError, match="optimizer = 'lbfgs' is not allowed"):
        optim.make("lbfgs", p, 0.1)
    with pytest.raises(ValueError, match="3 values but the model has 2"):
        optim.SGD(p, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=">= 0"):
        optim.SGD(p, [-0.1, 0.1])


def _mse(model, x, y):
    return (model(x) - (y if y.dim() == 3 else y.unsqueeze(0))).square().mean(dim=(1, 2))


def _problem(seeds, lrs, epochs=5, batch=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    model = BMLP([3, 1], seeds)
    opt = optim.SGD(model.parameters(), lrs)
    labels = pd.DataFrame({"lr": lrs, "seed": seeds})
    loss_probe = lambda m, e: {"loss": _mse(m, x, y).detach()}  # noqa: E731
    return train(model, _mse, Batches(x, y, batch, seeds), opt, epochs, probes=[loss_probe], labels=labels), model


def test_batched_training_equals_one_at_a_time():
    together, m_all = _problem([0, 1], [0.1, 0.05])
    alone, m_one = _problem([1], [0.05])
    torch.testing.assert_close(m_all.linears()[0].weight[1], m_one.linears()[0].weight[0])
    h1 = together.history[together.history.config == 1]["loss"].to_numpy()
    np.testing.assert_allclose(h1, alone.history["loss"].to_numpy(), rtol=1e-6)


def test_same_seed_same_numbers():
    a, _ = _problem([3, 4], [0.1, 0.1])
    b, _ = _problem([3, 4], [0.1, 0.1])
    pd.testing.assert_frame_equal(a.history, b.history)


def test_tidy_history_and_probe_schedule():
    res, _ = _problem([0], [0.1], epochs=5)
    assert list(res.history["epoch"]) == [0, 1, 2, 3, 4, 5]
    assert {"config", "epoch", "step", "status", "loss", "lr", "seed"} <= set(res.history.columns)
    assert res.steps == 5 * 4 and res.status == ["finished"]


def test_divergence_is_recorded_and_others_continue():
    res, model = _problem([0, 1], [50.0, 0.01], epochs=30)
    assert res.status == ["diverged", "finished"]
    last = res.history.groupby("config")["epoch"].max()
    assert last[0] < 30 and last[1] == 30
    assert torch.isfinite(model.linears()[0].weight[1]).all()


def test_stop_criterion_freezes_a_configuration():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 2, generator=g)
    y = x.sum(1, keepdim=True)
    model = BMLP([2, 1], [0, 1])
    opt = optim.SGD(model.parameters(), [0.3, 0.001])
    probe = lambda m, e: {"loss": _mse(m, x, y).detach()}  # noqa: E731
    res = train(model, _mse, Batches(x, y, 16, [0, 1]), opt, 200, probes=[probe], stop=lambda rows: rows["loss"] < 1e-3)
    assert res.status == ["stopped", "finished"]
    assert res.history[res.history.config == 0]["loss"].iloc[-1] < 1e-3
    assert res.last_epoch[0] < 200


def test_full_batch_is_one_step_per_epoch_and_bad_arguments_fail():
    x = torch.zeros(10, 2)
    assert len(Batches(x, x, 100, [0])) == 1 and len(Batches(x, x, 3, [0])) == 4
    with pytest.raises(ValueError, match="batch_size = 0"):
        Batches(x, x, 0, [0])


def test_batches_pair_rows_and_cover_an_epoch_per_configuration():
    """Every configuration sees each example once per epoch, with its own label, in its own order."""
    n = 11
    x = torch.arange(n * 6, dtype=torch.float32).reshape(n, 2, 3)  # image-like rows: x[i] starts at 6i
    y = torch.arange(n) * 10
    batches = list(Batches(x, y, 4, [0, 1, 2]))
    assert [tuple(b[0].shape) for b in batches] == [(3, 4, 2, 3), (3, 4, 2, 3), (3, 3, 2, 3)]
    xs, ys = torch.cat([b[0] for b in batches], dim=1), torch.cat([b[1] for b in batches], dim=1)
    for k in range(3):
        rows = (xs[k, :, 0, 0] / 6).long()
        assert sorted(rows.tolist()) == list(range(n))
        assert torch.equal(ys[k], rows * 10) and torch.equal(xs[k], x[rows])
    assert not torch.equal(xs[0], xs[1])  # independent shuffles


def test_setup_flushes_subnormal_floats_to_zero():
    """runtime.setup turns on flush-to-zero (subnormal Adam moments took the fluctuations chapter's Adam runs 2.3x
    as long); without it the same product is a subnormal number."""
    from lrlab import runtime

    tiny = torch.tensor([1e-30]), torch.tensor([1e-10])
    try:
        runtime.setup(0)
        assert float(tiny[0] * tiny[1]) == 0.0
    finally:
        torch.set_flush_denormal(False)
    assert 0.0 < float(tiny[0] * tiny[1]) < 1.2e-38


def test_compiled_adam_step_matches_torch_ops_and_skips_frozen_configurations():
    """The compiled Adam pass (``optim._adam_rows``) against the same step in torch's ops (``unfused``), over 30
    steps of growing gradients; a frozen configuration whose gradient is NaN keeps its weights and moments."""
    from lrlab.nn import unfused

    gen = torch.Generator().manual_seed(0)
    w0 = [torch.randn(3, 40, 16, generator=gen), torch.randn(3, 1, 16, generator=gen)]

    def run():
        ws = [nn.Parameter(w.clone()) for w in w0]
        opt = optim.Adam(ws, lr=[1e-2, 1e-3, 1e-1])
        g = torch.Generator().manual_seed(1)
        for i in range(30):
            for w in ws:
                w.grad = torch.randn(w.shape, generator=g) * (1 + i)
            if i >= 10:
                opt.active[2] = False
                ws[0].grad[2] = float("nan")
            if i == 10:
                frozen = [w.detach()[2].clone() for w in ws] + [m[2].clone() for m in opt.m + opt.v]
            opt.step()
        return [w.detach() for w in ws], opt, frozen

    compiled, opt, frozen = run()
    with unfused():
        reference, _, _ = run()
    for a, b in zip(compiled, reference):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    after = [w[2] for w in compiled] + [m[2] for m in opt.m + opt.v]
    assert all(torch.equal(a, b) for a, b in zip(after, frozen))
    assert all(torch.isfinite(w).all() for w in compiled)
