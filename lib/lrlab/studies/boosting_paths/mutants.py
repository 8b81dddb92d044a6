"""The boosting chapter's mutants: one broken mechanism each (:mod:`lrlab.audit.mutants`).

- ``penalty_ignored``: every learner is factored with λ = 0, whatever penalty it was built with, so the loop
  boosts unpenalized learners while the targets (ridge solution, P-spline fit, penalized additive fit) keep theirs;
- ``nu_twice``: the boosting loop takes every step twice as long as asked (ν → 2ν);
- ``random_selection``: the loop picks a learner uniformly at random instead of the best-fitting one.

Each patches the name the chapter looks up at call time: the ``boost`` of :mod:`lrlab.boosting` (the study calls
``bst.boost``) and the ``__post_init__`` of :class:`lrlab.boosting.Learner`, where a learner is factored.
"""

from __future__ import annotations

import zlib

import numpy as np

from lrlab import boosting
from lrlab.audit.mutants import Mutant
from lrlab.boosting import learners as _learners


def _unpenalized_post_init(self: boosting.Learner) -> None:
    self.Z = np.asarray(self.Z, dtype=float)
    if self.Z.ndim == 1:
        self.Z = self.Z[:, None]
    self.factors = _learners.factor(self.Z, self.K, 0.0)


def _nu_twice(original):
    def boost(learners, y, nu=0.1, *args, **kwargs):
        return original(learners, y, 2 * nu, *args, **kwargs)

    return boost


def _random_selection(original):
    def boost(learners, y, *args, **kwargs):
        seed = zlib.crc32(np.ascontiguousarray(y, dtype=float).tobytes())  # reproducible, different per response
        return original(learners, y, *args, **{**kwargs, "selection": "random", "seed": seed})

    return boost


MUTANTS = (
    Mutant("penalty_ignored", "base learners are fitted without their penalty (λ = 0) while the penalized targets "
           "keep it", ("C1", "C2", "C3", "C6", "C11", "C12", "C13"),
           ((boosting.Learner, "__post_init__", _unpenalized_post_init),)),
    Mutant("nu_twice", "the boosting loop applies the step twice (ν → 2ν)", ("C1", "C2", "C3", "C8", "C11", "C12"),
           ((boosting, "boost", _nu_twice),), wraps=True),
    Mutant("random_selection", "the learner of each iteration is drawn at random instead of the best-fitting one",
           ("C4", "C5", "C13"), ((boosting, "boost", _random_selection),), wraps=True),
)
