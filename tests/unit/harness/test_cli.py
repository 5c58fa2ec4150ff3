"""Exit statuses of ``python -m specbook``: 0 success, 1 a failed chapter or a moved number, 2 a usage error.

Every case runs the command line in a subprocess, as a user would, and a usage
error must be one line on stderr, never a traceback. Run folders are written by
hand here (as in test_check.py); only the `run` cases that succeed or fail execute
notebooks (the fixture chapters).
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "runner_notebooks"


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "specbook", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def _write_run(folder: Path, *, chapters=None, profile="smoke", seed=0, state=None) -> Path:
    """A run folder as `specbook run` writes it, with one passing chapter by default."""
    folder.mkdir(parents=True, exist_ok=True)
    if chapters is None:
        chapters = {"00_ok": {"status": "passed", "seconds": 1.0, "resumed": False, "error": None,
                              "metrics": {"half": {"value": 0.5}}, "executed_notebook": "notebooks/00_ok.ipynb"}}
    run = {"profile": profile, "seed": seed, "notebooks_dir": str(folder.parent / "notebooks"),
           "chapters": chapters}
    (folder / "metrics.json").write_text(json.dumps(run))
    if state is not None:
        (folder / "state.json").write_text(json.dumps(state))
    return folder


def _write_expected(root: Path, half) -> None:
    (root / "expected").mkdir(exist_ok=True)
    (root / "expected" / "smoke.json").write_text(
        json.dumps({"profile": "smoke", "metrics": {"00_ok": {"half": {"value": half}}}}))


def _setup(root: Path, case: str) -> None:
    """Prepare `root` (the working directory of the command) for one case of the table."""
    shutil.copytree(FIXTURES, root / "notebooks")
    (root / "a_file").write_text("not a folder")
    if case in ("check_ok", "check_moved", "check_against_folder", "check_against_missing", "report_ok",
                "report_out_file"):
        _write_run(root / "run")
        _write_expected(root, 0.5 if case != "check_moved" else 0.25)
    elif case in ("check_no_status", "report_no_status"):
        _write_run(root / "run", chapters={"00_ok": {"metrics": {}}})
    elif case in ("check_bad_json", "report_bad_json"):
        (root / "run").mkdir()
        (root / "run" / "metrics.json").write_text("{truncated")
    elif case in ("check_killed", "report_killed"):
        # A run killed outright (SIGKILL) while re-running 00_ok: metrics.json is the
        # earlier run's, state.json says the chapter is running.
        _write_run(root / "run", state={"00_ok": {"status": "running", "input_hash": "x", "seconds": None}})
        _write_expected(root, 0.5)
    elif case in ("check_interrupted", "report_interrupted"):
        _write_run(root / "run", chapters={"00_ok": {"status": "interrupted", "seconds": None, "resumed": False,
                                                     "error": None, "metrics": {}}})
    elif case == "run_other_seed":
        _write_run(root / "run", seed=3)


# (case, arguments, exit status, what stdout or stderr must say)
CASES = [
    pytest.param("run_ok", ["run", "00", "--profile", "smoke", "--notebooks", "notebooks", "--out", "run",
                            "--no-progress"], 0, "1 passed", marks=pytest.mark.slow),
    pytest.param("run_failed", ["run", "01", "--profile", "smoke", "--notebooks", "notebooks", "--out", "run",
                                "--no-progress"], 1, "FAILED 01_broken", marks=pytest.mark.slow),
    ("run_negative_seed", ["run", "--profile", "smoke", "--notebooks", "notebooks", "--seed", "-1"], 2,
     "error: seed must be an integer in [0, 2**32); got -1."),
    ("run_out_file", ["run", "--profile", "smoke", "--notebooks", "notebooks", "--out", "a_file"], 2,
     "error: out='a_file' is a file, not a folder"),
    ("run_out_unwritable", ["run", "--profile", "smoke", "--notebooks", "notebooks", "--out", "a_file/run"], 2,
     "error: out='a_file/run': cannot make the run folder there"),
    ("run_other_seed", ["run", "00", "--profile", "smoke", "--notebooks", "notebooks", "--out", "run"], 2,
     "holds a run with profile 'smoke' and seed 3, and this run has profile 'smoke' and seed 0"),
    ("run_unknown_chapter", ["run", "99", "--profile", "smoke", "--notebooks", "notebooks"], 2,
     "error: chapters: '99' is not a chapter"),
    ("run_bad_jobs", ["run", "--profile", "smoke", "--notebooks", "notebooks", "--jobs", "0"], 2,
     "error: jobs must be an integer >= 1"),
    ("check_ok", ["check", "run"], 0, "OK"),
    ("check_moved", ["check", "run"], 1, "00_ok/half moved: expected 0.25"),
    ("check_against_folder", ["check", "run", "--against", "expected"], 2,
     "error: against='expected' is a folder; pass the expectations file itself"),
    ("check_against_missing", ["check", "run", "--against", "expected/none.json"], 2,
     "error: against='expected/none.json' does not exist"),
    ("check_no_status", ["check", "run"], 2, "the entry of chapter 00_ok lacks its 'status'"),
    ("check_bad_json", ["check", "run"], 2, "error: run/metrics.json is not valid JSON"),
    ("check_killed", ["check", "run"], 2, "chapter(s) 00_ok did not finish"),
    ("check_interrupted", ["check", "run"], 2, "--resume"),
    ("check_no_run", ["check", "notebooks"], 2, "holds no metrics.json"),
    ("report_ok", ["report", "run", "--out", "pages"], 0, "wrote pages/reproduction.md"),
    ("report_out_file", ["report", "run", "--out", "a_file"], 2, "error: out='a_file' is a file"),
    ("report_no_status", ["report", "run"], 2, "the entry of chapter 00_ok lacks its 'status'"),
    ("report_bad_json", ["report", "run"], 2, "error: run/metrics.json is not valid JSON"),
    ("report_killed", ["report", "run"], 2, "chapter(s) 00_ok did not finish"),
    ("report_interrupted", ["report", "run"], 2, "the run in run is incomplete"),
    ("assignments_ok", ["assignments", "01", "--notebooks", ROOT / "notebooks", "--out", "hw"], 0,
     "1 chapter(s): student copies in hw/student"),
    ("assignments_unknown_chapter", ["assignments", "99", "--notebooks", ROOT / "notebooks"], 2,
     "error: chapters: '99' is not a chapter"),
    ("assignments_out_file", ["assignments", "01", "--notebooks", ROOT / "notebooks", "--out", "a_file"], 2,
     "error: out='a_file' is a file"),
]


@pytest.mark.parametrize("case, args, status, message", CASES)
def test_exit_status(tmp_path, case, args, status, message):
    _setup(tmp_path, case)
    completed = _cli(*args, cwd=tmp_path)
    assert completed.returncode == status, completed.stdout + completed.stderr
    assert message in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    if status == 2:
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, completed.stderr


def test_a_usage_error_of_run_writes_nothing(tmp_path):
    _setup(tmp_path, "run_other_seed")
    before = (tmp_path / "run" / "metrics.json").read_text()
    assert _cli("run", "00", "--profile", "smoke", "--notebooks", "notebooks", "--out", "run",
                cwd=tmp_path).returncode == 2
    assert (tmp_path / "run" / "metrics.json").read_text() == before
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == ["metrics.json"]
