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
        lambda: pr.phase_order([1, 2], [1, 1], [1, 1], [1, 1], [1], converged=1.0),
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


def test_decay_rates_and_phase_order_on_the_sawtooth():
    lr, wd = 0.1, 0.01
    s = _sawtooth(lr=lr, wd=wd)
    ev = pr.events(pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=lr))
    rates = pr.decay_phases(s.step, s.rho, s.elr, ev, lr, wd)
    assert len(rates) == len(EVENTS) - 1
    np.testing.assert_allclose(rates.ratio, 1.0, rtol=1e-6)
    np.testing.assert_allclose(rates.elr_ratio, 1.0, rtol=1e-6)
    order = pr.phase_order(s.step, s.rho, s.loss, s.eff_grad, ev.step)
    assert list(order.event) == list(range(1, len(EVENTS)))  # the first event has no period before it
    assert order.ordered.all()
    assert (order.rho_min < order.jump).all() and (order.grad_onset <= order.jump).all()
    # every window is centred on its onset, half the gap to the nearer neighbour wide on each side
    gaps = np.diff(EVENTS)
    half = [min([gaps[k - 1], *gaps[k : k + 1]]) / 2 for k in range(1, len(EVENTS))]
    np.testing.assert_allclose(order.end - order.start, 2 * np.array(half), atol=20)


def test_phase_order_flags_a_norm_jump_before_the_spike():
    s = _sawtooth()
    ev = pr.events(pr.detect(s.step, s.rho, s.loss, s.eff_grad, lr=0.1))
    early = s.assign(rho=np.r_[s.rho.to_numpy()[6:], np.repeat(s.rho.iloc[-1], 6)])  # ρ jumps 60 steps early
    order = pr.phase_order(early.step, early.rho, early.loss, early.eff_grad, ev.step)
    assert not order.spike_first.any() and not order.ordered.any()
    flat = s.assign(eff_grad=np.where(s.eff_grad >= 50, 50.0, 20.0))  # no convergence between the spikes
    assert not pr.phase_order(flat.step, flat.rho, flat.loss, flat.eff_grad, ev.step).converged.any()


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
    with pytest.raises(ValueError, match="scan_etalambdas"):
        study.SPEC.resolve(scale="book", scan_etalambdas=[1e-3, 1e-3])
    with pytest.raises(ValueError, match="scan_etalambdas"):
        study.SPEC.resolve(scale="book", scan_etalambdas=[1e-3, 0.5])  # λ = 0.5 / 0.4 > 1
    with pytest.raises(ValueError, match="lr \\* wd"):
        study.SPEC.resolve(scale="book", wd=0.6)
    with pytest.raises(ValueError, match="probe_every"):
        study.SPEC.resolve(scale="quick", probe_every=10_000)
    with pytest.raises(ValueError, match="unknown parameter"):
        study.SPEC.resolve(scale="quick", nonsense=1)


def test_the_scan_varies_lambda_at_fixed_eta_and_eta_at_fixed_lambda():
    cfg = study.SPEC.resolve(scale="book")
    sc = study.scan_configs(cfg)
    lam, eta = sc[sc.series.isin(["lambda", "both"])], sc[sc.series.isin(["eta", "both"])]
    assert (lam.lr == cfg.scan_lr).all() and (eta.wd == cfg.scan_wd).all()
    np.testing.assert_allclose(sc.lr * sc.wd, sc.eta_lambda, rtol=1e-9)
    assert max(cfg.scan_etalambdas) / min(cfg.scan_etalambdas) >= 10 - 1e-9  # a decade
    pairs = sc.groupby(sc.eta_lambda.round(12)).size()
    assert (pairs[pairs.index > min(cfg.scan_etalambdas)] == 2).all()  # each larger ηλ by two (η, λ)


def test_grid_roles():
    cfg = study.SPEC.resolve(scale="book")
    g = study.grid(cfg)
    keys = ["lr", "wd", "fixed", "bn", "run", "control"]
    for _, rows in g.groupby(keys):
        assert rows.seed.is_unique
    assert set(g[g.panel].lr) == set(cfg.lrs) and (g[g.panel].wd == cfg.wd).all()
    long = g[g.run == "long"]
    assert len(long) and np.allclose(long.lr * long.wd, min(cfg.scan_etalambdas))
    assert (g[g.scan].groupby(["lr", "wd"]).seed.nunique() >= cfg.scan_seeds).all()
    ctl = g[g.control != ""].drop_duplicates("control").set_index("control")
    assert set(ctl.index) == {"fixed_destab", "no_wd", "no_bn"}
    assert ctl.fixed["fixed_destab"] and not ctl.fixed["no_wd"]
    assert ctl.wd["no_wd"] == 0 and not ctl.bn["no_bn"] and ctl.elr0["fixed_destab"] == cfg.control_elr
    twin = g[g.twin]
    assert (twin.lr == cfg.control_lr).all() and (twin.wd == cfg.wd).all() and not twin.fixed.any()


