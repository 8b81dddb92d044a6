"""``lrlab audit``: how far each verdict can be trusted.

Two tests per claim. Does it hold on seed sets the chapter was never run with (:data:`registry.HELD_OUT_SEEDS`)?
Does at least one fault of the mechanism it is about (a mutant, :mod:`lrlab.audit.mutants`) flip it? A claim
asserted ``reproduced`` must pass both; one that fails the second is *descriptive*. The audit runs through the
sweep engine (cached, resumable, local processes or Dask) and writes ``audit/results/<chapter>.json``, which the
book's page "How far to trust the verdicts" renders.
"""
