"""Tests of the periodic-behaviour tools (chapter ``periodic_bn_wd``): the norm recursion against exact SGD + weight
decay on a scale-invariant function, the destabilisation detector on synthetic saw-tooth series with known
events, the log-log fit, the step recorder on a real SI network, parameter validation and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrlab.models import SIMLP, cross_entropy
from lrlab.optim import SGD
from lrlab.probes import periodic as pr
from lrlab.probes import scale_invariant as si
from lrlab.studies import periodic_bn_wd as study
from lrlab.train import Batches, train

# ---- a tiny scale-invariant function and exact SGD + WD on it -------------------------------------------------


def _si_loss(w: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L(w) = ½‖A w/‖w‖ − b‖²: L(c·w) = L(w) for every c > 0."""
    u = w / w.norm()
    return 0.5 * (a @ u - b).square().sum()


def _sgd_wd(lr: float, wd: float, steps: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(5, 4, generator=g, dtype=torch.float64)
    b = torch.randn(5, generator=g, dtype=torch.float64)
    w = torch.randn(4, generator=g, dtype=torch.float64) * 3
    rhos, grads, inner = [float(w.norm())], [], []
    for _ in range(steps):
        w = w.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(_si_loss(w, a, b), w)
        inner.append(float(grad @ w.detach()) / float(grad.norm() * w.detach().norm()))
        grads.append(float(grad.norm()))
        with torch.no_grad():
            w = (1 - lr * wd) * w - lr * grad  # torch.optim.SGD with weight_decay, no momentum
        rhos.append(float(w.norm()))
    return np.array(rhos), np.array(grads), np.array(inner)


def test_gradient_is_orthogonal_to_weights():
    _, _, inner = _sgd_wd(0.3, 0.05, 20)
    assert np.abs(inner).max() < 1e-12


def test_norm_step_matches_exact_sgd_step():
    rho, grad, _ = _sgd_wd(0.3, 0.05, 50)
    pred = pr.norm_step(rho[:-1] ** 2, 0.3, 0.05, grad**2)
    assert np.abs(pred / rho[1:] ** 2 - 1).max() < 1e-6
    # the same step written with the effective gradient g̃ = ρ ∇L
    pred_eff = pr.norm_step(rho[:-1] ** 2, 0.3, 0.05, eff_grad_sq=(rho[:-1] * grad) ** 2)
    np.testing.assert_allclose(pred_eff, pred, rtol=1e-12)


def test_predict_rho_follows_a_whole_trajectory():
    rho, grad, _ = _sgd_wd(0.5, 0.02, 200, seed=3)
    np.testing.assert_allclose(pr.predict_rho(rho[0], 0.5, 0.02, grad), rho, rtol=1e-6)
    assert np.abs(pr.one_step_residual(rho[:-1], rho[1:], grad, 0.5, 0.02)).max() < 1e-10


def test_elr_recursion_is_the_norm_recursion():
    rho, grad, _ = _sgd_wd(0.3, 0.05, 30, seed=1)
    lr = 0.3
    nxt = pr.elr_step(lr / rho[:-1] ** 2, lr, 0.05, (rho[:-1] * grad) ** 2)
    np.testing.assert_allclose(nxt, lr / rho[1:] ** 2, rtol=1e-10)


def test_weight_decay_alone_and_the_period_formula():
    lr, wd = 0.1, 0.01
    rho2 = 4.0
    for _ in range(100):
        rho2 = pr.norm_step(rho2, lr, wd, 0.0)
    assert math.isclose(math.sqrt(rho2), 2.0 * (1 - lr * wd) ** 100, rel_tol=1e-12)
    assert math.isclose(float(pr.wd_rate(lr, wd)), -math.log(1 - 1e-3), rel_tol=1e-12)
    # steps for the ELR to grow 10-fold by weight decay alone
    elr, n = 1e-3, 0
    while elr < 1e-2:
        elr, n = float(pr.elr_step(elr, lr, wd, 0.0)), n + 1
    assert abs(n - float(pr.predicted_period(lr, wd, 10.0))) <= 1
    assert math.isclose(float(pr.predicted_period(lr, wd, 10.0)), math.log(10) / (2e-3), rel_tol=2e-3)


def test_equilibrium_elr_is_a_fixed_point():
    lr, wd, g = 0.2, 0.03, 3.0
    e = float(pr.equilibrium_elr(lr, wd, g))
    assert math.isclose(float(pr.elr_step(e, lr, wd, g * g)), e, rel_tol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: pr.norm_step(1.0, 0.0, 0.1, 1.0),
        lambda: pr.norm_step(1.0, 0.1, -0.1, 1.0),
        lambda: pr.norm_step(1.0, 2.0, 0.5, 1.0),
        lambda: pr.norm_step(-1.0, 0.1, 0.1, 1.0),
        lambda: pr.norm_step(1.0, 0.1, 0.1),
        lambda: pr.predicted_period(0.1, 0.1, 0.5),
        lambda: pr.equilibrium_elr(0.1, 0.1, 0.0),
        lambda: pr.Detector(window=0),
        lambda: pr.Detector(loss_factor=1.0),
        lambda: pr.fit_loglog([1.0, 1.0], [2.0, 3.0]),
        lambda: pr.decay_phases([0, 1], [1, 1], [1, 1], pd.DataFrame(), 0.1, 0.1, late=0.0),
        lambda: pr.detect([0, 0], [1, 1], [1, 1], [1, 1], 0.1),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# ---- the detector on synthetic saw-tooth series ---------------------------------------------------------------

EVENTS = (1000, 1700, 2300, 3000)


def _sawtooth(lr=0.1, wd=0.01, jump=2.5, events=EVENTS, n=3600, every=10, seed=0, norm=True):
    """ρ decays at the weight-decay rate and jumps ×``jump`` at each event; loss and g̃ fall between events
    (10⁻³·⁵ and 10⁻² of their peaks) and spike for 30 steps at each event, before the norm jump."""
    rng = np.random.default_rng(seed)
    step = np.arange(every, n + 1, every, dtype=float)
    rate = -math.log(1 - lr * wd)
    log_rho = np.empty_like(step)
    loss = np.empty_like(step)
    grad = np.empty_like(step)
    r, last = math.log(5.0), 0.0
    starts = [0.0, *events]
    for i, s in enumerate(step):
        k = sum(s > e for e in events)
        since = s - starts[k]
        if k and since <= 30:  # the spike: loss and gradient up, then the norm jumps at its end
            loss[i], grad[i] = 2.0, 50.0
            if since > 20 and norm:
                r += math.log(jump) / 1
        else:
            frac = min(1.0, since / 400)
            loss[i] = 2.0 * 10 ** (-3.5 * frac) * math.exp(0.1 * rng.standard_normal())
            grad[i] = 20.0 * 10 ** (-2.5 * frac) * math.exp(0.1 * rng.standard_normal())
        r -= rate * (s - last)
        last = s
        log_rho[i] = r
    rho = np.exp(log_rho)
    return pd.DataFrame({"step": step, "rho": rho, "elr": lr / rho**2, "loss": loss, "eff_grad": grad})


def test_detector_finds_the_known_events_and_periods():
    s = _sawtooth()
    table = pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1)
    ev = pr.events(table)
    assert len(ev) == len(EVENTS)
    np.testing.assert_allclose(ev.step, np.array(EVENTS) + 10, atol=10)  # the first sample after each onset
    np.testing.assert_allclose(pr.periods(ev.step), np.diff(EVENTS), atol=10)
    assert (ev.elr_before / ev.elr_after > 2).all()
    assert (ev.loss_peak / ev.loss_base >= 100).all() and (ev.grad_peak / ev.grad_base >= 100).all()


def test_detector_without_norm_jump_sees_spikes_but_no_events():
    s = _sawtooth(norm=False)
    table = pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1)
    assert len(table) == len(EVENTS) and len(pr.events(table)) == 0


