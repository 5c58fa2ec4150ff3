"""The runner's Dask executor, and the Dask route of the package's joblib fan-outs.

The slow tests start clusters of worker processes (seconds each) and run chapters on them.
"""
import json
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from joblib import delayed

from specbook.__main__ import main
from specbook.parallel import DASK_SCHEDULER_ENV, fit_many, run_parallel
from specbook.experiments.pixels import run_trials
from specbook.harness import executors
from specbook.harness.executors import ChapterJob, execute_chapter_on_worker, execute_on_dask
from specbook.harness.runner import run_chapters
from specbook.worlds.video import AgentVideoWorld

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "runner_notebooks"
# 06 trains its models through fit_models (one job at the smoke profile, so in the kernel).
SMOKE_CHAPTERS = ["00_quickstart", "04_algorithm1", "06_generalist_superset"]

# The body of a chapter that fans out two calls, as chapters 6 to 9 do at the book profile.
PROBE_CHAPTER = '''
import os

from joblib import delayed

import specbook
from specbook.parallel import DASK_SCHEDULER_ENV, run_parallel


def on_a_dask_worker():
    from distributed import get_worker

    try:
        get_worker()
    except ValueError:
        return False
    return True


specbook.record("scheduler", os.environ.get(DASK_SCHEDULER_ENV, "none"))
specbook.record("malloc_trim_threshold_set", "MALLOC_TRIM_THRESHOLD_" in os.environ)
specbook.record("fan_out_on_workers", all(run_parallel([delayed(on_a_dask_worker)() for _ in range(2)], n_jobs=2)))
'''


