"""``make test`` end to end from a fresh clone, as CI runs it: clone this checkout's HEAD, run ``.ci/run``.

The clone starts with nothing: the virtual environment is installed from the pinned requirements, MathJax from npm,
the Debian packages with apt-get (already present on this machine), then lint, unit tests, every chapter under
nbval, the book build and the page checks. Writes ``benchmarks/results/make_test.json`` (target: at most 20 min).

    python benchmarks/bench_make_test.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import common

LIMIT_S = 20 * 60.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", action="store_true", help="keep the clone (its _build/ has the screenshots)")
    args = p.parse_args()
    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="lrlab-make-test-"))
    clone = tmp / "lrlab"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    log = tmp / "make_test.log"
    start = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(["bash", ".ci/run"], cwd=clone, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "CI": "true"}).returncode
    wall = time.perf_counter() - start
    tail = log.read_text().splitlines()[-15:]
    print("\n".join(tail))
    rows = [common.row("make test from a fresh clone (.ci/run)", "wall time", wall, "limit", LIMIT_S,
                       wall / LIMIT_S, "≤ 1 (20 minutes)", rc == 0 and wall <= LIMIT_S,
                       note=f"exit status {rc}; ratio = wall time / 20 min")]
    common.save("make_test", "make test end to end", rows, {"commit": head, "exit_status": rc, "wall_s": wall,
                                                             "log_tail": tail})
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {clone}")


if __name__ == "__main__":
    main()
