"""The audit's instruments: mutants, the verdict ledger, held-out judging, parameter draws and the trust page."""

import math
import types

import pytest

from lrlab import ledger, studies
from lrlab.audit import page, params, registry, runner
from lrlab.audit.mutants import Mutant
from lrlab.claims import ClaimSpec, ClaimTable
from lrlab.sweep import keys


def test_wilson_interval_is_honest_at_five_runs():
    lo, hi = runner.wilson(5, 5)
    assert hi == pytest.approx(1.0) and 0.6 < lo < 0.7  # 5/5 still allows a failure rate of about a third
    lo, hi = runner.wilson(0, 5)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0.3 < hi < 0.4
    assert runner.wilson(0, 0) == (0.0, 1.0)


def test_mutant_patches_for_its_lifetime_and_restores():
    box = types.SimpleNamespace(f=lambda x: x + 1)
    m = Mutant("plus-two", "adds two instead of one", ("C1",), ((box, "f", lambda x: x + 2),))
    with m.active():
        assert box.f(1) == 3
    assert box.f(1) == 2
    wrapped = Mutant("twice", "applies f twice", ("C1",), ((box, "f", lambda f: lambda x: f(f(x))),), wraps=True)
    undo = wrapped.apply()
    assert box.f(1) == 3
    undo()
    assert box.f(1) == 2


def test_unknown_mutant_is_refused_naming_the_known_ones(monkeypatch):
    with pytest.raises(ValueError, match="mutant 'nope' is not known for chapter 'boosting_paths'"):
        registry.get("boosting_paths", "nope")
    monkeypatch.setenv("LRLAB_MUTANT", "")
    assert registry.from_environment("boosting_paths") is None


def test_a_mutant_is_part_of_the_cache_key_and_a_normal_run_key_is_unchanged():
    inputs = {"notebook": "a", "source": "b", "requirements": "c"}
    plain = keys.point_key("x", inputs, {"seed": 0}, "cpu")
    assert plain == keys.point_key("x", inputs, {"seed": 0}, "cpu", None)
    assert plain != keys.point_key("x", inputs, {"seed": 0}, "cpu", "penalty-ignored")


def _table():
    return ClaimTable("toy", (
        ClaimSpec("C1", "a", "p", "x > 0", kind="abstract"),
        ClaimSpec("C2", "b", "p", "y > 0", kind="derived in this chapter", expected={"book": "partial"}),
        ClaimSpec("C3", "c", "p", "z > 0", kind="paper", expected={}),
    ))


def _run(kind, label, verdicts, mutant=None):
    claims = None if verdicts is None else [{"id": k, "verdict": v} for k, v in verdicts.items()]
    return {"kind": kind, "label": label, "mutant": mutant, "claims": claims}


def test_judge_applies_rules_a_and_b(monkeypatch):
    monkeypatch.setattr(registry.studies, "load", lambda chapter: types.SimpleNamespace(CLAIMS=_table()))
    ok = {"C1": "reproduced", "C2": "partial", "C3": "reproduced"}
    runs = [_run("reference", "seed0", ok)]
    runs += [_run("held-out", f"seed{s}", ok) for s in (1000, 2000, 3000, 4000)]
    runs += [_run("held-out", "seed5000", {**ok, "C1": "partial"})]
    runs += [_run("mutant", "m1", {**ok, "C1": "not reproduced"}, "m1"), _run("mutant", "m2", None, "m2")]
    muts = {"m1": {"targets": ["C1"]}, "m2": {"targets": ["C2"]}}
    out = {c["id"]: c for c in runner.judge("toy", "book", runs, muts)}
    assert out["C1"]["held_out"]["holds"] == 4 and not out["C1"]["rule_a"] and out["C1"]["rule_b"]
    assert out["C1"]["caught_by"] == ["m1"] and out["C1"]["crashed"] == ["m2"]
    assert out["C1"]["status"] == "fails held-out seeds"
    assert out["C2"]["held_out"]["holds"] == 5  # judged against its expected verdict, partial
    assert not out["C2"]["asserted"] and out["C3"]["status"] == "not asserted at this scale"
    assert out["C2"]["targeted_by"] == ["m2"]
    record = {"chapter": "toy", "claims": list(out.values()), "mutants": muts}
    grid = page.grid(record)
    assert grid.loc["C1", "m1"] == "caught*" and grid.loc["C1", "m2"] == "crashed"
    assert list(page.held_out(record)["(a) held-out"]) == ["no", "yes", "yes"]


