"""Every chapter runs at the smoke profile, and its numbers match expected/smoke.json."""
from pathlib import Path

import pytest

from specbook.harness.checking import check_run

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# The smoke run (conftest.py) is shared with test_glue.py: one worker runs both, so the chapters run once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]


def test_every_chapter_runs_at_the_smoke_profile(smoke_run):
    assert smoke_run.ok, "\n".join(smoke_run.failure_messages())
    assert sorted(smoke_run.metrics["chapters"]) == CHAPTERS


def test_every_chapter_records_its_numbers(smoke_run):
    for stem, chapter in smoke_run.metrics["chapters"].items():
        assert chapter["metrics"], f"{stem} records no number"
    assert smoke_run.metrics["profile"] == "smoke" and smoke_run.metrics["seed"] == 0


def test_smoke_numbers_match_the_stored_expectations(smoke_run):
    result = check_run(smoke_run.out, against=ROOT / "expected" / "smoke.json")
    assert result.ok, result.summary()
