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
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import numbers
import os
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

import specbook

from .cache import CACHE_ENV
from .profiles import Profile
from .profiles import get as get_profile
from .progress import PROGRESS_ENV
from .recording import METRICS_ENV, read_metrics

__all__ = ["RunResult", "run_chapters", "find_chapters", "CHAPTER_FILE"]

_BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: File names the runner treats as chapters: two digits, an underscore, a lower-case slug.
CHAPTER_FILE = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


@dataclass
class RunResult:
    """What :func:`run_chapters` did.

    Attributes
    ----------
    out : Path
        The run folder.
    metrics : dict
        The contents written to ``out / "metrics.json"``.
    failed : list of str
        Stems of the chapters that raised, in chapter order.
    """

    out: Path
    metrics: dict
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every chapter ran to the end."""
        return not self.failed

    def failure_messages(self) -> list[str]:
        """One line per failed chapter: the cell, the exception and the executed notebook."""
        return [_failure_message(stem, self.metrics["chapters"][stem], self.out) for stem in self.failed]

    def summary(self) -> str:
        """A few lines: one per chapter, then the totals and where the report is."""
        chapters = self.metrics["chapters"]
        width = max(map(len, chapters), default=0)
        lines = [f"run folder: {self.out}"]
        for stem, chapter in chapters.items():
            status = chapter["status"] + (" (resumed)" if chapter["resumed"] else "")
            lines.append(
                f"  {stem:<{width}}  {status:<17} {chapter['seconds']:8.1f} s  "
                f"{len(chapter['metrics'])} metric(s)"
            )
        resumed = sum(chapter["resumed"] for chapter in chapters.values())
        lines.append(
            f"{len(chapters)} chapter(s): {len(chapters) - len(self.failed)} passed "
            f"({resumed} resumed), {len(self.failed)} failed, "
            f"{self.metrics['total_seconds']:.1f} s; report: {self.out / 'report.md'}"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class _ChapterJob:
    """Everything one chapter's execution needs; picklable, so a worker process can take it."""

    stem: str
    notebook: Path
    executed: Path
    metrics_file: Path
    parameters: dict
    timeout: float
    cwd: Path
    blas_threads: int
    cache_dir: Path