def test_ledger_catches_a_claim_changed_without_an_entry():
    table = _table()
    entries = tuple(ledger.Entry("2026-12-07", c.id, "declared", "set from the paper", "none: set from the paper",
                                 ledger.fingerprint(c)) for c in table)
    assert ledger.problems(table, entries) == []
    loosened = ClaimTable("toy", (ClaimSpec("C1", "a", "p", "x > -1", kind="abstract"), *table.claims[1:]))
    assert any("C1: criterion" in p for p in ledger.problems(loosened, entries))
    assert ledger.problems(table, entries[:2]) == ["C3: no ledger entry"]
    with pytest.raises(ValueError, match="date"):
        ledger.Entry("7 Dec", "C1", "x", "y", "z", "f")
    assert "<details" in ledger.html_fold(entries) and "set from the paper" in ledger.html_fold(entries)


@pytest.mark.parametrize("chapter", studies.available())
def test_parameter_draws_are_reproducible_and_valid(chapter):
    drawn = params.draw(chapter, 20, seed=3)
    assert len(drawn) == 20 and drawn == params.draw(chapter, 20, seed=3)
    spec = studies.load(chapter).SPEC
    for p in drawn:
        cfg = spec.resolve(scale="quick", **p)
        assert any(cfg[k] != spec.preset("quick")[k] for k in p), p


def test_code_hash_follows_the_chapter_sources():
    assert len(runner.code_hash("boosting_paths")) == 16
    assert runner.code_hash("boosting_paths") != runner.code_hash("fluctuations")
    assert math.isfinite(len(registry.HELD_OUT_SEEDS)) and len(registry.HELD_OUT_SEEDS) >= runner.MIN_HELD_OUT


def test_an_applied_mutant_stays_applied_when_its_undo_is_dropped():
    import gc

    box = types.SimpleNamespace(f=lambda x: x + 1)
    Mutant("plus-two", "adds two", ("C1",), ((box, "f", lambda x: x + 2),)).apply()  # undo thrown away
    gc.collect()
    assert box.f(1) == 3, "the fault must last for the kernel's life (lrlab.chapter.start drops the undo)"


def test_a_mutant_that_leaves_an_asserted_claim_not_judged_is_caught(monkeypatch):
    monkeypatch.setattr(registry.studies, "load", lambda chapter: types.SimpleNamespace(CLAIMS=_table()))
    ok = {"C1": "reproduced", "C2": "partial", "C3": "reproduced"}
    runs = [_run("held-out", f"seed{s}", ok) for s in (1000, 2000, 3000, 4000, 5000)]
    runs += [_run("mutant", "m1", {**ok, "C1": "not judged", "C2": "not judged"}, "m1")]
    out = {c["id"]: c for c in runner.judge("toy", "book", runs, {"m1": {"targets": ["C1", "C2"]}})}
    assert out["C1"]["caught_by"] == ["m1"] and out["C1"]["status"] == "passes both rules"
    assert out["C2"]["caught_by"] == ["m1"]  # expected partial: not judged fails its check too


def test_draws_skip_data_this_machine_does_not_have(monkeypatch, tmp_path):
    from lrlab.audit import params

    monkeypatch.setenv("LRLAB_CIFAR10", str(tmp_path))  # an empty folder: no CIFAR-10 here
    assert not params.data_at_hand("cifar10") and params.data_at_hand(None) and params.data_at_hand("digits")
    assert all(p.get("dataset") != "cifar10" for p in params.draw("periodic_bn_wd", 20))
