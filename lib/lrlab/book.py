"""Execute the book's chapters in parallel into Jupyter Book's execution cache.

``jupyter-book build`` with ``execute_notebooks: cache`` executes every notebook whose code changed, one after
another. ``make book`` first runs ``python -m lrlab.book``, which executes the out-of-date chapters side by side
(a process pool over the cores, one torch thread each) into the same jupyter-cache (``_build/.jupyter_cache``, as set in
``_config.yml``); the build then renders from the cache. A chapter that fails here is left uncached, so the build
executes it again and reports the error with its traceback.

Jupyter-cache keys a notebook on its own code only. A chapter's outputs also depend on the ``lrlab`` modules it
imports, the pinned packages and the measured run time its badge shows. Each chapter is keyed on those
(:func:`chapter_key`: its ``lrlab`` source followed through its imports as the sweep cache follows it,
``requirements.txt`` and ``benchmarks/results/chapter_times.json``); a cached chapter whose key changed since it was
cached is executed again, the others are kept. An edit of a module only one chapter imports re-executes that chapter
alone. Where the chapters cannot be keyed one by one (a notebook the study registry does not know, or a book whose
``lib/lrlab`` is not the ``lrlab`` that is imported), the whole cache is dropped when the library, the pins or the
times change (:func:`invalidate_if_stale`).

The notebooks under ``book/`` (the synthesis, the performance page, ...) read what the chapters and the benchmarks
wrote, not code of their own, so jupyter-cache cannot tell when they are out of date. They run in a second round,
after the chapters, and every time: their cache records are dropped first, and their files are touched so that
Sphinx reads them again. So are the pages that document the library (``automodule``) when it changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import yaml


def cache_path(root: Path) -> Path:
    config = yaml.safe_load((root / "_config.yml").read_text())
    return root / config.get("execute", {}).get("cache", "_build/.jupyter_cache")


def toc_files(root: Path) -> list[str]:
    """Every document the table of contents lists, root first, as paths without suffix (``chapters/x``)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = [toc["root"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def toc_notebooks(root: Path) -> list[Path]:
    """The notebooks the table of contents lists (only those are built)."""
    return [root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").is_file()]


def inputs_hash(root: Path) -> str:
    """Hash of what every chapter's outputs may depend on besides its own code, taken as a whole: the whole lrlab
    source, the pins and the measured chapter times the runtime badges show
    (``benchmarks/results/chapter_times.json``, :mod:`lrlab.timings`). Used where the chapters cannot be keyed one
    by one (:func:`chapter_key`), and to tell when the library changed."""
    h = hashlib.sha256()
    times = root / "benchmarks" / "results" / "chapter_times.json"
    extra = [root / "requirements.txt"] + ([times] if times.is_file() else [])
    for path in sorted((root / "lib" / "lrlab").rglob("*.py")) + extra:
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def invalidate_if_stale(root: Path) -> bool:
    """Drop the whole cache when the library, the pins or the times changed (:func:`inputs_hash`): the rule for a
    book whose chapters cannot be keyed one by one (:func:`chapter_key`)."""
    folder = cache_path(root)
    stamp = folder / LIBRARY_STAMP
    current = inputs_hash(root)
    if folder.exists() and (not stamp.is_file() or stamp.read_text() != current):
        shutil.rmtree(folder)
        shutil.rmtree(root / "_build" / ".doctrees", ignore_errors=True)  # so Sphinx re-reads every chapter
        print("lrlab.book: the library or the pins changed since the last build: cleared the execution cache")
        return True
    return False


CHAPTER_STAMPS = "lrlab-chapters.json"
"""In the cache folder: ``{notebook path: chapter_key}`` of the chapters as they were when last executed."""
LIBRARY_STAMP = "lrlab-inputs.sha256"
"""In the cache folder: :func:`inputs_hash` at the last build."""


def chapter_key(root: Path, notebook: Path) -> str | None:
    """What a chapter's outputs depend on besides its own code, hashed: the ``lrlab`` source it imports, as the sweep
    cache follows it (``lrlab.sweep.keys.source_hash``), the runtime pins (``requirements.txt``) and the measured
    chapter times its runtime badge shows. Not the notebook: jupyter-cache compares its code itself. ``None`` when
    the chapter cannot be keyed on its own: ``notebook`` is not a chapter of the study registry, or ``root`` is not
    the book the imported ``lrlab`` belongs to."""
    from lrlab import studies
    from lrlab.sweep import keys

    chapter = notebook.stem
    try:
        if keys.lrlab_root() != (root / "lib" / "lrlab").resolve() or chapter not in studies.available():
            return None
        if studies.notebook(chapter).resolve() != notebook.resolve():
            return None
        inputs = {"source": keys.source_hash(chapter)}
    except (OSError, KeyError, ValueError):
        return None
    for name, path in (("requirements", root / "requirements.txt"),
                       ("chapter_times", root / "benchmarks" / "results" / "chapter_times.json")):
        inputs[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def drop_changed(cache, folder: Path, keyed: dict[Path, str], trust_unstamped: bool) -> list[Path]:
    """Drop the cache record of every chapter of ``keyed`` (notebook → :func:`chapter_key`) whose key changed since
    it was cached, touch its notebook (so Sphinx reads it again), record the current keys in ``folder``; return
    the chapters dropped. A cached chapter with no recorded key is kept when ``trust_unstamped`` (the library and
    the pins are those of the last build), dropped otherwise."""
    path = folder / CHAPTER_STAMPS
    try:
        stamps = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        stamps = {}
    dropped = []
    for nb, key in keyed.items():
        uri = str(nb)
        known = stamps.get(uri)
        record = cache.get_cached_project_nb(uri)
        if record is not None and known != key and not (known is None and trust_unstamped):
            cache.remove_cache(record.pk)
            nb.touch()
            dropped.append(nb)
        stamps[uri] = key
    path.write_text(json.dumps(stamps, indent=1, sort_keys=True))
    return dropped


def library_pages(root: Path) -> list[Path]:
    """The pages of the table of contents that render the library's docstrings (``automodule`` and kin)."""
    pages = []
    for f in toc_files(root):
        for path in (root / f"{f}.md", root / f"{f}.rst"):
            if path.is_file() and ".. auto" in path.read_text():
                pages.append(path)
    return pages


def is_page(root: Path, notebook: Path) -> bool:
    """True for a notebook under ``book/`` (a page that reads the chapters' results), False for a chapter."""
    return notebook.resolve().relative_to(root.resolve()).parts[0] == "book"


def drop_cached(cache, notebooks: list[Path]) -> int:
    """Remove the jupyter-cache records of ``notebooks`` (those cached); return how many were removed."""
    dropped = 0
    for nb in notebooks:
        record = cache.get_cached_project_nb(str(nb))
        if record is not None:
            cache.remove_cache(record.pk)
            dropped += 1
    return dropped


def execute(cache, notebooks: list[Path], timeout: int) -> list[str]:
    """Execute ``notebooks`` side by side into ``cache`` (jupyter-cache's local-parallel executor, in each
    notebook's folder); return the URIs that failed: a cell raised (jupyter-cache's "excepted", e.g. a chapter's
    ``card.check()``) or the execution itself failed ("errored")."""
    if not notebooks:
        return []
    import multiprocessing

    from jupyter_cache.executors import load_executor
    from jupyter_cache.executors.basic import ProcessData

    start = time.perf_counter()
    executor = load_executor("local-parallel", cache=cache)
    records = executor.get_records([str(nb) for nb in notebooks], None, clear_tracebacks=True)
    # longest first, one notebook per task: the pool's last worker does not start the longest chapter late
    records.sort(key=lambda r: -expected_seconds(Path(r.uri)))
    with multiprocessing.Pool() as pool:
        results = pool.map(executor._EXECUTION_WORKER(),
                           [ProcessData(r.pk, r.uri, cache, timeout, False) for r in records], chunksize=1)
    failed = [uri for code, uri in results if code != 0]
    print(f"lrlab.book: executed {len(results) - len(failed)}, failed {len(failed)} in "
          f"{time.perf_counter() - start:.0f} s")
    return failed


def expected_seconds(notebook: Path) -> float:
    """A notebook's measured wall time at scale ``book`` (``benchmarks/results/chapter_times.json``, via
    :mod:`lrlab.timings`), 0 when it was not measured: the order in which :func:`execute` starts them."""
    from lrlab import timings

    entry = ((timings.load() or {}).get("chapters") or {}).get(notebook.stem, {}).get("book", {})
    return float(entry.get("wall_s") or 0.0)


def prefill(root: Path, timeout: int) -> int:
    """Execute every chapter notebook not cached or whose :func:`chapter_key` changed, then every page under
    ``book/``; return the number that failed.

    Chapters first: the pages under ``book/`` read the results the chapters write (``_build/results``). The pages
    are executed on every call (their cache records dropped first) and touched, so the build re-reads them.
    """
    from jupyter_cache import get_cache

    notebooks = toc_notebooks(root)
    pages = [nb for nb in notebooks if is_page(root, nb)]
    chapters = [nb for nb in notebooks if not is_page(root, nb)]
    keyed = {nb: chapter_key(root, nb) for nb in chapters}
    if any(key is None for key in keyed.values()):
        invalidate_if_stale(root)
    folder = cache_path(root)
    folder.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(folder))
    library = inputs_hash(root)
    stamp = folder / LIBRARY_STAMP
    same_library = stamp.is_file() and stamp.read_text() == library
    stamp.write_text(library)
    if not same_library:
        for page in library_pages(root):
            page.touch()  # autodoc: Sphinx does not know a page depends on the docstrings it renders
    for nb in notebooks:
        cache.add_nb_to_project(str(nb))
    changed = drop_changed(cache, folder, {nb: k for nb, k in keyed.items() if k is not None}, same_library)
    if changed:
        print("lrlab.book: the lrlab code, pins or run times of these chapters changed since they were cached: "
              + ", ".join(nb.stem for nb in changed))
    drop_cached(cache, pages)
    stale = [nb for nb in chapters if cache.get_cached_project_nb(str(nb)) is None]
    print(f"lrlab.book: {len(chapters) - len(stale)} chapters cached, executing {len(stale)} on {os.cpu_count()} "
          f"cores, then {len(pages)} pages under book/")
    failed = execute(cache, stale, timeout)
    failed += execute(cache, pages, timeout)
    for nb in pages:
        nb.touch()  # Sphinx reads a document again only when its file is newer than its last read
    for uri in failed:
        print(f"lrlab.book: FAILED {uri} (the build will execute it again and show the traceback)")
    return len(failed)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    p.add_argument("--root", type=Path, default=Path.cwd())
    args = p.parse_args()
    prefill(args.root.resolve(), args.timeout)
    return 0  # failures are reported by the build itself


if __name__ == "__main__":
    sys.exit(main())


def _one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    """Sphinx 7 lists a script added with ``add_js_file(None, body=...)`` twice (``None`` and ``''`` differ; fixed
    in Sphinx 8.2, sphinx-doc/sphinx#13402, which Jupyter Book 1 cannot use): sphinx-thebe's ``const THEBE_JS_URL``
    declared twice is a SyntaxError on every page. Keep one copy of each script."""
    files = context.get("script_files")
    if files:
        seen, unique = set(), []
        for js in files:
            key = (js.filename or "", tuple(sorted(js.attributes.items())), js.priority)
            if key not in seen:
                seen.add(key)
                unique.append(js)
        files[:] = unique


def setup(app):
    """A Sphinx extension (``_config.yml`` lists ``lrlab.book``): the script de-duplication above."""
    app.connect("html-page-context", _one_copy_of_each_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