def find_chapters(notebooks_dir) -> dict[str, Path]:
    """Map the stem of every chapter file in `notebooks_dir` to its path, in chapter order.

    Parameters
    ----------
    notebooks_dir : str or Path
        Folder holding ``NN_slug.ipynb`` files; other files are ignored.

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


def run_chapters(chapters=None, *, profile="book", seed=0, out=None, jobs=1, resume=False,
                 notebooks_dir=None, timeout=None, progress=True) -> RunResult:
    """Execute chapters with papermill and write the run folder.

    Parameters
    ----------
    chapters : str or list of str, optional
        Chapters to run, each by full stem (``"01_collider_world"``) or number
        (``"01"``). None runs every chapter.
    profile : {"smoke", "book", "full"}, default="book"
        Profile injected as ``PROFILE``; see :mod:`specbook.profiles`.
    seed : int, default=0
        Seed injected as ``SEED``.
    out : str or Path, optional
        Run folder; default ``runs/<profile>``.
    jobs : int, default=1
        Chapters executed at once. Above 1, each runs in its own worker process.
    resume : bool, default=False
        Skip a chapter that passed in `out` with the same inputs (notebook bytes,
        profile, seed, timeout and specbook's source) and reuse its results.
    notebooks_dir : str or Path, optional
        Folder of the chapters; default ``./notebooks`` if it exists, else the
        ``notebooks`` folder next to the specbook package.
    timeout : float, optional
        Seconds one cell may run; default the profile's ``cell_timeout``.
    progress : bool, default=True
        Show a progress bar over the chapters on stderr.

    Returns
    -------
    RunResult
        Failed chapters are listed in ``RunResult.failed``; nothing is raised for them.
    """
    sizes = get_profile(profile)
    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    selected = _select_chapters(chapters, find_chapters(notebooks_dir), notebooks_dir)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer; got {seed!r}.")
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1; got {jobs!r}.")
    if timeout is None:
        timeout = sizes.cell_timeout
    elif isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds per cell; got {timeout!r}.")
    out = Path("runs") / profile if out is None else Path(out)

    # Provenance is taken before anything is written, so the run's own output cannot make the tree dirty.
    git_commit = _git(["rev-parse", "HEAD"], notebooks_dir.parent)
    git_status = _git(["status", "--porcelain"], notebooks_dir.parent)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    (out / "metrics").mkdir(exist_ok=True)
    state_path = out / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()

    source_digest = _specbook_source_digest()
    outcomes, hashes, pending = {}, {}, []
    for stem, notebook in selected.items():
        job = _ChapterJob(
            stem=stem,
            notebook=notebook,
            executed=(out / "notebooks" / f"{stem}.ipynb").resolve(),
            metrics_file=(out / "metrics" / f"{stem}.json").resolve(),
            parameters={"PROFILE": profile, "SEED": int(seed)},
            timeout=timeout,
            cwd=notebooks_dir,
            blas_threads=max(1, (os.cpu_count() or 1) // jobs),
            cache_dir=(out / "cache").resolve(),
        )
        hashes[stem] = _input_hash(notebook, sizes, seed, timeout, source_digest)
        previous = state.get(stem, {})
        if (resume and previous.get("status") == "passed" and previous.get("input_hash") == hashes[stem]
                and job.executed.exists() and job.metrics_file.exists()):
            outcomes[stem] = {"status": "passed", "seconds": previous["seconds"], "resumed": True,
                              "error": None}
        else:
            pending.append(job)

    with tqdm(total=len(selected), desc=f"specbook run ({profile})", unit="chapter",
              file=sys.stderr, disable=not progress) as bar:
        bar.update(len(outcomes))
        for job, outcome in _execute_all(pending, jobs):
            outcomes[job.stem] = {**outcome, "resumed": False}
            state[job.stem] = {"status": outcome["status"], "input_hash": hashes[job.stem],
                               "seconds": outcome["seconds"]}
            _write_json(state_path, state)  # after every chapter, so an interrupted run can resume
            bar.set_postfix_str(job.stem)
            bar.update()

    chapter_entries = {
        stem: {
            "status": outcomes[stem]["status"],
            "seconds": outcomes[stem]["seconds"],
            "resumed": outcomes[stem]["resumed"],
            "metrics": read_metrics(out / "metrics" / f"{stem}.json"),
            "error": outcomes[stem]["error"],
            "executed_notebook": f"notebooks/{stem}.ipynb",
        }
        for stem in selected
    }
    metrics = {
        "profile": profile,
        "seed": int(seed),
        "profile_sizes": sizes.as_dict(),
        "timeout": timeout,
        "specbook_version": specbook.__version__,
        "git_commit": git_commit,
        "git_dirty": None if git_status is None else bool(git_status),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "notebooks_dir": str(notebooks_dir),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "total_seconds": round(time.perf_counter() - clock, 3),
        "chapters": chapter_entries,
    }
    _write_json(out / "metrics.json", metrics)
    failed = [stem for stem, chapter in chapter_entries.items() if chapter["status"] == "failed"]
    result = RunResult(out=out, metrics=metrics, failed=failed)
    (out / "report.md").write_text(_render_report(result))
    return result


def _resolve_notebooks_dir(notebooks_dir) -> Path:
    if notebooks_dir is None:
        notebooks_dir = Path.cwd() / "notebooks"
        if not notebooks_dir.is_dir():
            notebooks_dir = Path(specbook.__file__).resolve().parents[1] / "notebooks"
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
        matches = [stem for stem in available if name in (stem, stem[:2])]
        if len(matches) != 1:
            reason = "matches several chapters" if matches else "is not a chapter"
            raise ValueError(
                f"chapters: {name!r} {reason} in {notebooks_dir}; give a full stem or a unique "
                f"number from: {', '.join(available)}."
            )
        wanted.add(matches[0])
    return {stem: path for stem, path in available.items() if stem in wanted}


def _specbook_source_digest() -> bytes:
    """Digest of every ``.py`` file of the package, so editing specbook invalidates resumed results."""
    package = Path(specbook.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py"), key=lambda p: p.relative_to(package).as_posix()):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.digest()


def _input_hash(notebook: Path, sizes: Profile, seed, timeout, source_digest: bytes) -> str:
    digest = hashlib.sha256(notebook.read_bytes() + b"\0")
    settings = {"profile": sizes.name, "sizes": sizes.as_dict(), "seed": int(seed), "timeout": timeout}
    digest.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    digest.update(source_digest)
    return digest.hexdigest()


def _execute_all(jobs_to_run: list[_ChapterJob], jobs: int):
    """Yield ``(job, outcome)`` as chapters finish, in-process or from worker processes."""
    if jobs == 1 or len(jobs_to_run) <= 1:
        for job in jobs_to_run:
            yield job, _execute_chapter(job)
        return
    # "spawn": a forked worker would inherit the parent's threads and kernel sockets.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(jobs_to_run)), mp_context=context) as pool:
        futures = {pool.submit(_execute_chapter, job): job for job in jobs_to_run}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            # When interrupted, drop the chapters not started yet instead of waiting for them.
            pool.shutdown(cancel_futures=True)


def _execute_chapter(job: _ChapterJob) -> dict:
    """Execute one chapter; return its status, seconds and error (None when it passed)."""
    # Stale files would pass off an earlier run's results as this one's.
    job.metrics_file.unlink(missing_ok=True)
    job.executed.unlink(missing_ok=True)
    error = None
    start = time.perf_counter()
    # The kernel inherits os.environ when it starts; that is how record() finds its file.
    # Progress bars would fill the saved outputs with hundreds of lines.
    # Trained networks are cached in the run folder, so a rerun (--resume) picks them up.
    variables = {METRICS_ENV: str(job.metrics_file), "MPLBACKEND": "Agg", PROGRESS_ENV: "0",
                 CACHE_ENV: os.environ.get(CACHE_ENV, str(job.cache_dir))}
    # Chapters running side by side share the cores: more BLAS threads than cores makes
    # OpenBLAS spin and can slow small matrix products a hundredfold. A user's setting wins.
    for name in _BLAS_THREAD_VARIABLES:
        variables[name] = os.environ.get(name, str(job.blas_threads))
    with _environment(variables):
        try:
            papermill.execute_notebook(
                str(job.notebook), str(job.executed), parameters=job.parameters,
                kernel_name="python3", execution_timeout=job.timeout, cwd=str(job.cwd),
                progress_bar=False, log_output=False,
            )
        except PapermillExecutionError as exc:
            error = _error_entry(job, exc.ename, exc.evalue, exc.cell_index, exc.exec_count, exc.source)
        except Exception as exc:  # a timeout or a dead kernel fails this chapter, not the run
            error = _error_entry(job, type(exc).__name__, str(exc), *_last_started_cell(job.executed))
    seconds = round(time.perf_counter() - start, 3)
    if not job.metrics_file.exists():
        # A chapter that records nothing still gets a file, so that it can be resumed.
        job.metrics_file.write_text("{}")
    return {"status": "failed" if error else "passed", "seconds": seconds, "error": error}


@contextmanager
def _environment(variables: dict[str, str]):
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _error_entry(job: _ChapterJob, ename, evalue, executed_index, exec_count, source) -> dict:
    return {
        "cell_index": _chapter_cell_index(job.notebook, executed_index, source),
        "exec_count": exec_count,
        "ename": ename,
        "evalue": evalue,
        "source_head": next((line.strip() for line in (source or "").splitlines() if line.strip()), None),
    }


def _last_started_cell(executed: Path):
    """Executed-notebook index, execution count and source of the last cell the kernel began.

    Used when papermill raised something other than a cell error (a timeout, a
    dead kernel): the cell that was running is the one to look at.
    """
    try:
        cells = nbformat.read(executed, as_version=4).cells
    except (OSError, ValueError):
        return None, None, None
    started = [index for index, cell in enumerate(cells)
               if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("start_time")]
    if not started:
        return None, None, None
    cell = cells[started[-1]]
    return started[-1], cell.get("execution_count"), cell.source


def _chapter_cell_index(notebook: Path, executed_index, source):
    """Translate a cell index of the executed notebook to the chapter's own notebook.

    papermill inserts an ``injected-parameters`` cell after the ``parameters``
    cell, so cells after it sit one place later in the executed notebook.
    """
    if executed_index is None:
        return None
    cells = nbformat.read(notebook, as_version=4).cells
    for index in (executed_index - 1, executed_index):
        if 0 <= index < len(cells) and cells[index].source == source:
            return index
    return executed_index


def _git(args: list[str], cwd: Path):
    """Output of a git command in `cwd`, or None when git or the checkout is missing."""
    try:
        completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip()


def _write_json(path: Path, data) -> None:
    # Write then rename, so a reader (or a resumed run) never sees half a file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


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
        f"- specbook {run['specbook_version']}, commit {commit}, Python {run['python']} on {run['platform']}",
        f"- started {run['started']}, finished {run['finished']} ({run['total_seconds']:.1f} s)",
        f"- {len(run['chapters']) - len(result.failed)} of {len(run['chapters'])} chapter(s) passed",
        "",
        "| chapter | status | seconds | metrics |",
        "|---|---|---:|---:|",
    ]
    for stem, chapter in run["chapters"].items():
        status = "**failed**" if chapter["status"] == "failed" else chapter["status"]
        if chapter["resumed"]:
            status += " (resumed)"
        lines.append(f"| {stem} | {status} | {chapter['seconds']:.1f} | {len(chapter['metrics'])} |")

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