def _dask_worker_address():
    """The address of the Dask worker running this, or None outside one."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


class WhereFitted:
    """A stand-in estimator whose fit notes the process and the Dask worker it ran in."""

    def __init__(self, value=0, progress=True):
        self.value = value
        self.progress = progress

    def fit(self):
        self.worker_ = _dask_worker_address()
        self.pid_ = os.getpid()
        return self


def _sleep_like_a_chapter(job):
    """Stands in for a chapter task: marks that it started, and takes 4 s unless it is the fast one."""
    (job.cwd / f"{job.stem}.started").touch()
    time.sleep(0 if job.stem == "00_fast" else 4)
    return {"status": "passed", "seconds": 0.0, "error": None}


def _local_cluster(processes):
    """Two single-threaded Dask workers, as threads of this process or as processes of their own."""
    distributed = pytest.importorskip("distributed")
    return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                    dashboard_address="127.0.0.1:0")


@pytest.fixture(scope="module")
def thread_cluster():
    """Workers in this process: cheap to start, and they see this module."""
    with _local_cluster(processes=False) as cluster:
        yield cluster


def _client_of(cluster):
    """A client that leaves the default client (the one joblib and dask.compute would use) alone."""
    from distributed import Client

    return Client(cluster, set_as_default=False)


def _fit_where(n_jobs):
    return fit_many(WhereFitted, [({"value": value}, (), {}) for value in range(4)], n_jobs=n_jobs)


@pytest.mark.parametrize("kwargs, match", [
    ({"executor": "ray"}, r"executor='ray' is not an executor; choose one of \['local', 'dask'\]"),
    ({"scheduler": "tcp://127.0.0.1:8786"}, r"scheduler='tcp://127.0.0.1:8786' is only used with executor='dask'"),
    ({"executor": "dask", "scheduler": ""}, r"scheduler must be the address of a Dask scheduler"),
    ({"executor": "dask", "scheduler": 8786}, r"scheduler must be the address of a Dask scheduler"),
])
def test_bad_executor_arguments_raise_before_anything_runs(tmp_path, kwargs, match):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    with pytest.raises(ValueError, match=match):
        run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_a_scheduler_that_does_not_answer_is_a_value_error(tmp_path):
    pytest.importorskip("distributed")  # first: it adds its settings to the config that is set here
    import dask

    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(ValueError, match=r"scheduler='tcp://127.0.0.1:9': no Dask scheduler answered"):
        run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "out", executor="dask",
                     scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "out").exists()


def test_without_distributed_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    with pytest.raises(ImportError, match=r'pip install "specbook\[dask\]"'):
        run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "out", executor="dask")
    assert not (tmp_path / "out").exists()

    assert main(["run", "--profile", "smoke", "--notebooks", str(notebooks), "--out", str(tmp_path / "out"),
                 "--executor", "dask"]) == 2
    assert 'pip install "specbook[dask]"' in capsys.readouterr().err

    monkeypatch.setenv(DASK_SCHEDULER_ENV, "tcp://127.0.0.1:8786")
    with pytest.raises(ImportError, match=r'pip install "specbook\[dask\]"'):
        _fit_where(n_jobs=2)
    assert _fit_where(n_jobs=1)[0].pid_ == os.getpid()  # one job needs no cluster
    assert not (tmp_path / "out").exists()


def test_cli_rejects_an_unknown_executor_and_a_scheduler_without_dask(tmp_path, capsys):
    notebooks = shutil.copytree(FIXTURES, tmp_path / "notebooks")
    out = str(tmp_path / "out")
    with pytest.raises(SystemExit) as exited:
        main(["run", "--notebooks", str(notebooks), "--out", out, "--executor", "ray"])
    assert exited.value.code == 2
    assert "invalid choice: 'ray'" in capsys.readouterr().err
    assert main(["run", "--notebooks", str(notebooks), "--out", out, "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "error: scheduler='tcp://127.0.0.1:8786' is only used with executor='dask'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_fan_out_runs_on_the_cluster_named_by_the_variable(thread_cluster, monkeypatch):
    monkeypatch.setenv(DASK_SCHEDULER_ENV, thread_cluster.scheduler_address)
    fitted = _fit_where(n_jobs=2)
    assert [model.value for model in fitted] == [0, 1, 2, 3]
    assert {model.worker_ for model in fitted} <= set(thread_cluster.scheduler_info["workers"])
    assert None not in {model.worker_ for model in fitted}
    assert not any(model.progress for model in fitted)


def test_one_job_stays_here_even_with_a_cluster(thread_cluster, monkeypatch):
    monkeypatch.setenv(DASK_SCHEDULER_ENV, thread_cluster.scheduler_address)
    fitted = _fit_where(n_jobs=1)
    assert all(model.worker_ is None and model.pid_ == os.getpid() and model.progress for model in fitted)


def test_without_the_variable_the_fan_out_uses_local_processes(monkeypatch):
    monkeypatch.delenv(DASK_SCHEDULER_ENV, raising=False)
    # os.getpid, not a class of this module: a loky worker would import the whole test module
    pids = run_parallel([delayed(os.getpid)() for _ in range(4)], n_jobs=2)
    assert os.getpid() not in pids


def test_closing_the_run_cancels_the_chapters_not_finished(thread_cluster, monkeypatch, tmp_path):
    """What an interrupt does: the chapter still running is cancelled, the waiting one never starts."""
    monkeypatch.setattr(executors, "execute_chapter_on_worker", _sleep_like_a_chapter)
    jobs = [ChapterJob(stem=stem, notebook=tmp_path, executed=tmp_path, metrics_file=tmp_path, parameters={},
                        timeout=1, cwd=tmp_path, blas_threads=1, cache_dir=tmp_path)
            for stem in ("00_fast", "01_slow", "02_waiting")]
    with _client_of(thread_cluster) as client:
        finished = execute_on_dask(jobs, 2, client)
        assert next(finished)[0].stem == "00_fast"
        finished.close()
        deadline = time.monotonic() + 2  # the scheduler hears of it soon, well before 01_slow would end
        while any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(client.processing().values())  # 01_slow was cancelled
    assert not (tmp_path / "02_waiting.started").exists()


def test_a_chapter_kernel_does_not_inherit_the_workers_memory_trimming(thread_cluster, monkeypatch, tmp_path):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as a Nanny sets it for its worker
    monkeypatch.setattr(executors, "execute_chapter",
                        lambda job: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    job = ChapterJob(stem="00_probe", notebook=tmp_path, executed=tmp_path, metrics_file=tmp_path, parameters={},
                      timeout=1, cwd=tmp_path, blas_threads=1, cache_dir=tmp_path)
    with _client_of(thread_cluster) as client:
        assert client.submit(execute_chapter_on_worker, job).result() is None
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # put back for the worker


@pytest.fixture(scope="module")
def process_cluster():
    with _local_cluster(processes=True) as cluster:
        yield cluster


@pytest.mark.slow
def test_trials_on_worker_processes_give_the_same_numbers(process_cluster, monkeypatch):
    worlds = [AgentVideoWorld(T=4, M=1, size=16, seed=seed) for seed in (0, 1)]
    options = dict(representations=["frames", "states"], test="fisherz")
    serial = run_trials(worlds, 80, seeds=[0, 1], **options, progress=False)
    monkeypatch.setenv(DASK_SCHEDULER_ENV, process_cluster.scheduler_address)
    on_cluster = run_trials(worlds, 80, seeds=[0, 1], n_jobs=2, **options)
    for a, b in zip(serial, on_cluster):
        for name in a.discoveries:
            assert np.array_equal(a.discoveries[name].statistics, b.discoveries[name].statistics, equal_nan=True)


def _chapter_metrics(metrics: dict) -> dict:
    return {stem: (chapter["status"], chapter["metrics"]) for stem, chapter in metrics["chapters"].items()}


@pytest.mark.slow
@pytest.mark.xdist_group("smoke")  # compared with the session's smoke run, on the worker that made it
def test_smoke_chapters_record_the_same_numbers_on_a_dask_cluster(tmp_path, smoke_run):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for stem in SMOKE_CHAPTERS:
        shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", notebooks)
    probe = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('PROFILE = "book"\nSEED = 0', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(PROBE_CHAPTER.strip()),
    ])
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(probe, notebooks / "99_probe.ipynb")

    environment = dict(os.environ)
    local = smoke_run  # every chapter, run here with the local executor
    on_dask = run_chapters(profile="smoke", notebooks_dir=notebooks, out=tmp_path / "dask", jobs=2,
                           executor="dask", progress=False)
    assert local.ok and on_dask.ok, "\n".join(local.failure_messages() + on_dask.failure_messages())
    probe_metrics = on_dask.metrics["chapters"].pop("99_probe")["metrics"]
    local_metrics = _chapter_metrics(local.metrics)
    assert _chapter_metrics(on_dask.metrics) == {stem: local_metrics[stem] for stem in SMOKE_CHAPTERS}

    scheduler = on_dask.metrics["dask_scheduler"]
    assert scheduler.startswith("tcp://127.0.0.1:")
    assert probe_metrics == {"scheduler": {"value": scheduler}, "malloc_trim_threshold_set": {"value": False},
                             "fan_out_on_workers": {"value": True}}
    written = json.loads((on_dask.out / "metrics.json").read_text())
    assert (written["executor"], written["dask_scheduler"]) == ("dask", scheduler)
    assert (local.metrics["executor"], local.metrics["dask_scheduler"]) == ("local", None)
    assert f"- executor `dask` on the Dask scheduler at `{scheduler}`" in (on_dask.out / "report.md").read_text()
    assert f"- executor `local`, Jupyter kernel `{local.metrics['kernel']}`\n" in (local.out / "report.md").read_text()
    assert set(json.loads((on_dask.out / "state.json").read_text())) == {*SMOKE_CHAPTERS, "99_probe"}
    assert dict(os.environ) == environment  # the workers' settings did not leak into this process
