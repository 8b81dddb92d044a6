"""lrlab.studies.synthesis on small fake results: loading, the clear error for missing results, the cross-links."""

import json
import math
from pathlib import Path

import pytest

from lrlab.studies import synthesis

ROOT = Path(__file__).resolve().parents[1]


def _claim(cid: str, value, verdict: str = "reproduced", expected: bool = True) -> dict:
    return {"id": cid, "claim": f"claim {cid}", "paper": "", "criterion": "", "value": value, "measured": "",
            "verdict": verdict, "expected": expected, "source": "", "note": ""}


REGIMES = {"0.001": "convergence", "0.003": "convergence", "0.01": "equilibrium", "0.1": "equilibrium",
           "0.3": "divergence"}

FAKE = {
    "fluctuations": [
        _claim("C1", {"test_mse": {"0.01": 0.03, "0.001": 0.04, "0.0001": 0.06}}, "partial", False),
        _claim("C2", {"participating": {"0.01": 250.0, "0.001": 230.0, "0.0001": 200.0}}, "not reproduced", False),
        _claim("C3", {"fluct_bias": {"0.01": 0.04, "0.001": 0.02, "0.0001": 0.01}}),
    ],
    "sphere_regimes": [
        _claim("C1", {"holds": [True, True], "regime": {"0": REGIMES, "1": {**REGIMES, "0.003": "equilibrium"}},
                      "conv_max": {"0": 0.003, "1": 0.001}, "div_min": {"0": 0.3, "1": 0.3}}),
        _claim("C3", {"holds": [True, True], "loss": {"0": {"0.01": 0.1, "0.1": 2.0}, "1": {"0.01": 0.3, "0.1": 4.0}}}),
        _claim("C5", {"holds": [True, True], "by_wd": {"0.005": {"seed": [0, 1], "spikes": [3, 0],
                                                                 "elr": [0.005, 0.02]}}}, expected=False),
        _claim("C7", {"converge_low": 1.9, "converge_high": 2.1, "escape_low": 7.5, "escape_high": 8.1,
                      "converge": 2.0, "cycle": 4.0, "escape": 8.0}),
    ],
    "eos_ntk": [
        _claim("C1", {"in_band": {"0.2/s0": 0.7, "0.4/s1": 1.0}, "median_ratio": {"0.2/s0": 1.05, "0.4/s1": 0.97}},
               "not reproduced", False),
        _claim("C2", {"spearman": {"0": 0.9}, "kta_final_mean": {"0.1": 0.30, "0.2": 0.33, "0.4": 0.36}}),
        _claim("C3", {"spearman": {"0": 0.9}, "A_final_mean": {"0.1": 0.7, "0.2": 0.8, "0.4": 0.9}}),
        _claim("C6", {"seed": [0], "lr": [0.8], "s0": [3.0], "status": ["stopped"], "loss_peak_ratio": [1.0],
                      "min_sharp_ratio": [0.75], "step_of_min": [20]}, "partial", False),
    ],
    "boosting_paths": [
        _claim("C8", {"nu_star": [1.0, 0.5], "max_gap_below": 1e-14, "status_above": ["diverged", "ok"],
                      "by_factor": {"0.5": {"status": ["ok", "ok"], "final_gap": [1e-14, 0.0], "beta_range": [0, 0]},
                                    "2.5": {"status": ["diverged", "ok"], "final_gap": ["inf", 0.01],
                                            "beta_range": ["inf", 0.5]}},
                      "paper_grid": {"0.02": {"converged": [True, True], "ratio": [0.02, 0.04]},
                                     "0.07": {"converged": [True, False], "ratio": [0.07, 0.14]}}}),
    ],
    "periodic_bn_wd": [
        _claim("C1", {"events": {"0.2": [4, 5]}, "elr_before": {"0.2": [0.02, 0.03], "0.4": [0.04, "nan"]},
                      "elr_after": {"0.2": [0.002, 0.004], "0.4": [0.005, "nan"]}}),
        _claim("C4", {"fixed_spikes": [0, 0], "free_events": [3, 2], "fixed_elr": [0.0008, 0.0009]}),
        _claim("C6", {"0": {"events": 0, "elr_q3": 0.03, "elr_q4": 0.028, "ratio": 0.95, "loss_late": 0.2},
                      "1": {"events": 0, "elr_q3": 0.03, "elr_q4": 0.027, "ratio": 0.9, "loss_late": 0.2}}),
    ],
}

PARAMS = {
    "sphere_regimes": {"model": "mlp", "width": 64, "dataset": "fashion_mnist", "pool": 2, "n_train": 1024},
    "periodic_bn_wd": {"model": "mlp", "width": 64, "dataset": "fashion_mnist", "pool": 2, "n_train": 256,
                       "wd": 0.01, "lrs": [0.02, 0.2, 0.4, 2.0], "control_lr": 0.1},
    "boosting_paths": {"glm_nus": [0.02, 0.07]},
}


