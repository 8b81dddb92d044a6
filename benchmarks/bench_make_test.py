"""``make test`` end to end from a fresh clone, as CI runs it: clone this checkout's HEAD, run ``.ci/run``.

The clone starts with nothing: the virtual environment is installed from the hash-locked requirements, MathJax from
npm, the Debian packages with apt-get (already present on this machine), then lint, unit tests, every chapter under
nbval at scale quick, the book build at scale book and the page checks. Writes ``benchmarks/results/make_test.json``
(target: under 8 min).

``--baseline REV`` then measures a fresh clone of REV the same way, for a before/after pair in the same results
file; ``--overlay PATH ...`` copies those files or folders of the working tree over the clone, to measure changes not
yet committed.

    python benchmarks/bench_make_test.py [--keep] [--baseline REV] [--overlay PATH ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import common

LIMIT_S = 8 * 60.0


def rev_parse(root: Path, rev: str) -> str:
    return subprocess.run(["git", "rev-parse", rev], cwd=root, capture_output=True, text=True,
                          check=True).stdout.strip()


def measure(root: Path, tmp: Path, label: str, rev: str, overlay: list[str]) -> dict:
    """Clone ``rev`` of ``root`` into ``tmp/label``, copy ``overlay`` over it, time ``.ci/run`` there."""
    clone = tmp / label
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", rev], cwd=clone, check=True)
    for path in overlay:
        src, dst = root / path, clone / path
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    log = tmp / f"{label}.log"
    cpu_start = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(["bash", ".ci/run"], cwd=clone, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "CI": "true"}).returncode
    wall = time.perf_counter() - start
    cpu_end = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    tail = log.read_text().splitlines()[-15:]
    print(f"--- {label} ({rev[:10]}{' + ' + str(len(overlay)) + ' paths of the working tree' if overlay else ''}): "
          f"exit status {rc} in {wall:.0f} s, {cpu:.0f} CPU s")
    print("\n".join(tail))
    return {"commit": rev, "overlay": overlay, "exit_status": rc, "wall_s": wall, "cpu_s": cpu,
            "load_average_1min": [load_start, os.getloadavg()[0]], "log_tail": tail}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", action="store_true", help="keep the clones (their _build/ has the screenshots)")
    p.add_argument("--baseline", metavar="REV", help="then measure a fresh clone of this revision")
    p.add_argument("--overlay", nargs="+", default=[], metavar="PATH",
                   help="files or folders of the working tree to copy over the clone of HEAD")
    args = p.parse_args()
    root = Path(__file__).resolve().parents[1]
    head = rev_parse(root, "HEAD")
    tmp = Path(tempfile.mkdtemp(prefix="lrlab-make-test-"))
    after = measure(root, tmp, "after", head, args.overlay)
    before = measure(root, tmp, "before", rev_parse(root, args.baseline), []) if args.baseline else None
    wall, rc = after["wall_s"], after["exit_status"]
    rows = [common.row("make test from a fresh clone (.ci/run)", "wall time", wall, "limit", LIMIT_S,
                       wall / LIMIT_S, "≤ 1 (8 minutes)", rc == 0 and wall <= LIMIT_S,
                       note=f"exit status {rc}; ratio = wall time / 8 min")]
    if before is not None:
        rows.append(common.row(f"make test from a fresh clone, against {before['commit'][:10]}", "this tree",
                               wall, "before", before["wall_s"], before["wall_s"] / wall, "> 1 (faster)",
                               rc == 0 and before["exit_status"] == 0 and wall < before["wall_s"],
                               note=f"exit status {rc} (before: {before['exit_status']}); "
                                    "ratio = before / this tree"))
        rows.append(common.row(f"CPU time of make test from a fresh clone, against {before['commit'][:10]}",
                               "this tree", after["cpu_s"], "before", before["cpu_s"],
                               before["cpu_s"] / after["cpu_s"], "> 1 (less work)", after["cpu_s"] < before["cpu_s"],
                               unit="CPU s", note="user + system time of every process make test waited for; "
                                                  "less sensitive than wall time to other load on the machine"))
    details = {**after, "baseline": before}
    common.save("make_test", "make test end to end", rows, details)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}")


if __name__ == "__main__":
    main()
