"""The ``lrlab`` command: ``run``, ``list``, ``show``, ``sweep`` and ``report`` (see ``lrlab --help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lrlab.config import SCALES


def _version() -> str:
    """The installed distribution's version (``importlib.metadata``), as ``pip show lrlab`` gives it."""
    from importlib import metadata

    try:
        return metadata.version("lrlab")
    except metadata.PackageNotFoundError:
        return "(not installed: pip install -e .)"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lrlab", description="Re-run the chapters of the lrlab book.")
    p.add_argument("--version", action="version", version=f"lrlab {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="execute a chapter with new parameters into a run folder")
    r.add_argument("chapter", help="chapter name, e.g. fluctuations (see `lrlab list`)")
    r.add_argument("--scale", default="book", help=f"preset: {' | '.join(SCALES)} (default book)")
    r.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter (value read as YAML: 50, 0.1, [0.1,0.01], adam); repeatable")
    r.add_argument("-f", "--params-file", metavar="FILE", help="YAML file of NAME: VALUE overrides")
    r.add_argument("-o", "--out", metavar="DIR", help="run folder (default runs/<chapter>/<time>-<scale>)")
    r.add_argument("--strict", action="store_true",
                   help="exit 1 when a claim expected at this scale is not reproduced")
    r.add_argument("--log-output", action="store_true", help="stream the notebook's output while it runs")
    r.epilog = ("On a terminal a progress line shows cells done, elapsed time and the section being run "
                "(LRLAB_PROGRESS=0 or CI=1 turn it off). Ctrl-C stops the run with exit code 130 and marks its "
                "status.json interrupted.")

    sub.add_parser("list", help="the chapters and their parameters at each scale")
    s = sub.add_parser("show", help="a run folder's parameters, status and scorecard")
    s.add_argument("folder")

    w = sub.add_parser("sweep", help="run a chapter over a grid of parameters and seeds, cached and resumable")
    w.add_argument("chapter", help="chapter name, e.g. fluctuations (see `lrlab list`)")
    w.add_argument("--scale", default="book", help=f"preset: {' | '.join(SCALES)} (default book, as `lrlab run`)")
    w.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="a swept parameter and its values (read as YAML; a list value in brackets: "
                        "lrs=[0.1,0.01],[0.001]); repeatable: the sweep is the product of the grids")
    w.add_argument("--seeds", default="0", help="seeds, e.g. 0-4 or 0,3,7 (default 0)")
    w.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter at every point (as `lrlab run -p`); repeatable")
    w.add_argument("-f", "--params-file", metavar="FILE", help="YAML file of NAME: VALUE overrides for every point")
    w.add_argument("--workers", type=int, metavar="N",
                   help="points run at once: local processes, or LocalCluster workers (default: CPU cores)")
    where = w.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS (tcp://host:8786)")
    where.add_argument("--scheduler-file", metavar="PATH",
                       help="run on the Dask cluster whose scheduler wrote PATH (dask scheduler --scheduler-file)")
    where.add_argument("--dask-local", action="store_true", help="run on a Dask LocalCluster started for the sweep")
    w.add_argument("-o", "--out", metavar="DIR",
                   help="sweep folder (default runs/sweeps/<chapter>-<scale>-<hash of the points>)")
    w.add_argument("--cache", metavar="DIR", help="run cache shared by sweeps (default $LRLAB_CACHE or runs/cache)")
    w.add_argument("--retry-failed", action="store_true", help="rerun the points whose last run failed")
    w.add_argument("--timeout", type=float, metavar="SECONDS", help="stop a point that runs longer (recorded failed)")
    w.add_argument("--device", choices=("cpu", "cuda"), help="device of every run (default $LRLAB_DEVICE or cpu)")

    from lrlab.audit import command as audit_command

    audit_command.add_parser(sub)

    rp = sub.add_parser("report", help="a sweep's tidy table (CSV, Parquet) and summary figure")
    rp.add_argument("folder", help="a sweep folder (holding sweep.json)")
    rp.add_argument("-o", "--out", metavar="DIR", help="where to write (default SWEEP_DIR/report)")
    return p


def _run(args: argparse.Namespace) -> int:
    from lrlab import runs

    params = runs.load_params_file(args.params_file) if args.params_file else {}
    params.update(runs.parse_assignments(args.param))
    runs.resolve(args.chapter, args.scale, params)  # fail fast, before any kernel
    record = runs.run_chapter(args.chapter, args.scale, params, args.out, log_output=args.log_output)
    print(runs.show(record.folder))
    print(f"run folder: {record.folder}")
    if not record.ok:
        print(f"error: the notebook failed: {record.error}", file=sys.stderr)
        return 1
    if args.strict and not record.strict_ok:
        failed = [c.id for c in record.claims if not c.ok]
        print(f"error: --strict: expected claims not reproduced: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from lrlab import runs, sweep

    fixed = runs.load_params_file(args.params_file) if args.params_file else {}
    fixed.update(sweep.parse_assignments(args.param))
    result = sweep.run_sweep(
        args.chapter, args.scale, sweep.parse_grid(args.grid), sweep.parse_seeds(args.seeds), fixed,
        folder=args.out, cache=args.cache, workers=args.workers, scheduler=args.scheduler,
        scheduler_file=args.scheduler_file, dask_local=args.dask_local, retry_failed=args.retry_failed,
        timeout=args.timeout, device=args.device,
        log=lambda msg: tqdm.write(msg, file=sys.stderr),
    )
    print(result.summary())
    print(f"sweep folder: {result.folder}")
    if result.failed:
        print(f"error: {len(result.failed)} point(s) failed: {', '.join(result.failed)} "
              "(see points.json; rerun them with --retry-failed)", file=sys.stderr)
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from lrlab import report

    made = report.report(args.folder, args.out)
    print(made.summary())
    for path in made.written:
        print(f"wrote {path}")
    return 0


def _list() -> int:
    from lrlab import studies

    for name in studies.available():
        module = studies.load(name)
        print(f"{name}: {module.TITLE}")
        print(f"  {'parameter':<14}" + "".join(f"{s:<26}" for s in SCALES) + "allowed")
        print(f"  {'seed':<14}" + "".join(f"{0!s:<26}" for _ in SCALES) + "an integer >= 0")
        for p in module.SPEC.params:
            vals = "".join(f"{_fmt(p.presets[s]):<26}" for s in SCALES)
            print(f"  {p.name:<14}{vals}{p.allowed()}")
        print()
    return 0


def _fmt(v: object) -> str:
    if isinstance(v, tuple):
        return "[" + ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "list":
            return _list()
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "report":
            return _report(args)
        if args.command == "audit":
            from lrlab.audit import command

            return command.run_cli(args)
        from lrlab import runs

        print(runs.show(args.folder))
        return 0
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C: one line, no traceback, the shell's code for SIGINT
        if not str(e) and args.command == "sweep":
            e = KeyboardInterrupt("interrupted: the sweep keeps every finished point; the same command resumes it")
        print(str(e) or "interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
