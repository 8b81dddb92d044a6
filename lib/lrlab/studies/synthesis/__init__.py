"""The book's closing chapter, ``book/synthesis``: what the step size does across the five studies.

Nothing here trains a model. Every function reads what the chapters measured when the book was built, the
``claims.json`` and ``provenance.json`` each chapter writes into ``_build/results/<chapter>`` (see
:func:`lrlab.runtime.results_dir`), and sets those numbers side by side:

- one threshold, step × curvature ≈ 2: the sharpness against 2/η (``eos_ntk`` C1, C6), the toy example's
  convergence edge at ELR = 2/a (``sphere_regimes`` C7) and the boosting step against its critical value ν*
  (``boosting_paths`` C8) — :func:`stability`;
- the ELR at which SGD + weight decay destabilises or settles (``sphere_regimes`` C5, ``periodic_bn_wd`` C1, C4, C6)
  on the regime map of projected SGD on the sphere (``sphere_regimes`` C1) — :func:`sphere_bands`,
  :func:`elr_ruler`;
- what a larger step does besides (``fluctuations`` C1, C3; ``eos_ntk`` C2, C3; ``sphere_regimes`` C3) —
  :func:`step_effects`.

A chapter whose results are missing stops the synthesis with :class:`MissingResultsError`, which names the chapter
and the command that produces them. The verdicts stay the chapters' own; this package only reads them: ``load``
reads the results, ``tables`` sets them side by side and computes every number the page quotes, ``figures`` draws
its figure. It runs nothing, so it is no chapter of ``lrlab.studies.CHAPTERS``.
"""

from __future__ import annotations

from lrlab.studies.synthesis.figures import OUTCOME_COLOURS, figure
from lrlab.studies.synthesis.load import (
    CHAPTERS,
    LABELS,
    REGIMES,
    VERDICTS,
    ChapterResults,
    MissingResultsError,
    Results,
    load,
    load_chapter,
    results_folder,
)
from lrlab.studies.synthesis.tables import (
    boosting_runs,
    catapult,
    elr_ruler,
    eos_edge,
    numbers,
    paper_grid,
    provenance_table,
    regime_of,
    scorecards,
    sphere_bands,
    sphere_regime_map,
    stability,
    step_effects,
    toy_edges,
    verdict_counts,
    verdict_summaries,
)

__all__ = [
    "CHAPTERS", "LABELS", "OUTCOME_COLOURS", "REGIMES", "VERDICTS", "ChapterResults", "MissingResultsError",
    "Results", "boosting_runs", "catapult", "elr_ruler", "eos_edge", "figure", "load", "load_chapter", "numbers",
    "paper_grid", "provenance_table", "regime_of", "results_folder", "scorecards", "sphere_bands", "sphere_regime_map",
    "stability", "step_effects", "toy_edges", "verdict_counts", "verdict_summaries",
]
