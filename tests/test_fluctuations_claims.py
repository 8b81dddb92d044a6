"""The fluctuations chapter's claims, its trained guard, its map and its mutants, on runs small enough for a test."""

import numpy as np
import pandas as pd
import pytest
import torch

from lrlab import optim
from lrlab.claims import VERDICTS
from lrlab.studies import fluctuations as study
from lrlab.studies.fluctuations import claims, experiments, tradeoff
from lrlab.train import Batches, train

TINY = dict(epochs=8, probe_every=1, per_class=2, test_per_class=2, widths=(8, 4), lrs=(0.1, 0.01), batch_size=8)


def _tiny(**over):
    cfg = study.SPEC.resolve(scale="quick", **{**TINY, **over})
    return cfg, study.load_data(cfg)


def test_sgd_on_the_summed_loss_is_sgd_on_the_pixel_mean_at_784_eta():
    """The map's effective step: the pixel-mean loss is the summed loss / 784, so SGD's step is the same run."""
    cfg, ds = _tiny()
    end = []
    for loss_fn, lr in ((experiments.training_loss, 1e-3), (experiments.reconstruction_loss, 784e-3)):
        model = experiments.autoencoder(cfg.widths, [0])
        train(model, loss_fn, Batches(ds.x, ds.x, 8, [0]), optim.make("sgd", model.parameters(), [lr]), 5)
        end.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(end[0], end[1], rtol=1e-4, atol=1e-6)


def test_a_run_trains_only_clearly_below_the_mean_image():
    assert tradeoff.is_trained(0.04, 0.075, 1.5)
    assert not tradeoff.is_trained(0.074, 0.075, 1.5)
    assert tradeoff.is_trained(0.05, 0.075, 1.5)  # exactly at the threshold, up to rounding
    assert not tradeoff.is_trained(0.01, 0.075, 1.5, status="diverged")
    assert not tradeoff.is_trained(float("nan"), 0.075, 1.5)


