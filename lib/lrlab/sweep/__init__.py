"""``lrlab sweep``: a grid of chapter runs, cached by content, resumable, on local processes or a Dask cluster.

Every point of a sweep is one chapter run exactly as ``lrlab run`` makes it (a ``lrlab run`` process per point,
one thread per library), so any point can be opened and read like a single run. Points are stored in a
**content-addressed cache**: the key of a point is the SHA-256 of

- the chapter's notebook (its bytes),
- the ``lrlab`` source the chapter depends on: the modules its study module, its notebook and ``lrlab.runs``
  import, followed transitively through static imports (other chapters' study modules and the sweep tooling are
  not part of it, so editing them recomputes nothing),
- the installed versions of the third-party packages the chapter's notebook and that source import (read with
  ``importlib.metadata``, so an upgraded package recomputes what imports it; Python's version too),
- the checksums of the data files the chapter reads (Fashion-MNIST's, for the chapters that call
  ``lrlab.data.fashion_mnist``),
- the resolved parameters (the chapter's :class:`~lrlab.config.Config`, which holds the scale and the seed),
- the device class (``cpu`` or ``cuda``, from ``--device`` or ``$LRLAB_DEVICE``).

A sweep run twice recomputes nothing; a changed parameter recomputes only its points; a changed notebook,
library module, package version or data file recomputes what depends on it.

Nothing is lost. A point's folder is written into a private temporary folder of the cache and renamed into place
with its manifest (``entry.json``: the key, its inputs, the outcome, the SHA-256 and size of every file), so an
entry is either complete or absent; killing a sweep (even with SIGKILL) and starting it again resumes it with
every finished point kept. An entry whose files no longer match the manifest is detected, removed and
recomputed. Sweeps sharing one cache take a lock file per point (``flock``, released by the kernel when a process
dies), so two sweeps never compute or write the same point at once: the second waits and then reads the first's
result. A point whose notebook fails is recorded, with its error, and does not stop the others;
``--retry-failed`` reruns only those.

Points run in a local pool of ``--workers`` processes by default, on a Dask cluster when ``--scheduler ADDRESS``
or ``--scheduler-file PATH`` (the JSON file a scheduler writes, the usual hand-over on SLURM) is given
(``dask.distributed``; a worker runs the point in its own scratch folder and sends the files back, so no shared
filesystem is needed), or on a ``LocalCluster`` started for the sweep with ``--dask-local``. The coordinator waits
on the tasks with ``distributed.wait`` (woken when one finishes), not by polling them.

A sweep folder (``-o DIR``) holds ``sweep.json`` (the definition and every point's key), ``points.json`` (each
point's outcome, updated as points finish) and ``runs/<point>``, a link to the point's run folder in the cache.
``lrlab report DIR`` (:mod:`lrlab.report`) turns it into one tidy table and a summary figure.

The package, one job per module: ``grid`` (the grid and seeds, expanded into points), ``keys`` (what a point's
result depends on, hashed), ``cache`` (the store), ``executors`` (running a point, on local processes or Dask) and
``engine`` (:func:`run_sweep`).
"""

from __future__ import annotations

from lrlab.sweep.cache import CACHE_ENV, ENTRY, REQUIRED_FILES, Cache, CorruptEntryError, Entry, default_cache
from lrlab.sweep.engine import Outcome, SweepResult, default_folder, run_sweep
from lrlab.sweep.executors import execute_point, point_command
from lrlab.sweep.grid import Point, expand, parse_assignments, parse_grid, parse_seeds
from lrlab.sweep.keys import (
    FORMAT,
    data_checksums,
    key_details,
    key_inputs,
    notebook_hash,
    package_versions,
    point_key,
    source_files,
    source_hash,
)

__all__ = [
    "CACHE_ENV", "ENTRY", "FORMAT", "REQUIRED_FILES", "Cache", "CorruptEntryError", "Entry", "Outcome", "Point",
    "SweepResult", "data_checksums", "default_cache", "default_folder", "execute_point", "expand", "key_details",
    "key_inputs", "notebook_hash", "package_versions", "parse_assignments", "parse_grid", "parse_seeds",
    "point_command", "point_key", "run_sweep", "source_files", "source_hash",
]
