"""The sphere_regimes chapter: the paper's toy (n SI groups) against its analytic thresholds, the claims' verdict
logic on made-up tables, the judged range, and the mutants doing what their names say."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrlab.claims import Scorecard
from lrlab.ledger import fingerprint, problems
from lrlab.models import check_scale_invariance, cross_entropy
from lrlab.probes import scale_invariant as si
from lrlab.studies import sphere_regimes as study
from lrlab.studies.sphere_regimes import claims, groups
from lrlab.studies.sphere_regimes import experiments as ex
from lrlab.studies.sphere_regimes.mutants import MUTANTS


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


# ---- the paper's toy ---------------------------------------------------------------------------------------------


def test_group_gradient_is_exact_orthogonal_and_scales():
    rng = np.random.default_rng(0)
    a = np.array([1.0, 3.0])
    th = rng.normal(size=(4, 2, 2))
    g = groups.group_grad(th, a)
    assert np.allclose((g * th).sum(-1), 0, atol=1e-12)
    assert np.allclose(groups.group_grad(2.5 * th, a), g / 2.5)
    h = 1e-6
    for i in range(2):
        for j in range(2):
            e = np.zeros_like(th)
            e[:, i, j] = h
            fd = (groups.group_loss(th + e, a).sum(1) - groups.group_loss(th - e, a).sum(1)) / (2 * h)
            assert np.allclose(fd, g[:, i, j], atol=1e-7)
    norm = np.sqrt((g**2).sum(-1))
    phi = np.arctan2(th[..., 1], th[..., 0])
    assert np.allclose(norm, a * np.abs(np.sin(2 * phi)) / np.sqrt((th**2).sum(-1)))


def test_group_thresholds_are_analytic():
    th = groups.group_thresholds([1.0, 2.0, 4.0])
    assert th == {"group_0": 1.0, "group_1": 0.5, "group_2": 0.25, "total": 1 / 7}
    # a group alone: the linearised angle map has multiplier 1 − 2ηα, −1 at ηα = 1
    eps, a = 1e-6, 2.0
    theta = np.array([[[math.cos(eps), math.sin(eps)]]])
    step = theta - 1 / a * groups.group_grad(theta, np.array([a]))
    step = groups.rescale(step, np.ones((1, 1)), (2,))
    assert math.atan2(step[0, 0, 1], step[0, 0, 0]) / eps == pytest.approx(-1.0, abs=1e-6)
    with pytest.raises(ValueError, match="alphas"):
        groups.group_thresholds([1.0, 0.0])


def test_groups_converge_below_and_only_below_their_thresholds():
    alphas = (1.0, 2.0, 4.0)
    grid = groups.groups_grid(alphas, 16)
    ind = groups.groups_run(grid, [0, 1], 3000, alphas, "individual")
    tot = groups.groups_run(grid, [0, 1], 3000, alphas, "total")
    b = groups.groups_boundaries(ind, tot)
    assert list(b["key"]) == ["group_0", "group_1", "group_2", "total"] and b["inside"].all()
    runs = tot.drop_duplicates(["elr", "seed"])
    assert (runs[runs.elr > 1 / 7].unstable_frac == 1.0).all()  # Remark 2: some group unstable at every step
    assert runs[runs.elr < 1 / 7].converged.all()
    assert np.allclose(tot.groupby(["elr", "seed"]).size(), 3)


def test_groups_run_holds_the_sphere_and_depends_on_elr_only():
    alphas = (1.0, 2.0)
    a = groups.groups_run([0.1, 0.5], [3], 200, alphas, "total")
    b = groups.groups_run([0.1, 0.5], [3], 200, alphas, "total")
    pd.testing.assert_frame_equal(a, b)
    traj = groups.groups_trajectory(0.5, 50, alphas, seed=3)
    # on one sphere Σρᵢ² is fixed, so Σ αᵢ/(ηᵢαᵢ) = Σρᵢ²/η is the same at every step
    inv = traj.assign(r=traj.alpha / traj.elr_x_alpha).groupby("step").r.sum()
    assert np.allclose(inv, inv.iloc[0], rtol=1e-9)
    with pytest.raises(ValueError, match="constraint"):
        groups.groups_run([0.1], [0], 10, alphas, "both")


# ---- the judged range and the verdicts -------------------------------------------------------------------------


def _table(rows):
    cols = ["elr", "seed", "regime", "train_loss", "loss_q4", "test_acc", "eff_grad", "step_angle", "trend",
            "grad_trend", "elr_drift"]
    return pd.DataFrame(rows, columns=cols)


def _results(table):
    return ex.Results(toy=pd.DataFrame(), table=table, wd_history=pd.DataFrame(), optima=pd.DataFrame())


def _card():
    cfg = study.SPEC.resolve(scale="book")
    return claims.CLAIMS.scorecard(cfg), cfg


GOOD = [
    (1e-4, 0, "convergence", 0.1, 0.09, 0.78, 8.0, 1e-3, 0.4, 0.6, 0.0),
    (1e-3, 0, "convergence", 0.01, 0.008, 0.78, 1.4, 1e-3, 0.4, 0.5, 0.0),
    (5e-3, 0, "convergence", 0.004, 0.003, 0.78, 0.5, 2e-3, 0.4, 0.5, 0.0),
    (2e-2, 0, "equilibrium", 0.26, 0.26, 0.76, 6.0, 0.12, 0.9, 0.9, 1e-7),
    (5e-2, 0, "equilibrium", 0.9, 0.9, 0.66, 7.0, 0.33, 0.9, 1.1, 1e-7),
    (1e-1, 0, "divergence", 3.4, 3.4, 0.12, 900.0, 1.5, 1.0, 1.0, 1e-7),
    (1.0, 0, "equilibrium", 0.5, 0.5, 0.5, 1.0, 0.1, 1.0, 1.0, 0.0),  # beyond the range: never judged
]


def test_judged_keeps_the_paper_range_only():
    t = _table(GOOD)
    assert list(ex.judged(t).elr) == [1e-4, 1e-3, 5e-3, 2e-2, 5e-2, 1e-1]


def test_claims_on_a_clean_map_and_where_they_fail():
    card, cfg = _card()
    res = _results(_table(GOOD))
    for judge in (claims.c1, claims.c2, claims.c3, claims.c4, claims.c10, claims.c12):
        judge(card, cfg, res)
    v = {c.id: c.verdict for c in card.claims}
    assert v == {"C1": "reproduced", "C2": "reproduced", "C3": "reproduced", "C4": "reproduced",
                 "C10": "reproduced", "C12": "reproduced"}
    bad = [list(r) for r in GOOD]
    bad[5][6] = 50.0  # divergent effective gradient only 8× the equilibrium's
    bad[5][7] = 0.5  # a 29° step: no random walk
    bad[4][8] = 0.3  # an equilibrium loss still falling by 3×
    bad[1][4], bad[2][4] = 0.2, 0.3  # converging losses rising with the ELR
    card, cfg = _card()
    res = _results(_table(bad))
    for judge in (claims.c2, claims.c4, claims.c10, claims.c12):
        judge(card, cfg, res)
    assert [c.verdict for c in card.claims] == ["not reproduced", "not reproduced", "partial", "not reproduced"]


def test_claims_that_cannot_judge_say_so():
    card, cfg = _card()
    res = _results(_table([r for r in GOOD if r[0] > 0.5]))  # nothing inside the range
    for judge in (claims.c1, claims.c2, claims.c3, claims.c4, claims.c10, claims.c12):
        judge(card, cfg, res)
    assert {c.verdict for c in card.claims} == {"not judged"}
    assert isinstance(card, Scorecard)


def test_every_claim_has_a_source_class_and_the_ledger_accounts_for_it():
    assert all(c.kind for c in claims.CLAIMS)
    assert problems(claims.CLAIMS, claims.CLAIMS.ledger) == []
    latest = {e.claim: e.fingerprint for e in claims.CLAIMS.ledger}
    assert latest == {c.id: fingerprint(c) for c in claims.CLAIMS}


# ---- mutants ------------------------------------------------------------------------------------------------------


def _mutant(name):
    return next(m for m in MUTANTS if m.name == name)


def test_there_are_mutants_and_their_targets_are_claims():
    ids = {c.id for c in claims.CLAIMS}
    assert len(MUTANTS) >= 3 and all(set(m.targets) <= ids and m.targets for m in MUTANTS)


def test_projection_skipped_lets_the_norm_grow_and_bn_removed_breaks_invariance():
    cfg = study.SPEC.resolve(scale="quick", width=8, epochs=2, probe_every=1, batch_size=16)
    g = torch.Generator().manual_seed(1)
    d = ex.Data(torch.randn(48, 6, generator=g), torch.randint(0, 10, (48,), generator=g),
                torch.randn(16, 6, generator=g), torch.randint(0, 10, (16,), generator=g), {})
    with _mutant("projection-skipped").active():
        run, net = ex.train_on_sphere(cfg, d, [1.0], [0], 2, desc="t")
        assert float(si.rho(net)[0]) > 1.01 * float(run.rho0[0])
        theta = np.ones((1, 2, 2))
        assert groups.rescale(theta, np.ones(1), (1, 2)) is theta
    run, net = ex.train_on_sphere(cfg, d, [1.0], [0], 2, desc="t")
    assert float(si.rho(net)[0]) == pytest.approx(float(run.rho0[0]), rel=1e-5)
    with _mutant("bn-removed").active():
        m = ex.build_model(cfg, 6, [0])
        assert not check_scale_invariance(m, cross_entropy, d.x, d.y).ok(tol=1e-2)
        assert ex.invariance(m, d, batch_size=16, batches=2)["loss_change"].max() > 1e-2
    assert check_scale_invariance(ex.build_model(cfg, 6, [0]), cross_entropy, d.x, d.y).ok(tol=1e-2)


def test_elr_mutants_change_the_learning_rate():
    e, rho0 = torch.tensor([1e-3, 1e-1]), torch.tensor([3.0, 2.0])
    assert torch.allclose(si.lr_for_elr(e, rho0), e.double() * rho0.double() ** 2)
    with _mutant("elr-not-fixed").active():
        assert torch.allclose(si.lr_for_elr(e, rho0), e.double())
    with _mutant("elr-ignored").active():
        lr = si.lr_for_elr(e, rho0)
        assert torch.allclose(lr / rho0.double() ** 2, torch.full((2,), 1e-2, dtype=torch.float64))


def test_a_model_that_cannot_take_the_data_is_refused_before_any_run():
    spec = study.SPEC
    with pytest.raises(ValueError, match="'model' = 'convnet' is not allowed with dataset 'fashion_mnist'"):
        spec.resolve(scale="quick", model="convnet")
    with pytest.raises(ValueError, match="'model' = 'mlp' is not allowed with dataset 'cifar10'"):
        spec.resolve(scale="quick", dataset="cifar10")
