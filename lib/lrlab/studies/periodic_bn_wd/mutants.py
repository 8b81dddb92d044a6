"""The chapter's mutants: faults that each break one mechanism the claims are about (see :mod:`lrlab.audit.mutants`).

All three replace :func:`~lrlab.studies.periodic_bn_wd.experiments.make_optimizer`, the one place where every run
of the chapter (main, long, full-batch, all-trained) sets up weight decay and the fixed norm; the chapter's tables
keep the configured η and λ, as a run with the bug would.
"""

from __future__ import annotations

from lrlab.audit.mutants import Mutant

from . import experiments


def _no_weight_decay(make):
    def build(model, params, labels):
        return make(model, params, labels.assign(wd=0.0))
    return build


def _decoupled(make):
    def build(model, params, labels):  # (1 − λ) w − η g: the decay per step no longer scales with η
        return make(model, params, labels.assign(wd=labels["wd"] / labels["lr"]))
    return build


def _frozen(make):
    def build(model, params, labels):
        return make(model, params, labels.assign(fixed=True))
    return build


MUTANTS = (
    Mutant("no_weight_decay", "weight decay is never applied (λ = 0 in every run, whatever is configured): "
           "nothing shrinks ρ, so the ELR cannot climb to a destabilisation",
           ("C1", "C2", "C4", "C5", "C6", "C7", "C8", "C9"),
           ((experiments, "make_optimizer", _no_weight_decay),), wraps=True),
    Mutant("decoupled_weight_decay", "weight decay decoupled from the learning rate, w ← (1 − λ) w − η∇L (SGDW "
           "with a constant schedule): ρ shrinks at λ per step, not ηλ, so η no longer sets the period or the "
           "equilibrium",
           ("C3", "C5", "C6", "C7", "C8"), ((experiments, "make_optimizer", _decoupled),), wraps=True),
    Mutant("norm_frozen", "every run's scale-invariant weights are held at their initial norm (the fixed-norm "
           "control's projection applied to all): no norm decay, no norm jump",
           ("C1", "C2", "C4", "C5", "C10"), ((experiments, "make_optimizer", _frozen),), wraps=True),
)
