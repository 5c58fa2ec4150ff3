"""Every chapter runs the way Colab runs it: a fresh environment with only Colab's torch and numpy,
the chapter's own install cell, and the committed ``.ipynb``.

What stands in for Colab: a new virtual environment holding torch (the CPU build), numpy and
ipykernel; a ``google.colab`` module imported at start-up, so the install cell takes its Colab
branch; and the repository address in that cell pointed at a local git snapshot of this
checkout (CI has no GitHub), at the snapshot's commit. Everything else comes from the install
cell's ``%pip install``: a dependency missing from pyproject.toml fails here.
"""
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import nbformat
import papermill
import pytest

from specbook.harness.colab import INSTALL_CELL, REPOSITORY, REVISION

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KERNEL = "colab-sim"
#: Colab's own packages that the install cell must leave alone (pinned as the CI set-up pins torch).
COLAB_PREINSTALLED = ["torch==2.13.0", "numpy", "ipykernel"]

pytestmark = pytest.mark.slow


def run(command, **options):
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def snapshot(destination: Path) -> str:
    """A git repository holding this checkout's files as they are now (tracked and new, not ignored)."""
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT).split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    identity = ["-c", "user.name=specbook-test", "-c", "user.email=test@specbook.invalid"]
    run(["git", "init", "-q"], cwd=destination)
    run(["git", "add", "-A"], cwd=destination)
    run(["git", *identity, "commit", "-q", "-m", "snapshot"], cwd=destination)
    return run(["git", "rev-parse", "HEAD"], cwd=destination).strip()


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """(kernel environment, install-cell text) of a fresh Colab-like environment."""
    start = time.perf_counter()
    base = tmp_path_factory.mktemp("colab")
    source = base / "repository"
    source.mkdir()
    commit = snapshot(source)
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    # Colab's pip is current; the one a new venv bundles may be too old to parse git+file URLs.
    run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(python), "-m", "pip", "install", "--quiet", *COLAB_PREINSTALLED])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "google" / "colab").mkdir(parents=True)  # a namespace package: google.protobuf & co. still import
    (site / "google" / "colab" / "__init__.py").write_text('"""Stands in for Colab in specbook\'s tests."""\n')
    (site / "colab_sim.pth").write_text("import google.colab\n")
    run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL])
    frozen = run([str(python), "-m", "pip", "freeze"])
    install_cell = INSTALL_CELL.replace(f"git+{REPOSITORY}@{REVISION}", f"git+file://{source}@{commit}")
    assert install_cell != INSTALL_CELL
    environment = {**os.environ, "JUPYTER_PATH": str(venv / "share" / "jupyter"), "MPLBACKEND": "Agg",
                   "SPECBOOK_PROGRESS": "0", "SPECBOOK_CACHE_DIR": str(base / "cache"), "OMP_NUM_THREADS": "1"}
    # Chapters run where Colab runs them: a folder holding nothing of the repository.
    (base / "executed").mkdir()
    return {"venv": venv, "python": python, "install_cell": install_cell, "environment": environment,
            "frozen_before": frozen, "out": base / "executed", "setup_seconds": time.perf_counter() - start}


def execute_like_colab(colab, stem):
    notebook = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source.strip() == INSTALL_CELL.strip(), f"{stem}: first code cell is not the install cell"
    first_code.source = colab["install_cell"]
    prepared = colab["out"] / f"{stem}.input.ipynb"
    nbformat.write(notebook, prepared)
    start = time.perf_counter()
    papermill.execute_notebook(str(prepared), str(colab["out"] / f"{stem}.ipynb"), parameters={"PROFILE": "smoke"},
                               kernel_name=KERNEL, cwd=str(colab["out"]), progress_bar=False)
    return stem, time.perf_counter() - start


def test_every_chapter_runs_from_its_install_cell_in_a_fresh_environment(colab, monkeypatch, report_lines):
    for name, value in colab["environment"].items():
        monkeypatch.setenv(name, value)
    # The first chapter installs specbook; the others find it installed, as on one Colab runtime.
    seconds = dict([execute_like_colab(colab, CHAPTERS[0])])
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        seconds.update(pool.map(partial(execute_like_colab, colab), CHAPTERS[1:]))
    report_lines.append(f"Colab-like run: set-up {colab['setup_seconds']:.0f} s, chapters "
                        + ", ".join(f"{stem[:2]} {s:.0f} s" for stem, s in seconds.items()))
    assert sorted(seconds) == CHAPTERS

    installed = run([str(colab["python"]), "-c", "import specbook, torch, numpy; "
                     "print(specbook.__file__, torch.__version__, numpy.__version__)"], cwd=colab["out"])
    assert str(colab["venv"]) in installed, "specbook was not installed into the fresh environment"
    before = {line.split("==")[0].lower(): line for line in colab["frozen_before"].splitlines() if "==" in line}
    after = {line.split("==")[0].lower(): line
             for line in run([str(colab["python"]), "-m", "pip", "freeze"]).splitlines() if "==" in line}
    for package in ("torch", "numpy"):
        assert after[package] == before[package], f"the install cell replaced Colab's {package}"
