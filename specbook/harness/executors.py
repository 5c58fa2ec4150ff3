"""How the runner executes chapters: in this process, in local worker processes, or on a Dask cluster.

:func:`chapter_executor` gives :func:`specbook.harness.runner.run_chapters` a function that
executes a list of :class:`ChapterJob` and yields each outcome as its chapter finishes;
:func:`execute_chapter` runs one chapter with papermill, wherever it runs. The signal
helpers say how a run stops: the first SIGINT or SIGTERM interrupts the chapters (their
kernels are shut down), a second one is ignored while the run folder is written.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from ..parallel import DASK_SCHEDULER_ENV, import_distributed
from ..progress import PROGRESS_ENV
from .cache import CACHE_ENV
from .files import write_text_atomic
from .recording import METRICS_ENV

__all__ = ["EXECUTORS", "ChapterJob", "chapter_executor", "execute_chapter", "execute_chapter_on_worker",
           "execute_locally", "execute_on_dask", "signals_ignored", "signals_interrupt"]

_BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# Jupyter's own backend, whatever the caller's MPLBACKEND: the executed notebooks keep their
# figures, and the book is rendered from them.
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


# A Dask Nanny sets these for its worker process (glibc then hands freed memory back at once).
# A chapter's kernel goes without them, as under the local executor: with them, chapter 8's
# renderer draws images much more slowly (benchmarks/results/docstring_figures.md).
_DASK_WORKER_ONLY_VARIABLES = ("MALLOC_TRIM_THRESHOLD_",)


#: Where :func:`run_chapters` can execute chapters: here and in local worker processes, or on a Dask cluster.
EXECUTORS = ("local", "dask")


# os.environ is one per process: a Dask worker process executes one chapter at a time.
_WORKER_CHAPTER_LOCK = threading.Lock()


# The signals that stop a run: Ctrl-C, and what `kill` or a batch system sends.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


# Seconds a worker process has to shut its chapter's kernel down after a stop signal, before it is killed.
_WORKER_STOP_SECONDS = 30.0


@dataclass(frozen=True)
class ChapterJob:
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
    dask_scheduler: str | None = None
    kernel: str = "python3"


@contextmanager
def signals_interrupt():
    """Make SIGTERM, like SIGINT, raise KeyboardInterrupt, and only the first of them (main thread only)."""
    with _signal_handlers(interrupt_once):
        yield


@contextmanager
def signals_ignored():
    """Ignore SIGINT and SIGTERM for the duration (main thread only)."""
    with _signal_handlers(signal.SIG_IGN):
        yield


@contextmanager
def _signal_handlers(handler):
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the caller's own then apply
        return
    saved = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for number, previous in saved.items():
            signal.signal(number, signal.SIG_DFL if previous is None else previous)


def interrupt_once(signum, frame):
    # A second signal (Ctrl-C pressed twice, or a SIGTERM after it) would interrupt the
    # tear-down of the kernels and the writing of the run folder, which keep it consistent.
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def execute_locally(jobs_to_run: list[ChapterJob], jobs: int):
    """Yield ``(job, outcome)`` as chapters finish, in-process or from worker processes.

    Closed early (an interruption), it stops the worker processes and their kernels
    before it returns.
    """
    if jobs == 1 or len(jobs_to_run) <= 1:
        for job in jobs_to_run:
            yield job, execute_chapter(job)
        return
    # "spawn": a forked worker would inherit the parent's threads and kernel sockets.
    context = multiprocessing.get_context("spawn")
    earlier_children = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(jobs_to_run)), mp_context=context,
                               initializer=_quit_on_stop_signal)
    try:
        futures = {pool.submit(_execute_chapter_in_worker, job): job for job in jobs_to_run}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:  # an interruption, a broken pool, or GeneratorExit when the caller stopped
        _stop_workers(pool, [child for child in multiprocessing.active_children() if child not in earlier_children])
        raise
    pool.shutdown()


def _stop_workers(pool: ProcessPoolExecutor, workers: list) -> None:
    """Stop the worker processes of `pool` and the chapters they run, without waiting for queued chapters.

    SIGTERM makes a worker's chapter raise KeyboardInterrupt, on which papermill
    shuts the chapter's kernel down (a kernel runs in a session of its own, so no
    signal reaches it); a worker still alive after :data:`_WORKER_STOP_SECONDS` is killed.
    """
    for worker in workers:
        worker.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + _WORKER_STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


def _quit_on_stop_signal() -> None:
    """Initializer of a worker process: a stop signal ends it quietly (no traceback) while it waits for a chapter."""
    for number in STOP_SIGNALS:
        signal.signal(number, _quit)


def _quit(signum, frame):
    raise SystemExit(128 + signum)


def _execute_chapter_in_worker(job: ChapterJob) -> dict:
    """:func:`execute_chapter` in a worker process: a stop signal interrupts the chapter, whose kernel is shut down."""
    for number in STOP_SIGNALS:
        signal.signal(number, interrupt_once)
    try:
        return execute_chapter(job)
    finally:
        _quit_on_stop_signal()


@contextmanager
def chapter_executor(executor: str, scheduler, jobs: int, blas_threads: int):
    """Yield ``(execute_all, dask_scheduler)`` for one run.

    ``execute_all(pending)`` yields ``(job, outcome)`` as chapters finish;
    ``dask_scheduler`` is the address of the Dask scheduler the chapters run on (None
    for the local executor). A cluster started here is closed on the way out.
    """
    if executor == "local":
        yield (lambda pending: execute_locally(pending, jobs)), None
        return
    distributed = import_distributed()
    with _dask_client(distributed, scheduler, jobs, blas_threads) as client:
        yield (lambda pending: execute_on_dask(pending, jobs, client)), client.scheduler.address


@contextmanager
def _dask_client(distributed, scheduler, jobs: int, blas_threads: int):
    """A client of the cluster at `scheduler`, or of a LocalCluster of `jobs` workers started for the run."""
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler)
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out, not an address
            raise ValueError(f"scheduler={scheduler!r}: no Dask scheduler answered there ({exc}).") from exc
        with client:
            yield client
        return
    import dask

    # A chapter kernel inherits its worker's BLAS settings: give the workers those the local
    # executor gives a kernel (a user's setting wins here too), and none of the worker-only
    # settings. Each Nanny writes its settings (and a hash seed) into this process's
    # environment as it starts its worker, so the environment is put back after.
    worker_environment = {name: str(blas_threads) for name in _BLAS_THREAD_VARIABLES}
    worker_environment.update(dict.fromkeys(_DASK_WORKER_ONLY_VARIABLES))  # None: not set
    config = {f"distributed.nanny.pre-spawn-environ.{name}": value for name, value in worker_environment.items()}
    with _restored_environment(), dask.config.set(config):
        # A free port for the dashboard: another run, or the user's own cluster, may hold 8787.
        cluster = distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                           dashboard_address="127.0.0.1:0")
    with cluster, distributed.Client(cluster) as client:
        yield client


def execute_on_dask(jobs_to_run: list[ChapterJob], jobs: int, client):
    """Yield ``(job, outcome)`` as chapters finish on the cluster, at most `jobs` at once, one per worker."""
    from distributed import as_completed

    waiting, running = list(jobs_to_run), {}  # running: future -> (job, worker address)
    finished = as_completed(loop=client.loop)

    def start_chapters():
        if waiting and not running:
            client.wait_for_workers(1)  # a cluster of one's own may have no worker yet
        busy = {worker for _, worker in running.values()}
        idle = [worker for worker in client.nthreads() if worker not in busy]
        while waiting and idle and len(running) < jobs:
            job, worker = waiting.pop(0), idle.pop(0)
            # Pinned to an idle worker; should that worker die, the scheduler may use another.
            future = client.submit(execute_chapter_on_worker, job, key=f"chapter-{job.stem}-{uuid.uuid4().hex}",
                                   workers=[worker], allow_other_workers=True)
            running[future] = (job, worker)
            finished.add(future)

    try:
        start_chapters()
        for future in finished:
            job, _ = running.pop(future)
            yield job, future.result()
            start_chapters()
    finally:
        # When interrupted, drop the chapters not finished yet instead of waiting for them.
        client.cancel(list(running))


def execute_chapter_on_worker(job: ChapterJob) -> dict:
    """:func:`execute_chapter` as a Dask task.

    The task leaves the worker's thread pool first: the chapter's kernel may send its
    own fan-out to this cluster, and chapters holding every worker thread would wait
    for it forever.
    """
    from distributed import secede

    secede()
    with _WORKER_CHAPTER_LOCK, _environment(dict.fromkeys(_DASK_WORKER_ONLY_VARIABLES)):
        return execute_chapter(job)


def execute_chapter(job: ChapterJob) -> dict:
    """Execute one chapter; return its status, seconds and error (None when it passed)."""
    # Stale files would pass off an earlier run's results as this one's.
    job.metrics_file.unlink(missing_ok=True)
    job.executed.unlink(missing_ok=True)
    error = None
    start = time.perf_counter()
    # The kernel inherits os.environ when it starts; that is how record() finds its file.
    # Progress bars would fill the saved outputs with hundreds of lines.
    # Trained networks are cached in the run folder, so a rerun (--resume) picks them up.
    variables = {METRICS_ENV: str(job.metrics_file), "MPLBACKEND": _INLINE_BACKEND, PROGRESS_ENV: "0",
                 CACHE_ENV: os.environ.get(CACHE_ENV, str(job.cache_dir))}
    # Chapters running side by side share the cores: more BLAS threads than cores makes
    # OpenBLAS spin and can slow small matrix products a hundredfold. A user's setting wins.
    for name in _BLAS_THREAD_VARIABLES:
        variables[name] = os.environ.get(name, str(job.blas_threads))
    if job.dask_scheduler is not None:
        # The kernel's fan-outs (specbook.parallel.run_parallel) become tasks on the same cluster.
        variables[DASK_SCHEDULER_ENV] = job.dask_scheduler
    with _environment(variables):
        try:
            papermill.execute_notebook(
                str(job.notebook), str(job.executed), parameters=job.parameters,
                kernel_name=job.kernel, execution_timeout=job.timeout, cwd=str(job.cwd),
                progress_bar=False, log_output=False,
            )
        except PapermillExecutionError as exc:
            error = _error_entry(job, exc.ename, exc.evalue, exc.cell_index, exc.exec_count, exc.source)
        except Exception as exc:  # a timeout or a dead kernel fails this chapter, not the run
            error = _error_entry(job, type(exc).__name__, str(exc), *_last_started_cell(job.executed))
    seconds = round(time.perf_counter() - start, 3)
    if not job.metrics_file.exists():
        # A chapter that records nothing still gets a file, so that it can be resumed.
        write_text_atomic(job.metrics_file, "{}")
    return {"status": "failed" if error else "passed", "seconds": seconds, "error": error}


@contextmanager
def _environment(variables: dict[str, str | None]):
    """Set `variables` (None: unset) in os.environ, and put the previous values back on the way out."""
    saved = {name: os.environ.get(name) for name in variables}
    for name, value in variables.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _restored_environment():
    """Put back every environment variable on the way out, whatever changed it meanwhile."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _error_entry(job: ChapterJob, ename, evalue, executed_index, exec_count, source) -> dict:
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
