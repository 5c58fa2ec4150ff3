"""The HTML book builds from the runner's executed chapters with warnings as errors; a failing chapter
fails the build loudly, and a second build with nothing changed executes nothing.

The book itself (fixture ``book``) is built once per session in conftest.py, shared with test_browser.py.
"""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import pytest

from specbook.harness.chapters import chapter_files

ROOT = Path(__file__).resolve().parents[2]

# One worker builds the book once and the browser test reads the same build (make test runs two workers).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]


def test_the_book_renders_every_page(book):
    for page in ["book/intro", "book/running", "book/notation", "book/glossary", "book/references", "book/teaching",
                 "book/reproduction", "book/status",
                 "notebooks/00_quickstart", "notebooks/00a_d_separation", "notebooks/01_collider_world",
                 "notebooks/02_band_ci_theorem1", "notebooks/03_why_colliders", "notebooks/04_algorithm1",
                 "notebooks/05_structure_benchmark", "notebooks/05a_identifiability",
                 "notebooks/06_generalist_superset", "notebooks/07_sparsity_tightening", "notebooks/08_gan_editing",
                 "notebooks/09_pixels_to_tasks"]:
        assert (book / f"{page}.html").exists(), page
    assert (book / "index.html").exists()
    assert not (book / "notebooks" / "00_quickstart.ipynb.html").exists()  # twins are not documents


def test_chapters_are_executed_with_figures_theorem_boxes_and_exercises(book):
    html = (book / "notebooks" / "01_collider_world.html").read_text()
    assert html.count("<img") >= 4, "figures missing"
    assert "recorded population_pcorr_given_task" in html  # cell output of an executed chapter
    assert 'class="proof definition' in html and 'class="proof assumption' in html
    assert "solution" in html and "exercise" in html
    assert "it/s]" not in (book / "notebooks" / "05_structure_benchmark.html").read_text()  # no progress bars
    quick = (book / "notebooks" / "00_quickstart.html").read_text()
    assert "<img" in quick and "recorded max_abs_covariance_z" in quick
    gan = (book / "notebooks" / "08_gan_editing.html").read_text()
    assert gan.count("<img") >= 10 and "recorded gradient_l1_edit_success" in gan  # grids, curves, masks, scores
    pixels = (book / "notebooks" / "09_pixels_to_tasks.html").read_text()
    assert pixels.count("<img") >= 7 and "recorded gcm_map_latents" in pixels  # strips, curves, scatter, bars
    dseparation = (book / "notebooks" / "00a_d_separation.html").read_text()
    assert dseparation.count("<img") >= 6 and "a1 -&gt; g1 &lt;- a3" in dseparation  # one graph per step, the world
    identifiability = (book / "notebooks" / "05a_identifiability.html").read_text()
    assert identifiability.count("<img") >= 2 and "MCC (Spearman)" in identifiability  # two scatter grids, scores


def test_a_failing_chapter_fails_the_build_naming_it_and_its_cell(tmp_path, build):
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", project / "_config.yml")
    (project / "book").mkdir()
    (project / "book" / "references.bib").write_text("")
    (project / "book" / "intro.md").write_text("# A book with a broken chapter\n")
    (project / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/01_broken\n")
    header = (ROOT / "notebooks" / "00_quickstart.md").read_text().split("---\n")[1]
    chapter = jupytext.reads(
        f"---\n{header}---\n\n# Broken\n\n```{{code-cell}} ipython3\nx = 1\n```\n\n"
        "```{code-cell} ipython3\nraise RuntimeError('this chapter is broken')\n```\n", fmt="md:myst")
    jupytext.write(chapter, project / "notebooks" / "01_broken.ipynb")
    done = build(project, tmp_path / "out", "--profile", "smoke")
    log = done.stdout + done.stderr
    assert done.returncode == 1, log
    assert "01_broken: cell" in log and "RuntimeError" in log and "this chapter is broken" in log
    assert "did not build" in log
    assert not (tmp_path / "out" / "html").exists()


def test_a_second_build_with_nothing_changed_executes_nothing(book, report_lines):
    """The build the other tests read, built again: every chapter is resumed, and the pages come back."""
    output = book.parent
    profile = json.loads((output / "run" / "metrics.json").read_text())["profile"]  # SPECBOOK_BUILT_BOOK's may differ
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "specbook", "book", "--root", str(ROOT), "--out", str(output),
                           "--profile", profile, "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    chapters = len(chapter_files(ROOT / "notebooks", ".ipynb"))
    assert f"{chapters} passed ({chapters} resumed" in done.stdout, done.stdout[-4000:]
    assert (book / "notebooks" / "08_gan_editing.html").is_file()
    report_lines.append(f"second book build, nothing changed: {time.perf_counter() - start:.0f} s")
