"""Every chapter runs the way Colab runs it: a fresh environment with only Colab's torch and numpy,
the chapter's own install cell, and the committed ``.ipynb``.

The environment (``colab`` in conftest.py) is a new virtual environment holding torch (the CPU
build), numpy and ipykernel, with a ``google.colab`` module imported at start-up so the install
cell takes its Colab branch, and the repository address in that cell pointed at a local git
snapshot of this checkout (CI has no GitHub). The session's smoke run (``smoke_run``) executes
every chapter in that environment's kernel, so the chapters run once at the smoke profile for
this check, the regression check and the glue checks alike.
"""
from pathlib import Path

import pytest

from specbook.harness.chapters import chapter_files

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [p.stem for p in chapter_files(ROOT / "notebooks", ".ipynb")]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]


def test_every_chapter_runs_from_its_install_cell_in_a_fresh_environment(colab, smoke_run, report_lines):
    run = colab["run"]
    chapters = smoke_run.metrics["chapters"]
    report_lines.append(f"Colab-like run: set-up {colab['setup_seconds']:.0f} s, chapters "
                        + ", ".join(f"{stem.split('_')[0]} {chapter['seconds']:.0f} s"
                                    for stem, chapter in chapters.items()))
    assert smoke_run.ok, "\n".join(smoke_run.failure_messages())
    assert sorted(chapters) == CHAPTERS and smoke_run.metrics["kernel"] == colab["kernel"]

    installed = run([str(colab["python"]), "-c", "import specbook, torch, numpy; "
                     "print(specbook.__file__, torch.__version__, numpy.__version__)"], cwd=colab["base"])
    assert str(colab["venv"]) in installed, "specbook was not installed into the fresh environment"
    before = {line.split("==")[0].lower(): line for line in colab["frozen_before"].splitlines() if "==" in line}
    after = {line.split("==")[0].lower(): line
             for line in run([str(colab["python"]), "-m", "pip", "freeze"]).splitlines() if "==" in line}
    for package in ("torch", "numpy"):
        assert after[package] == before[package], f"the install cell replaced Colab's {package}"
