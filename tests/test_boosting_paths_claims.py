"""The boosting chapter's predictions and claims: the closed forms of ``studies/boosting_paths/exact.py`` against
the boosting loop, the crossing theorem, the small-step bound, and the chapter's mutants flipping the claims they
are aimed at (scale ``quick``, one seed)."""

from __future__ import annotations

import numpy as np
import pytest

from lrlab import boosting as bst
from lrlab.audit import registry
from lrlab.studies import boosting_paths as study
from lrlab.studies.boosting_paths import claims, designs, exact, limits


def _cross(seed: int = 0, lam: float = 100.0):
    X, y = designs.crossing_data(100, 0.7, (3.0, -2.0), seed)
    return X, y, exact.ridge_spectrum(X, y, lam)


def test_exact_ridge_path_is_the_boosting_loop() -> None:
    X, y, sp = _cross()
    ms = np.arange(0, 400)
    loop = bst.boost([bst.Learner("X", X, lam=100.0)], y, 0.1, 399, offset=0.0).coef
    np.testing.assert_allclose(exact.ridge_coef_path(sp, 0.1, ms), loop, atol=1e-12)
    np.testing.assert_allclose(exact.ridge_solution(sp, 100.0), bst.ridge_path(X, y, [100.0])[0], atol=1e-12)


def test_iterations_to_eps_is_the_first_iteration_below_it() -> None:
    _, _, sp = _cross(lam=1000.0)
    m = exact.iterations_to(sp, 0.1, 1e-6)
    err = np.linalg.norm(exact.ridge_coef_path(sp, 0.1, [m - 1, m]) - sp.ols, axis=1) / np.linalg.norm(sp.ols)
    assert err[0] > 1e-6 >= err[1]


@pytest.mark.parametrize("lam", [10.0, 30.0, 300.0, 3000.0])
def test_the_path_crosses_the_ridge_path_once_where_the_theorem_says(lam: float) -> None:
    _, _, sp = _cross(lam=lam)
    v_star, r = exact.crossing_point(sp, 0.1)
    k = sp.d[0] / sp.d[-1]
    assert k < r < 1 and 0 < v_star < 1
    assert v_star ** (1 - r) == pytest.approx(k + (1 - k) * v_star, rel=1e-10)
    # dense exact path: the side changes once, at the predicted iteration
    m_star = exact.crossing_iteration(sp, 0.1, v_star)
    side = exact.side_of_ridge_path(sp, exact.ridge_coef_path(sp, 0.1, np.arange(int(m_star) + 50)))
    told = np.flatnonzero(side != 0)
    flips = told[1:][side[told[1:]] != side[told[:-1]]]
    assert flips.size == 1 and abs(flips[0] - m_star) <= 1


def test_no_crossing_without_a_penalty() -> None:
    _, _, sp = _cross(lam=0.0)
    v_star, r = exact.crossing_point(sp, 0.1)
    assert r == pytest.approx(1.0) and np.isnan(v_star)
    side = exact.side_of_ridge_path(sp, exact.ridge_coef_path(sp, 0.1, np.arange(300)))
    assert len(set(side[side != 0])) == 1


def test_paths_stay_within_the_small_step_bound_of_the_flow() -> None:
    _, _, sp = _cross()
    ts = np.arange(0.0, 40.0, 0.2)
    flow = exact.ridge_coef_flow(sp, ts)
    for nu in (0.2, 0.05):
        path = exact.ridge_coef_path(sp, nu, np.rint(ts / nu))
        dev = np.linalg.norm(path - flow, axis=1).max()
        assert dev <= limits.flow_bound(sp, nu) * (1 + 1e-9)
    assert limits.flow_bound(sp, 0.05) == pytest.approx(limits.flow_bound(sp, 0.1) / 2, rel=0.05)


def test_smoother_path_is_the_library_closed_form() -> None:
    x = np.linspace(0, 1.5, 60)
    y = np.sin(4 * x) + 0.1 * np.cos(9 * x)
    learner = bst.pspline(x, knots=5, lam=10.0)
    Z = bst.bspline_basis(x, 5, 3)
    sm = exact.smoother(Z, bst.difference_penalty(Z.shape[1], 2), 10.0)
    ms = [0, 3, 40, 900]
    np.testing.assert_allclose(exact.smoother_path(sm, y, 0.1, ms, y.mean()),
                               bst.closed_form_path(learner, y, 0.1, ms, offset=y.mean()).fit, atol=1e-10)


def test_wilson_interval_brackets_the_share() -> None:
    lo, hi = limits.wilson(0.5, 100)
    assert lo < 0.5 < hi and hi - lo == pytest.approx(0.19, abs=0.01)


# ---------------------------------------------------------------------------------------------- mutants


def _verdicts(names: tuple[str, ...], mutant: str | None) -> dict[str, str]:
    cfg = study.SPEC.resolve(scale="quick", n_seeds=1)
    undo = registry.get("boosting_paths", mutant).apply() if mutant else None
    try:
        fields = {
            "C3": ("spline", study.pspline_path), "C4": ("rates", study.rates),
            "C11": ("crossing", study.ridge_crossing), "C12": ("small_step", study.small_step),
            "C13": ("selection", study.selection),
        }
        res = type("R", (), {})()
        for cid in names:
            attr, fn = fields[cid]
            setattr(res, attr, fn(cfg))
        card = claims.CLAIMS.scorecard(cfg)
        for cid in names:
            getattr(claims, cid.lower())(card, cfg, res)
        return {c.id: c.verdict for c in card.claims}
    finally:
        if undo:
            undo()


@pytest.mark.parametrize("mutant, claim_ids", [
    ("penalty_ignored", ("C3", "C11", "C12")),
    ("nu_twice", ("C3", "C11", "C12")),
    ("random_selection", ("C4", "C13")),
])
def test_each_mutant_flips_the_claims_it_is_aimed_at(mutant: str, claim_ids: tuple[str, ...]) -> None:
    assert set(claim_ids) <= set(registry.get("boosting_paths", mutant).targets)
    original = bst.boost, bst.Learner.__post_init__
    clean = _verdicts(claim_ids, None)
    broken = _verdicts(claim_ids, mutant)
    assert all(clean[c] == "reproduced" for c in claim_ids), clean
    assert all(broken[c] != "reproduced" for c in claim_ids), broken
    assert (bst.boost, bst.Learner.__post_init__) == original, "the mutant is undone"
