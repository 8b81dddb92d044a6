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
