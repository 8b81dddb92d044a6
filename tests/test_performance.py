"""lrlab.performance reads what `make bench` wrote; the committed results are complete and well-formed."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lrlab import performance
from lrlab.runtime import repo_root

ROOT = repo_root()
ROW_KEYS = {"comparison", "ours", "ours_value", "other", "other_value", "unit", "ratio", "target", "met", "note"}


def fake(tmp_path, name: str, rows: list[dict]) -> None:
    folder = tmp_path / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"name": name, "measured_on": "2026-11-23",
                                                      "machine": {"cpu": "test", "cores": 2}, "rows": rows,
                                                      "details": {"a": {"b": 3}}}))


def row(comparison: str, ratio: float, met: bool | None, target: str = "≥ 2×") -> dict:
    return {"comparison": comparison, "ratio": ratio, "target": target, "met": met, "note": ""}


def test_tables_from_fake_results(tmp_path):
    fake(tmp_path, "training", [row("training: batched vs sequential", 3.5, True), row("floor", 4.0, False)])
    fake(tmp_path, "ntk", [row("NTK n = 500: structured vs loop", 40.0, None, target="")])
    results = performance.load_all(tmp_path)
    assert list(results) == ["training", "ntk"]  # the page's order, only what exists
    table = performance.ratio_table(results)
    assert table["verdict"].tolist() == ["met", "not met", "—"]
    assert table["target"].tolist() == ["≥ 2×", "≥ 2×", "—"]
    assert performance.targets_met(results) == (1, 2)
    assert performance.ratio(results, "training", "training: batched") == 3.5
    assert math.isnan(performance.ratio(results, "training", "no such comparison"))
    assert math.isnan(performance.ratio(results, "boosting", "anything"))
    assert performance.against_target(results, "boosting", "anything") == "not measured"
    assert performance.against_target(results, "training", "training: batched") == "meeting its target (≥ 2×)"
    assert performance.against_target(results, "training", "floor") == "short of its target (≥ 2×)"
    assert performance.against_target(results, "ntk", "NTK") == "with no target"
    assert performance.detail(results, "training", "a", "b") == 3
    assert performance.detail(results, "training", "a", "missing") is None
    assert performance.machines(results)["cpu"].tolist() == ["test", "test"]


@pytest.mark.parametrize(("ratio", "words"), [(1.44, "1.4× faster"), (1.0, "1.0× faster"), (0.91, "1.1× slower"),
                                              (math.nan, "not measured"), (0.0, "not measured")])
def test_speed_words_read_right_either_way(ratio, words):
    assert performance.speed_words(ratio) == words


def test_median_ratio_pairs_counts_and_counts_a_miss_as_worst():
    assert performance.median_ratio([10, 12, 14], [20, 60, 70]) == 60 / 12
    # a start power iteration never finished ranks above every count: here it moves the median from 20 to 60
    assert performance.median_ratio([10, 12, 14], [20, None, 60]) == 60 / 12
    assert performance.median_ratio([10, None, None], [20, 30, 40]) == 0.0
    assert performance.as_counts([3, None]).tolist() == [3.0, math.inf]


def test_missing_or_broken_files_are_not_measured(tmp_path):
    assert performance.load_all(tmp_path) == {}
    assert performance.load("training", tmp_path) is None
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "training.json").write_text("{not json")
    assert performance.load("training", tmp_path) is None
    assert performance.profile_table(tmp_path).empty
    assert performance.ratio_table({}).empty


def test_chapter_times_figure():
    times = pd.DataFrame({"chapter": ["a", "b"], "quick_s": [10.0, math.nan], "book_s": [90.0, 130.0]})
    fig = performance.plot_chapter_times(times.set_index("chapter"))
    assert len(fig.axes[0].patches) == 4
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.parametrize("name", [n for n in performance.BENCHMARKS if n != "make_test"])
def test_committed_results_are_complete(name):
    """`make bench` was run and its results committed: the performance page has every table to show. (make_test
    is exempt: it times `make test` of a fresh clone, which runs this test before that result can exist.)"""
    data = performance.load(name, ROOT)
    assert data is not None, f"benchmarks/results/{name}.json is missing: run `make bench` and commit the results"
    assert data["rows"], f"{name}: no comparisons"
    for r in data["rows"]:
        assert set(r) >= ROW_KEYS, f"{name}: row {r.get('comparison')!r} lacks {ROW_KEYS - set(r)}"
        assert math.isfinite(r["ratio"]) and r["ratio"] > 0
        assert r["met"] in (True, False, None)
    assert {"cpu", "cores", "torch"} <= set(data["machine"])


def test_repeated_runs_keep_each_comparisons_median_run(monkeypatch):
    """benchmarks/repeat.py: per comparison, the whole row of the run with the median ratio, all ratios noted."""
    import importlib

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    repeat = importlib.import_module("repeat")
    runs = [{"title": "t", "rows": [row("floor", r, r <= 3, "≤ 3×"), row("speed", s, s >= 2)], "details": {"k": i}}
            for i, (r, s) in enumerate([(3.2, 1.0), (2.9, 5.0), (3.1, 3.0)])]
    merged = repeat.merge(runs)
    floor, speed = merged["rows"]
    assert (floor["ratio"], floor["met"]) == (3.1, False) and (speed["ratio"], speed["met"]) == (3.0, True)
    assert "median of 3 runs (3.2, 2.9, 3.1)" in floor["note"]
    assert merged["details"] == {"k": 2, "runs": {"floor": [3.2, 2.9, 3.1], "speed": [1.0, 5.0, 3.0]}}
    assert repeat.result_name("bench_ntk.py") == "ntk"
    with pytest.raises(SystemExit, match="bench_"):
        repeat.result_name("profile_chapters")


def _paper_gpu_rows() -> list[dict]:
    return [
        {"chapter": "sphere_regimes", "run": "regime map", "setup": "ConvNetSI-32", "configs": 8,
         "steps_per_epoch": 391, "epoch_s": 7.5, "bound": False, "model_steps_per_s": 417.0, "estimate_s": 7500.0,
         "estimate": "paper epochs × epoch time", "peak_memory_gib": 20.8},
        {"chapter": "eos_ntk", "run": "GD grid", "setup": "tanh MLP", "configs": 15, "step_s": 0.0016,
         "sharpness_s": 0.084, "estimate_s": 6500.0, "estimate": "upper bound"},
        {"chapter": "ConvNetSI step", "run": "K = 8", "setup": "batch 128", "configs": 8, "loop_ms": 14.6,
         "grouped_ms": 10.7, "grouped_speedup": 1.36, "max_rel_diff": 4.5e-4},
        {"chapter": "fluctuations", "run": "SGD grid", "configs": 15, "steps_per_epoch": 13, "epoch_s": -0.01,
         "bound": False},  # an epoch time that noise made negative gets no estimate and no row
    ]


def test_paper_gpu_tables_read_what_the_gpu_run_wrote():
    data = {"rows": _paper_gpu_rows()}
    table = performance.paper_gpu_table(data)
    assert table["chapter"].tolist() == ["sphere_regimes", "eos_ntk"]
    sphere, eos = table.to_dict("records")
    assert sphere["time per epoch"] == "7.5 s" and sphere["whole run (estimate)"].startswith("2 h 05 min")
    assert eos["time per epoch"].startswith("1.60 ms per step; 84 ms per sharpness")
    assert eos["model-steps / s"] == pytest.approx(625.0)
    assert performance.paper_gpu_table({"rows": [{**_paper_gpu_rows()[0], "epoch_s": 0.027}]})[
        "time per epoch"].tolist() == ["27 ms"]
    steps = performance.convnet_step_table(data)
    assert steps["grouped speed-up"].tolist() == [1.36]
    assert performance.paper_gpu_row(data, "eos_ntk")["step_s"] == 0.0016
    assert performance.paper_gpu_row(data, "fluctuations", "ADAM grid") is None


def test_paper_gpu_tables_are_empty_where_no_gpu_was_lent():
    assert performance.paper_gpu_table(None).empty and performance.convnet_step_table(None).empty
    assert performance.paper_gpu_row(None, "sphere_regimes") is None


def test_the_gpu_run_reads_its_cifar_stand_in_through_the_real_loader(tmp_path, monkeypatch):
    """bench_paper_gpu.py writes random images in CIFAR-10's official format; lrlab.data.cifar10 loads them."""
    import importlib

    from lrlab import data

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("bench_paper_gpu")
    folder = bench.standin_cifar10(tmp_path / "cifar", n_train=23, n_test=7)
    x, y = data.cifar10("train", folder)
    xt, yt = data.cifar10("test", folder)
    assert x.shape == (23, 3, 32, 32) and xt.shape == (7, 3, 32, 32)
    assert set(y.tolist()) <= set(range(10)) and len(yt) == 7


