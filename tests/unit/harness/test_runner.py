"""The papermill runner on three fixture chapters: 00_ok, 01_broken (raises in its 3rd code cell), 02_ok.

Every kernel start costs a second or two, so one module-scoped run serves most tests.
"""
import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace
from pathlib import Path

import nbformat
import numpy as np
import pytest

from specbook.harness.provenance import file_digest, source_digests
from specbook.harness.recording import METRICS_ENV
from specbook.harness.runner import _select_chapters, find_chapters, run_chapters

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "runner_notebooks"
SEED = 7  # not the fixtures' default of 0, so a recorded seed proves the injection


def _chapter_metrics(metrics: dict) -> dict:
    """The parts of metrics.json that must not depend on how the chapters were scheduled."""
    return {stem: (chapter["status"], chapter["metrics"], chapter["error"])
            for stem, chapter in metrics["chapters"].items()}


def _fix_broken_chapter(notebooks: Path) -> None:
    path = notebooks / "01_broken.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[3].source = 'specbook.record("fixed", True)'
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("broken_run")
    notebooks = shutil.copytree(FIXTURES, base / "notebooks")
    result = run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks,
                          out=base / "runs" / "smoke", progress=False)
    return base, result


@pytest.fixture
def broken_run_copy(broken_run, tmp_path):
    """A private copy of the module run (notebooks and run folder), for tests that run again."""
    base, _ = broken_run
    shutil.copytree(base, tmp_path, dirs_exist_ok=True)
    return tmp_path / "notebooks", tmp_path / "runs" / "smoke"


def test_failing_chapter_is_reported_and_the_others_still_run(broken_run):
    _, result = broken_run
    assert not result.ok
    assert result.failed == ["01_broken"]
    statuses = {stem: chapter["status"] for stem, chapter in result.metrics["chapters"].items()}
    assert statuses == {"00_ok": "passed", "01_broken": "failed", "02_ok": "passed"}
    assert METRICS_ENV not in os.environ  # the in-process run restores the environment


def test_failure_message_names_cell_exception_and_executed_notebook(broken_run):
    _, result = broken_run
    [message] = result.failure_messages()
    # cell 3 of the chapter file (0-based, after a markdown cell); execution count 4 because
    # papermill executes an injected-parameters cell after the parameters cell
    assert message.startswith("01_broken: cell 3 (execution count 4) raised ValueError: boom")
    assert '[first line: raise ValueError("boom")]' in message
    assert message.endswith(f"executed notebook: {result.out / 'notebooks' / '01_broken.ipynb'}")
    assert result.metrics["chapters"]["01_broken"]["error"] == {
        "cell_index": 3, "exec_count": 4, "ename": "ValueError", "evalue": "boom",
        "source_head": 'raise ValueError("boom")',
    }


