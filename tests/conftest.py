"""Print how long each stage of the suite took (CI keeps an eye on its 45-minute budget).

Also the HTML book shared by test_book.py and test_browser.py: it is built once per session,
and ``reference_library``, which imports the reference implementations that some tests compare
with (causal-learn, tigramite; both in the ``dev`` extra).
"""
import importlib
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _share_the_cores():
    """Give each pytest-xdist worker its share of the cores for torch and BLAS threads.

    Two workers on two cores, each with two busy-waiting torch threads, ran a neural test
    five times slower than on one thread. Subprocesses (chapter kernels) inherit the share
    through the environment unless it is already set.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    threads = max(1, (os.cpu_count() or 1) // workers)
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    import torch
    from threadpoolctl import threadpool_limits

    threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(threads)
    threadpool_limits(threads)


_share_the_cores()

STAGES = {
    "test_book.py": "book build",
    "test_browser.py": "browser test",
    "test_pdf.py": "PDF",
    "test_chapters.py": "smoke run of every chapter",
    "test_runner.py": "runner",
    "test_notebooks.py": "notebook shape",
}

#: Lines that tests add to the end of the report (see the ``report_lines`` fixture).
REPORT_LINES = pytest.StashKey[list]()


def build_book(root: Path, output: Path, *extra: str):
    """``python -m specbook book`` of the repository `root` into `output`, as `make book` does.

    The runner executes the chapters (``output/run``), then jupyter-book renders them
    without executing anything (warnings are errors); the HTML lands in ``output/html``.
    """
    # The limit is wide: beside the other xdist worker the chapters took about 25 minutes in CI.
    return subprocess.run(
        [sys.executable, "-m", "specbook", "book", "--root", str(root), "--out", str(output), "--no-progress", *extra],
        capture_output=True, text=True, timeout=3600,
    )


#: Set to 1 to skip, rather than fail, the tests whose reference library is not installed.
REFERENCE_OPT_OUT = "SPECBOOK_SKIP_REFERENCE_TESTS"


@pytest.fixture(scope="session")
def reference_library():
    """``reference_library(module)`` imports a reference implementation, or fails the test loudly.

    The dev extra installs these libraries, so under the test command a missing one is a broken
    environment, not a reason to skip silently. Only ``SPECBOOK_SKIP_REFERENCE_TESTS=1`` (an
    explicit opt-out) turns the failure into a skip.
    """
    def load(module):
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            if os.environ.get(REFERENCE_OPT_OUT) == "1":
                pytest.skip(f"{module} is not installed ({exc}); skipped because {REFERENCE_OPT_OUT}=1")
            pytest.fail(f"the reference library {module} is not installed ({exc}). Install the dev extra "
                        f"(pip install -e '.[dev]'), or set {REFERENCE_OPT_OUT}=1 to skip the tests that need it.",
                        pytrace=False)

    return load


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Every chapter run once at the smoke profile (a :class:`specbook.harness.runner.RunResult`).

    Shared by test_chapters.py and test_glue.py, which run on one xdist worker (group "smoke").
    """
    from specbook.harness.runner import run_chapters

    out = tmp_path_factory.mktemp("run") / "smoke"
    return run_chapters(profile="smoke", out=out, notebooks_dir=ROOT / "notebooks", jobs=2, progress=False)


@pytest.fixture(scope="session")
def build():
    """The build function itself, for tests that build a book of their own."""
    return build_book


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """The repository's HTML book (its ``_build/html`` folder), built once per session.

    Building takes about 16 minutes alone (every chapter at the ``book`` profile, two at a time). To reuse a book
    that is already built, set ``SPECBOOK_BUILT_BOOK`` to its ``_build/html`` folder, e.g.
    ``SPECBOOK_BUILT_BOOK=_build/html .venv/bin/pytest tests/book/test_browser.py``; the tests then
    check that book as it is (a book built at another profile may fail the content checks of
    test_book.py).
    """
    prebuilt = os.environ.get("SPECBOOK_BUILT_BOOK")
    if prebuilt:
        html = Path(prebuilt).expanduser().resolve()
        if not (html / "index.html").is_file():
            pytest.fail(f"SPECBOOK_BUILT_BOOK={prebuilt}: no index.html there (expected a built book's _build/html)")
        return html
    output = tmp_path_factory.mktemp("book")
    done = build_book(ROOT, output)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return output / "html"


@pytest.fixture(scope="session")
def report_lines(pytestconfig):
    """A list whose lines are printed at the end of the run, after the time per stage."""
    return pytestconfig.stash.setdefault(REPORT_LINES, [])


def pytest_sessionfinish(session):
    # Under pytest-xdist the notes live in a worker; send them to the controller.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["specbook_notes"] = session.config.stash.get(REPORT_LINES, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    notes = getattr(node, "workeroutput", {}).get("specbook_notes", [])
    node.config.stash.setdefault(REPORT_LINES, []).extend(notes)


def pytest_terminal_summary(terminalreporter):
    seconds = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if hasattr(report, "duration") and hasattr(report, "nodeid"):
                name = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
                seconds[STAGES.get(name, "unit tests")] += report.duration
    if seconds:
        terminalreporter.section("time per stage")
        for stage, total in sorted(seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{total:8.1f} s  {stage}")
    lines = terminalreporter.config.stash.get(REPORT_LINES, [])
    if lines:
        terminalreporter.section("notes from the tests")
        for line in lines:
            terminalreporter.write_line(line)