def test_committed_paper_gpu_results_are_complete():
    """Where a GPU run was committed, every torch chapter has a row with an estimate and nothing failed."""
    data = performance.load(performance.PAPER_GPU, ROOT)
    if data is None:
        pytest.skip("no GPU run committed (benchmarks/bench_paper_gpu.py needs a GPU)")
    assert not data["errors"] and not data["smoke"]
    table = performance.paper_gpu_table(data)
    assert {"fluctuations", "sphere_regimes", "periodic_bn_wd", "eos_ntk"} <= set(table["chapter"])
    assert all(r["estimate_s"] > 0 for r in data["rows"] if "estimate_s" in r)


def test_the_device_check_runs_each_chapter_at_scale_quick(monkeypatch):
    """benchmarks/check_chapters_on_device.py sets each torch chapter's parameters cell to scale quick (a changed
    default would otherwise make the GPU check run scale book unnoticed)."""
    import importlib

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    check = importlib.import_module("check_chapters_on_device")
    for chapter in check.CHAPTERS:
        cells = check.code_cells(chapter)
        assert any('scale = "quick"' in c for c in cells), chapter
        assert not any('scale = "book"' in c for c in cells), chapter


@pytest.mark.parametrize(("key", "name"), [
    ("~:0(<method 'run_backward' of 'torch._C._EngineBase' objects>)", "torch._C._EngineBase.run_backward"),
    ("~:0(<built-in method torch.bmm>)", "torch.bmm"),
    ("~:0(<method 'cumsum' of 'numpy.ndarray' objects>)", "numpy.ndarray.cumsum"),
    ("boosting.py:305(risk)", "boosting.py:305(risk)"),
])
def test_profile_names_read_without_angle_brackets(key, name):
    assert performance.readable_function(key) == name


def test_profile_table_names_builtins(tmp_path):
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    top = [{"function": "~:0(<built-in method torch.bmm>)", "own_s": 2.0, "share": 0.5},
           {"function": "train.py:1(train)", "own_s": 1.0, "share": 0.25}]
    (results / "profiles.json").write_text(json.dumps({"chapters": {"sphere_regimes": {"top": top}}}))
    table = performance.profile_table(tmp_path)
    assert table["function"].tolist() == ["torch.bmm", "train.py:1(train)"]
    assert table["rank"].tolist() == [1, 2]
