"""The eos_ntk study's judging machinery: regimes, effects with bootstrap intervals over seeds, trace changes, the
scorecard on runs that cannot judge a claim, and the mutants the audit applies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lrlab import models
from lrlab.claims import VERDICTS
from lrlab.probes import ntk
from lrlab.studies import eos_ntk
from lrlab.studies.eos_ntk import analysis, experiments, mutants

torch.set_num_threads(1)


def _history(rows):
    """A history from (setting, seed, lr, step, sharpness) rows, every one a stride measurement."""
    df = pd.DataFrame(rows, columns=["setting", "seed", "lr", "step", "sharpness"])
    return df.assign(loss=1.0, probe="stride")


def test_bootstrap_mean_is_the_mean_with_an_interval_around_it():
    mean, lo, hi = analysis.bootstrap_mean([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0 and 1.0 <= lo < mean < hi <= 5.0
    assert analysis.bootstrap_mean([2.5]) == (2.5, 2.5, 2.5)
    assert all(np.isnan(analysis.bootstrap_mean([np.nan])))
    assert analysis.bootstrap_mean([1.0, 2.0]) == analysis.bootstrap_mean([1.0, 2.0])  # seeded


def test_edge_table_sorts_runs_into_regimes_and_describes_the_eos_phase():
    lr = 0.2  # 2/η = 10
    rows = [("a", 0, lr, s, v) for s, v in enumerate([3.0, 6.0, 9.5, 10.5, 9.8, 10.2])]  # sharpens to the edge
    rows += [("a", 1, lr, s, v) for s, v in enumerate([3.0, 5.0, 7.0])]  # stays below
    rows += [("a", 2, lr, s, v) for s, v in enumerate([11.0, 8.0, 9.0])]  # starts above 2/η: catapult
    rows += [("a", 3, lr, s, v) for s, v in enumerate([9.5, 10.0])]  # starts within the band
    e = analysis.edge_table(_history(rows)).set_index("seed")
    assert list(e["regime"]) == ["edge", "sub-edge", "catapult", "near the edge"]
    ratios = np.array([9.5, 10.5, 9.8, 10.2]) * lr / 2
    assert e.loc[0, "median_ratio"] == pytest.approx(np.median(ratios))
    assert e.loc[0, "iqr_ratio"] == pytest.approx(np.subtract(*np.quantile(ratios, [0.75, 0.25])))
    assert e.loc[0, "eos_points"] == 4 and e.loc[0, "entry_step"] == 2 and e.loc[0, "in_band"] == 1.0


def test_edge_table_reads_only_the_stride_measurements():
    h = _history([("a", 0, 0.2, 0, 3.0), ("a", 0, 0.2, 2, 5.0), ("a", 0, 0.2, 3, 9.9)])
    h.loc[2, "probe"] = "final"  # an odd-step measurement at the end: not on the stride
    assert analysis.edge_table(h)["regime"].iloc[0] == "sub-edge"


def test_edge_effect_is_paired_per_seed_and_excludes_catapult_and_unmatched_runs():
    t = pd.DataFrame({
        "seed": [0, 0, 0, 0, 1, 1, 1],
        "regime": ["sub-edge", "sub-edge", "edge", "catapult", "sub-edge", "edge", "edge"],
        "matched": [True, True, True, True, True, True, False],
        "x": [0.30, 0.32, 0.40, 0.90, 0.20, 0.26, 5.0],
    })
    e = analysis.edge_effect(t, "x").set_index("seed")
    assert e.loc[0, "effect"] == pytest.approx(0.40 - 0.31) and e.loc[0, "sub_spread"] == pytest.approx(0.02)
    assert e.loc[1, "effect"] == pytest.approx(0.06) and np.isnan(e.loc[1, "sub_spread"])
    assert list(e["n_edge"]) == [1, 1] and list(e["n_sub"]) == [2, 1]


def test_trace_changes_separate_falling_from_rising_intervals():
    tr = pd.DataFrame({"setting": "a", "seed": 0, "lr": 0.2, "step": [0, 4, 8, 12, 16],
                       "sharpness": [10.0, 11.0, 9.0, 10.0, 8.0], "A": [0.5, 0.49, 0.55, 0.54, 0.60],
                       "kta": [0.3, 0.3, 0.31, 0.3, 0.32], "loss": 1.0, "lmax_over_n": 10.0})
    c = analysis.trace_changes(tr).iloc[0]
    assert c["falling"] == 2 and c["rising"] == 2
    assert c["dA_falling"] == pytest.approx(0.06) and c["dA_rising"] == pytest.approx(-0.01)
    assert c["dA_diff"] == pytest.approx(0.07) and c["corr_A"] < 0


def _tiny(**kw):
    base = dict(n=60, ntk_n=60, trace_n=30, lrs=(0.4, 0.8), trace_lr=0.4, trace_steps=8, loss_goal=0.1,
                relu=False, multiclass=False, linear_lrs=(0.3, 1.0), linear_n=40, linear_d=6, linear_width=8,
                linear_loss_goal=0.01)
    return eos_ntk.SPEC.resolve(scale="quick", **{**base, **kw})


def _scored(cfg):
    res = eos_ntk.run(cfg)
    return res, {c.id: c for c in eos_ntk.scorecard(cfg, res).claims}


def test_a_run_in_which_no_rate_reaches_the_edge_says_so_and_finishes():
    """Every rate far below the edge: the edge claims are not judged (and say why); figures still draw."""
    cfg = _tiny(lrs=(0.02, 0.03, 0.05), trace_lr=0.05, loss_goal=0.3, linear_lrs=(0.05,))
    res, claims = _scored(cfg)
    assert set(eos_ntk.edge_table(res.history)["regime"]) == {"sub-edge"}
    for cid in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C2r", "C3r", "C2m", "C3m"):
        assert claims[cid].verdict == "not judged", (cid, claims[cid].measured)
        assert claims[cid].measured
    assert "not run" in claims["C2r"].measured and "edge" in claims["C2"].measured
    import matplotlib.pyplot as plt

    for name in ("fig_training", "fig_trace", "fig_catapult", "fig_linear"):
        plt.close(getattr(eos_ntk.figures, name)(res, cfg.seed))
    for fig in (eos_ntk.figures.fig_effects(res), eos_ntk.figures.fig_ntk_edge(res),
                eos_ntk.figures.fig_alignment(res), eos_ntk.figures.fig_alignment(res, "relu")):
        plt.close(fig)


def test_every_verdict_is_a_known_one_on_a_grid_that_reaches_the_edge():
    cfg = _tiny(relu=True, relu_lrs=(0.05, 0.6))
    res, claims = _scored(cfg)
    assert {c.verdict for c in claims.values()} <= set(VERDICTS)
    assert claims["C2m"].verdict == "not judged"  # the ten-class setting was not run


# ---- the mutants -------------------------------------------------------------------------------------------


def test_mutants_patch_the_names_the_chapter_calls():
    names = {m.name: m for m in eos_ntk.MUTANTS}
    assert len(names) >= 3
    x, y = torch.randn(12, 3), torch.randn(12)
    net = models.scalar_net(models.tanh_mlp(3, (5,), 1, 0), 1)
    op = eos_ntk.experiments.hessian_operator(net, x, y)
    K = experiments.kernel(net, x)
    with names["sharpness-is-gradient-norm"].active():
        tracker = experiments.SharpnessTracker()
        assert experiments.measure_sharpness(tracker, op) == pytest.approx(float(op.grad.double().norm()))
    with names["ntk-of-shuffled-outputs"].active():
        Ks = experiments.kernel(net, x)
        assert not torch.equal(Ks, K)
        np.testing.assert_allclose(np.linalg.eigvalsh(Ks.double()), np.linalg.eigvalsh(K.double()), rtol=1e-4,
                                   atol=1e-6)
        assert ntk.kta(Ks, y) != pytest.approx(ntk.kta(K, y))
    p = [torch.ones(2)]
    with names["step-size-halved"].active():
        experiments.gd_step(p, [torch.ones(2)], 1.0)
    assert torch.equal(p[0], torch.full((2,), 0.5))
    experiments.gd_step(p, [torch.ones(2)], 1.0)  # outside the mutant: the whole step again
    assert torch.equal(p[0], torch.full((2,), -0.5))


def test_shuffled_kernel_keeps_each_examples_outputs_together():
    x = torch.randn(6, 3)
    net = models.scalar_net(models.tanh_mlp(3, (5,), 4, 0), 4)
    K = experiments.kernel(net, x)
    Ks = mutants._shuffled_kernel(experiments.kernel)(net, x)
    perm = np.random.default_rng(mutants.SHUFFLE_SEED).permutation(6)
    torch.testing.assert_close(Ks[:4, :4], K[4 * perm[0]: 4 * perm[0] + 4, 4 * perm[0]: 4 * perm[0] + 4])
