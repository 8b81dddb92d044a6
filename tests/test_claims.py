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


def _table():
    from lrlab.claims import ClaimSpec, ClaimTable

    return ClaimTable("toy", (
        ClaimSpec("C1", "The largest η is best ({opt}).", paper="fig 1", criterion="every seed, τ = {tau:g}",
                  source="abstract", cite="key2025"),
        ClaimSpec("C2", "Fewer units take part.", paper="fig 2", criterion="every seed", expected={"book": "partial"}),
        ClaimSpec("C3", "Shown, not asserted.", paper="-", criterion="-", expected={}),
    ), generic={"opt": "main optimiser"})


def test_claim_table_renders_the_list_once_with_citations_and_generic_fields():
    md = _table().markdown()
    assert md.splitlines()[0] == ("- **C1** The largest η is best (main optimiser). {cite:p}`key2025` "
                                  "*Asserted at scale `book` and `paper`.*")
    assert "not asserted" in md.splitlines()[2] and "{cite:p}" not in md.splitlines()[1]
    assert md.splitlines()[1].endswith("*Expected partial at scale `book`.*")


def test_record_takes_texts_and_expectations_from_the_table():
    card = _table().scorecard({"scale": "book", "tau": 0.01})
    c1 = card.record("C1", value=1.0, measured="m", verdict="reproduced", opt="SGD")
    assert (c1.claim, c1.criterion, c1.source, c1.expected) == (
        "The largest η is best (SGD).", "every seed, τ = 0.01", "abstract", True)
    card.record("C2", value=0, measured="m", verdict="partial")
    card.record("C3", value=0, measured="m", verdict="not reproduced")
    card.check()  # C2 is expected partial and is; C3 is not asserted
    with pytest.raises(KeyError, match="C9"):
        card.record("C9", value=0, measured="", verdict="partial")


def test_check_compares_every_verdict_with_its_expected_one():
    card = _table().scorecard({"scale": "book", "tau": 0.01})
    card.record("C1", value=1.0, measured="m", verdict="reproduced", opt="SGD")
    card.record("C2", value=0, measured="m", verdict="reproduced")  # better than expected is still a change
    with pytest.raises(AssertionError, match="C2 reproduced, expected partial"):
        card.check()
    quick = _table().scorecard({"scale": "quick", "tau": 0.01})
    quick.record("C1", value=1.0, measured="m", verdict="not reproduced", opt="SGD")
    quick.check()  # nothing is expected at quick


def test_a_missing_format_field_names_the_claim():
    card = _table().scorecard({"scale": "book", "tau": 0.01})
    with pytest.raises(KeyError, match="C1.*opt"):
        card.record("C1", value=1.0, measured="m", verdict="reproduced")


def test_bad_expected_verdict_and_duplicate_ids_in_a_table():
    from lrlab.claims import ClaimSpec, ClaimTable

    with pytest.raises(ValueError, match="expected verdicts"):
        ClaimSpec("C1", "a", paper="", criterion="", expected={"book": "yes"})
    with pytest.raises(ValueError, match="twice"):
        ClaimTable("toy", (ClaimSpec("C1", "a", "", ""), ClaimSpec("C1", "b", "", "")))


def test_not_judged_fails_the_check_only_at_the_scales_own_parameters():
    from lrlab.claims import ClaimSpec, ClaimTable

    table = ClaimTable("toy", (ClaimSpec("C1", "A claim.", paper="-", criterion="-"),))
    card = table.scorecard({"scale": "book"})
    card.record("C1", value=None, measured="no run reached the edge", verdict="not judged")
    card.check()  # a reader's parameters: the claim says why it cannot be judged
    with pytest.raises(AssertionError, match="C1 not judged, expected reproduced"):
        card.check(require_judged=True)


def test_a_preset_run_is_recognised_whatever_its_seed():
    from lrlab.chapter import is_preset_run
    from lrlab.studies import load

    book = load("boosting_paths").SPEC.resolve(scale="book", seed=3000).as_dict()
    assert is_preset_run("boosting_paths", book)
    assert not is_preset_run("boosting_paths", {**book, "glm_m": 500})
