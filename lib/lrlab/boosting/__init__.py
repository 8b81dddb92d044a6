"""Componentwise (model-based) boosting of additive models: base learners, paths, closed forms, rates.

The library room of the chapter ``chapters/boosting_paths.ipynb`` (Schulte & Rügamer 2025, *Additive Model
Boosting: New Insights and Path(ologie)s*, AISTATS). It implements mboost-style componentwise functional gradient
descent:

1. ``u`` = negative gradient of the loss at the current predictor ``η`` (Gaussian: the residual ``y − η``);
2. every base learner ``j`` is fitted to ``u`` by penalized least squares,
   ``θ̂_j = (Z_jᵀZ_j + λ_j K_j)⁻¹ Z_jᵀ u``, with hat matrix ``S_j``;
3. the learner with the smallest residual sum of squares ``‖u − S_j u‖²`` is selected;
4. ``η ← η + ν S_j u`` and ``θ_j ← θ_j + ν θ̂_j``, with the step ``nu`` (ν).

Every learner is factored once (:func:`factor`): ``S_j = U_j diag(s_j) U_jᵀ`` with orthonormal ``U_j`` and
eigenvalues ``s_j ∈ (0, 1]``, and ``θ̂_j = W_j U_jᵀ u``. One matrix product ``Uᵀu`` with the stacked ``U`` then fits
*every* learner at once, the residual sums of squares are ``‖u‖² − Σ_k (2s_k − s_k²) c_k²`` with ``c = Uᵀu``, and no
learner is ever refitted (:func:`boost`; :func:`boost_naive` is the straightforward refit loop, kept as a
reference). For the squared loss the product can even be taken against the precomputed cross-Gram matrix ``UᵀU``
instead of the data (``mode="gram"``).

The package is split by job, and every public name is re-exported here (``from lrlab import boosting`` then
``boosting.boost``):

- ``lrlab.boosting.learners``: B-spline bases and difference penalties with mboost's degrees of freedom
  ``df = tr(2S − SᵀS)`` (:func:`bspline_basis`, :func:`difference_penalty`, :func:`degrees_of_freedom`,
  :func:`lambda_for_df`), the learners and their factors (:class:`Learner`, :func:`linear`, :func:`pspline`);
- ``lrlab.boosting.componentwise``: the boosting loop (:func:`boost`, greedy or random selection, :class:`BoostPath`,
  :func:`boost_naive`);
- ``lrlab.boosting.paths``: the exact closed-form path of a single learner (:func:`closed_form_path`), the
  least-squares and penalized fits, the ridge path and the distance of a path to it;
- ``lrlab.boosting.rates``: the linear convergence bound ``γ = 1 − ν(2 − ν) λ_pmin(R)/p`` and measured rates;
- ``lrlab.boosting.glm``: loss families, GLM maximum likelihood by Newton's method and the critical GLM step,
  at the optimum (:func:`critical_nu`) and along a path (:func:`critical_nu_along`);
- ``lrlab.boosting.lasso``: the lasso path of scikit-learn's ``lars_path`` at given correlations (background).
"""

from __future__ import annotations

from lrlab.boosting.componentwise import MODES, SELECTIONS, BoostPath, boost, boost_naive
from lrlab.boosting.glm import (
    FAMILIES,
    critical_nu,
    critical_nu_along,
    default_offset,
    glm_mle,
    mean_function,
    oscillation,
    risk,
)
from lrlab.boosting.lasso import LassoPath, lasso_path, max_correlation
from lrlab.boosting.learners import (
    DF_KINDS,
    NULL_TOL,
    Factors,
    Learner,
    bspline_basis,
    degrees_of_freedom,
    difference_penalty,
    factor,
    lambda_for_df,
    linear,
    pspline,
)
from lrlab.boosting.paths import (
    ClosedFormPath,
    closed_form_path,
    crossings,
    distance_to_curve,
    least_squares_coef,
    least_squares_fit,
    penalized_coef,
    penalized_fit,
    ridge_path,
)
from lrlab.boosting.rates import (
    contraction,
    iterations_to,
    l2_gap,
    normalized_gram,
    rate_bound,
    smallest_positive_eigenvalue,
)

__all__ = [
    # learners
    "DF_KINDS", "NULL_TOL", "Factors", "Learner", "bspline_basis", "degrees_of_freedom", "difference_penalty",
    "factor", "lambda_for_df", "linear", "pspline",
    # families and GLMs
    "FAMILIES", "critical_nu", "critical_nu_along", "default_offset", "glm_mle", "mean_function", "oscillation", "risk",
    # the boosting loop
    "MODES", "SELECTIONS", "BoostPath", "boost", "boost_naive",
    # exact paths and targets
    "ClosedFormPath", "closed_form_path", "crossings", "distance_to_curve", "least_squares_coef",
    "least_squares_fit", "penalized_coef", "penalized_fit", "ridge_path",
    # convergence rates
    "contraction", "iterations_to", "l2_gap", "normalized_gram", "rate_bound", "smallest_positive_eigenvalue",
    # background: the lasso
    "LassoPath", "lasso_path", "max_correlation",
]
