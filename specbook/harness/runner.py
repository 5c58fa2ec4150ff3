"""Execute the book's chapters with papermill and gather the numbers they record.

Each chapter ``notebooks/NN_slug.ipynb`` is executed with its ``PROFILE`` and
``SEED`` parameters injected; what it passes to :func:`specbook.record` lands
in the run folder::

    runs/<profile>/
        notebooks/<stem>.ipynb   executed chapters (a failed one keeps its traceback)
        metrics/<stem>.json      what each chapter recorded
        state.json               input hash and status per chapter, for ``resume``
        cache/                   trained networks (checkpoints), picked up by a rerun
        metrics.json             everything above plus provenance; read by ``check``
        report.md                the same, for people

A chapter that fails does not stop the run; the failures are reported at the
end. ``python -m specbook check`` then compares ``metrics.json`` with
``expected/<profile>.json``.

The folder never passes off a partial result as a whole one. Every file is
written whole or not at all (:mod:`specbook.harness.files`). A chapter is "running" in
``state.json`` from before it starts until its notebook has finished ("passed"
or "failed"); ``resume`` reuses only a "passed" chapter whose inputs match and
whose files are there. SIGINT (Ctrl-C) or SIGTERM stops the worker processes and
kernels, marks the unfinished chapters "interrupted" (without numbers) in
``state.json``, ``metrics.json`` and ``report.md``, and raises
:class:`RunInterrupted`; a run killed outright leaves them "running". ``check``
and ``report`` refuse a folder with such chapters until they are run again. A
run into a folder holding a run of another profile or seed is refused unless
``force``; with the same profile and seed, the chapters not run this time keep
their entries in ``metrics.json``.

Chapters run in this process or in worker processes (``executor="local"``), or as
tasks on a Dask cluster (``executor="dask"``), whose scheduler address the chapter
kernels then find in :data:`specbook.parallel.DASK_SCHEDULER_ENV`, so that their own
fan-outs (seeds, models) become tasks on the same cluster. Both executors live in
:mod:`specbook.harness.executors`.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm.auto import tqdm

from .profiles import Profile
from .profiles import get as get_profile
from .chapters import CHAPTER_STEM, chapter_number
from .executors import EXECUTORS, ChapterJob, chapter_executor, signals_ignored, signals_interrupt
from .files import write_json_atomic, write_text_atomic
from .provenance import COMMITTED_RUN, INCOMPLETE_STATUSES, PACKAGE_DIR, file_digest, source_digests
from .recording import read_metrics
from ..validation import check_int, check_real, check_seed

__all__ = ["RunResult", "RunInterrupted", "default_jobs", "run_chapters", "find_chapters", "longest_first",
           "CHAPTER_FILE", "EXECUTORS"]


#: File names the runner treats as chapters: two digits (and a letter for a primer, ``00a``), an
#: underscore, a lower-case slug; see :mod:`specbook.harness.chapters`.
CHAPTER_FILE = re.compile(rf"^{CHAPTER_STEM}\.ipynb$")

#: Memory a chapter of the book profile may take at its peak (chapters 8 and 9 train networks), in GiB.
MEMORY_PER_CHAPTER_GIB = 4


@dataclass
class RunResult:
    """What :func:`run_chapters` did.

    Attributes
    ----------
    out : Path
        The run folder.
    metrics : dict
        The contents written to ``out / "metrics.json"``: the chapters of this run and
        those an earlier run into the same folder left there (see `kept`).
    failed : list of str
        Stems of the chapters in ``metrics.json`` that raised, in chapter order.
    interrupted : list of str
        Stems of the chapters that an interruption stopped before their notebook finished.
    kept : list of str
        Stems of the chapters this run did not select, whose entries an earlier run into
        the same folder left in ``metrics.json``.
    """

    out: Path
    metrics: dict
    failed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every chapter in the run folder ran to the end."""
        return not self.failed and not self.interrupted

    def failure_messages(self) -> list[str]:
        """One line per failed chapter: the cell, the exception and the executed notebook."""
        return [_failure_message(stem, self.metrics["chapters"][stem], self.out) for stem in self.failed]

    def summary(self) -> str:
        """A few lines: one per chapter, then the totals and where the report is."""
        chapters = self.metrics["chapters"]
        width = max(map(len, chapters), default=0)
        lines = [f"run folder: {self.out}"]
        for stem, chapter in chapters.items():
            status = chapter["status"] + _status_note(stem, chapter, self.kept)
            lines.append(f"  {stem:<{width}}  {status:<20} {_seconds(chapter['seconds']):>8} s  "
                         f"{len(chapter['metrics'])} metric(s)")
        resumed = sum(chapter["resumed"] for chapter in chapters.values())
        passed = sum(chapter["status"] == "passed" for chapter in chapters.values())
        lines.append(
            f"{len(chapters)} chapter(s): {passed} passed ({resumed} resumed, {len(self.kept)} kept from an "
            f"earlier run), {len(self.failed)} failed, {len(self.interrupted)} interrupted, "
            f"{self.metrics['total_seconds']:.1f} s; report: {self.out / 'report.md'}"
        )
        return "\n".join(lines)


