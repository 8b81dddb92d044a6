"""Unit tests of lrlab.boosting (the boosting_paths chapter) against ground truth: hand-computed steps, closed
forms, the OLS limit, the contraction bound, the lasso on orthogonal designs, the critical GLM step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import SplineTransformer

from lrlab import boosting as bst
from lrlab.studies import boosting_paths as study
from lrlab.studies.boosting_paths import background, designs, experiments


def _design(n: int = 60, p: int = 3, rho: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = designs.equicorrelated(n, p, rho, rng)
    y = X @ rng.normal(size=p) * 2 + rng.normal(size=n)
    return X, y


# ---------------------------------------------------------------------------------------------- hand-computed


def test_one_step_by_hand() -> None:
    # x = (1, 2), y = (1, 1): θ̂ = xᵀy / xᵀx = 3/5, so one step of size ν moves θ to 0.6 ν.
    path = bst.boost([bst.linear(np.array([1.0, 2.0]))], np.array([1.0, 1.0]), nu=0.5, mstop=2, offset=0.0)
    assert path.coef[1, 0] == pytest.approx(0.3, abs=1e-15)
    # second step: residual u = y − 0.3 x = (0.7, 0.4), θ̂ = (0.7 + 0.8)/5 = 0.3, so θ = 0.3 + 0.15
    assert path.coef[2, 0] == pytest.approx(0.45, abs=1e-15)


def test_selection_by_rss_by_hand() -> None:
    # y = e1 + 0.1 e2: the learner on e1 leaves RSS 0.01, the one on e2 leaves 1 → e1 first, then e2.
    Z1, Z2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = bst.boost([bst.linear(Z1, name="a"), bst.linear(Z2, name="b")], np.array([1.0, 0.1]), nu=1.0, mstop=2,
                     offset=0.0)
    assert path.selected.tolist() == [0, 1]
    np.testing.assert_allclose(path.coef[-1], [1.0, 0.1], atol=1e-15)


def test_penalized_learner_step_by_hand() -> None:
    # ridge learner with one column: θ̂ = xᵀu / (xᵀx + λ)
    x, y, lam = np.array([1.0, 2.0, 2.0]), np.array([1.0, 0.0, 3.0]), 1.0
    path = bst.boost([bst.linear(x, lam=lam)], y, nu=1.0, mstop=1, offset=0.0)
    assert path.coef[1, 0] == pytest.approx(7.0 / 10.0, abs=1e-15)


# ---------------------------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("kind", ["ridge", "pspline", "linear"])
def test_closed_form_equals_iterated_path(kind: str) -> None:
    rng = np.random.default_rng(1)
    n = 80
    x = np.sort(rng.uniform(0, 1, n))
    y = np.sin(4 * x) + 0.3 * rng.normal(size=n)
    if kind == "ridge":
        learner, off = bst.Learner("X", rng.normal(size=(n, 3)), lam=30.0), 0.0
    elif kind == "pspline":
        learner, off = bst.pspline(x, knots=6, lam=10.0), float(y.mean())
    else:
        learner, off = bst.linear(np.column_stack([x, x**2])), 0.0
    ms = np.array([0, 1, 2, 7, 50, 300])
    cf = bst.closed_form_path(learner, y, nu=0.3, ms=ms, offset=off)
    path = bst.boost([learner], y, nu=0.3, mstop=300, offset=off)
    np.testing.assert_allclose(cf.coef, path.coef[ms], rtol=0, atol=1e-10)
    np.testing.assert_allclose(cf.fit, path.eta(ms), rtol=0, atol=1e-10)


def test_closed_form_matches_operator_formula() -> None:
    # f^[m] = [I − (I − νS)^m] y with the explicit hat matrix (Bühlmann & Yu 2003)
    X, y = _design(30, 2)
    learner = bst.Learner("X", X, lam=5.0)
    S = X @ np.linalg.solve(X.T @ X + 5.0 * np.eye(2), X.T)
    m, nu = 13, 0.4
    B = np.eye(30) - np.linalg.matrix_power(np.eye(30) - nu * S, m)
    np.testing.assert_allclose(bst.closed_form_path(learner, y, nu, [m]).fit[0], B @ y, atol=1e-12)
    np.testing.assert_allclose(learner.hat(), S, atol=1e-12)


def test_fast_loop_equals_refit_loop_and_modes_agree() -> None:
    rng = np.random.default_rng(2)
    n = 70
    X = rng.normal(size=(n, 3))
    x = rng.uniform(size=n)
    y = X[:, 0] - np.cos(5 * x) + 0.2 * rng.normal(size=n)
    learners = [bst.linear(X[:, 0], name="a"), bst.linear(X[:, 1:], lam=3.0, name="b"),
                bst.pspline(x, knots=5, df=4.0, name="s")]
    naive = bst.boost_naive(learners, y, nu=0.2, mstop=150)
    for mode in ("data", "gram"):
        fast = bst.boost(learners, y, nu=0.2, mstop=150, mode=mode)
        assert fast.selected.tolist() == naive.selected.tolist()
        np.testing.assert_allclose(fast.coef, naive.coef, atol=1e-10)


@pytest.mark.parametrize("mode", ["data", "gram"])
def test_random_selection_follows_the_seeded_draws(mode: str) -> None:
    # selection="random" picks rng.integers(0, L) each iteration; the update is the chosen learner's usual one
    X, y = _design(50, 3)
    learners = [bst.linear(X[:, 0]), bst.linear(X[:, 1:], lam=2.0), bst.linear(X[:, 2])]
    path = bst.boost(learners, y, nu=0.3, mstop=40, offset=0.0, mode=mode, selection="random", seed=7)
    order = np.random.default_rng(7).integers(0, 3, 40)
    assert path.selected.tolist() == order.tolist()
    coef, eta = np.zeros(path.coef.shape[1]), np.zeros(50)
    for j in order:
        theta = learners[j].fit(y - eta)
        coef[path.slices[j]] += 0.3 * theta
        eta += 0.3 * learners[j].Z @ theta
    np.testing.assert_allclose(path.coef[-1], coef, atol=1e-10)
    with pytest.raises(ValueError, match="'selection'"):
        bst.boost(learners, y, selection="cyclic")


@pytest.mark.parametrize("lam", [0.0, 4.0])
def test_one_column_factors_are_the_general_ones(lam: float) -> None:
    x = np.random.default_rng(4).normal(size=30)
    one = bst.linear(x, lam=lam)
    u = np.random.default_rng(5).normal(size=30)
    assert one.fit(u)[0] == pytest.approx(x @ u / (x @ x + lam), rel=1e-12)
    np.testing.assert_allclose(one.hat(), np.outer(x, x) / (x @ x + lam), atol=1e-12)
    with pytest.raises(ValueError, match="'Z'"):
        bst.linear(np.zeros(5))


def test_critical_nu_along_a_path_at_fixed_weights_is_the_critical_nu() -> None:
    X, _ = _design(40, 2)
    learners = [bst.linear(X[:, j]) for j in range(2)]
    w = np.exp(np.random.default_rng(6).normal(size=40))
    along = bst.critical_nu_along(learners, np.array([0, 1, 1]), np.tile(w, (3, 1)))
    by_hand = [2 * X[:, j] @ X[:, j] / (X[:, j] @ (w * X[:, j])) for j in (0, 1, 1)]
    np.testing.assert_allclose(along, by_hand, rtol=1e-10)
    assert along.min() == pytest.approx(bst.critical_nu(learners, w), rel=1e-10)


@pytest.mark.parametrize("mode", ["data", "gram"])
def test_zero_iterations_return_the_start(mode: str) -> None:
    X, y = _design(30, 2)
    learners = [bst.linear(X[:, 0]), bst.linear(X[:, 1:], lam=1.0)]
    path = bst.boost(learners, y, nu=0.1, mstop=0, mode=mode)
    assert path.coef.shape == (1, 2) and not path.coef.any() and path.selected.size == 0 and path.status == "ok"


@pytest.mark.parametrize("mode", ["data", "gram"])
@pytest.mark.parametrize("kind", ["linear", "pspline"])
def test_squared_loss_run_past_the_stable_step_is_recorded_as_diverged(mode: str, kind: str) -> None:
    # ν = 3 > 2 multiplies the residual along the chosen direction by 1 − ν = −2 per iteration until a score
    # overflows; the run must stop just before that iteration, with a finite path, whichever loop ran it
    X, y = _design(40, 2)
    learners = ([bst.linear(X[:, j]) for j in range(2)] if kind == "linear"
                else [bst.pspline(X[:, j], knots=4, df=3.0, name=f"x{j}") for j in range(2)])
    path = bst.boost(learners, y, nu=3.0, mstop=2000, mode=mode)
    assert path.status == "diverged" and 100 < path.mstop < 2000
    assert np.isfinite(path.coef).all() and path.coef.shape == (path.mstop + 1, path.coef.shape[1])
    shorter = bst.boost(learners, y, nu=3.0, mstop=path.mstop, mode=mode)
    assert shorter.status == "ok"
    np.testing.assert_array_equal(shorter.coef, path.coef)
    np.testing.assert_array_equal(shorter.selected, path.selected)


def test_single_column_gram_loop_equals_refit_loop() -> None:
    X, y = _design(50, 6)
    learners = [bst.linear(X[:, j]) for j in range(6)]
    fast = bst.boost(learners, y, nu=0.1, mstop=400, offset=0.0, mode="gram")
    naive = bst.boost_naive(learners, y, nu=0.1, mstop=400, offset=0.0)
    assert fast.selected.tolist() == naive.selected.tolist()
    np.testing.assert_allclose(fast.coef, naive.coef, atol=1e-10)


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_glm_loop_equals_refit_loop(family: str) -> None:
    rng = np.random.default_rng(3)
    X = designs.scale(designs.correlated_pair(60, 0.5, rng))
    eta = X @ np.array([0.8, -0.4])
    y = rng.poisson(np.exp(eta)) if family == "poisson" else (rng.uniform(size=60) < 1 / (1 + np.exp(-eta)))
    learners = [bst.linear(X[:, j]) for j in range(2)]
    fast = bst.boost(learners, y.astype(float), nu=0.3, mstop=100, family=family, offset=0.0)
    naive = bst.boost_naive(learners, y.astype(float), nu=0.3, mstop=100, family=family, offset=0.0)
    np.testing.assert_allclose(fast.coef, naive.coef, atol=1e-10)


def test_init_continues_a_run() -> None:
    X, y = _design(40, 3)
    learners = [bst.linear(X[:, j]) for j in range(3)]
    whole = bst.boost(learners, y, nu=0.2, mstop=60, offset=0.0)
    half = bst.boost(learners, y, nu=0.2, mstop=30, offset=0.0)
    rest = bst.boost(learners, y, nu=0.2, mstop=30, offset=0.0, init=half.coef[-1])
    np.testing.assert_allclose(rest.coef[-1], whole.coef[-1], atol=1e-12)


# ---------------------------------------------------------------------------------------------- limits


@pytest.mark.parametrize("lam", [0.0, 100.0])
def test_componentwise_l2_boosting_converges_to_ols(lam: float) -> None:
    X, y = _design(100, 3, rho=0.6)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    path = bst.boost([bst.linear(X[:, j], lam=lam) for j in range(3)], y, nu=0.5, mstop=6000, offset=0.0)
    assert np.linalg.norm(path.coef[-1] - ols) < 1e-8
    ridge = bst.ridge_path(X, y, [lam])[0]
    if lam > 0:  # the penalized target is not where the path ends
        assert np.linalg.norm(path.coef[-1] - ridge) > 0.1 * np.linalg.norm(ridge - ols)


def test_pspline_boosting_limit_is_the_unpenalized_fit() -> None:
    x, y = experiments.pspline_data(100, np.random.default_rng(0))
    learner = bst.pspline(x, knots=5, lam=10.0)
    f_b = bst.least_squares_fit([learner], y)
    f_p = bst.penalized_fit([learner], y)
    np.testing.assert_allclose(f_p, learner.Z @ np.linalg.solve(learner.Z.T @ learner.Z + 10 * learner.K,
                                                               learner.Z.T @ y), atol=1e-10)
    far = bst.closed_form_path(learner, y, 0.1, [2_000_000], offset=y.mean()).fit[0]
    assert np.linalg.norm(far - f_b) < 1e-8 * np.linalg.norm(f_b)
    assert np.linalg.norm(far - f_p) > 0.5 * np.linalg.norm(f_b - f_p)


def test_ridge_path_matches_solve() -> None:
    X, y = _design(30, 4)
    for lam, row in zip([0.0, 1.0, 50.0], bst.ridge_path(X, y, [0.0, 1.0, 50.0])):
        np.testing.assert_allclose(row, np.linalg.solve(X.T @ X + lam * np.eye(4), X.T @ y), atol=1e-10)


# ---------------------------------------------------------------------------------------------- rates


@pytest.mark.parametrize("nu", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_every_step_obeys_the_contraction_bound(nu: float, rho: float) -> None:
    X, y = _design(80, 5, rho=rho, seed=4)
    learners = [bst.linear(X[:, j]) for j in range(5)]
    path = bst.boost(learners, y, nu=nu, mstop=300, offset=0.0)
    gap = bst.l2_gap(path, bst.least_squares_fit(learners, y))
    ok = gap[:-1] > 1e-20 * gap[0]
    ratios = gap[1:][ok] / gap[:-1][ok]
    gamma = bst.rate_bound(X, nu)
    assert ratios.max() <= gamma + 1e-9
    assert 0 < gamma < 1


def test_rate_bound_by_hand_and_for_wide_designs() -> None:
    # orthonormal columns: R = I, λ_min = 1, so γ = 1 − ν(2 − ν)/p
    Q = np.linalg.qr(np.random.default_rng(5).normal(size=(20, 4)))[0]
    assert bst.rate_bound(Q, 0.5) == pytest.approx(1 - 0.5 * 1.5 / 4, abs=1e-12)
    # p > n: the bound uses the smallest positive eigenvalue, the same from XᵀX and XXᵀ
    X = np.random.default_rng(6).normal(size=(10, 30))
    Xn = X / np.linalg.norm(X, axis=0)
    lam = bst.smallest_positive_eigenvalue(Xn.T @ Xn)
    assert bst.rate_bound(X, 1.0) == pytest.approx(1 - lam / 30, rel=1e-9)


def test_contraction_and_iterations_helpers() -> None:
    gap = 0.5 ** np.arange(40.0)
    assert bst.contraction(gap, 5, 25) == pytest.approx(0.5)
    assert bst.iterations_to(gap, 1e-3) == 10
    assert bst.iterations_to(gap, 1e-30) == float("inf")


# ---------------------------------------------------------------------------------------------- splines and df


def test_bspline_basis_matches_sklearn_and_penalty_null_space() -> None:
    x = np.random.default_rng(7).uniform(0, 3, 50)
    Z = bst.bspline_basis(x, knots=5)
    sk = SplineTransformer(n_knots=7, degree=3, knots="uniform").fit_transform(x[:, None])
    assert Z.shape == (50, 9)
    np.testing.assert_allclose(Z, sk, atol=1e-12)
    np.testing.assert_allclose(Z.sum(axis=1), 1.0, atol=1e-12)
    K = bst.difference_penalty(9, 2)
    np.testing.assert_allclose(K @ np.ones(9), 0, atol=1e-12)
    np.testing.assert_allclose(K @ np.arange(9.0), 0, atol=1e-12)
    assert np.linalg.matrix_rank(K) == 7


def test_df_is_mboost_definition_and_inverts() -> None:
    x = np.linspace(0, 1.5, 100)
    learner = bst.pspline(x, knots=5, lam=10.0)
    S = learner.Z @ np.linalg.solve(learner.Z.T @ learner.Z + 10.0 * learner.K, learner.Z.T)
    assert learner.df() == pytest.approx(np.trace(2 * S - S.T @ S), abs=1e-10)
    assert learner.df("trace") == pytest.approx(np.trace(S), abs=1e-10)
    lam = bst.lambda_for_df(learner.Z, learner.K, 4.0)
    assert bst.degrees_of_freedom(learner.Z, learner.K, lam) == pytest.approx(4.0, abs=1e-9)
    assert bst.pspline(x, knots=5, df=4.0).lam == pytest.approx(lam)
    assert bst.degrees_of_freedom(learner.Z, learner.K, 0.0) == pytest.approx(9.0, abs=1e-9)
    assert bst.degrees_of_freedom(learner.Z, learner.K, 1e12) == pytest.approx(2.0, abs=1e-4)


def test_factors_are_spectral() -> None:
    learner = bst.pspline(np.linspace(0, 1, 40), knots=4, lam=3.0)
    F = learner.factors
    np.testing.assert_allclose(F.U.T @ F.U, np.eye(len(F.s)), atol=1e-12)
    assert np.all((F.s > 0) & (F.s <= 1 + 1e-12))
    u = np.sin(np.arange(40.0))
    theta = np.linalg.solve(learner.Z.T @ learner.Z + 3.0 * learner.K, learner.Z.T @ u)
    np.testing.assert_allclose(learner.fit(u), theta, atol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 2.0])
def test_rank_deficient_learner(lam: float) -> None:
    rng = np.random.default_rng(14)
    z = rng.normal(size=(25, 2))
    Z = np.column_stack([z, z[:, 0] + z[:, 1]])  # rank 2, three columns
    u = rng.normal(size=25)
    learner = bst.Learner("Z", Z, lam=lam)
    if lam > 0:
        theta = np.linalg.solve(Z.T @ Z + lam * np.eye(3), Z.T @ u)
    else:
        theta = np.linalg.pinv(Z) @ u  # minimum-norm least squares
    np.testing.assert_allclose(learner.fit(u), theta, atol=1e-10)
    np.testing.assert_allclose(learner.hat() @ u, Z @ theta, atol=1e-10)


# ---------------------------------------------------------------------------------------------- GLMs


def test_glm_mle_zeroes_the_score() -> None:
    rng = np.random.default_rng(8)
    X = designs.scale(designs.correlated_pair(100, 0.5, rng))
    y = rng.poisson(np.exp(X @ np.array([1.0, -0.5]))).astype(float)
    beta = bst.glm_mle(X, y, "poisson")
    np.testing.assert_allclose(X.T @ (y - np.exp(X @ beta)), 0, atol=1e-8)


def test_risk_gradient_is_y_minus_mu() -> None:
    rng = np.random.default_rng(9)
    eta = rng.normal(size=6)
    for family, y in (("gaussian", rng.normal(size=6)), ("poisson", rng.poisson(2, 6).astype(float)),
                      ("binomial", (rng.uniform(size=6) < 0.5).astype(float))):
        h = 1e-6
        grad = [(bst.risk(family, y, eta + h * e) - bst.risk(family, y, eta - h * e)) / (2 * h) for e in np.eye(6)]
        np.testing.assert_allclose(-np.array(grad), y - bst.mean_function(family, eta), atol=1e-6)


def test_critical_nu_formula_and_local_stability() -> None:
    rng = np.random.default_rng(10)
    X = designs.scale(designs.correlated_pair(100, 0.5, rng))
    y = rng.poisson(np.exp(X @ np.array([1.0, -0.5]))).astype(float)
    learners = [bst.linear(X[:, j]) for j in range(2)]
    beta = bst.glm_mle(X, y, "poisson")
    mu = np.exp(X @ beta)
    nu_star = bst.critical_nu(learners, mu)
    by_hand = min(2 * X[:, j] @ X[:, j] / (X[:, j] @ (mu * X[:, j])) for j in range(2))
    assert nu_star == pytest.approx(by_hand, rel=1e-10)
    # one learner, started near the optimum: the linearized map contracts below ν*, expands above it
    one = [learners[0]]
    b1 = bst.glm_mle(X[:, :1], y, "poisson")[0]
    nu1 = bst.critical_nu(one, np.exp(X[:, 0] * b1))
    for factor, converges in ((0.9, True), (1.1, False)):
        path = bst.boost(one, y, nu=factor * nu1, mstop=400, family="poisson", offset=0.0,
                         init=np.array([b1 + 1e-4]))
        err = abs(path.coef[-1, 0] - b1) if path.status == "ok" else np.inf
        assert (err < 1e-10) == converges


def test_binomial_critical_step_is_at_least_eight() -> None:
    rng = np.random.default_rng(11)
    X = designs.scale(designs.correlated_pair(200, 0.5, rng))
    learners = [bst.linear(X[:, j]) for j in range(2)]
    p = rng.uniform(0, 1, 200)
    assert bst.critical_nu(learners, p * (1 - p)) >= 8.0 - 1e-9


# ---------------------------------------------------------------------------------------------- lasso


def test_lasso_path_on_orthogonal_design_is_soft_thresholding() -> None:
    rng = np.random.default_rng(12)
    G = rng.normal(size=(60, 5))
    X, y = designs.standardize_lasso(np.linalg.qr(G - G.mean(axis=0))[0], np.zeros(60))
    y = X @ np.array([2.0, -1.5, 1.0, 0.5, 0.0]) + rng.normal(size=60)
    y = y - y.mean()
    z = X.T @ y / 60
    lp = bst.lasso_path(X, y)
    alphas = np.array([0.9, 0.5, 0.2, 0.05]) * lp.alphas[0]
    soft = np.sign(z) * np.maximum(np.abs(z)[None, :] - alphas[:, None], 0)
    np.testing.assert_allclose(lp.at(alphas), soft, atol=1e-10)
    assert lp.monotone()


def test_small_nu_boosting_tracks_the_lasso_on_an_orthogonal_design() -> None:
    rng = np.random.default_rng(13)
    G = rng.normal(size=(60, 5))
    X = designs.standardize_lasso(np.linalg.qr(G - G.mean(axis=0))[0], np.zeros(60))[0]
    y = X @ np.array([2.0, -1.5, 1.0, 0.5, 0.0]) + rng.normal(size=60)
    y = y - y.mean()
    devs = [background.boosting_vs_lasso(X, y, nu, 0.02, 10**6).deviation.max() for nu in (0.05, 0.01, 0.002)]
    assert all(d < nu for d, nu in zip(devs, (0.05, 0.01, 0.002)))
    assert devs[0] > devs[1] > devs[2]


def test_distance_to_curve_and_crossings() -> None:
    curve = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    pts = np.array([[0.5, 1.0], [1.5, -2.0], [3.0, 0.0], [-1.0, 0.0]])
    dist, sign = bst.distance_to_curve(pts, curve)
    np.testing.assert_allclose(dist, [1.0, 2.0, 1.0, 1.0], atol=1e-12)
    assert sign[0] == 1 and sign[1] == -1
    assert bst.crossings(np.array([1, 1, -1, -1, 1.0]), np.ones(5), 0.1) == 2


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"nu": 0.0}, "nu"), ({"nu": -1.0}, "nu"), ({"nu": float("nan")}, "nu"), ({"mstop": -1}, "mstop"),
     ({"mstop": 2.5}, "mstop"), ({"family": "gamma"}, "family"), ({"mode": "fast"}, "mode"),
     ({"offset": np.zeros(3)}, "offset"), ({"init": np.zeros(5)}, "init")],
)
def test_boost_rejects_bad_parameters(kwargs: dict, name: str) -> None:
    X, y = _design(20, 2)
    with pytest.raises(ValueError, match=f"'{name}' = .* it must be"):
        bst.boost([bst.linear(X[:, j]) for j in range(2)], y, **kwargs)


def test_boost_rejects_bad_data() -> None:
    X, y = _design(20, 2)
    learners = [bst.linear(X[:, j]) for j in range(2)]
    with pytest.raises(ValueError, match="'y'.*counts"):
        bst.boost(learners, y, family="poisson")
    with pytest.raises(ValueError, match="'y'.*0 or 1"):
        bst.boost(learners, np.full(20, 2.0), family="binomial")
    with pytest.raises(ValueError, match="'mode' = 'gram'"):
        bst.boost(learners, np.ones(20), family="poisson", mode="gram")
    with pytest.raises(ValueError, match="'learners'"):
        bst.boost([bst.linear(np.ones(5))], y)
    with pytest.raises(ValueError, match="'learners'"):
        bst.boost([], y)


def test_basis_and_df_validation() -> None:
    x = np.linspace(0, 1, 30)
    with pytest.raises(ValueError, match="'knots' = -1"):
        bst.bspline_basis(x, knots=-1)
    with pytest.raises(ValueError, match="'order' = 5"):
        bst.difference_penalty(5, 5)
    with pytest.raises(ValueError, match="'df' = 1.5"):
        bst.pspline(x, knots=5, df=1.5)
    with pytest.raises(ValueError, match="'df' = 20"):
        bst.pspline(x, knots=5, df=20.0)
    with pytest.raises(ValueError, match="'lam/df'"):
        bst.pspline(x, knots=5)
    with pytest.raises(ValueError, match="'lam' = -1"):
        bst.linear(x, lam=-1.0)
    with pytest.raises(ValueError, match="'nu' = 2"):
        bst.rate_bound(np.eye(3), 2.0)
    with pytest.raises(ValueError, match="'ms'"):
        bst.closed_form_path(bst.linear(x), x, 0.1, [-1])


# ---------------------------------------------------------------------------------------------- the chapter's spec


def test_spec_resolves_every_scale_and_validates() -> None:
    for scale in ("quick", "book", "paper"):
        cfg = study.SPEC.resolve(scale=scale)
        assert cfg.rate_window[1] <= cfg.rate_m
    with pytest.raises(ValueError, match="'rate_window'"):
        study.SPEC.resolve(scale="quick", rate_window=[50, 10_000])
    with pytest.raises(ValueError, match="'ridge_beta'"):
        study.SPEC.resolve(ridge_beta=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'cross_nu' = 0"):
        study.SPEC.resolve(cross_nu=0.0)
    with pytest.raises(ValueError, match="'additive_checkpoints'"):
        study.SPEC.resolve(additive_checkpoints=[1000, 100])
    with pytest.raises(ValueError, match="unknown parameter 'step'"):
        study.SPEC.resolve(step=0.1)


def test_experiments_are_deterministic() -> None:
    cfg = study.SPEC.resolve(scale="quick", n_seeds=1)
    for fn in (study.ridge_boosting, study.poisson, study.additive):
        a, b = fn(cfg), fn(cfg)
        pd.testing.assert_frame_equal(a.summary, b.summary)
    other = study.SPEC.resolve(scale="quick", n_seeds=1, seed=1)
    assert not study.ridge_boosting(cfg).summary.drop(columns="seed").equals(
        study.ridge_boosting(other).summary.drop(columns="seed"))
