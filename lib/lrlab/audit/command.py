"""The ``lrlab audit`` command: its arguments and what it prints (the work is :func:`lrlab.audit.runner.audit`).

Kept apart from the runner so that ``lrlab --help`` and ``lrlab list`` do not import the sweep engine.
"""

from __future__ import annotations

import sys
from typing import Any

from lrlab.audit.registry import HELD_OUT_SEEDS


def add_parser(sub: Any) -> None:
    """The ``lrlab audit`` subcommand's arguments (``lrlab.cli`` adds it)."""
    a = sub.add_parser("audit", help="run a chapter's claims against held-out seeds and mutants")
    a.add_argument("chapter", help="chapter name (see `lrlab list`)")
    a.add_argument("--scale", default="book", help="scale of the reference, held-out and mutant runs (default book)")
    a.add_argument("--mutants", default="all", help="all (default), none, or a comma-separated list of names")
    a.add_argument("--seeds", default=",".join(map(str, HELD_OUT_SEEDS)),
                   help="first seeds of the held-out seed sets (default: the five the chapters never used)")
    a.add_argument("--draws", type=int, default=0, metavar="N",
                   help="also run N random parameter sets at scale quick; each must end with a scorecard")
    a.add_argument("--workers", type=int, metavar="N", help="runs at once (default 2)")
    where = a.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS")
    where.add_argument("--dask-local", action="store_true", help="run on a Dask LocalCluster started for the audit")
    a.add_argument("--cache", metavar="DIR", help="run cache (default $LRLAB_CACHE or runs/cache)")
    a.add_argument("-o", "--out", metavar="DIR", help="audit folder (default runs/audit/<chapter>-<scale>)")
    a.add_argument("--no-write", action="store_true", help="do not write audit/results/<chapter>.json")


def run_cli(args: Any) -> int:
    """``lrlab audit``: run, print the grid, write the record; exit 1 when an asserted claim breaks a rule."""
    from lrlab.audit.runner import audit, summary
    from lrlab.sweep import parse_seeds

    mutants = args.mutants if args.mutants in ("all", "none") else [m for m in args.mutants.split(",") if m]
    record = audit(args.chapter, args.scale, mutants, parse_seeds(args.seeds), args.draws, workers=args.workers,
                   scheduler=args.scheduler, dask_local=args.dask_local, cache=args.cache, folder=args.out,
                   write=not args.no_write, log=lambda msg: print(msg, file=sys.stderr))
    print(summary(record))
    bad = [c["id"] for c in record["claims"] if c["asserted"] and not (c["rule_a"] and c["rule_b"])]
    broken = [d for d in record["draws"] if not d["scorecard"]]
    if bad:
        print(f"asserted claims that break a rule: {', '.join(bad)}", file=sys.stderr)
    if broken:
        print(f"{len(broken)} parameter draw(s) ended without a scorecard", file=sys.stderr)
    return 1 if bad or broken else 0