class RunInterrupted(KeyboardInterrupt):
    """Raised by :func:`run_chapters` when SIGINT (Ctrl-C) or SIGTERM stopped the run.

    By then the worker processes and kernels are stopped and the run folder is
    consistent: the chapters that did not finish are "interrupted" in ``state.json``
    and ``metrics.json`` (without numbers) and ``--resume`` runs them again.

    Attributes
    ----------
    result : RunResult
        The run folder as written after the interruption.
    """

    def __init__(self, result: RunResult):
        super().__init__(f"interrupted: chapter(s) {', '.join(result.interrupted)} did not finish")
        self.result = result


def _status_note(stem: str, chapter: dict, kept) -> str:
    if stem in kept:
        return " (kept)"
    return " (resumed)" if chapter["resumed"] else ""


def _seconds(seconds) -> str:
    """Seconds with one decimal; "-" for a chapter that did not finish."""
    return "-" if seconds is None else f"{seconds:.1f}"


def find_chapters(notebooks_dir) -> dict[str, Path]:
    """Map the stem of every chapter file in `notebooks_dir` to its path, in chapter order.

    Parameters
    ----------
    notebooks_dir : str or Path
        Folder holding ``NN_slug.ipynb`` files (and primers, ``NNx_slug.ipynb``); other files are ignored.

    Returns
    -------
    dict of str to Path
    """
    notebooks_dir = Path(notebooks_dir)
    return {
        path.stem: path
        for path in sorted(notebooks_dir.iterdir())
        if path.is_file() and CHAPTER_FILE.match(path.name)
    }


