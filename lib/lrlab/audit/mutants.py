"""Mutants: named faults, each breaking one mechanism a chapter's claims are about.

A verdict is worth reading only if it could have come out the other way. A mutant is the other way made concrete:
it swaps one function of the library or of a study for a broken one (the projection skipped, the penalty
ignored, the sharpness replaced by the gradient norm) and the chapter runs unchanged around it. A claim that no
mutant of its mechanism can flip is *descriptive*: it describes the run, it does not test the mechanism.

Each study declares its mutants in ``lrlab/studies/<chapter>/mutants.py`` as ``MUTANTS``, a tuple of
:class:`Mutant` (this module is the only part of ``lrlab.audit`` a study imports). A run becomes a mutant run when
``$LRLAB_MUTANT`` names one: :func:`lrlab.chapter.start` applies it in the kernel before anything is built, the
provenance records it, and ``lrlab audit`` makes the name part of the run's cache key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

MUTANT_ENV = "LRLAB_MUTANT"


@dataclass(frozen=True)
class Mutant:
    """One named fault of a chapter.

    ``patches`` lists ``(target, attribute, replacement)``: each ``target`` (a module or class) has its
    ``attribute`` replaced by ``replacement`` while the mutant is active. When the replacement needs the original,
    give a factory instead and set ``wraps=True``: ``replacement(original)`` is then installed. ``targets`` names
    the claims whose mechanism the fault breaks (those it is expected to flip); ``mechanism`` says in one
    sentence what is broken, for the audit page.
    """

    name: str
    mechanism: str
    targets: tuple[str, ...]
    patches: tuple[tuple[Any, str, Callable[..., Any]], ...]
    wraps: bool = False

    @contextmanager
    def active(self) -> Iterator[None]:
        """Apply the fault for the duration of the ``with`` block."""
        with ExitStack() as stack:
            for target, attribute, replacement in self.patches:
                new = replacement(getattr(target, attribute)) if self.wraps else replacement
                stack.enter_context(mock.patch.object(target, attribute, new))
            yield

    def apply(self) -> Callable[[], None]:
        """Apply the fault until the returned function is called (a kernel applies it for its whole life).

        The open context is kept in ``_APPLIED`` until then: a generator-based context manager that is
        garbage-collected closes itself, which would undo the patches behind the caller's back.
        """
        cm = self.active()
        cm.__enter__()
        _APPLIED.append(cm)

        def undo() -> None:
            if cm in _APPLIED:
                _APPLIED.remove(cm)
                cm.__exit__(None, None, None)

        return undo


_APPLIED: list[Any] = []
"""The mutants applied with :meth:`Mutant.apply` and not yet undone."""
