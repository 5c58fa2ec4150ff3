import json

import numpy as np
import pytest

import specbook as sb
from specbook.harness.recording import METRICS_ENV, read_metrics


def test_profiles_grow_from_smoke_to_full():
    smoke, book, full = (sb.get_profile(name) for name in ("smoke", "book", "full"))
    for field in ("n_samples", "n_runs", "n_worlds", "cell_timeout", "train_epochs", "gan_steps", "gan_seeds",
                  "video_samples", "video_train", "video_seeds", "encoder_epochs", "critic_epochs"):
        assert getattr(smoke, field) <= getattr(book, field) <= getattr(full, field)
    assert full.n_samples == 10_000 and full.n_runs == 10  # the paper's synthetic setting
    assert sb.profiles.PROFILES["book"] is book


@pytest.mark.parametrize("name", ["Book", "fast", None])
def test_unknown_profile_lists_the_choices(name):
    with pytest.raises(ValueError, match=r"profile=.*choose one of \['book', 'full', 'smoke'\]"):
        sb.get_profile(name)


def test_record_shows_without_runner(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv(METRICS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert sb.record("accuracy", np.float64(0.5), unit="%") is None
    assert capsys.readouterr().out.strip() == "recorded accuracy = 0.5 %"
    assert list(tmp_path.iterdir()) == []


def test_record_writes_under_runner(monkeypatch, tmp_path):
    target = tmp_path / "chapter.json"
    monkeypatch.setenv(METRICS_ENV, str(target))
    sb.record("n_edges", np.int64(57), description="edges")
    sb.record("accuracy", 0.9375, atol=0.01)
    sb.record("ok", np.bool_(True))
    sb.record("accuracy", 0.875, atol=0.01)  # a second call replaces the first
    stored = json.loads(target.read_text())
    assert stored == {
        "n_edges": {"value": 57, "description": "edges"},
        "accuracy": {"value": 0.875, "atol": 0.01},
        "ok": {"value": True},
    }
    assert read_metrics(target) == stored
    assert read_metrics(tmp_path / "absent.json") == {}


@pytest.mark.parametrize(
    "name, value, kwargs, error, match",
    [
        ("1st", 1.0, {}, ValueError, "name="),
        ("a b", 1.0, {}, ValueError, "name="),
        ("x", float("nan"), {}, ValueError, "finite"),
        ("x", np.inf, {}, ValueError, "finite"),
        ("x", np.ones(3), {}, ValueError, "scalar"),
        ("x", [1, 2], {}, TypeError, "number, bool or str"),
        ("x", 1.0, {"atol": -1}, ValueError, "atol"),
    ],
)
def test_record_refuses_what_cannot_be_checked(name, value, kwargs, error, match):
    with pytest.raises(error, match=match):
        sb.record(name, value, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"atol": True}, r"atol must be a finite real number >= 0; got True"),
    ({"rtol": float("inf")}, r"rtol must be a finite real number >= 0; got inf"),
    ({"atol": float("nan")}, r"atol must be a finite real number >= 0; got nan"),
    ({"rtol": "0.1"}, r"rtol must be a finite real number >= 0"),
    ({"unit": 5}, r"unit must be a str or None; got 5"),
    ({"description": ["edges"]}, r"description must be a str or None"),
])
def test_record_refuses_tolerances_and_labels_check_could_not_read(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sb.record("x", 1.0, **kwargs)


@pytest.mark.parametrize("tolerance", [0, 0.01, 2, np.float64(0.5), True, -1, float("inf"), float("nan"), "0.1"])
def test_record_accepts_exactly_the_tolerances_check_reads(tolerance, monkeypatch, tmp_path):
    from specbook.harness.checking import _is_tolerance

    monkeypatch.setenv(METRICS_ENV, str(tmp_path / "chapter.json"))
    try:
        sb.record("x", 1.0, atol=tolerance)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == _is_tolerance(tolerance)


def test_record_under_the_runner_names_a_corrupt_metrics_file(monkeypatch, tmp_path):
    target = tmp_path / "chapter.json"
    target.write_text('{"half": {"value": 0.')  # cut short
    monkeypatch.setenv(METRICS_ENV, str(target))
    with pytest.raises(ValueError, match=rf"the metrics file {target} cannot be read .*delete it and run the chapter"):
        sb.record("x", 1.0)


def test_record_under_the_runner_names_a_metrics_file_it_cannot_write(monkeypatch, tmp_path):
    target = tmp_path / "missing-folder" / "chapter.json"
    monkeypatch.setenv(METRICS_ENV, str(target))
    with pytest.raises(ValueError, match=rf"cannot write the metrics file {target} named by {METRICS_ENV}.*unset"):
        sb.record("x", 1.0)
    assert not target.parent.exists()
