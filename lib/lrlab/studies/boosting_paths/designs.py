"""Designs shared by the boosting chapter's experiments, the data seeds, and what an experiment returns.

The covariate designs are the authors' (read from their code, ``rickmer-schulte/Pathologies_BAMs``); the R seeds of
the paper cannot be reproduced in numpy, so every design is drawn from our own seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrlab import boosting as bst
from lrlab.config import Config


def seeds(cfg: Config) -> list[int]:
    """The data seeds of a run: ``seed, seed + 1, …`` (``n_seeds`` of them)."""
    return [cfg.seed + i for i in range(cfg.n_seeds)]


def _rng(seed: int, tag: int) -> np.random.Generator:
    """Independent generator per (seed, experiment), so experiments do not depend on each other's order."""
    return np.random.default_rng([seed, tag])


def correlated_pair(n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Two covariates ``X1 ~ N(0, 1)``, ``X2 = ρ X1 + √(1 − ρ²) Z`` (the construction of the paper's Fig. 1)."""
    x1 = rng.standard_normal(n)
    x2 = rho * x1 + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    return np.column_stack([x1, x2])


def crossing_data(n: int, rho: float, beta: tuple[float, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The Fig. 1 design: ``X2 = ρ X1 + √(1 − ρ²) Z``, ``y = Xβ + ε``."""
    rng = _rng(seed, 1)
    X = correlated_pair(n, rho, rng)
    return X, X @ np.array(beta) + rng.standard_normal(n)



def equicorrelated(n: int, p: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """``n × p`` Gaussian design with every pair of columns correlated ``ρ ≥ 0`` (Fig. 3)."""
    return np.sqrt(rho) * rng.standard_normal((n, 1)) + np.sqrt(1 - rho) * rng.standard_normal((n, p))


def scale(X: np.ndarray) -> np.ndarray:
    """Centre each column and give it unit standard deviation (R's ``scale``)."""
    X = X - X.mean(axis=0)
    return X / X.std(axis=0, ddof=1)


def standardize_lasso(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``y``; centre the columns of ``X`` and give them ``‖x_j‖² = n`` (the lasso comparison's convention)."""
    X = X - X.mean(axis=0)
    return X / np.sqrt(np.mean(X**2, axis=0)), y - y.mean()


def _linear_learners(X: np.ndarray, lam: float = 0.0) -> list[bst.Learner]:
    return [bst.linear(X[:, j], lam=lam, name=f"x{j + 1}") for j in range(X.shape[1])]


def _m_grid(m: int, dense: int = 500, points: int = 1000) -> np.ndarray:
    """All iterations up to ``dense``, then a geometric grid to ``m``."""
    head = np.arange(min(dense, m) + 1)
    tail = np.geomspace(max(dense, 1), m, points).round().astype(int) if m > dense else np.array([], dtype=int)
    return np.unique(np.concatenate([head, tail, [m]]))


@dataclass
class Experiment:
    """What one experiment returns: a tidy ``paths`` table (for figures) and a ``summary`` table (for claims)."""

    paths: pd.DataFrame
    summary: pd.DataFrame
    extra: dict
