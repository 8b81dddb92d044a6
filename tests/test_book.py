import json
import os
from pathlib import Path

import pytest

from lrlab import book

ROOT = Path(__file__).resolve().parents[1]


def test_toc_notebooks_lists_only_built_chapters(tmp_path):
    (tmp_path / "chapters").mkdir()
    for name in ("a", "b"):
        (tmp_path / "chapters" / f"{name}.ipynb").write_text("{}")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: S\n    chapters:\n      - file: chapters/a\n"
        "      - file: book/rerun\n"
    )
    assert book.toc_notebooks(tmp_path) == [tmp_path / "chapters" / "a.ipynb"]


def test_the_real_toc_lists_every_chapter_and_the_cache_path_is_the_configs():
    listed = book.toc_notebooks(ROOT)
    chapters = [p for p in listed if not book.is_page(ROOT, p)]
    assert {p.stem for p in chapters} == {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    assert all(p.parent == ROOT / "book" for p in listed if book.is_page(ROOT, p))
    assert book.cache_path(ROOT) == ROOT / "_build" / ".jupyter_cache"


def test_the_synthesis_closes_the_studies_in_the_toc():
    files = book.toc_files(ROOT)
    last_chapter = max(i for i, f in enumerate(files) if f.startswith("chapters/"))
    assert files[last_chapter + 1] == "book/synthesis"
    assert ROOT / "book" / "synthesis.ipynb" in book.toc_notebooks(ROOT)


def test_cache_is_cleared_when_the_library_changes(tmp_path):
    (tmp_path / "lib" / "lrlab").mkdir(parents=True)
    (tmp_path / "lib" / "lrlab" / "a.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy==1\n")
    (tmp_path / "_config.yml").write_text("execute:\n  cache: _build/.jupyter_cache\n")
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True)
    (cache / "lrlab-inputs.sha256").write_text(book.inputs_hash(tmp_path))
    assert not book.invalidate_if_stale(tmp_path) and cache.exists()
    (tmp_path / "lib" / "lrlab" / "a.py").write_text("x = 2\n")
    assert book.invalidate_if_stale(tmp_path) and not cache.exists()


def test_new_chapter_times_reexecute_the_chapters(tmp_path):
    """The chapters' runtime badges show benchmarks/results/chapter_times.json: new times make the cache stale."""
    (tmp_path / "lib" / "lrlab").mkdir(parents=True)
    (tmp_path / "requirements.txt").write_text("numpy==1\n")
    before = book.inputs_hash(tmp_path)
    times = tmp_path / "benchmarks" / "results" / "chapter_times.json"
    times.parent.mkdir(parents=True)
    times.write_text('{"chapters": {}}')
    after = book.inputs_hash(tmp_path)
    times.write_text('{"chapters": {"x": {}}}')
    assert len({before, after, book.inputs_hash(tmp_path)}) == 3


def _notebook(path: Path, code: str) -> Path:
    """A minimal nbformat-4 notebook with one code cell (jupyter-cache keys a notebook on its code)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": code, "outputs": [],
                   "execution_count": None}],
    }))
    return path


def _executed(path: Path) -> Path:
    """A copy of a notebook as if executed (an output on its cell), for caching it without a kernel."""
    nb = json.loads(path.read_text())
    nb["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    nb["cells"][0]["execution_count"] = 1
    out = path.with_name(path.stem + ".executed.ipynb")
    out.write_text(json.dumps(nb))
    return out


@pytest.fixture
def tiny_book(tmp_path):
    """A book with two chapters and two pages under book/, a library and pins, no real execution."""
    (tmp_path / "lib" / "lrlab").mkdir(parents=True)
    (tmp_path / "lib" / "lrlab" / "a.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy==1\n")
    (tmp_path / "_config.yml").write_text("execute:\n  cache: _build/.jupyter_cache\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: S\n    chapters:\n      - file: chapters/a\n"
        "      - file: chapters/b\n      - file: book/synthesis\n  - caption: U\n    chapters:\n"
        "      - file: book/perf\n      - file: book/glossary\n")
    for name, code in (("chapters/a", "1 + 1"), ("chapters/b", "2 + 2"), ("book/synthesis", "3 + 3"),
                       ("book/perf", "4 + 4")):
        _notebook(tmp_path / f"{name}.ipynb", code)
    return tmp_path


def _record_execute(monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake(cache, notebooks, timeout):
        calls.append([str(nb.relative_to(nb.parents[1]).with_suffix("")) for nb in notebooks])
        return []

    monkeypatch.setattr(book, "execute", fake)
    return calls


def test_pages_under_book_are_told_apart_from_chapters(tiny_book):
    kinds = {str(nb.relative_to(tiny_book)): book.is_page(tiny_book, nb) for nb in book.toc_notebooks(tiny_book)}
    assert kinds == {"chapters/a.ipynb": False, "chapters/b.ipynb": False, "book/synthesis.ipynb": True,
                     "book/perf.ipynb": True}


def test_prefill_executes_the_chapters_first_then_the_pages(tiny_book, monkeypatch):
    calls = _record_execute(monkeypatch)
    assert book.prefill(tiny_book, timeout=10) == 0
    assert calls == [["chapters/a", "chapters/b"], ["book/synthesis", "book/perf"]]


def test_prefill_re_executes_pages_every_time_but_not_cached_chapters(tiny_book, monkeypatch):
    from jupyter_cache import get_cache

    folder = book.cache_path(tiny_book)
    folder.mkdir(parents=True)
    (folder / "lrlab-inputs.sha256").write_text(book.inputs_hash(tiny_book))
    cache = get_cache(str(folder))
    for name in ("chapters/a", "chapters/b", "book/synthesis", "book/perf"):
        nb = tiny_book / f"{name}.ipynb"
        cache.cache_notebook_file(str(_executed(nb)), uri=str(nb), check_validity=False)
    page = tiny_book / "book" / "synthesis.ipynb"
    os.utime(page, (1_000_000_000, 1_000_000_000))
    calls = _record_execute(monkeypatch)
    book.prefill(tiny_book, timeout=10)
    assert calls == [[], ["book/synthesis", "book/perf"]]
    cache = get_cache(str(folder))
    assert cache.get_cached_project_nb(str(tiny_book / "chapters" / "a.ipynb")) is not None
    assert cache.get_cached_project_nb(str(page)) is None  # dropped; the real executor would cache it again
    assert page.stat().st_mtime > 1_000_000_000  # touched, so Sphinx reads the page again


def test_prefill_reports_failures_of_both_rounds(tiny_book, monkeypatch):
    monkeypatch.setattr(book, "execute", lambda cache, notebooks, timeout: [str(nb) for nb in notebooks[:1]])
    assert book.prefill(tiny_book, timeout=10) == 2


def test_execute_counts_cells_that_raise_as_failures(tmp_path):
    from jupyter_cache import get_cache

    cache = get_cache(str(tmp_path / "cache"))
    ok, bad = _notebook(tmp_path / "ok.ipynb", "x = 1"), _notebook(tmp_path / "bad.ipynb", "raise ValueError('no')")
    for nb in (ok, bad):
        cache.add_nb_to_project(str(nb))
    assert book.execute(cache, [ok, bad], timeout=60) == [str(bad)]
    assert cache.get_cached_project_nb(str(ok)) is not None and cache.get_cached_project_nb(str(bad)) is None
    assert book.execute(None, [], timeout=10) == []
