"""Execute the book's chapters in parallel into Jupyter Book's execution cache.

``jupyter-book build`` with ``execute_notebooks: cache`` executes every notebook whose code changed, one after
another. ``make book`` first runs ``python -m lrlab.book``, which executes the out-of-date chapters side by side
(a process pool over the cores, one torch thread each) into the same jupyter-cache (``_build/.jupyter_cache``, as set in
``_config.yml``); the build then renders from the cache. A chapter that fails here is left uncached, so the build
executes it again and reports the error with its traceback.

The notebooks under ``book/`` (the synthesis, the performance page, ...) read what the chapters and the benchmarks
wrote, not code of their own, so jupyter-cache, which keys a notebook on its code only, cannot tell when they are
out of date. They run in a second round, after the chapters, and every time: their cache records are dropped
first, and their files are touched so that Sphinx reads them again.
"""

from __future__ import annotations

import argparse
import hashlib
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
    """Hash of what a chapter's outputs depend on besides its own code: the lrlab source, the pins and the measured
    chapter times its runtime badge shows (``benchmarks/results/chapter_times.json``, :mod:`lrlab.timings`)."""
    h = hashlib.sha256()
    times = root / "benchmarks" / "results" / "chapter_times.json"
    extra = [root / "requirements.txt"] + ([times] if times.is_file() else [])
    for path in sorted((root / "lib" / "lrlab").rglob("*.py")) + extra:
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def invalidate_if_stale(root: Path) -> bool:
    """Jupyter-cache keys a notebook on its own code only; drop the cache when the library or the pins changed."""
    folder = cache_path(root)
    stamp = folder / "lrlab-inputs.sha256"
    current = inputs_hash(root)
    if folder.exists() and (not stamp.is_file() or stamp.read_text() != current):
        shutil.rmtree(folder)
        shutil.rmtree(root / "_build" / ".doctrees", ignore_errors=True)  # so Sphinx re-reads every chapter
        print("lrlab.book: the library or the pins changed since the last build: cleared the execution cache")
        return True
    return False


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
    from jupyter_cache.executors import load_executor

    start = time.perf_counter()
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_uris=[str(nb) for nb in notebooks], timeout=timeout, allow_errors=False)
    failed = [*result.excepted, *result.errored]
    print(f"lrlab.book: executed {len(result.succeeded)}, failed {len(failed)} in {time.perf_counter() - start:.0f} s")
    return failed


def prefill(root: Path, timeout: int) -> int:
    """Execute every chapter notebook not yet cached, then every page under ``book/``; return the number that failed.

    Chapters first: the pages under ``book/`` read the results the chapters write (``_build/results``). The pages
    are executed on every call (their cache records dropped first) and touched, so the build re-reads them.
    """
    from jupyter_cache import get_cache

    invalidate_if_stale(root)
    cache_path(root).mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(cache_path(root)))
    (cache_path(root) / "lrlab-inputs.sha256").write_text(inputs_hash(root))
    notebooks = toc_notebooks(root)
    for nb in notebooks:
        cache.add_nb_to_project(str(nb))
    pages = [nb for nb in notebooks if is_page(root, nb)]
    chapters = [nb for nb in notebooks if not is_page(root, nb)]
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
