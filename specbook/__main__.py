"""Command line: ``python -m specbook run`` executes chapters, ``check`` compares their numbers.

Examples
--------
::

    python -m specbook run --profile smoke --jobs 4
    python -m specbook run 01 03 --profile book --resume
    python -m specbook run --profile book --executor dask --jobs 4
    python -m specbook run --profile full --executor dask --scheduler tcp://scheduler-host:8786
    python -m specbook check runs/smoke
    python -m specbook check runs/smoke --update
    python -m specbook assignments 01 02 --out assignments/
    python -m specbook report runs/book

Exit status: 0 when everything passed, 1 when a chapter failed or a number
moved, 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .checking import check_run
from .profiles import PROFILES


def _add_run_command(commands) -> None:
    run = commands.add_parser("run", help="execute chapters with papermill into a run folder")
    run.add_argument("chapters", nargs="*", metavar="CHAPTER",
                     help="chapters by stem (01_collider_world) or number (01); default: all")
    run.add_argument("--profile", choices=sorted(PROFILES), default="book",
                     help="sizes to run at (default: book)")
    run.add_argument("--seed", type=int, default=0, help="seed injected as SEED (default: 0)")
    run.add_argument("--jobs", type=int, default=1, help="chapters executed at once (default: 1)")
    run.add_argument("--out", type=Path, help="run folder (default: runs/PROFILE)")
    run.add_argument("--resume", action="store_true",
                     help="skip chapters that passed in the run folder with the same inputs")
    run.add_argument("--timeout", type=int, metavar="SECONDS",
                     help="seconds one cell may run (default: the profile's cell_timeout)")
    run.add_argument("--notebooks", type=Path, metavar="DIR",
                     help="folder of the chapters (default: ./notebooks)")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    # The choices of specbook.runner.EXECUTORS, spelled out: the runner needs papermill to import.
    run.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="where chapters run: local (this machine's processes) or dask (tasks on a "
                          "Dask cluster, as are the fits the chapters fan out); default: local")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --executor dask: scheduler of a running cluster, e.g. tcp://host:8786 "
                          "(default: a local cluster of --jobs workers, started for the run)")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: papermill is an optional extra (specbook[run]) and slow to import; `check` needs neither.
    from .runner import run_chapters

    try:
        result = run_chapters(
            args.chapters or None, profile=args.profile, seed=args.seed, out=args.out, jobs=args.jobs,
            resume=args.resume, notebooks_dir=args.notebooks, timeout=args.timeout, progress=args.progress,
            executor=args.executor, scheduler=args.scheduler,
        )
    except ImportError as exc:  # --executor dask without dask.distributed installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    for message in result.failure_messages():
        print(f"FAILED {message}", file=sys.stderr)
    return 0 if result.ok else 1


def _add_check_command(commands) -> None:
    check = commands.add_parser("check", help="compare a run's metrics with the expectations")
    check.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder written by `run`")
    check.add_argument("--against", type=Path, metavar="FILE",
                       help="expectations file (default: expected/PROFILE.json)")
    check.add_argument("--update", action="store_true", help="rewrite the expectations from this run")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    result = check_run(args.run_dir, against=args.against, update=args.update)
    print(result.summary())
    return 0 if result.ok else 1


def _add_assignments_command(commands) -> None:
    assignments = commands.add_parser(
        "assignments", help="write student notebooks (solutions as stubs) and instructor copies")
    assignments.add_argument("chapters", nargs="*", metavar="CHAPTER",
                             help="chapters by stem or number; default: every chapter with exercises")
    assignments.add_argument("--out", type=Path, default=Path("assignments"),
                             help="folder for student/ and instructor/ (default: ./assignments)")
    assignments.add_argument("--profile", choices=sorted(PROFILES),
                             help="profile written into the copies (default: the chapter's own, book)")
    assignments.add_argument("--notebooks", type=Path, metavar="DIR",
                             help="folder of the chapters (default: ./notebooks)")
    assignments.set_defaults(handler=_assignments)


def _assignments(args: argparse.Namespace) -> int:
    from .assignments import make_assignments

    written = make_assignments(args.chapters or None, args.out, notebooks_dir=args.notebooks,
                               profile=args.profile)
    for chapter in written:
        labels = ", ".join(exercise.label for exercise in chapter.exercises)
        print(f"{chapter.stem}: {len(chapter.exercises)} exercise(s) ({labels})")
    print(f"{len(written)} chapter(s): student copies in {args.out / 'student'}, "
          f"instructor copies in {args.out / 'instructor'}")
    return 0


def _add_report_command(commands) -> None:
    report = commands.add_parser(
        "report", help="write the reproduction report and the status page of a run folder")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder written by `run`")
    report.add_argument("--out", type=Path, metavar="DIR",
                        help="folder for reproduction.md and status.md (default: RUN_DIR)")
    report.add_argument("--strict", action="store_true",
                        help="refuse a stale run (package sources or chapters changed since it ran), for releases")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from .provenance import staleness
    from .reproduction import judge_run, read_run, write_report

    written = write_report(args.run_dir, args.out, strict=args.strict)  # refuses a dirty (or, strict, stale) run
    for verdict in judge_run(args.run_dir):
        print(f"{verdict.verdict:<15} {verdict.claim.experiment}")
    for path in written:
        print(f"wrote {path}")
    changes = staleness(read_run(args.run_dir))
    if changes:
        print(f"warning: stale run ({len(changes)} input(s) changed since it ran, e.g. {changes[0]}); "
              "the pages carry a banner", file=sys.stderr)
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m specbook",
        description="Execute the book's chapters and check the numbers they report.",
        epilog="Exit status: 0 all passed, 1 a chapter failed or a number moved, 2 bad arguments.",
    )
    # A new subcommand is one _add_<name>_command function (its parser, with handler=) and its handler.
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_command(commands)
    _add_check_command(commands)
    _add_assignments_command(commands)
    _add_report_command(commands)
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m specbook`` and the ``specbook`` script; returns the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