def _results(mse: dict[float, float], part: dict[float, int], fluct: dict[float, float] | None = None,
             cv: dict[float, float] | None = None, seeds=(0, 1)) -> study.Results:
    """Hand-made tables of one optimiser: the same numbers on every seed and (for fluct/cv) every layer."""
    fluct = fluct or {lr: lr for lr in mse}
    cv = cv or dict.fromkeys(mse, 1.0)
    finals, neurons, participation = [], [], []
    for lr in mse:
        for s in seeds:
            finals.append({"optimizer": "sgd", "lr": lr, "seed": s, "grid": "paper", "train_mse": mse[lr],
                           "test_mse": mse[lr], "init_mse": 0.25, "blind_mse": 0.075, "status": "finished"})
            for layer in ("encoder-8", "latent-4", "decoder-8"):
                neurons.append({"optimizer": "sgd", "lr": lr, "seed": s, "grid": "paper", "layer": layer,
                                "participating": part[lr] // 3, "fluct_bias": fluct[lr], "fluct_wnorm": fluct[lr],
                                "cv_fluct": cv[lr]})
                participation += [{"optimizer": "sgd", "lr": lr, "seed": s, "grid": "paper", "layer": layer,
                                   "tau": t, "participating": part[lr] // 3} for t in (0.01, 0.5)]
    return study.Results({}, pd.DataFrame(finals), pd.DataFrame(neurons), pd.DataFrame(participation))


def _card(results, lrs=(1e-2, 1e-3, 1e-4)):
    cfg = study.SPEC.resolve(scale="book", lrs=lrs, contrast_seeds=0)
    return {c.id: c for c in claims.scorecard(cfg, results).claims}


def test_the_paper_s_trade_off_on_trained_runs_reproduces():
    card = _card(_results({1e-2: 0.02, 1e-3: 0.03, 1e-4: 0.04}, {1e-2: 150, 1e-3: 200, 1e-4: 240},
                          cv={1e-2: 2.0, 1e-3: 1.5, 1e-4: 1.0}))
    assert {i: card[i].verdict for i in ("C1", "C2", "C3", "C4", "C5", "C6", "C7")} == dict.fromkeys(
        ("C1", "C2", "C3", "C4", "C5", "C6", "C7"), "reproduced")


def test_an_untrained_smallest_rate_is_not_compared():
    """η = 1e-4 stayed at the mean image's error: C2 and C4 compare 1e-2 with 1e-3, and the text says why."""
    card = _card(_results({1e-2: 0.02, 1e-3: 0.03, 1e-4: 0.074}, {1e-2: 250, 1e-3: 200, 1e-4: 240}))
    assert card["C2"].verdict == "not reproduced" and "compared 0.01 vs 0.001" in card["C2"].measured
    assert "not trained: η = 0.0001 on 2/2 seeds" in card["C2"].measured
    assert card["C5"].verdict == "reproduced"


def test_a_network_that_did_not_train_fails_the_trade_off_claims():
    card = _card(_results({1e-2: 0.07, 1e-3: 0.2, 1e-4: 0.25}, {1e-2: 150, 1e-3: 200, 1e-4: 240}))
    assert card["C5"].verdict == "not reproduced"
    for claim in ("C1", "C2", "C4", "C6", "C7"):
        assert card[claim].verdict == "not judged", claim


def test_fluctuations_that_do_not_grow_fail_c3_and_missing_ones_are_not_judged():
    mse, part = {1e-2: 0.02, 1e-3: 0.03, 1e-4: 0.04}, {1e-2: 150, 1e-3: 200, 1e-4: 240}
    assert _card(_results(mse, part, fluct=dict.fromkeys(mse, 0.0)))["C3"].verdict == "not reproduced"
    assert _card(_results(mse, part, fluct=dict.fromkeys(mse, np.nan)))["C3"].verdict == "not judged"


def test_one_learning_rate_is_not_judged_rather_than_a_traceback():
    card = _card(_results({1e-2: 0.02}, {1e-2: 150}), lrs=(1e-2,))
    assert all(c.verdict == "not judged" for i, c in card.items() if i != "C7")


def test_map_cells_summarise_pairs():
    results = _results({1e-2: 0.02, 1e-3: 0.03, 1e-4: 0.074}, {1e-2: 150, 1e-3: 200, 1e-4: 240})
    cfg = study.SPEC.resolve(scale="book", contrast_seeds=0)
    cells = tradeoff.cells(tradeoff.pairs(results, cfg)).set_index(["lr_hi", "lr_lo"])
    assert cells.loc[(1e-2, 1e-3), "status"] == "trade-off holds" and cells.loc[(1e-2, 1e-3), "holds"] == 2
    assert cells.loc[(1e-2, 1e-4), "status"] == "not judged"


def test_the_chapter_runs_and_judges_every_claim_on_a_tiny_grid():
    cfg, ds = _tiny()
    results = study.run(cfg, ds)
    assert set(results.finals["grid"]) == {"paper"}  # map_lrs (0.1,) is already in lrs
    card = study.scorecard(cfg, results)
    assert {c.id for c in card.claims} == {"C1", "C2", "C3", "C4", "C5", "C6", "C7", "C1'"}
    assert all(c.verdict in VERDICTS for c in card.claims)
    assert (results.neurons["fluct_bias"] > 0).all()


@pytest.mark.parametrize("name", [m.name for m in study.MUTANTS])
def test_each_mutant_applies_and_reverts(name):
    mutant = next(m for m in study.MUTANTS if m.name == name)
    before = [getattr(target, attr) for target, attr, _ in mutant.patches]
    cfg, ds = _tiny(contrast_seeds=0)
    with mutant.active():
        results = study.run(cfg, ds)
    assert [getattr(target, attr) for target, attr, _ in mutant.patches] == before
    finals, table = results.finals.set_index("lr"), results.neurons
    if name in ("no-training", "aliased-bias-snapshot"):
        assert (table["fluct_bias"] == 0).all()
    if name == "one-learning-rate":
        a, b = (table[table.lr == lr]["fluct_bias"].to_numpy() for lr in (0.1, 0.01))
        np.testing.assert_allclose(a, b)
    if name == "shuffled-targets":
        assert (finals["test_mse"] > 0).all()