def test_failed_chapter_keeps_executed_notebook_with_traceback(broken_run):
    _, result = broken_run
    executed = nbformat.read(result.out / "notebooks" / "01_broken.ipynb", as_version=4)
    errors = [output for cell in executed.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert [(error.ename, error.evalue) for error in errors] == [("ValueError", "boom")]
    assert any("boom" in line for line in errors[0].traceback)
    # what the chapter recorded before it raised is kept, nothing after
    assert result.metrics["chapters"]["01_broken"]["metrics"] == {"before_failure": {"value": 1}}


def test_metrics_json_holds_injected_parameters_and_provenance(broken_run):
    base, result = broken_run
    written = json.loads((result.out / "metrics.json").read_text())
    assert written == result.metrics
    assert written["profile"] == "smoke" and written["seed"] == SEED
    assert written["profile_sizes"]["n_samples"] == 2_000
    assert written["timeout"] == 300  # the smoke profile's cell_timeout
    assert written["notebooks_dir"] == str((base / "notebooks").resolve())
    assert written["git_commit"] is None and written["git_dirty"] is None  # tmp is not a checkout
    assert written["kernel"] == "python3"
    assert written["packages"]["numpy"] == np.__version__ and set(written["packages"]) >= {"torch", "scipy"}
    ok_metrics = written["chapters"]["00_ok"]["metrics"]
    assert ok_metrics["profile"] == {"value": "smoke"}
    assert ok_metrics["seed"] == {"value": SEED}
    assert ok_metrics["n_samples"] == {"value": 2_000, "description": "samples the profile gives"}
    assert ok_metrics["half"] == {"value": 0.5, "unit": "fraction", "atol": 0.01}
    assert written["chapters"]["02_ok"]["metrics"] == {
        "runs_in_notebooks_dir": {"value": True},
        "mpl_backend": {"value": "module://matplotlib_inline.backend_inline"},  # figures stay in the notebook
        "seed_plus_one": {"value": SEED + 1},
        "cache_is_set": {"value": True},
    }
    assert (result.out / "cache" / "02_ok" / "checkpoint.txt").read_text() == "trained"
    for stem, chapter in written["chapters"].items():
        assert chapter["executed_notebook"] == f"notebooks/{stem}.ipynb"
        assert (result.out / chapter["executed_notebook"]).exists()
        assert json.loads((result.out / "metrics" / f"{stem}.json").read_text()) == chapter["metrics"]
        assert chapter["resumed"] is False
        # what `report` compares with a checkout to tell a stale run
        assert chapter["notebook_sha256"] == file_digest(base / "notebooks" / f"{stem}.ipynb")
    assert written["source_files"] == source_digests() and "harness/runner.py" in written["source_files"]


def test_report_lists_chapters_failure_and_metrics(broken_run):
    _, result = broken_run
    report = (result.out / "report.md").read_text()
    assert "| 01_broken | **failed** |" in report
    assert "| 00_ok | passed |" in report
    failures = report.split("## Failures")[1].split("## Metrics")[0]
    assert "### 01_broken" in failures
    assert "index 3 (execution count 4)" in failures
    assert "ValueError: boom" in failures
    assert 'raise ValueError("boom")' in failures
    assert str(result.out / "notebooks" / "01_broken.ipynb") in failures
    assert "| half | 0.5 | fraction |  |" in report


def test_state_records_status_and_input_hash(broken_run):
    _, result = broken_run
    state = json.loads((result.out / "state.json").read_text())
    assert {stem: entry["status"] for stem, entry in state.items()} == {
        "00_ok": "passed", "01_broken": "failed", "02_ok": "passed"}
    assert len({entry["input_hash"] for entry in state.values()}) == 3


def test_resume_reuses_passed_chapters_and_reruns_changed_ones(broken_run, broken_run_copy):
    _, first = broken_run
    notebooks, out = broken_run_copy
    _fix_broken_chapter(notebooks)

    fixed = run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out,
                         resume=True, progress=False)
    assert fixed.ok
    chapters = fixed.metrics["chapters"]
    assert {stem: chapter["resumed"] for stem, chapter in chapters.items()} == {
        "00_ok": True, "01_broken": False, "02_ok": True}
    assert chapters["00_ok"]["metrics"] == first.metrics["chapters"]["00_ok"]["metrics"]
    assert chapters["00_ok"]["seconds"] == first.metrics["chapters"]["00_ok"]["seconds"]
    assert chapters["01_broken"]["metrics"] == {
        "before_failure": {"value": 1}, "fixed": {"value": True}, "after_failure": {"value": 2}}
    assert "(resumed)" in (out / "report.md").read_text()

    (notebooks / "02_ok.ipynb").write_bytes((notebooks / "02_ok.ipynb").read_bytes() + b"\n")
    edited = run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out,
                          resume=True, progress=False)
    assert {stem: chapter["resumed"] for stem, chapter in edited.metrics["chapters"].items()} == {
        "00_ok": True, "01_broken": True, "02_ok": False}


def test_resume_reruns_when_the_settings_change(broken_run_copy):
    notebooks, out = broken_run_copy
    result = run_chapters(["00"], profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out,
                          resume=True, timeout=120, progress=False)
    # the other chapters of the folder keep their entries (and its failure)
    assert list(result.metrics["chapters"]) == ["00_ok", "01_broken", "02_ok"]
    assert result.kept == ["01_broken", "02_ok"] and result.failed == ["01_broken"]
    assert result.metrics["chapters"]["00_ok"]["resumed"] is False
    assert result.metrics["timeout"] == 120


def test_another_kernel_is_not_resumed_and_runs_the_chapter(broken_run_copy):
    notebooks, out = broken_run_copy
    result = run_chapters(["00"], profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out,
                          resume=True, kernel="no-such-kernel", progress=False)
    chapter = result.metrics["chapters"]["00_ok"]
    assert result.failed == ["00_ok", "01_broken"] and chapter["resumed"] is False
    assert "no-such-kernel" in chapter["error"]["evalue"] and result.metrics["kernel"] == "no-such-kernel"
    assert "- executor `local`, Jupyter kernel `no-such-kernel`\n" in (out / "report.md").read_text()


