"""lrlab.timings: the run-time badge and table, from a fake chapter_times.json (never the real one)."""

import json
import math

import pandas as pd
import pytest

from lrlab import timings

FAKE = {
    "machine": {"cpu": "AMD EPYC 7B13", "cores": 2, "torch": "2.13.0", "python": "3.11.9", "threads_per_process": 1},
    "measured_on": "2026-11-23",
    "chapters": {
        "eos_ntk": {"quick": {"wall_s": 14.2, "cpu_s": 13.0}, "book": {"wall_s": 95.1, "cpu_s": 90.0},
                    "paper": {"wall_s": 812.0, "device": "NVIDIA H100"}},
        "fluctuations": {"quick": {"wall_s": 29.4, "cpu_s": 16.4}, "book": {"wall_s": 181.0, "cpu_s": 170.0}},
        "extra_chapter": {"quick": {"wall_s": 0.4}},
    },
}


@pytest.fixture
def times(tmp_path, monkeypatch):
    path = tmp_path / "chapter_times.json"
    path.write_text(json.dumps(FAKE))
    monkeypatch.setenv(timings.TIMES_ENV, str(path))
    return path


@pytest.mark.parametrize("seconds, text", [(0.42, "0.4 s"), (14.2, "14 s"), (59.6, "1 min"), (95.1, "1 min 35 s"),
                                            (812.0, "13 min 32 s"), (7500.0, "2 h 05 min"), (None, "—"),
                                            (float("nan"), "—"), (-1.0, "—")])
def test_format_duration(seconds, text):
    assert timings.format_duration(seconds) == text


def test_badge_shows_both_scales_the_machine_and_the_paper_device(times):
    b = timings.badge("eos_ntk")
    assert b.measured and b.quick_s == 14.2 and b.book_s == 95.1 and b.paper_s == 812.0
    text = b.text()
    assert text.startswith("⏱ quick 14 s · book 1 min 35 s — measured on a 2-core CPU (AMD EPYC 7B13, torch 2.13.0, "
                           "1 thread), 2026-11-23")
    assert "paper: 13 min 32 s on NVIDIA H100" in text
    html = b._repr_html_()
    assert 'class="lrlab-badge"' in html and 'data-chapter="eos_ntk"' in html and "1 min 35 s" in html
    assert str(b) == repr(b) == text


def test_badge_without_a_paper_entry_says_it_is_for_a_gpu(times):
    text = timings.badge("fluctuations").text()
    assert "quick 29 s · book 3 min 1 s" in text and "paper: for a GPU, not measured here" in text


@pytest.mark.parametrize("content", [None, "{not json", "[1, 2]", json.dumps({"chapters": {"eos_ntk": "x"}}),
                                     json.dumps({"chapters": {"eos_ntk": {"quick": {"wall_s": "fast"}}}})])
def test_missing_or_malformed_file_gives_the_unmeasured_badge(tmp_path, content):
    path = tmp_path / "chapter_times.json"
    if content is not None:
        path.write_text(content)
    b = timings.badge("eos_ntk", path)
    assert not b.measured
    assert "not measured yet" in b.text() and "make bench" in b.text()
    html = b._repr_html_()
    assert "lrlab-badge-unmeasured" in html and "<code>make bench</code>" in html


def test_a_chapter_missing_from_the_file_is_unmeasured(times):
    b = timings.badge("sphere_regimes")
    assert not b.measured and "not measured yet" in b.text()


def test_default_path_is_the_benchmarks_results_file(monkeypatch):
    monkeypatch.delenv(timings.TIMES_ENV, raising=False)
    assert timings.default_path().as_posix().endswith("benchmarks/results/chapter_times.json")


def test_table_has_every_chapter_and_nan_where_unmeasured(times):
    t = timings.table()
    assert list(t.index[:5]) == ["fluctuations", "sphere_regimes", "eos_ntk", "boosting_paths", "periodic_bn_wd"]
    assert "extra_chapter" in t.index
    assert t.loc["eos_ntk", "quick_s"] == 14.2 and t.loc["eos_ntk", "book_cpu_s"] == 90.0
    assert t.loc["eos_ntk", "paper_device"] == "NVIDIA H100" and t.loc["eos_ntk", "paper"] == "13 min 32 s"
    assert math.isnan(t.loc["sphere_regimes", "book_s"]) and t.loc["sphere_regimes", "book"] == "not measured"
    assert math.isnan(t.loc["fluctuations", "paper_s"]) and pd.isna(t.loc["fluctuations", "paper_device"])


def test_table_without_a_file(tmp_path):
    t = timings.table(tmp_path / "absent.json", chapters=["eos_ntk"])
    assert list(t.index) == ["eos_ntk"] and t.loc["eos_ntk", "quick"] == "not measured"


def test_describe_machine(times, tmp_path):
    assert timings.describe_machine() == "a 2-core CPU (AMD EPYC 7B13, torch 2.13.0, 1 thread), 2026-11-23"
    assert "make bench" in timings.describe_machine(tmp_path / "absent.json")
