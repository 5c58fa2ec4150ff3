"""The runner's faults, end to end through the command line: interruptions, resume, overwrites, provenance,
and files written whole or not at all.

The interrupted runs use a chapter, 01_wait, that records a number, touches
``started`` in its folder and then waits until a file ``release`` appears there:
the test decides when the chapter is mid-way, and when it may finish.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from specbook.harness.files import write_json_atomic, write_text_atomic

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "runner_notebooks"
WAIT_CHAPTER = '''\
import time
from pathlib import Path

import specbook

specbook.record("before_wait", 1)
Path("started").touch()
while not Path("release").exists():
    time.sleep(0.05)
specbook.record("after_wait", 2)
'''
# Set in the environment of the `specbook run` under test; its workers and kernels inherit it.
MARKER = "SPECBOOK_TEST_RUN"


def _cli(*args, cwd, check_status=None):
    completed = subprocess.run([sys.executable, "-m", "specbook", *map(str, args)],
                               cwd=cwd, capture_output=True, text=True, timeout=600)
    if check_status is not None:
        assert completed.returncode == check_status, completed.stdout + completed.stderr
    return completed


def _read(path: Path):
    return json.loads(path.read_text())


def _wait_until(condition, what: str, timeout=300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.1)


def _processes_marked(marker: str) -> list[str]:
    """Command lines of the live processes whose environment holds ``MARKER=marker``."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and needle in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


