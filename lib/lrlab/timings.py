"""Measured run time of every chapter, per scale: the badge under each chapter's title and the teaching table.

``make bench`` times every chapter at scales ``quick`` and ``book`` (and ``paper`` where a GPU was at hand) and
writes ``benchmarks/results/chapter_times.json``::

    {"machine": {"cpu": "AMD EPYC 7B13", "cores": 2, "torch": "2.13.0", "python": "3.11.x",
                 "threads_per_process": 1},
     "measured_on": "2026-11-23",
     "chapters": {"eos_ntk": {"quick": {"wall_s": 14.2, "cpu_s": 13.0},
                              "book": {"wall_s": 95.1, "cpu_s": 90.0},
                              "paper": {"wall_s": 812.0, "device": "NVIDIA H100"}}, ...}}

``paper`` entries are optional. This module only reads that file. Whatever is missing (the file, a chapter, a
scale, a field) is rendered as "not measured yet", with the command that measures it: a chapter never fails
because its run time was not measured. Used by every chapter (:func:`badge`), by the teaching notes and by the
performance page (:func:`table`).
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lrlab.runtime import book_root

TIMES_ENV = "LRLAB_CHAPTER_TIMES"
"""Environment variable naming another ``chapter_times.json`` (tests, a machine of one's own)."""
RELATIVE_PATH = Path("benchmarks") / "results" / "chapter_times.json"
SCALES: tuple[str, ...] = ("quick", "book", "paper")
MEASURE_COMMAND = "make bench"
_CLOCK = ('<svg class="lrlab-badge-icon" viewBox="0 0 16 16" width="1em" height="1em" aria-hidden="true">'
          '<circle cx="8" cy="9" r="6" fill="none" stroke="currentColor" stroke-width="1.5"/>'
          '<path d="M8 5.5V9l2.5 1.5M6 1.5h4" fill="none" stroke="currentColor" stroke-width="1.5" '
          'stroke-linecap="round"/></svg>')
"""A stopwatch drawn inline (an emoji may be missing from the reader's fonts)."""


def default_path() -> Path:
    """``$LRLAB_CHAPTER_TIMES`` if set, else ``benchmarks/results/chapter_times.json`` in the book's checkout."""
    env = os.environ.get(TIMES_ENV)
    if env:
        return Path(env)
    return (book_root() or Path.cwd()) / RELATIVE_PATH


def load(path: str | Path | None = None) -> dict[str, Any] | None:
    """The parsed timings file, or ``None`` when it is missing, unreadable or not a JSON object."""
    path = Path(path) if path is not None else default_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def format_duration(seconds: float | None) -> str:
    """A wall time for a reader: ``0.4 s``, ``14 s``, ``1 min 35 s``, ``2 h 05 min``; ``—`` when unknown."""
    if seconds is None or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 1:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        minutes, rest = divmod(s, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h {rest:02d} min"


def _number(entry: Any, key: str) -> float | None:
    value = entry.get(key) if isinstance(entry, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _scale_entry(data: Mapping[str, Any] | None, chapter: str, scale: str) -> Mapping[str, Any] | None:
    chapters = data.get("chapters") if isinstance(data, Mapping) else None
    entry = chapters.get(chapter) if isinstance(chapters, Mapping) else None
    got = entry.get(scale) if isinstance(entry, Mapping) else None
    return got if isinstance(got, Mapping) and _number(got, "wall_s") is not None else None


def machine_text(machine: Mapping[str, Any] | None) -> str:
    """``a 2-core CPU (AMD EPYC 7B13, torch 2.13.0, 1 thread)`` from the file's ``machine`` object."""
    machine = machine if isinstance(machine, Mapping) else {}
    cores = machine.get("cores")
    head = f"a {cores}-core CPU" if isinstance(cores, int) and not isinstance(cores, bool) else "a CPU"
    details = []
    if machine.get("cpu"):
        details.append(str(machine["cpu"]))
    if machine.get("torch"):
        details.append(f"torch {machine['torch']}")
    threads = machine.get("threads_per_process")
    if isinstance(threads, int) and not isinstance(threads, bool):
        details.append(f"{threads} thread" + ("" if threads == 1 else "s"))
    return head + (f" ({', '.join(details)})" if details else "")


@dataclass(frozen=True)
class Badge:
    """The run-time badge of one chapter; a notebook displays it as HTML (``_repr_html_``)."""

    chapter: str
    quick_s: float | None = None
    book_s: float | None = None
    paper_s: float | None = None
    paper_device: str | None = None
    machine: str | None = None
    measured_on: str | None = None

    @property
    def measured(self) -> bool:
        """Whether the CPU scales (``quick``, ``book``) of this chapter have a measured time."""
        return self.quick_s is not None or self.book_s is not None

    def _paper_text(self) -> str:
        if self.paper_s is None:
            return "paper: for a GPU, not measured here"
        where = f" on {self.paper_device}" if self.paper_device else ""
        return f"paper: {format_duration(self.paper_s)}{where}"

    def text(self) -> str:
        """The badge as one line of plain text."""
        if not self.measured:
            return (f"⏱ run time of {self.chapter} not measured yet: `{MEASURE_COMMAND}` measures it "
                    f"(writes {RELATIVE_PATH.as_posix()}) · {self._paper_text()}")
        date = f", {self.measured_on}" if self.measured_on else ""
        return (f"⏱ quick {format_duration(self.quick_s)} · book {format_duration(self.book_s)} — measured on "
                f"{self.machine or 'a CPU'}{date} · {self._paper_text()}")

    def _repr_html_(self) -> str:
        e = html.escape
        paper = f'<span class="lrlab-badge-paper">{e(self._paper_text())}</span>'
        if not self.measured:
            return (f'<div class="lrlab-badge lrlab-badge-unmeasured" data-chapter="{e(self.chapter)}">'
                    f'{_CLOCK} <span class="lrlab-badge-time">run time not measured yet:</span> '
                    f'<span class="lrlab-badge-where">run <code>{e(MEASURE_COMMAND)}</code> to measure it '
                    f'(it writes <code>{e(RELATIVE_PATH.as_posix())}</code>)</span> · {paper}</div>')
        date = f', <span class="lrlab-badge-date">{e(self.measured_on)}</span>' if self.measured_on else ""
        return (f'<div class="lrlab-badge" data-chapter="{e(self.chapter)}">'
                f'{_CLOCK} <span class="lrlab-badge-time">quick <b>{e(format_duration(self.quick_s))}</b> · '
                f'book <b>{e(format_duration(self.book_s))}</b></span> '
                f'<span class="lrlab-badge-where">— measured on {e(self.machine or "a CPU")}{date}</span> · '
                f'{paper}</div>')

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()


def badge(chapter: str, path: str | Path | None = None) -> Badge:
    """The run-time badge of ``chapter`` (e.g. ``badge("eos_ntk")``), from ``chapter_times.json`` at ``path``.

    Never raises for missing or malformed data: the badge then says the time is not measured yet and how to
    measure it. Shown under the title of every chapter (a cell tagged ``remove-input``).
    """
    data = load(path)
    quick, book, paper = (_scale_entry(data, chapter, s) for s in SCALES)
    device = paper.get("device") if paper is not None else None
    measured_on = data.get("measured_on") if data is not None else None
    return Badge(
        chapter=chapter,
        quick_s=_number(quick, "wall_s"),
        book_s=_number(book, "wall_s"),
        paper_s=_number(paper, "wall_s"),
        paper_device=str(device) if device else None,
        machine=machine_text(data.get("machine")) if data is not None else None,
        measured_on=str(measured_on) if measured_on else None,
    )


def table(path: str | Path | None = None, chapters: list[str] | None = None) -> pd.DataFrame:
    """Every chapter's measured times, one row per chapter (index ``chapter``).

    Columns: ``quick_s``, ``book_s``, ``paper_s`` (wall seconds, NaN where not measured), ``quick_cpu_s``,
    ``book_cpu_s`` (CPU seconds), ``paper_device``, and ``quick``, ``book``, ``paper`` (the wall times
    formatted for reading, "not measured" where missing). ``chapters`` fixes the rows and their order (default:
    the book's chapters, then any other chapter found in the file).
    """
    data = load(path)
    if chapters is None:
        from lrlab.studies import CHAPTERS

        in_file = data.get("chapters") if data is not None else None
        extra = [c for c in in_file if c not in CHAPTERS] if isinstance(in_file, Mapping) else []
        chapters = [*CHAPTERS, *extra]
    rows = []
    for chapter in chapters:
        row: dict[str, Any] = {"chapter": chapter}
        for scale in SCALES:
            entry = _scale_entry(data, chapter, scale)
            wall = _number(entry, "wall_s")
            row[f"{scale}_s"] = math.nan if wall is None else wall
            if scale != "paper":
                cpu = _number(entry, "cpu_s")
                row[f"{scale}_cpu_s"] = math.nan if cpu is None else cpu
            row[scale] = format_duration(wall) if wall is not None else "not measured"
        paper = _scale_entry(data, chapter, "paper")
        row["paper_device"] = str(paper["device"]) if paper is not None and paper.get("device") else None
        rows.append(row)
    columns = ["chapter", "quick_s", "book_s", "paper_s", "quick_cpu_s", "book_cpu_s", "paper_device",
               "quick", "book", "paper"]
    return pd.DataFrame(rows, columns=columns).set_index("chapter")


def describe_machine(path: str | Path | None = None) -> str:
    """``a 2-core CPU (…), 2026-11-23`` for the file at ``path``; "not measured yet (`make bench`)" without one."""
    data = load(path)
    if data is None:
        return f"not measured yet (run {MEASURE_COMMAND})"
    date = f", {data['measured_on']}" if data.get("measured_on") else ""
    return machine_text(data.get("machine")) + date