def test_fixed_norm_control_starts_and_stays_at_its_elr():
    cfg = study.SPEC.resolve(scale="quick", epochs=2, n_train=64, n_test=16, batch_size=32, probe_every=1, every=1)
    ds = study.dataset(cfg)
    labels = pd.DataFrame({"lr": [0.4, 0.4, 0.4], "wd": [0.01] * 3, "seed": [0, 0, 0], "fixed": [True, False, False],
                           "bn": [True, True, False], "elr0": [0.06, float("nan"), float("nan")]})
    r = study.run(cfg, ds, labels, name="t", epochs=2, batch_size=32, progress=False)
    a = r.steps
    np.testing.assert_allclose(0.4 / a["rho_after"][:, 0] ** 2, 0.06, rtol=1e-5)
    np.testing.assert_allclose(0.4 / a["rho_before"][0, 0] ** 2, 0.06, rtol=1e-5)
    # without BN the gradient is no longer orthogonal to the weights: the norm recursion misses
    res = [np.abs(pr.one_step_residual(a["rho_before"][:, c], a["rho_after"][:, c], a["grad_norm"][:, c], 0.4,
                                       0.01)).max() for c in (1, 2)]
    assert res[0] < 1e-4 < res[1]


def test_paper_scale_code_path_runs_on_fake_cifar(monkeypatch):
    """Scale ``paper`` (ConvNetSI on CIFAR-10) cannot download its data here: run its code path on random images."""
    rng = np.random.default_rng(0)

    def fake_cifar10(split="train", folder=None, normalize=True):
        n = 24 if split == "train" else 8
        return rng.standard_normal((n, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, n).astype(np.int64)

    monkeypatch.setattr(study.experiments.data, "cifar10", fake_cifar10)
    cfg = study.SPEC.resolve(scale="paper", width=2, n_train=24, n_test=8, batch_size=8, epochs=2, gd_n=24,
                             gd_epochs=2, all_trained_epochs=1, scan_epochs=2, scan_seeds=1, probe_every=1, every=1,
                             n_seeds=1, window=2)
    ds = study.dataset(cfg)
    assert tuple(ds.x.shape) == (24, 3, 32, 32)
    res = study.run_all(cfg, ds, progress=False)
    g = study.grid(cfg)
    assert res.sgd.steps["loss"].shape == (6, int((g.run == "sgd").sum()))
    assert not (~g.bn).any()  # ConvNetSI has no variant without BN: that control is the MLP's
    card = study.scorecard(cfg, res)
    assert [c.id for c in card.claims] == [f"C{i}" for i in range(1, 11)]


def test_scan_fits_and_intervals_on_an_exact_law():
    """A period of exactly c/(ηλ) in both series gives slope −1 in every seed, equal pairs, and intervals that
    contain the truth; a period that follows λ alone in the η-series is caught by the pairs."""
    from lrlab.studies.periodic_bn_wd.analysis import interval, scan_fits

    cfg = study.SPEC.resolve(scale="book")
    sc = study.scan_configs(cfg)
    rows = [{**r, "seed": s, "periods": 3, "mean_period": (1.2 + 0.01 * s) / r["eta_lambda"], "used": True}
            for s in range(5) for r in sc.to_dict("records")]
    f = scan_fits(pd.DataFrame(rows))
    np.testing.assert_allclose(f.slope, -1.0, atol=1e-9)
    np.testing.assert_allclose(f.log_ratio, 0.0, atol=1e-9)
    assert (f.pairs == len(cfg.scan_etalambdas) - 1).all() and (f.n == len(sc)).all()
    m, se, lo, hi = interval(f.slope + np.linspace(-0.1, 0.1, 5))
    assert math.isclose(m, -1.0) and lo < -1.0 < hi and se > 0
    bad = [{**r, "mean_period": r["mean_period"] * (r["lr"] / cfg.scan_lr if r["series"] == "eta" else 1.0)}
           for r in rows]  # the η-series' period no longer follows η
    fb = scan_fits(pd.DataFrame(bad))
    assert (fb.log_ratio > np.log(1.5)).all() and (fb.eta_slope > -0.5).all()


@pytest.mark.parametrize("name", ["no_weight_decay", "decoupled_weight_decay", "norm_frozen"])
def test_each_mutant_breaks_its_mechanism_in_the_optimiser(name):
    mutant = {m.name: m for m in study.MUTANTS}[name]
    labels = pd.DataFrame({"lr": [0.5, 0.2], "wd": [0.1, 0.1], "seed": [0, 1], "fixed": [False, False]})
    model = SIMLP([12, 16, 16, 10], labels.seed.tolist())
    params = [p for p in model.parameters() if p.requires_grad]
    plain = study.experiments.make_optimizer(model, params, labels)
    with mutant.active():
        opt = study.experiments.make_optimizer(model, params, labels)
    assert not plain.sphere.mask.any() and torch.allclose(plain.wd, torch.tensor([0.1, 0.1]))
    if name == "no_weight_decay":
        assert (opt.wd == 0).all()
    elif name == "decoupled_weight_decay":  # decay per step λ, whatever η
        torch.testing.assert_close(opt.lr * opt.wd, torch.tensor([0.1, 0.1]))
    else:
        assert opt.sphere.mask.all()