def default_jobs() -> int:
    """Chapters to execute at once by default: the cores this process may use, at most one per
    :data:`MEMORY_PER_CHAPTER_GIB` GiB of memory available now, and at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2 ** 30
    except (AttributeError, ValueError, OSError):  # not a POSIX system that reports it: trust the cores
        return max(1, cores)
    return max(1, min(cores, int(available // MEMORY_PER_CHAPTER_GIB)))


def run_chapters(chapters=None, *, profile="book", seed=0, out=None, jobs=None, resume=False,
                 notebooks_dir=None, timeout=None, progress=True, executor="local",
                 scheduler=None, force=False, kernel="python3") -> RunResult:
    """Execute chapters with papermill and write the run folder.

    Parameters
    ----------
    chapters : str or list of str, optional
        Chapters to run, each by full stem (``"01_collider_world"``) or number, the part
        of the stem before its first underscore (``"01"``; ``"00a"`` for the primer
        ``00a_d_separation``). None runs every chapter.
    profile : {"smoke", "book", "full"}, default="book"
        Profile injected as ``PROFILE``; see :mod:`specbook.harness.profiles`.
    seed : int, default=0
        Seed injected as ``SEED``, in [0, 2**32).
    out : str or Path, optional
        Run folder; default ``runs/<profile>``. A folder holding a run with the same
        profile and seed takes this run's chapters beside its others (their entries in
        ``metrics.json`` are kept); one holding a run with another profile or seed is
        refused unless `force`.
    jobs : int, optional
        Chapters executed at once; default :func:`default_jobs` (the cores available, at
        most one per 4 GiB of free memory). Above 1, each runs in its own worker process;
        with ``executor="dask"``, each on a Dask worker of its own; and they start longest
        first, by the seconds each took last time (see :func:`longest_first`).
    resume : bool, default=False
        Skip a chapter that passed in `out` with the same inputs (notebook bytes,
        profile, seed, timeout and specbook's source), and whose executed notebook and
        metrics file are there, and reuse its results. A chapter that was running when
        a run was interrupted or killed is run again.
    notebooks_dir : str or Path, optional
        Folder of the chapters; default ``./notebooks`` if it exists, else the
        ``notebooks`` folder next to the specbook package.
    timeout : float, optional
        Seconds one cell may run; default the profile's ``cell_timeout``.
    progress : bool, default=True
        Show a progress bar over the chapters on stderr.
    executor : {"local", "dask"}, default="local"
        ``"local"`` executes the chapters in this process, or in `jobs` worker
        processes. ``"dask"`` makes each chapter a task on a Dask cluster (needs
        ``pip install "specbook[dask]"``) and passes the scheduler's address to the
        chapter kernels, so that the package's fan-outs in them
        (:func:`specbook.parallel.fit_many`, :func:`specbook.experiments.pixels.run_trials`)
        become tasks on the same cluster. The numbers do not depend on the executor.
    scheduler : str, optional
        Only with ``executor="dask"``: address of the scheduler of a running cluster
        (``"tcp://host:8786"``). Its workers must see the notebooks and the run folder
        at the same paths, and have the same environment. None starts a
        ``LocalCluster`` of `jobs` single-threaded worker processes for the run.
    force : bool, default=False
        Replace a run of another profile or seed in `out` (its chapters' files and
        entries are removed) instead of refusing.
    kernel : str, default="python3"
        Name of the Jupyter kernel the chapters run in (a kernelspec that ``jupyter
        kernelspec list`` shows, e.g. one of another environment: the Colab-like test runs
        the chapters in a fresh environment's kernel). Recorded in ``metrics.json``; a
        chapter run in another kernel is not resumed.

    Returns
    -------
    RunResult
        Failed chapters are listed in ``RunResult.failed``; nothing is raised for them.

    Raises
    ------
    RunInterrupted
        On SIGINT (Ctrl-C) or SIGTERM, after stopping the chapters' processes and
        kernels and writing the run folder (the unfinished chapters "interrupted").
    """
    sizes = get_profile(profile)
    seed = check_seed(seed)
    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    selected = _select_chapters(chapters, find_chapters(notebooks_dir), notebooks_dir)
    jobs = default_jobs() if jobs is None else check_int(jobs, "jobs", 1)
    if timeout is None:
        timeout = sizes.cell_timeout
    else:  # validated, not converted: the value enters the resume hash as given
        check_real(timeout, "timeout (seconds per cell)", low=0, open_low=True)
    _check_executor(executor, scheduler)
    if not isinstance(kernel, str) or not kernel.strip():
        raise ValueError(f"kernel must be the name of a Jupyter kernel, such as 'python3'; got {kernel!r}.")
    out = Path("runs") / profile if out is None else Path(out)
    earlier = _earlier_run(out, profile, seed, force)
    blas_threads = max(1, (os.cpu_count() or 1) // jobs)

    # The cluster is reached before anything is written, so a wrong address leaves no run folder.
    with chapter_executor(executor, scheduler, jobs, blas_threads) as (execute_all, dask_scheduler):
        # Provenance is taken before anything is written, so the run's own output cannot make the tree dirty.
        git_commit = _git(["rev-parse", "HEAD"], notebooks_dir.parent)
        git_status = _git(["status", "--porcelain"], notebooks_dir.parent)
        _make_run_folder(out)
        earlier.remove_files(out)
        state = earlier.state
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()

        sources = source_digests()  # the sources the chapters run on, read once
        source_digest = _specbook_source_digest(sources)
        outcomes, hashes, pending = {}, {}, []
        for stem, notebook in selected.items():
            job = ChapterJob(
                stem=stem,
                notebook=notebook,
                executed=(out / "notebooks" / f"{stem}.ipynb").resolve(),
                metrics_file=(out / "metrics" / f"{stem}.json").resolve(),
                parameters={"PROFILE": profile, "SEED": seed},
                timeout=timeout,
                cwd=notebooks_dir,
                blas_threads=blas_threads,
                cache_dir=(out / "cache").resolve(),
                dask_scheduler=dask_scheduler,
                kernel=kernel,
            )
            hashes[stem] = _input_hash(notebook, sizes, seed, timeout, source_digest, kernel)
            previous = state.get(stem, {})
            if (resume and previous.get("status") == "passed" and previous.get("input_hash") == hashes[stem]
                    and job.executed.exists() and job.metrics_file.exists()):
                outcomes[stem] = {"status": "passed", "seconds": previous["seconds"], "resumed": True,
                                  "error": None}
            else:
                pending.append(job)

        if jobs > 1:
            pending = longest_first(pending, _expected_seconds(state, notebooks_dir))

        header = {
            "profile": profile, "seed": seed, "profile_sizes": sizes.as_dict(), "timeout": timeout,
            "executor": executor, "jobs": int(jobs), "dask_scheduler": dask_scheduler, "kernel": kernel,
            "specbook_version": _specbook_version(), "git_commit": git_commit,
            "git_dirty": None if git_status is None else bool(git_status), "source_files": sources,
            "python": platform.python_version(), "packages": _package_versions(), "platform": platform.platform(),
            "notebooks_dir": str(notebooks_dir), "started": started.isoformat(timespec="seconds"),
        }

        def set_state(stem, status, seconds):
            state[stem] = {"status": status, "input_hash": hashes[stem], "seconds": seconds,
                           "profile": profile, "seed": seed}

        # Marked before they start: a run killed outright leaves them "running", which
        # neither --resume nor check nor report takes for a result.
        for job in pending:
            set_state(job.stem, "running", None)
        write_json_atomic(out / "state.json", state)
        try:
            with signals_interrupt(), tqdm(total=len(selected), desc=f"specbook run ({profile})",
                                            unit="chapter", file=sys.stderr, disable=not progress) as bar:
                bar.update(len(outcomes))
                with closing(execute_all(pending)) as finished:
                    for job, outcome in finished:
                        outcomes[job.stem] = {**outcome, "resumed": False}
                        set_state(job.stem, outcome["status"], outcome["seconds"])
                        write_json_atomic(out / "state.json", state)  # after every chapter, for --resume
                        bar.set_postfix_str(job.stem)
                        bar.update()
        except KeyboardInterrupt:
            # The executor has stopped the workers and kernels on its way out (closing above).
            # Further signals would only stop the writing that makes the folder consistent.
            with signals_ignored():
                for job in pending:
                    if job.stem not in outcomes:
                        outcomes[job.stem] = {"status": "interrupted", "seconds": None, "resumed": False,
                                              "error": None}
                        set_state(job.stem, "interrupted", None)
                        job.metrics_file.unlink(missing_ok=True)  # what it recorded is half a chapter
                write_json_atomic(out / "state.json", state)
                result = _write_run_files(out, selected, outcomes, earlier.chapters, header, clock)
            raise RunInterrupted(result) from None

    return _write_run_files(out, selected, outcomes, earlier.chapters, header, clock)


def longest_first(pending: list[ChapterJob], expected_seconds: dict[str, float]) -> list[ChapterJob]:
    """The chapters in the order to start them on several workers: the longest first.

    A long chapter started last keeps one worker busy while the others idle; started
    first, the short ones fill in around it. A chapter without an expected time goes
    first (it may be long); ties keep the chapter order. The order changes no number:
    every chapter runs in its own kernel with its own seed.
    """
    unknown = float("inf")
    return sorted(pending, key=lambda job: -expected_seconds.get(job.stem, unknown))


def _expected_seconds(state: dict, notebooks_dir: Path) -> dict[str, float]:
    """Seconds each chapter took last time: in this run folder, else in the committed run (``book/run``).

    The committed run is the book profile's; at another profile its times still rank the
    chapters, which is all that :func:`longest_first` needs.
    """
    committed = _read_earlier(notebooks_dir.parent / COMMITTED_RUN / "metrics.json", force=True)
    chapters = committed.get("chapters") if isinstance(committed.get("chapters"), dict) else {}
    seconds = {stem: entry.get("seconds") for stem, entry in chapters.items() if isinstance(entry, dict)}
    seconds.update({stem: entry.get("seconds") for stem, entry in state.items()})
    return {stem: float(value) for stem, value in seconds.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


def _write_run_files(out: Path, selected: dict, outcomes: dict, kept_chapters: dict, header: dict,
                     clock: float) -> RunResult:
    """Write ``metrics.json`` and ``report.md`` from this run's outcomes and the chapters kept from an earlier run."""
    chapter_entries = dict(kept_chapters)
    for stem in selected:
        outcome = outcomes[stem]
        chapter_entries[stem] = {
            "status": outcome["status"],
            "seconds": outcome["seconds"],
            "resumed": outcome["resumed"],
            # An interrupted chapter's numbers, if any, are half a chapter's: none are reported.
            "metrics": {} if outcome["status"] == "interrupted" else read_metrics(out / "metrics" / f"{stem}.json"),
            "error": outcome["error"],
            "executed_notebook": f"notebooks/{stem}.ipynb",
            # What `report` compares with a checkout to tell whether the numbers are stale.
            "notebook_sha256": file_digest(selected[stem]),
        }
    metrics = {
        **header,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "total_seconds": round(time.perf_counter() - clock, 3),
        "chapters": dict(sorted(chapter_entries.items())),  # chapter order: stems start with their number
    }
    write_json_atomic(out / "metrics.json", metrics)
    result = RunResult(
        out=out, metrics=metrics,
        failed=[stem for stem, chapter in metrics["chapters"].items() if chapter["status"] == "failed"],
        interrupted=[stem for stem, chapter in metrics["chapters"].items() if chapter["status"] in INCOMPLETE_STATUSES],
        kept=[stem for stem in metrics["chapters"] if stem not in selected],
    )
    write_text_atomic(out / "report.md", _render_report(result))
    return result


@dataclass
class _EarlierRun:
    """What an earlier run left in the run folder, as far as this run keeps it.

    `state` is its ``state.json`` and `chapters` the chapter entries of its
    ``metrics.json``; `replaced` names the chapters of a run of another profile or
    seed that a forced run replaces (their files go, and nothing of theirs is kept).
    """

    state: dict = field(default_factory=dict)
    chapters: dict = field(default_factory=dict)
    replaced: set = field(default_factory=set)

    def remove_files(self, out: Path) -> None:
        for stem in self.replaced:
            (out / "notebooks" / f"{stem}.ipynb").unlink(missing_ok=True)
            (out / "metrics" / f"{stem}.json").unlink(missing_ok=True)


def _earlier_run(out: Path, profile: str, seed: int, force: bool) -> _EarlierRun:
    """Read the run already in `out`; refuse one of another profile or seed unless `force`."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is a file, not a folder; pass a folder for the run (CLI: --out DIR).")
    state = _read_earlier(out / "state.json", force)
    summary = _read_earlier(out / "metrics.json", force)
    state = {stem: entry for stem, entry in state.items() if isinstance(entry, dict)}
    chapters = summary.get("chapters") if isinstance(summary.get("chapters"), dict) else {}
    recorded = {(summary.get("profile"), summary.get("seed"))} if "profile" in summary else set()
    recorded |= {(entry.get("profile"), entry.get("seed")) for entry in state.values() if "profile" in entry}
    others = sorted(recorded - {(profile, seed)}, key=repr)
    if not others:
        return _EarlierRun(state=state, chapters=chapters)
    if not force:
        other_profile, other_seed = others[0]
        raise ValueError(
            f"out={str(out)!r} holds a run with profile {other_profile!r} and seed {other_seed!r}, and this run has "
            f"profile {profile!r} and seed {seed}; pass another folder (CLI: --out DIR), or force=True "
            "(CLI: --force) to replace that run."
        )
    return _EarlierRun(replaced=set(state) | set(chapters))


def _read_earlier(path: Path, force: bool) -> dict:
    """A JSON object an earlier run wrote (empty when absent, or unreadable and `force`)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        data = exc
    if isinstance(data, dict) or force:
        return data if isinstance(data, dict) else {}
    problem = f"({data})" if isinstance(data, Exception) else "(not a JSON object)"
    raise ValueError(f"{path} cannot be read {problem}; pass force=True (CLI: --force) to replace the run in "
                     f"{path.parent}, or another folder (CLI: --out DIR).")


def _make_run_folder(out: Path) -> None:
    try:
        (out / "notebooks").mkdir(parents=True, exist_ok=True)
        (out / "metrics").mkdir(exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out={str(out)!r}: cannot make the run folder there ({exc.strerror or exc}); pass a "
                         "folder you can write to (CLI: --out DIR).") from None


def _check_executor(executor, scheduler) -> None:
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r} is not an executor; choose one of {list(EXECUTORS)}.")
    if scheduler is None:
        return
    if executor != "dask":
        raise ValueError(
            f"scheduler={scheduler!r} is only used with executor='dask'; got executor={executor!r} "
            "(CLI: --executor dask --scheduler ADDRESS)."
        )
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(f"scheduler must be the address of a Dask scheduler, like 'tcp://host:8786'; "
                         f"got {scheduler!r}.")


def _resolve_notebooks_dir(notebooks_dir) -> Path:
    if notebooks_dir is None:
        notebooks_dir = Path.cwd() / "notebooks"
        if not notebooks_dir.is_dir():
            notebooks_dir = PACKAGE_DIR.parent / "notebooks"
    notebooks_dir = Path(notebooks_dir).resolve()
    if not notebooks_dir.is_dir():
        raise ValueError(
            f"notebooks_dir={str(notebooks_dir)!r} is not a folder; pass the folder that holds "
            "the NN_slug.ipynb chapters (CLI: --notebooks DIR)."
        )
    return notebooks_dir


def _select_chapters(chapters, available: dict[str, Path], notebooks_dir: Path) -> dict[str, Path]:
    """Resolve chapter names (stems or number prefixes) to the available chapters, in chapter order."""
    if not available:
        raise ValueError(
            f"notebooks_dir={str(notebooks_dir)!r} holds no chapter files "
            f"(names like 01_collider_world.ipynb, matching {CHAPTER_FILE.pattern})."
        )
    if chapters is None:
        return available
    if isinstance(chapters, str):
        chapters = [chapters]
    wanted = set()
    for name in chapters:
        # a number is the part of the stem before its first underscore: "05" is not "05a"
        matches = [stem for stem in available if name in (stem, chapter_number(stem))]
        if len(matches) != 1:
            reason = "matches several chapters" if matches else "is not a chapter"
            raise ValueError(
                f"chapters: {name!r} {reason} in {notebooks_dir}; give a full stem or a unique "
                f"number from: {', '.join(available)}."
            )
        wanted.add(matches[0])
    return {stem: path for stem, path in available.items() if stem in wanted}


def _specbook_version() -> str:
    """The installed package's version, from its metadata: the harness does not import the science, nor
    the package root that exports it."""
    try:
        return importlib.metadata.version("specbook")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+unknown"


def _specbook_source_digest(sources: dict[str, str]) -> bytes:
    """One digest of the package's per-file digests (:func:`source_digests`), so editing specbook
    invalidates resumed results."""
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).digest()