def test_resume_never_skips_a_failed_chapter(broken_run_copy):
    notebooks, out = broken_run_copy
    result = run_chapters(["01_broken"], profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out,
                          resume=True, progress=False)
    assert result.failed == ["01_broken"]
    assert result.metrics["chapters"]["01_broken"]["resumed"] is False


def test_two_jobs_give_the_same_metrics_as_one(broken_run, tmp_path, capsys):
    _, sequential = broken_run
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    parallel = run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks,
                            out=tmp_path / "out", jobs=2)
    assert _chapter_metrics(parallel.metrics) == _chapter_metrics(sequential.metrics)
    assert list(parallel.metrics["chapters"]) == ["00_ok", "01_broken", "02_ok"]
    assert parallel.failure_messages() == [
        message.replace(str(sequential.out), str(parallel.out)) for message in sequential.failure_messages()]
    progress = capsys.readouterr().err
    assert "specbook run (smoke)" in progress and "3/3" in progress


def test_cell_timeout_fails_the_chapter_at_the_cell_that_ran_out(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('PROFILE = "book"\nSEED = 0', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import time\n\ntime.sleep(60)"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, notebooks / "00_slow.ipynb")
    result = run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "out",
                          timeout=1, progress=False)
    assert result.failed == ["00_slow"]
    error = result.metrics["chapters"]["00_slow"]["error"]
    assert error["ename"] == "CellTimeoutError"
    assert (error["cell_index"], error["exec_count"], error["source_head"]) == (1, 3, "import time")
    assert result.metrics["chapters"]["00_slow"]["seconds"] < 30


@pytest.mark.parametrize("kwargs, match", [
    ({"chapters": ["99"]}, r"chapters: '99' is not a chapter.*00_ok, 01_broken, 02_ok"),
    ({"chapters": ["01_brok"]}, r"'01_brok' is not a chapter"),
    ({"profile": "huge"}, r"profile='huge' is not a known profile"),
    ({"jobs": 0}, r"jobs must be an integer >= 1"),
    ({"jobs": 1.5}, r"jobs must be an integer >= 1"),
    ({"seed": "0"}, r"seed must be an integer"),
    ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*32\); got -1"),
    ({"seed": True}, r"seed must be an integer"),
    ({"timeout": -1}, r"timeout \(seconds per cell\) must be a finite real number > 0; got -1"),
    ({"timeout": float("nan")}, r"timeout \(seconds per cell\) must be a finite real number > 0; got nan"),
    ({"timeout": float("inf")}, r"timeout \(seconds per cell\) must be a finite real number > 0; got inf"),
    ({"timeout": True}, r"timeout \(seconds per cell\) must be a finite real number"),
    ({"kernel": ""}, r"kernel must be the name of a Jupyter kernel, such as 'python3'; got ''"),
    ({"kernel": None}, r"kernel must be the name of a Jupyter kernel"),
])
def test_bad_arguments_raise_before_anything_runs(tmp_path, kwargs, match):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    with pytest.raises(ValueError, match=match):
        run_chapters(**{"profile": "smoke", **kwargs}, notebooks_dir=notebooks, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_folder_holding_a_run_of_another_profile_is_refused_unless_forced(broken_run_copy):
    notebooks, out = broken_run_copy
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    with pytest.raises(ValueError, match=r"holds a run with profile 'smoke' and seed 7, and this run has profile "
                                         r"'book' and seed 7; .*force=True \(CLI: --force\)"):
        run_chapters(["00"], profile="book", seed=SEED, notebooks_dir=notebooks, out=out)
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_a_run_folder_must_be_a_folder(tmp_path):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    (tmp_path / "out").write_text("a file")
    with pytest.raises(ValueError, match=r"out='.*out' is a file, not a folder"):
        run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "out")


def test_notebooks_dir_must_exist_and_hold_chapters(tmp_path):
    with pytest.raises(ValueError, match="notebooks_dir=.*is not a folder"):
        run_chapters(notebooks_dir=tmp_path / "missing")
    (tmp_path / "notes.ipynb").touch()
    with pytest.raises(ValueError, match="notebooks_dir=.*holds no chapter files"):
        run_chapters(notebooks_dir=tmp_path)


def test_a_number_naming_two_chapters_is_ambiguous(tmp_path):
    for name in ("01_first.ipynb", "01_second.ipynb"):
        (tmp_path / name).touch()
    with pytest.raises(ValueError, match="'01' matches several chapters"):
        run_chapters(["01"], notebooks_dir=tmp_path)


