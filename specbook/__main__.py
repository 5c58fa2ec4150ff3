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
    python -m specbook grade returned/*.ipynb --csv grades.csv
    python -m specbook report runs/book
    python -m specbook book --out _build
    python -m specbook pdf --out _build

Exit status
-----------
====  ===========================================================================
0     everything passed (``run``: every chapter in the run folder; ``check``: every
      number holds; ``report``, ``assignments``: the files were written; ``grade``:
      every notebook was graded, whatever the scores)
1     ``run``, ``book``: a chapter failed; ``check``: a number moved or a chapter
      failed; ``book``: Sphinx reported a warning or an error
2     a usage error: a bad argument, a folder or file that cannot be read or
      written, a run folder holding another run (``run --force`` replaces it) or
      an incomplete one (``check``, ``report``); one line on stderr, no traceback
130   ``run`` was interrupted (Ctrl-C, SIGTERM): the unfinished chapters are marked
      "interrupted" in the run folder, and ``run --resume`` runs them again
====  ===========================================================================
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .harness.checking import check_run
from .harness.profiles import PROFILES

# The shell's status for a process stopped by SIGINT (128 + 2).
_INTERRUPTED = 130


def _add_run_command(commands) -> None:
    run = commands.add_parser("run", help="execute chapters with papermill into a run folder")
    run.add_argument("chapters", nargs="*", metavar="CHAPTER",
                     help="chapters by stem (01_collider_world) or number (01); default: all")
    run.add_argument("--profile", choices=sorted(PROFILES), default="book",
                     help="sizes to run at (default: book)")
    run.add_argument("--seed", type=int, default=0, help="seed injected as SEED (default: 0)")
    run.add_argument("--jobs", type=int, help="chapters executed at once (default: the cores available, at most "
                                               "one per 4 GiB of free memory; 1 runs them one by one in this process)")
    run.add_argument("--out", type=Path, help="run folder (default: runs/PROFILE)")
    run.add_argument("--resume", action="store_true",
                     help="skip chapters that passed in the run folder with the same inputs")
    run.add_argument("--force", action="store_true",
                     help="replace a run of another profile or seed in the run folder (refused without it)")
    run.add_argument("--timeout", type=int, metavar="SECONDS",
                     help="seconds one cell may run (default: the profile's cell_timeout)")
    run.add_argument("--notebooks", type=Path, metavar="DIR",
                     help="folder of the chapters (default: ./notebooks)")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    # The choices of specbook.harness.runner.EXECUTORS, spelled out: the runner needs papermill to import.
    run.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="where chapters run: local (this machine's processes) or dask (tasks on a "
                          "Dask cluster, as are the fits the chapters fan out); default: local")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --executor dask: scheduler of a running cluster, e.g. tcp://host:8786 "
                          "(default: a local cluster of --jobs workers, started for the run)")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported here: papermill is an optional extra (specbook[run]) and slow to import; `check` needs neither.
    from .harness.runner import RunInterrupted, run_chapters

    try:
        result = run_chapters(
            args.chapters or None, profile=args.profile, seed=args.seed, out=args.out, jobs=args.jobs,
            resume=args.resume, notebooks_dir=args.notebooks, timeout=args.timeout, progress=args.progress,
            executor=args.executor, scheduler=args.scheduler, force=args.force,
        )
    except ImportError as exc:  # --executor dask without dask.distributed installed
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunInterrupted as stopped:
        print(stopped.result.summary())
        interrupted = stopped.result.interrupted
        print(f"interrupted: chapter(s) {', '.join(interrupted)} did not finish and have no numbers in "
              f"{stopped.result.out}; run them again with `python -m specbook run {' '.join(interrupted)} "
              f"--out {stopped.result.out} --resume` (with the same --profile and --seed).", file=sys.stderr)
        return _INTERRUPTED
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
    from .harness.assignments import make_assignments

    written = make_assignments(args.chapters or None, args.out, notebooks_dir=args.notebooks,
                               profile=args.profile)
    for chapter in written:
        labels = ", ".join(exercise.label for exercise in chapter.exercises)
        print(f"{chapter.stem}: {len(chapter.exercises)} exercise(s) ({labels})")
    print(f"{len(written)} chapter(s): student copies in {args.out / 'student'}, "
          f"instructor copies in {args.out / 'instructor'}")
    return 0


def _add_grade_command(commands) -> None:
    grade = commands.add_parser(
        "grade", help="execute returned student notebooks and score each exercise with the hidden checks")
    grade.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK",
                       help="student notebooks (.ipynb) written by `assignments` and filled in")
    grade.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per (notebook, exercise)")
    grade.add_argument("--chapters", type=Path, metavar="DIR", dest="chapters_dir",
                       help="folder of the chapters and their checks/ (default: ./notebooks)")
    grade.add_argument("--timeout", type=int, default=600, metavar="SECONDS",
                       help="seconds one cell may run (default: 600)")
    grade.set_defaults(handler=_grade)


def _grade(args: argparse.Namespace) -> int:
    from collections import Counter

    from .harness.grading import grade_notebooks

    start = time.perf_counter()
    grades = grade_notebooks(args.notebooks, csv_path=args.csv, notebooks_dir=args.chapters_dir,
                             timeout=args.timeout, progress=True)
    for grade in grades:
        if grade.status != "passed":
            print(f"  {grade.notebook} {grade.label}: {grade.status}: {grade.detail}")
    counts = Counter(grade.status for grade in grades)
    print(f"{len(args.notebooks)} notebook(s) graded in {time.perf_counter() - start:.0f} s: "
          + ", ".join(f"{counts[status]} {status}" for status in ("passed", "wrong", "not attempted", "error"))
          + (f"; CSV: {args.csv}" if args.csv else ""))
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
    from .harness.provenance import staleness
    from .harness.reproduction import judge_run, read_run, write_report

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


def _add_build_options(command, folders: str) -> None:
    """The options `book` and `pdf` share: one build folder, one run behind both."""
    command.add_argument("--out", type=Path, default=Path("_build"),
                         help=f"build folder, shared by `book` and `pdf`: {folders} go there (default: _build)")
    command.add_argument("--root", type=Path, default=Path("."), help="the repository (default: .)")
    command.add_argument("--profile", choices=sorted(PROFILES), default="book",
                         help="sizes the chapters run at (default: book)")
    command.add_argument("--jobs", type=int, help="chapters executed at once (default: as for run)")
    command.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")


def _add_book_command(commands) -> None:
    book = commands.add_parser("book", help="execute what changed (run --resume) and build the HTML book from it")
    _add_build_options(book, "run/, source/ and html/")
    book.set_defaults(handler=_book)


def _add_pdf_command(commands) -> None:
    pdf = commands.add_parser("pdf", help="execute what changed (run --resume) and print the book to PDF "
                                          "with headless Chromium")
    _add_build_options(pdf, "run/, source/, jb-pdf/ and pdf/specbook.pdf")
    pdf.set_defaults(handler=_pdf)


def _report_build(built, start: float, done: str, failed: str) -> int:
    """Print a `book` or `pdf` build's run, its log (whole on failure) and outcome; return its status."""
    print(built.run.summary())
    if built.log:
        print(built.log[-6000:] if built.returncode else built.log.strip().splitlines()[-1])
    seconds = f"{time.perf_counter() - start:.0f} s"
    if built.ok:
        print(done.format(seconds=seconds))
    else:
        print(f"error: {failed} ({seconds}); see above", file=sys.stderr)
    return built.returncode


def _book(args: argparse.Namespace) -> int:
    from .harness.book import build_book

    start = time.perf_counter()
    built = build_book(args.root, args.out, profile=args.profile, jobs=args.jobs, progress=args.progress)
    return _report_build(built, start, f"book built in {{seconds}}: open {built.html / 'index.html'}",
                         "the book did not build")


def _pdf(args: argparse.Namespace) -> int:
    from .harness.pdf import build_pdf

    start = time.perf_counter()
    built = build_pdf(args.root, args.out, profile=args.profile, jobs=args.jobs, progress=args.progress)
    return _report_build(built, start, f"PDF written in {{seconds}}: {built.pdf} ({built.pages} pages)",
                         "the PDF was not written")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m specbook",
        description="Execute the book's chapters and check the numbers they report.",
        epilog="Exit status: 0 all passed, 1 a chapter failed or a number moved, 2 a usage error "
               "(one line on stderr), 130 interrupted (run: rerun with --resume).",
    )
    # A new subcommand is one _add_<name>_command function (its parser, with handler=) and its handler.
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_command(commands)
    _add_check_command(commands)
    _add_assignments_command(commands)
    _add_grade_command(commands)
    _add_report_command(commands)
    _add_book_command(commands)
    _add_pdf_command(commands)
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m specbook`` and the ``specbook`` script; returns the exit status."""
    args = _build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the handler's own checks let through: still one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before `run` had written anything, or in another command
        print("interrupted", file=sys.stderr)
        return _INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