def test_detector_ignores_noise_of_an_equilibrium():
    rng = np.random.default_rng(1)
    n = 400
    step = np.arange(1, n + 1) * 10.0
    rho = 9 * np.exp(0.1 * rng.standard_normal(n))
    loss = 0.4 * np.exp(0.5 * rng.standard_normal(n))
    grad = 6 * np.exp(0.5 * rng.standard_normal(n))
    assert len(pr.detect(step, rho, loss, grad, lr=2.0)) == 0


def test_detector_thresholds_matter():
    s = _sawtooth(jump=1.3)  # ELR falls only 1.69-fold: spikes, but not destabilisations at elr_drop = 2
    table = pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1)
    assert len(table) == len(EVENTS) and len(pr.events(table)) == 0
    loose = pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1, detector=pr.Detector(elr_drop=1.5))
    assert len(pr.events(loose)) == len(EVENTS)


def test_decay_rates_and_mechanism_on_the_sawtooth():
    lr, wd = 0.1, 0.01
    s = _sawtooth(lr=lr, wd=wd)
    ev = pr.events(pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=lr))
    rates = pr.decay_phases(s.step, s.rho, s.elr, ev, lr, wd)
    assert len(rates) == len(EVENTS) - 1
    np.testing.assert_allclose(rates.ratio, 1.0, rtol=1e-6)
    np.testing.assert_allclose(rates.elr_ratio, 1.0, rtol=1e-6)
    order = pr.mechanism(s.step, s.rho, s.elr, s.eff_grad, ev)
    assert order.ordered.all()


