from pathlib import Path

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
    listed = {p.stem for p in book.toc_notebooks(ROOT)}
    assert listed == {p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
    assert book.cache_path(ROOT) == ROOT / "_build" / ".jupyter_cache"


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
