"""Run every torch chapter's code cells top to bottom, at scale ``quick``, on the device ``$LRLAB_DEVICE`` names.

A check for a machine with a GPU but without the book's Jupyter stack (the GPU image has torch, numpy, pandas and
matplotlib, not papermill or myst-nb): the cells are executed in order in one namespace, as the kernel would, with
``myst_nb.glue`` and (where IPython is missing) ``IPython.display`` replaced by no-ops. It finds code that only
fails on a GPU (a CPU tensor meeting a CUDA one, ``.numpy()`` on a CUDA tensor) before a paper-scale run meets it
hours in::

    PYTHONPATH=lib LRLAB_DEVICE=cuda LRLAB_FASHION_MNIST=/path/to/fashion-mnist python3 \\
        benchmarks/check_chapters_on_device.py [CHAPTER ...]

Exit status 1 if any chapter failed; each failure is printed with its cell and traceback.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
import traceback
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("eos_ntk", "fluctuations", "sphere_regimes", "periodic_bn_wd")


def _stub_notebook_modules() -> None:
    glue = types.ModuleType("myst_nb")
    glue.glue = lambda *args, **kwargs: None
    sys.modules["myst_nb"] = glue
    try:
        from IPython.display import display  # noqa: F401
    except ImportError:
        ipython, display_mod = types.ModuleType("IPython"), types.ModuleType("IPython.display")

        class _Shown:
            def __init__(self, *args, **kwargs):
                self.data = args[0] if args else None

        display_mod.Markdown = display_mod.HTML = display_mod.Image = display_mod.Latex = _Shown
        display_mod.display = lambda *args, **kwargs: None
        ipython.version_info = (0, 0)  # what matplotlib asks of an IPython it finds
        ipython.get_ipython = lambda: None
        ipython.display = display_mod
        sys.modules["IPython"], sys.modules["IPython.display"] = ipython, display_mod
    builtins.display = sys.modules["IPython.display"].display


def code_cells(chapter: str, scale: str = "quick") -> list[str]:
    """The chapter's code cells, its ``parameters`` cell set to ``scale``."""
    nb = json.loads((ROOT / "chapters" / f"{chapter}.ipynb").read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if "parameters" in cell["metadata"].get("tags", []):
            src = src.replace('scale = "book"', f'scale = "{scale}"')
        cells.append(src)
    return cells


def run_chapter(chapter: str) -> bool:
    import matplotlib.pyplot as plt

    os.chdir(ROOT / "chapters")
    namespace: dict = {"__name__": "__main__"}
    start = time.perf_counter()
    index = 0
    try:
        for index, src in enumerate(code_cells(chapter)):
            exec(compile(src, f"{chapter}[cell {index}]", "exec"), namespace)  # noqa: S102 — the chapter's own code
    except Exception:  # noqa: BLE001 — reported, the other chapters go on
        print(f"{chapter}: FAILED at cell {index} after {time.perf_counter() - start:.1f} s\n"
              f"{traceback.format_exc()[-3000:]}", flush=True)
        return False
    finally:
        plt.close("all")
    print(f"{chapter}: OK in {time.perf_counter() - start:.1f} s on {namespace.get('device')}", flush=True)
    return True


def main(argv: list[str]) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("LRLAB_PROGRESS", "0")
    os.environ.setdefault("LRLAB_RUN_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "lrlab-device-check"))
    unknown = sorted(set(argv) - set(CHAPTERS))
    if unknown:
        print(f"unknown chapter(s) {unknown}: choose from {', '.join(CHAPTERS)}", file=sys.stderr)
        return 2
    _stub_notebook_modules()
    results = [run_chapter(ch) for ch in (argv or CHAPTERS)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