def _input_hash(notebook: Path, sizes: Profile, seed, timeout, source_digest: bytes, kernel="python3") -> str:
    digest = hashlib.sha256(notebook.read_bytes() + b"\0")
    settings = {"profile": sizes.name, "sizes": sizes.as_dict(), "seed": int(seed), "timeout": timeout}
    if kernel != "python3":  # the default kernel leaves the hashes of earlier runs as they were
        settings["kernel"] = kernel
    digest.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    digest.update(source_digest)
    return digest.hexdigest()


#: Packages whose versions a run records, because the numbers depend on them.
_RECORDED_PACKAGES = ("numpy", "scipy", "torch", "scikit-learn", "pandas", "networkx", "papermill")


def _package_versions() -> dict[str, str | None]:
    versions = {}
    for name in _RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(args: list[str], cwd: Path):
    """Output of a git command in `cwd`, or None when git or the checkout is missing."""
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip()


def _failure_message(stem: str, chapter: dict, out: Path) -> str:
    error = chapter["error"]
    where = ""
    if error["cell_index"] is not None:
        where = f"cell {error['cell_index']} (execution count {error['exec_count']}) "
    evalue = (error["evalue"] or "").strip().splitlines()
    message = f"{stem}: {where}raised {error['ename']}" + (f": {evalue[0]}" if evalue else "")
    if error["source_head"]:
        message += f"  [first line: {error['source_head']}]"
    return message + f"  executed notebook: {out / chapter['executed_notebook']}"