@pytest.fixture
def results(tmp_path) -> Path:
    for chapter, claims in FAKE.items():
        folder = tmp_path / chapter
        folder.mkdir()
        (folder / "claims.json").write_text(json.dumps(claims))
        params = {"scale": "book", **PARAMS.get(chapter, {})}
        (folder / "provenance.json").write_text(json.dumps({"chapter": chapter, "parameters": params}))
    return tmp_path


def test_load_reads_every_chapter_in_the_books_order(results):
    res = synthesis.load(results)
    assert list(res) == list(synthesis.CHAPTERS)
    assert res["eos_ntk"].claim("C1")["verdict"] == "not reproduced"
    assert res["periodic_bn_wd"].scale == "book" and res["periodic_bn_wd"].parameters["n_train"] == 256


def test_missing_results_name_the_chapter_and_how_to_produce_them(results):
    (results / "eos_ntk" / "claims.json").unlink()
    with pytest.raises(synthesis.MissingResultsError) as err:
        synthesis.load(results)
    msg = str(err.value)
    assert "'eos_ntk'" in msg and "claims.json" in msg and "make book" in msg and "lrlab run eos_ntk" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_results_that_predate_the_synthesis_say_so(results):
    rows = json.loads((results / "boosting_paths" / "claims.json").read_text())
    del rows[0]["value"]["by_factor"]
    (results / "boosting_paths" / "claims.json").write_text(json.dumps(rows))
    res = synthesis.load(results)
    with pytest.raises(synthesis.MissingResultsError, match=r"C8\.value\.by_factor.*predate.*lrlab run boosting_paths"):
        synthesis.boosting_runs(res)
    with pytest.raises(synthesis.MissingResultsError, match="no claim 'C9'"):
        res["boosting_paths"].claim("C9")


def test_a_file_that_is_not_a_scorecard_is_refused(results):
    (results / "fluctuations" / "claims.json").write_text(json.dumps({"not": "a list"}))
    with pytest.raises(synthesis.MissingResultsError, match="not a chapter scorecard"):
        synthesis.load_chapter("fluctuations", results)


def test_the_default_results_folder_is_the_books_build(monkeypatch):
    assert synthesis.results_folder() == ROOT / "_build" / "results"
    assert synthesis.results_folder("x") == Path("x")


def test_verdict_counts_per_chapter(results):
    counts = synthesis.verdict_counts(synthesis.load(results))
    assert list(counts.index) == [synthesis.LABELS[c] for c in synthesis.CHAPTERS]
    assert counts.loc[synthesis.LABELS["eos_ntk"]].to_dict() == {"reproduced": 2, "partial": 1, "not reproduced": 1}
    assert int(counts.to_numpy().sum()) == sum(len(v) for v in FAKE.values())


def test_sphere_bands_are_common_to_every_seed_and_regime_of_places_an_elr(results):
    bands = synthesis.sphere_bands(synthesis.load(results))
    # seed 1 already is in equilibrium at 0.003: the convergence band common to both seeds ends at 0.001
    assert bands == {"conv_max": 0.001, "equ_min": 0.01, "equ_max": 0.1, "div_min": 0.3}
    assert synthesis.regime_of(0.001, bands) == "convergence"
    assert synthesis.regime_of(0.005, bands) == "convergence–equilibrium boundary"
    assert synthesis.regime_of(0.05, bands) == "equilibrium"
    assert synthesis.regime_of(0.2, bands) == "equilibrium–divergence boundary"
    assert synthesis.regime_of(1.0, bands) == "divergence"
    assert synthesis.regime_of(math.nan, bands) == "unknown"


def test_elr_ruler_reads_both_chapters_and_drops_seeds_without_events(results):
    ruler = synthesis.elr_ruler(synthesis.load(results))
    sr = ruler[ruler.chapter == "sphere_regimes"]
    assert sr.kind.tolist() == ["spike", "settled"] and sr.elr.tolist() == [0.005, 0.02]
    before = ruler[(ruler.chapter == "periodic_bn_wd") & (ruler.kind == "before")]
    assert sorted(before.elr) == [0.02, 0.03, 0.04]  # the NaN of a seed without events is dropped
    assert set(before.regime) == {"equilibrium"}
    after = ruler[ruler.kind == "after"]
    assert set(after.regime) == {"convergence–equilibrium boundary"}
    settled = ruler[(ruler.chapter == "periodic_bn_wd") & (ruler.kind == "settled")]
    assert settled.elr.tolist() == [0.028, 0.027] and set(settled.lr) == {2.0}
    fixed = ruler[ruler.kind == "fixed"]
    assert fixed.elr.tolist() == [0.0008, 0.0009] and set(fixed.lr) == {0.1}