def test_mechanism_flags_a_jump_before_the_spike():
    s = _sawtooth()
    ev = pr.events(pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1))
    ev.loc[0, "step_grad_peak"] = ev.loc[0, "step_rho_peak"] + 10
    order = pr.mechanism(s.step, s.rho, s.elr, s.eff_grad, ev)
    assert not order.ordered.iloc[0] and order.ordered.iloc[1:].all()


def test_fit_loglog_recovers_an_exact_power_law():
    x = np.array([1e-3, 2e-3, 4e-3, 8e-3])
    fit = pr.fit_loglog(x, 0.7 / x)
    assert math.isclose(fit.slope, -1.0, abs_tol=1e-10) and fit.se < 1e-8 and fit.n == 4
    np.testing.assert_allclose(fit(x), 0.7 / x, rtol=1e-10)


# ---- the recorder on a real SI network ------------------------------------------------------------------------


def _tiny_run(seed: int, steps_epochs: int = 6, fixed=(False, False), eps: float = 1e-5):
    g = torch.Generator().manual_seed(123)
    x, y = torch.randn(64, 12, generator=g), torch.randint(0, 10, (64,), generator=g)
    labels = pd.DataFrame({"lr": [0.5, 0.2], "wd": [0.05, 0.01], "seed": [seed, seed + 1], "fixed": list(fixed)})
    model = SIMLP([12, 16, 16, 10], labels.seed.tolist(), eps=eps)
    rec = pr.StepRecorder(model, cross_entropy)
    opt = SGD([p for p in model.parameters() if p.requires_grad], labels.lr.tolist(), labels.wd.tolist())
    hooks = [si.Projector(model, mask=labels.fixed.to_numpy(bool)), rec]
    train(model, rec.loss_fn, Batches(x, y, 16, labels.seed.tolist()), opt, steps_epochs, after_step=hooks,
          progress=False)
    rec.remove()
    return rec, labels


@pytest.mark.parametrize(("eps", "tol"), [(0.0, 2e-6), (1e-5, 1e-4)])
def test_recorder_satisfies_the_norm_recursion_on_an_si_mlp(eps, tol):
    rec, labels = _tiny_run(0, eps=eps)
    a = rec.arrays()
    assert a["loss"].shape == (24, 2)
    for c, lab in labels.iterrows():
        res = pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], lab.lr, lab.wd)
        assert np.abs(res).max() < tol
        # momentum-free coupled weight decay is what the recursion describes: another λ does not fit
        wrong = pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], lab.lr,
                                     2 * lab.wd)
        assert np.abs(wrong).max() > 10 * tol
    assert (a["bn_var"] > 0).all()
    np.testing.assert_allclose(a["rho_before"][1:], a["rho_after"][:-1])


def test_recorder_reads_the_smallest_pre_bn_variance_of_the_training_pass_only():
    """The recorder's bn_var is the smallest batch variance of a pre-BN unit in the training forward pass, as the
    fused BN layers report it (float64), against the variance of the hidden layers' outputs computed here."""
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(32, 12, generator=g), torch.randint(0, 10, (32,), generator=g)
    model = SIMLP([12, 16, 16, 10], [0, 1])
    pre = []
    for lin in model.hidden:
        lin.register_forward_hook(lambda _m, _i, out: pre.append(out.detach().double()))
    rec = pr.StepRecorder(model, cross_entropy)
    rec.loss_fn(model, x, y)
    assert model.norms[0].batch_var.dtype == torch.float64  # reported by the compiled layer
    expected = torch.stack([h.var(dim=1, unbiased=False).min(dim=1).values for h in pre]).min(0).values
    torch.testing.assert_close(rec._var_min.double(), expected, rtol=1e-5, atol=0)
    with torch.no_grad():  # an evaluation pass leaves no variance behind
        rec.loss_fn(model, x, y)
    assert rec._var_min is None
    rec.remove()
    assert not model.norms[0].watch_var


