"""Every chapter runs at the smoke profile, and its numbers match expected/smoke.json.

The run is the session's ``smoke_run`` (conftest.py), made in the Colab-like environment: what Colab
users get is what is checked.
"""
from pathlib import Path

import pytest

from specbook.harness.chapters import chapter_files, is_primer
from specbook.harness.checking import check_run

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [p.stem for p in chapter_files(ROOT / "notebooks", ".ipynb")]

# The smoke run (conftest.py) is shared with test_colab.py, test_glue.py and test_dask.py: one worker runs them
# all, so the chapters run once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]


def test_every_chapter_runs_at_the_smoke_profile(smoke_run):
    assert smoke_run.ok, "\n".join(smoke_run.failure_messages())
    assert sorted(smoke_run.metrics["chapters"]) == CHAPTERS


def test_every_chapter_records_its_numbers(smoke_run):
    # a primer (00a_d_separation) explains a concept on a toy example: it measures nothing, and records nothing
    for stem, chapter in smoke_run.metrics["chapters"].items():
        if is_primer(stem):
            assert not chapter["metrics"], f"{stem} is a primer and records {sorted(chapter['metrics'])}"
        else:
            assert chapter["metrics"], f"{stem} records no number"
    assert smoke_run.metrics["profile"] == "smoke" and smoke_run.metrics["seed"] == 0


def test_smoke_numbers_match_the_stored_expectations(smoke_run):
    result = check_run(smoke_run.out, against=ROOT / "expected" / "smoke.json")
    assert result.ok, result.summary()