def test_a_number_selects_by_the_part_before_the_first_underscore(tmp_path):
    # a primer (05a_...) sits between chapters 05 and 06: "05" names chapter 5 only, "05a" the primer
    stems = ["05_benchmark", "05a_primer", "06_next", "10_ten"]
    for stem in ["notes", "5_short", "05A_upper", *stems]:
        (tmp_path / f"{stem}.ipynb").touch()
    available = find_chapters(tmp_path)
    assert list(available) == stems  # in reading order; names that are not chapters are ignored
    for name, selected in [("05", ["05_benchmark"]), ("05a", ["05a_primer"]), ("05a_primer", ["05a_primer"]),
                           (["06", "05a"], ["05a_primer", "06_next"]), ("10", ["10_ten"])]:
        assert list(_select_chapters(name, available, tmp_path)) == selected, name
    for name in ("0", "05_", "05b", "5", "05_bench", "a"):
        with pytest.raises(ValueError, match=rf"chapters: '{name}' is not a chapter in .*05_benchmark, 05a_primer"):
            _select_chapters(name, available, tmp_path)


def test_default_notebooks_dir_is_the_working_directorys(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="00_ok, 01_broken, 02_ok"):
        run_chapters(["99"])


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "specbook", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_run_exits_1_and_names_the_failure(tmp_path):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    completed = _cli("run", "01", "--profile", "smoke", "--notebooks", notebooks, "--out", "out",
                     "--no-progress", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    assert "run folder: out" in completed.stdout
    assert "FAILED 01_broken: cell 3 (execution count 4) raised ValueError: boom" in completed.stderr
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["profile"] == "smoke"


@pytest.mark.parametrize("args, message", [
    (["--profile", "huge"], "invalid choice: 'huge'"),
    (["99", "--profile", "smoke"], "error: chapters: '99' is not a chapter"),
])
def test_cli_run_exits_2_on_bad_arguments(tmp_path, args, message):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    completed = _cli("run", *args, "--notebooks", notebooks, cwd=tmp_path)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_default_jobs_is_the_cores_bounded_by_free_memory(monkeypatch):
    from specbook.harness import runner

    gib_pages = 2 ** 30 // 4096
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    for free_gib, expected in ((64, 4), (9, 2), (4, 1), (1, 1)):
        pages = {"SC_AVPHYS_PAGES": free_gib * gib_pages, "SC_PAGE_SIZE": 4096}
        monkeypatch.setattr(runner.os, "sysconf", pages.__getitem__)
        assert runner.default_jobs() == expected, free_gib


def test_longest_first_orders_by_expected_seconds_unknown_first_ties_in_chapter_order():
    from specbook.harness.runner import longest_first

    jobs = [SimpleNamespace(stem=stem) for stem in ("00_a", "01_b", "02_c", "03_d", "04_e")]
    expected = {"00_a": 5.0, "01_b": 300.0, "03_d": 5.0, "04_e": 40.0}
    assert [job.stem for job in longest_first(jobs, expected)] == ["02_c", "01_b", "04_e", "00_a", "03_d"]
    assert [job.stem for job in longest_first(jobs, {})] == [job.stem for job in jobs]


def test_several_jobs_start_the_chapter_that_took_longest_last_time_first(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from specbook.harness import executors, runner

    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    committed = tmp_path / "book" / "run"
    committed.mkdir(parents=True)
    # the committed run says 02_ok is the longest; then this run folder's own state says 00_ok is
    (committed / "metrics.json").write_text(json.dumps({"chapters": {
        "00_ok": {"seconds": 1.0}, "01_broken": {"seconds": 2.0}, "02_ok": {"seconds": 30.0}}}))
    started = []

    @contextmanager
    def recording_executor(executor, scheduler, jobs, blas_threads):
        def execute_all(pending):
            started.extend(job.stem for job in pending)
            return executors.execute_locally(pending, 1)
        yield execute_all, None

    monkeypatch.setattr(runner, "chapter_executor", recording_executor)
    out = tmp_path / "out"
    run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out, jobs=2, progress=False)
    assert started == ["02_ok", "01_broken", "00_ok"]
    state = json.loads((out / "state.json").read_text())
    for stem, seconds in {"00_ok": 100.0, "01_broken": 1.0, "02_ok": 3.0}.items():
        state[stem]["seconds"] = seconds
    (out / "state.json").write_text(json.dumps(state))
    started.clear()
    run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks, out=out, jobs=2, progress=False)
    assert started == ["00_ok", "02_ok", "01_broken"]
    started.clear()
    run_chapters(profile="smoke", seed=SEED, notebooks_dir=notebooks, out=tmp_path / "serial", jobs=1, progress=False)
    assert started == ["00_ok", "01_broken", "02_ok"]  # one at a time: the chapter order