def test_recorder_frame_blocks():
    rec, labels = _tiny_run(0)
    f = rec.frame(4, labels.lr.tolist(), labels)
    assert len(f) == 2 * 6 and set(f.columns) >= {"config", "step", "loss", "eff_grad", "rho", "elr", "lr", "seed"}
    a = rec.arrays()
    first = f[f.config == 1].iloc[0]
    assert math.isclose(first.loss, a["loss"][:4, 1].mean(), rel_tol=1e-12)
    assert math.isclose(first.eff_grad, a["eff_grad"][:4, 1].mean(), rel_tol=1e-12)
    assert math.isclose(first.elr, 0.2 / a["rho_after"][3, 1] ** 2, rel_tol=1e-12)
    with pytest.raises(ValueError):
        rec.frame(0, labels.lr.tolist())


def test_masked_projector_fixes_only_the_masked_norms():
    rec, _ = _tiny_run(0, fixed=(True, False))
    a = rec.arrays()
    np.testing.assert_allclose(a["rho_after"][:, 0], a["rho_before"][0, 0], rtol=1e-6)
    assert abs(a["rho_after"][-1, 1] / a["rho_before"][0, 1] - 1) > 1e-2


def test_same_seed_same_numbers():
    a = _tiny_run(3)[0].arrays()
    b = _tiny_run(3)[0].arrays()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    c = _tiny_run(4)[0].arrays()
    assert not np.array_equal(a["rho_after"], c["rho_after"])


# ---- the study's configuration --------------------------------------------------------------------------------


def test_presets_resolve_and_validate():
    for scale in ("quick", "book", "paper"):
        cfg = study.SPEC.resolve(scale=scale)
        assert cfg.scale == scale
    with pytest.raises(ValueError, match="wd"):
        study.SPEC.resolve(scale="book", wd=1.5)
    with pytest.raises(ValueError, match="scan_lrs"):
        study.SPEC.resolve(scale="book", scan_lrs=[0.1, 0.1])
    with pytest.raises(ValueError, match="lr \\* wd"):
        study.SPEC.resolve(scale="book", wd=0.6)
    with pytest.raises(ValueError, match="probe_every"):
        study.SPEC.resolve(scale="quick", probe_every=10_000)
    with pytest.raises(ValueError, match="unknown parameter"):
        study.SPEC.resolve(scale="quick", nonsense=1)


def test_sgd_grid_roles():
    cfg = study.SPEC.resolve(scale="book")
    g = study.sgd_grid(cfg)
    assert len(g) == g[["lr", "wd", "fixed"]].drop_duplicates().shape[0] * cfg.n_seeds
    assert set(g[g.panel].lr) == set(cfg.lrs) and set(g[g.scan].lr) == set(cfg.scan_lrs)
    ctl = g[g.control]
    assert ctl.fixed.all() and set(ctl.lr) == {cfg.control_lr}
    assert ((g.lr == cfg.control_lr) & ~g.fixed).sum() == cfg.n_seeds  # the free-norm twin


def test_paper_scale_code_path_runs_on_fake_cifar(monkeypatch):
    """Scale ``paper`` (ConvNetSI on CIFAR-10) cannot download its data here: run its code path on random images."""
    rng = np.random.default_rng(0)

    def fake_cifar10(split="train", folder=None, normalize=True):
        n = 24 if split == "train" else 8
        return rng.standard_normal((n, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, n).astype(np.int64)

    monkeypatch.setattr(study.experiments.data, "cifar10", fake_cifar10)
    cfg = study.SPEC.resolve(scale="paper", width=2, n_train=24, n_test=8, batch_size=8, epochs=2, gd_n=24,
                             gd_epochs=2, all_trained_epochs=1, probe_every=1, every=1, n_seeds=1, window=2)
    ds = study.dataset(cfg)
    assert tuple(ds.x.shape) == (24, 3, 32, 32)
    res = study.run_all(cfg, ds, progress=False)
    assert res.sgd.steps["loss"].shape == (6, len(study.sgd_grid(cfg)))
    card = study.scorecard(cfg, res)
    assert [c.id for c in card.claims] == [f"C{i}" for i in range(1, 10)]
