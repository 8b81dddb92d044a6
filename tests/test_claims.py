import json

import numpy as np
import pytest

from lrlab.claims import Scorecard, load, verdict_from_parts, verdict_from_seeds


def test_verdicts():
    assert verdict_from_seeds([True, True, True]) == "reproduced"
    assert verdict_from_seeds([True, False, True]) == "partial"
    assert verdict_from_seeds([False, False]) == "not reproduced"
    assert verdict_from_parts([np.bool_(True), np.bool_(False)]) == "partial"
    with pytest.raises(ValueError):
        verdict_from_seeds([])


def _card(scale):
    card = Scorecard("toy", scale)
    card.add("C1", "a holds", paper="fig 1", criterion="x > 0", value={"x": np.float64(1.5)}, measured="x = 1.5",
             verdict="reproduced")
    card.add("C2", "b holds", paper="fig 2", criterion="y > 0", value=np.array([-1.0, np.inf]), measured="y < 0",
             verdict="not reproduced")
    card.add("C3", "c, informative", paper="-", criterion="-", value=None, measured="-", verdict="partial",
             expected_at=())
    return card


def test_json_schema_and_roundtrip(tmp_path):
    card = _card("book")
    path = card.save(tmp_path)
    rows = json.loads(path.read_text())
    assert [r["id"] for r in rows] == ["C1", "C2", "C3"]
    for r in rows:
        assert {"id", "claim", "value", "criterion", "verdict", "expected"} <= set(r)
    assert rows[0]["value"] == {"x": 1.5} and rows[1]["value"] == [-1.0, "inf"]
    assert [r["expected"] for r in rows] == [True, True, False]
    assert [c.verdict for c in load(path)] == ["reproduced", "not reproduced", "partial"]


def test_check_asserts_only_expected_claims():
    with pytest.raises(AssertionError, match="C2 not reproduced"):
        _card("book").check()
    _card("quick").check()  # nothing is expected at quick


def test_bad_verdict_and_duplicate_id():
    card = Scorecard("toy", "book")
    with pytest.raises(ValueError, match="verdict must be one of"):
        card.add("C1", "a", paper="", criterion="", value=1, measured="", verdict="yes")
    card.add("C1", "a", paper="", criterion="", value=1, measured="", verdict="partial")
    with pytest.raises(ValueError, match="already"):
        card.add("C1", "a", paper="", criterion="", value=1, measured="", verdict="partial")


def test_html_shows_every_claim_and_verdict():
    html = _card("book")._repr_html_()
    assert html.count("lrlab-verdict") == 3 and "not reproduced" in html and "C3. c, informative" in html
