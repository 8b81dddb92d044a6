"""Execute the book's chapters in parallel into Jupyter Book's execution cache.

``jupyter-book build`` with ``execute_notebooks: cache`` executes every notebook whose code changed, one after
another. ``make book`` first runs ``python -m lrlab.book``, which executes the out-of-date chapters side by side
(a process pool over the cores, one torch thread each) into the same jupyter-cache (``_build/.jupyter_cache``, as set in
``_config.yml``); the build then renders from the cache. A chapter that fails here is left uncached, so the build
executes it again and reports the error with its traceback.
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
    """Hash of what a chapter's outputs depend on besides its own code: the lrlab source and the pins."""
    h = hashlib.sha256()
    for path in sorted((root / "lib" / "lrlab").rglob("*.py")) + [root / "requirements.txt"]:
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


def prefill(root: Path, timeout: int) -> int:
    """Execute every chapter notebook not yet cached; return the number that failed."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    invalidate_if_stale(root)
    cache_path(root).mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(cache_path(root)))
    (cache_path(root) / "lrlab-inputs.sha256").write_text(inputs_hash(root))
    notebooks = toc_notebooks(root)
    for nb in notebooks:
        cache.add_nb_to_project(str(nb))
    stale = [nb for nb in notebooks if cache.get_cached_project_nb(str(nb)) is None]
    cores = os.cpu_count()
    print(f"lrlab.book: {len(notebooks) - len(stale)} chapters cached, executing {len(stale)} on {cores} cores")
    if not stale:
        return 0
    start = time.perf_counter()
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(filter_uris=[str(nb) for nb in stale], timeout=timeout, allow_errors=False)
    print(f"lrlab.book: executed {len(result.succeeded)}, failed {len(result.errored)} "
          f"in {time.perf_counter() - start:.0f} s")
    for uri in result.errored:
        print(f"lrlab.book: FAILED {uri} (the build will execute it again and show the traceback)")
    return len(result.errored)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    p.add_argument("--root", type=Path, default=Path.cwd())
    args = p.parse_args()
    prefill(args.root.resolve(), args.timeout)
    return 0  # failures are reported by the build itself


if __name__ == "__main__":
    sys.exit(main())