def _cell(value) -> str:
    """Text safe inside a Markdown table cell."""
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _render_report(result: RunResult) -> str:
    run = result.metrics
    sizes = ", ".join(f"{key}={value}" for key, value in run["profile_sizes"].items() if key != "name")
    commit = "not a git checkout" if run["git_commit"] is None else f"`{run['git_commit'][:12]}`"
    if run["git_dirty"]:
        commit += " (uncommitted changes)"
    lines = [
        f"# specbook run: profile `{run['profile']}`",
        "",
        f"- profile `{run['profile']}` ({sizes}), seed {run['seed']}, cell timeout {run['timeout']} s",
        f"- executor `{run['executor']}`"
        + (f" on the Dask scheduler at `{run['dask_scheduler']}`" if run["dask_scheduler"] else "")
        + (f", Jupyter kernel `{run['kernel']}`" if run.get("kernel", "python3") != "python3" else ""),
        f"- specbook {run['specbook_version']}, commit {commit}, Python {run['python']} on {run['platform']}",
        f"- started {run['started']}, finished {run['finished']} ({run['total_seconds']:.1f} s)",
        f"- {sum(chapter['status'] == 'passed' for chapter in run['chapters'].values())} of "
        f"{len(run['chapters'])} chapter(s) passed",
        "",
        "| chapter | status | seconds | metrics |",
        "|---|---|---:|---:|",
    ]
    for stem, chapter in run["chapters"].items():
        status = f"**{chapter['status']}**" if chapter["status"] != "passed" else chapter["status"]
        status += _status_note(stem, chapter, result.kept)
        lines.append(f"| {stem} | {status} | {_seconds(chapter['seconds'])} | {len(chapter['metrics'])} |")

    if result.interrupted:
        lines += ["", "## Interrupted", "",
                  f"The run was stopped before chapter(s) {', '.join(result.interrupted)} finished: they have no "
                  "numbers here, and `check` and `report` refuse the folder until they are run again "
                  f"(`python -m specbook run {' '.join(result.interrupted)} --out {result.out} --resume`)."]
    if result.failed:
        lines += ["", "## Failures"]
        for stem in result.failed:
            chapter = run["chapters"][stem]
            error = chapter["error"]
            cell = ("unknown" if error["cell_index"] is None
                    else f"index {error['cell_index']} (execution count {error['exec_count']})")
            lines += [
                "",
                f"### {stem}",
                "",
                f"- cell: {cell}",
                f"- exception: `{error['ename']}: {(error['evalue'] or '').strip()}`",
                f"- first line of the cell: `{error['source_head'] or ''}`",
                f"- executed notebook: `{result.out / chapter['executed_notebook']}`",
            ]

    lines += ["", "## Metrics"]
    for stem, chapter in run["chapters"].items():
        lines += ["", f"### {stem}", ""]
        if not chapter["metrics"]:
            lines.append("No metrics recorded.")
            continue
        lines += ["| name | value | unit | description |", "|---|---:|---|---|"]
        for name, entry in chapter["metrics"].items():
            lines.append(f"| {_cell(name)} | {_cell(entry.get('value'))} | {_cell(entry.get('unit'))} "
                         f"| {_cell(entry.get('description'))} |")
    return "\n".join(lines) + "\n"