def test_boosting_outcomes_follow_the_chapters_criterion(results):
    runs = synthesis.boosting_runs(synthesis.load(results))
    assert runs[["factor", "seed", "outcome"]].values.tolist() == [
        [0.5, 0, "converges"], [0.5, 1, "converges"], [2.5, 0, "diverges"], [2.5, 1, "oscillates"]]
    assert runs.nu_star.tolist() == [1.0, 0.5, 1.0, 0.5]
    assert math.isinf(runs.final_gap[2])


def test_stability_puts_three_chapters_on_one_axis(results):
    st = synthesis.stability(synthesis.load(results))
    assert set(st.study) == {"eos_ntk", "sphere_regimes", "boosting_paths"}
    edge = st[(st.study == "eos_ntk") & (st.label == "edge")]
    assert sorted(edge.ratio) == [0.97, 1.05]
    cat = st[st.label == "catapult"].iloc[0]
    assert cat.high == pytest.approx(1.2) and cat.low == 0.75  # s0·η/2 = 3·0.8/2 → thrown to 0.75
    toy = st[(st.study == "sphere_regimes") & (st.label == "converge")].iloc[0]
    assert (toy.low, toy.high) == pytest.approx((0.95, 1.05))


def test_step_effects_are_ratios_to_the_smallest_step(results):
    fx = synthesis.step_effects(synthesis.load(results))
    spread = fx[fx.quantity == "bias fluctuation"]
    assert spread.step.tolist() == [0.0001, 0.001, 0.01]
    assert spread.value_ratio.tolist() == pytest.approx([1.0, 2.0, 4.0])
    eq = fx[fx.quantity == "equilibrium loss"]
    assert eq.value.tolist() == pytest.approx([0.2, 3.0]) and eq.step_ratio.tolist() == pytest.approx([1, 10])


def test_numbers_are_plain_python_values_for_glue(results):
    nums = synthesis.numbers(synthesis.load(results))
    assert all(type(v) in (int, float, str) for v in nums.values()), {k: type(v) for k, v in nums.items()}
    assert nums["n-claims"] == 15 and nums["n-not-reproduced"] == 2 and nums["all-book"] == "yes"
    assert nums["nu-below-converged"] == 2 and nums["nu-above-diverged"] == 1 and nums["nu-above-oscillating"] == 1
    assert nums["nu-paper-max-ratio"] == pytest.approx(0.07 / 0.5) and nums["nu-n-draws"] == 2
    assert (nums["nu-paper-n"], nums["nu-paper-converged"]) == (4, 3)
    assert nums["nu-paper-conv-max-ratio"] == pytest.approx(0.07) and nums["nu-paper-other-min-ratio"] == 0.14
    assert nums["pb-before-where"] == "all 3 in the equilibrium band"
    assert nums["pb-fixed-where"] == "all 2 in the convergence band"
    assert nums["pb-after-where"] == "all 3 at the convergence–equilibrium boundary"
    assert nums["same-setup"] == "the same" and nums["pb-n-train"] == 256
    assert nums["eos-ratio-span"] == "0.97–1.05" and nums["toy-converge-span"] == "0.95–1.05"
    assert nums["fx-fluctuations-bias-fluctuation"] == pytest.approx(4.0)
    assert (nums["fl-part-hi"], nums["fl-part-lo"]) == (250.0, 200.0)
    assert nums["v-fluctuations-C2"] == "not reproduced" and nums["v-eos-ntk-C1"] == "not reproduced"
    assert nums["wd-between"] == "all 4" and nums["wd-total"] == 4  # 1 sphere spike + 3 periodic events
    assert nums["nu-paper-span"] == "0.02–0.07"
    assert nums["n-asserted-failing"] == 0 and nums["sr-setup"] == "mlp of width 64 on fashion_mnist, pooled by 2"


def test_the_provenance_table_flags_asserted_claims_that_fail(results):
    rows = json.loads((results / "eos_ntk" / "claims.json").read_text())
    rows[1]["verdict"] = "partial"  # C2 is asserted (expected) in the fake
    (results / "eos_ntk" / "claims.json").write_text(json.dumps(rows))
    res = synthesis.load(results)
    table = synthesis.provenance_table(res)
    assert table.loc[synthesis.LABELS["eos_ntk"], "asserted, failing"] == 1
    assert table["asserted, failing"].sum() == 1 and set(table.scale) == {"book"}
    assert synthesis.numbers(res)["n-asserted-failing"] == 1


def test_the_figure_has_four_panels(results):
    import matplotlib.pyplot as plt

    fig = synthesis.figure(synthesis.load(results))
    try:
        titles = [ax.get_title(loc="left") for ax in fig.axes]
        assert [t[:3] for t in titles] == ["(a)", "(b)", "(c)", "(d)"]
    finally:
        plt.close(fig)


def test_the_synthesis_page_is_committed_without_outputs_or_helpers():
    nb = json.loads((ROOT / "book" / "synthesis.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert all("def " not in "".join(c["source"]) for c in code), \
        "no functions in the notebook: use lrlab.studies.synthesis"
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "{glue:figure}" in text and "synthesis.load(" in "\n".join("".join(c["source"]) for c in code)