@pytest.fixture
def waiting_notebooks(tmp_path):
    """00_ok from the fixtures, then 01_wait (see the module docstring)."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(FIXTURES / "00_ok.ipynb", notebooks)
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('PROFILE = "book"\nSEED = 0', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(WAIT_CHAPTER),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "01_wait.ipynb")
    return notebooks


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds leftover processes through /proc")
@pytest.mark.parametrize("stop_signal, jobs", [(signal.SIGINT, 1), (signal.SIGTERM, 2)])
def test_an_interrupted_run_leaves_a_consistent_folder_and_resume_reruns_the_chapter(
        tmp_path, waiting_notebooks, stop_signal, jobs):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "specbook", "run", "--profile", "smoke", "--notebooks", waiting_notebooks,
               "--out", out, "--jobs", str(jobs), "--no-progress"]
    run = subprocess.Popen(list(map(str, command)), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env={**os.environ, MARKER: str(tmp_path)})
    try:
        _wait_until(lambda: (waiting_notebooks / "started").exists() and (out / "state.json").exists()
                    and _read(out / "state.json")["00_ok"]["status"] == "passed", "00_ok passed and 01_wait started")
        # Marked before it began: a run killed now would leave it "running", never "passed".
        assert _read(out / "state.json")["01_wait"]["status"] == "running"
        run.send_signal(stop_signal)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, stdout + stderr
    assert "interrupted: chapter(s) 01_wait did not finish" in stderr
    assert "run them again with `python -m specbook run 01_wait" in stderr and "--resume" in stderr

    # Every file says the same: 00_ok passed with its numbers, 01_wait interrupted without any.
    statuses = {stem: entry["status"] for stem, entry in _read(out / "state.json").items()}
    assert statuses == {"00_ok": "passed", "01_wait": "interrupted"}
    chapters = _read(out / "metrics.json")["chapters"]
    assert {stem: chapter["status"] for stem, chapter in chapters.items()} == statuses
    assert chapters["01_wait"]["metrics"] == {} and chapters["01_wait"]["seconds"] is None
    assert chapters["00_ok"]["metrics"]["half"]["value"] == 0.5
    assert not (out / "metrics" / "01_wait.json").exists()
    report = (out / "report.md").read_text()
    assert "| 01_wait | **interrupted** | - | 0 |" in report and "## Interrupted" in report
    # The worker processes and the kernels went with the run.
    _wait_until(lambda: not _processes_marked(str(tmp_path)), "the run's processes are gone", timeout=30)

    for command in ("check", "report"):
        refused = _cli(command, out, cwd=tmp_path, check_status=2)
        assert "chapter(s) 01_wait did not finish" in refused.stderr and "--resume" in refused.stderr

    (waiting_notebooks / "release").touch()
    resumed = _cli("run", "--profile", "smoke", "--notebooks", waiting_notebooks, "--out", out, "--resume",
                   "--no-progress", cwd=tmp_path, check_status=0)
    assert "2 chapter(s): 2 passed" in resumed.stdout and "0 interrupted" in resumed.stdout
    chapters = _read(out / "metrics.json")["chapters"]
    # (00_ok is resumed too, unless the package's sources changed meanwhile)
    assert {stem: chapter["status"] for stem, chapter in chapters.items()} == {"00_ok": "passed", "01_wait": "passed"}
    assert chapters["01_wait"]["resumed"] is False
    assert chapters["01_wait"]["metrics"] == {"before_wait": {"value": 1}, "after_wait": {"value": 2}}
    assert {entry["status"] for entry in _read(out / "state.json").values()} == {"passed"}


@pytest.mark.slow
def test_resume_is_invalidated_by_a_changed_source_seed_or_missing_file_and_other_chapters_are_kept(tmp_path):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    out = tmp_path / "out"

    def run(*args, status=0):
        _cli("run", *args, "--profile", "smoke", "--notebooks", notebooks, "--out", out, "--no-progress",
             cwd=tmp_path, check_status=status)
        return _read(out / "metrics.json")

    def resumed(metrics):
        return {stem: chapter["resumed"] for stem, chapter in metrics["chapters"].items()}

    run("00")
    assert resumed(run("00", "--resume")) == {"00_ok": True}
    (notebooks / "00_ok.ipynb").write_bytes((notebooks / "00_ok.ipynb").read_bytes() + b"\n")
    assert resumed(run("00", "--resume")) == {"00_ok": False}  # the chapter's source changed
    (out / "notebooks" / "00_ok.ipynb").unlink()
    assert resumed(run("00", "--resume")) == {"00_ok": False}  # its executed notebook is gone

    refused = _cli("run", "00", "--seed", "5", "--resume", "--profile", "smoke", "--notebooks", notebooks,
                   "--out", out, cwd=tmp_path, check_status=2)
    assert "holds a run with profile 'smoke' and seed 0" in refused.stderr and "--force" in refused.stderr
    forced = run("00", "--seed", "5", "--resume", "--force")
    assert forced["seed"] == 5 and resumed(forced) == {"00_ok": False}

    # Another chapter into the same folder: 00_ok's entry stays, and is marked as kept.
    merged = _cli("run", "02", "--seed", "5", "--profile", "smoke", "--notebooks", notebooks, "--out", out,
                  "--no-progress", cwd=tmp_path, check_status=0)
    assert "passed (kept)" in merged.stdout
    chapters = _read(out / "metrics.json")["chapters"]
    assert list(chapters) == ["00_ok", "02_ok"]
    assert chapters["00_ok"] == forced["chapters"]["00_ok"]
    assert set(_read(out / "state.json")) == {"00_ok", "02_ok"}


@pytest.mark.slow
def test_git_dirty_is_what_the_checkout_of_the_chapters_says(tmp_path):
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy(FIXTURES / "00_ok.ipynb", repo / "notebooks")

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
                              cwd=repo, capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "the chapter")

    def run(name):
        _cli("run", "00", "--profile", "smoke", "--notebooks", repo / "notebooks", "--out", tmp_path / name,
             "--no-progress", cwd=tmp_path, check_status=0)
        return _read(tmp_path / name / "metrics.json")

    clean = run("clean")
    assert (clean["git_commit"], clean["git_dirty"]) == (git("rev-parse", "HEAD"), False)
    (repo / "notes.txt").write_text("an uncommitted file")
    dirty = run("dirty")
    assert (dirty["git_commit"], dirty["git_dirty"]) == (clean["git_commit"], True)
    refused = _cli("report", tmp_path / "dirty", cwd=tmp_path, check_status=2)
    assert "uncommitted changes" in refused.stderr


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "expected.json"
    write_json_atomic(path, {"old": 1})
    old = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_json_atomic(path, {"new": list(range(1000))})
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(path, "new text")
    assert path.read_bytes() == old
    assert [item.name for item in tmp_path.iterdir()] == ["expected.json"]


def test_check_update_under_a_file_size_limit_keeps_the_old_expectations(tmp_path):
    # As `ulimit -f 4` did in the issue: the new expectations file is larger than 4 KiB.
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    metrics = {f"number_{index:03d}": {"value": index * 0.5} for index in range(300)}
    (run_dir / "metrics.json").write_text(json.dumps({
        "profile": "smoke", "seed": 0, "notebooks_dir": str(tmp_path / "notebooks"),
        "chapters": {"00_a": {"status": "passed", "seconds": 1.0, "resumed": False, "error": None,
                              "metrics": metrics, "executed_notebook": "notebooks/00_a.ipynb"}}}))
    expected = tmp_path / "expected" / "smoke.json"
    expected.parent.mkdir()
    expected.write_text(json.dumps({"profile": "smoke", "metrics": {"00_a": {"number_000": {"value": 0.0}}}}))
    old = expected.read_bytes()

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    completed = subprocess.run([sys.executable, "-m", "specbook", "check", str(run_dir), "--update"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               preexec_fn=limit_file_size)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "File too large" in completed.stderr and "Traceback" not in completed.stderr
    assert expected.read_bytes() == old
    assert [item.name for item in expected.parent.iterdir()] == ["smoke.json"]
