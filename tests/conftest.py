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
    "test_chapters.py": "smoke run of every chapter (Colab-like environment)",
    "test_colab.py": "smoke run of every chapter (Colab-like environment)",
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


def _command(command, **options):
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _snapshot(destination: Path) -> str:
    """A git repository holding this checkout's files as they are now (tracked and new, not ignored)."""
    import shutil

    files = _command(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT).split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    identity = ["-c", "user.name=specbook-test", "-c", "user.email=test@specbook.invalid"]
    _command(["git", "init", "-q"], cwd=destination)
    _command(["git", "add", "-A"], cwd=destination)
    _command(["git", *identity, "commit", "-q", "-m", "snapshot"], cwd=destination)
    return _command(["git", "rev-parse", "HEAD"], cwd=destination).strip()


#: The Jupyter kernel of the Colab-like environment.
COLAB_KERNEL = "colab-sim"
#: Colab's own packages that the install cell must leave alone (pinned as the CI set-up pins torch).
COLAB_PREINSTALLED = ["torch==2.13.0", "numpy", "ipykernel"]


@pytest.fixture(scope="session")
def colab(tmp_path_factory):
    """A fresh Colab-like environment: its venv, python, the install cell pointed at a snapshot of this
    checkout, the environment variables its chapters run with, and ``pip freeze`` before any chapter ran.

    What stands in for Colab: a new virtual environment holding torch (the CPU build), numpy and
    ipykernel; a ``google.colab`` module imported at start-up, so the install cell takes its Colab
    branch; and the repository address in that cell pointed at a local git snapshot of this
    checkout (CI has no GitHub), at the snapshot's commit. Everything else comes from the install
    cell's ``%pip install``: a dependency missing from pyproject.toml fails the chapters.
    """
    import time

    from specbook.harness.colab import INSTALL_CELL, REPOSITORY, REVISION

    start = time.perf_counter()
    base = tmp_path_factory.mktemp("colab")
    source = base / "repository"
    source.mkdir()
    commit = _snapshot(source)
    venv = base / "venv"
    _command([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    # Colab's pip is current; the one a new venv bundles may be too old to parse git+file URLs.
    _command([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _command([str(python), "-m", "pip", "install", "--quiet", *COLAB_PREINSTALLED])
    site = Path(_command([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "google" / "colab").mkdir(parents=True)  # a namespace package: google.protobuf & co. still import
    (site / "google" / "colab" / "__init__.py").write_text('"""Stands in for Colab in specbook\'s tests."""\n')
    (site / "colab_sim.pth").write_text("import google.colab\n")
    _command([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", COLAB_KERNEL])
    frozen = _command([str(python), "-m", "pip", "freeze"])
    install_cell = INSTALL_CELL.replace(f"git+{REPOSITORY}@{REVISION}", f"git+file://{source}@{commit}")
    assert install_cell != INSTALL_CELL
    environment = {"JUPYTER_PATH": str(venv / "share" / "jupyter"), "OMP_NUM_THREADS": "1"}
    return {"venv": venv, "python": python, "kernel": COLAB_KERNEL, "install_cell": install_cell,
            "environment": environment, "frozen_before": frozen, "base": base, "run": _command,
            "setup_seconds": time.perf_counter() - start}


@pytest.fixture(scope="session")
def smoke_run(colab, tmp_path_factory):
    """Every chapter run once at the smoke profile as Colab runs it (a :class:`specbook.harness.runner.RunResult`).

    The chapters run in the Colab-like environment's kernel (``colab``), from copies whose install
    cell points at the snapshot, in a folder holding nothing of the repository: the first chapter
    alone (its install cell installs specbook, as on a fresh Colab runtime), then the others two at
    a time (they find it installed). One run serves the Colab check (test_colab.py), the regression
    check against ``expected/smoke.json`` (test_chapters.py) and the Dask comparison (test_dask.py),
    all on one xdist worker (group "smoke"). Nothing is glued in it (no MyST-NB there): the glue
    checks read the book's run.
    """
    import nbformat

    from specbook.harness.chapters import chapter_files
    from specbook.harness.colab import INSTALL_CELL
    from specbook.harness.runner import run_chapters

    notebooks = colab["base"] / "notebooks"
    notebooks.mkdir()
    for path in chapter_files(ROOT / "notebooks", ".ipynb"):
        notebook = nbformat.read(path, as_version=4)
        first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert first_code.source.strip() == INSTALL_CELL.strip(), f"{path.stem}: first code cell is not the install one"
        first_code.source = colab["install_cell"]
        nbformat.write(notebook, notebooks / path.name)
    first = chapter_files(notebooks, ".ipynb")[0].stem
    out = tmp_path_factory.mktemp("run") / "smoke"
    options = dict(profile="smoke", out=out, notebooks_dir=notebooks, kernel=colab["kernel"], progress=False)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in colab["environment"].items():
            patch.setenv(name, value)
        installing = run_chapters([first], jobs=1, **options)
        if not installing.ok:
            return installing
        return run_chapters(jobs=2, resume=True, **options)


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
