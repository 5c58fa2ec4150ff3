"""The regression check on hand-written run folders (no notebook is executed here)."""
import json
import subprocess
import sys

import pytest

from specbook.__main__ import main
from specbook.harness.checking import check_run

BOOM = {"cell_index": 3, "exec_count": 4, "ename": "ValueError", "evalue": "boom",
        "source_head": 'raise ValueError("boom")'}


def write_run(root, chapters, *, failed=(), profile="smoke"):
    """Write ``root/runs/<profile>/metrics.json`` as the runner would.

    `chapters` maps a stem to {metric name: value, or a full entry dict}; stems in
    `failed` get the status "failed" and the error above.
    """
    run_dir = root / "runs" / profile
    run_dir.mkdir(parents=True)
    entries = {
        stem: {
            "status": "failed" if stem in failed else "passed",
            "seconds": 1.0,
            "resumed": False,
            "metrics": {name: value if isinstance(value, dict) else {"value": value}
                        for name, value in metrics.items()},
            "error": BOOM if stem in failed else None,
            "executed_notebook": f"notebooks/{stem}.ipynb",
        }
        for stem, metrics in chapters.items()
    }
    run = {"profile": profile, "seed": 0, "notebooks_dir": str(root / "notebooks"), "chapters": entries}
    (run_dir / "metrics.json").write_text(json.dumps(run))
    return run_dir


def write_expected(root, metrics, *, profile="smoke"):
    """Write the expectations where check_run looks by default: ``root/expected/<profile>.json``."""
    path = root / "expected" / f"{profile}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"profile": profile, "metrics": metrics}))
    return path


@pytest.mark.parametrize("spec, value", [
    ({"value": 0.9}, 0.9 * (1 + 5e-7)),
    ({"value": 0.9, "atol": 0.05}, 0.94),
    ({"value": 0.9, "rtol": 0.1}, 0.85),
    ({"value": 3}, 3),
    ({"value": 3, "atol": 1}, 4),
    ({"value": True}, True),
    ({"value": "smoke"}, "smoke"),
    ({"min": 0.9}, 0.95),
    ({"max": 0.1}, 0.1),
    ({"min": 0, "max": 1}, 0.5),
])
def test_value_within_its_spec_passes(tmp_path, spec, value):
    run_dir = write_run(tmp_path, {"00_a": {"acc": value}})
    write_expected(tmp_path, {"00_a": {"acc": spec}})
    result = check_run(run_dir)
    assert result.ok, result.problems
    assert [(item.chapter, item.metric, item.value, item.ok) for item in result.checked] == [
        ("00_a", "acc", value, True)]
    assert result.summary().endswith("OK")


@pytest.mark.parametrize("spec, value, problem", [
    ({"value": 0.95}, 0.91, "00_a/acc moved: expected 0.95 (rtol 1e-06), got 0.91"),
    ({"value": 0.9}, 0.9 * (1 + 2e-6), "00_a/acc moved: expected 0.9 (rtol 1e-06), got 0.9000018"),
    ({"value": 0.9, "atol": 0.01}, 0.92, "00_a/acc moved: expected 0.9 (atol 0.01, rtol 1e-06), got 0.92"),
    ({"value": 3}, 4, "00_a/acc moved: expected 3 (exact), got 4"),
    ({"value": True}, 1, "00_a/acc moved: expected True, got 1"),
    ({"value": 1}, True, "00_a/acc moved: expected 1 (exact), got True"),
    ({"value": "smoke"}, "book", "00_a/acc moved: expected 'smoke', got 'book'"),
    ({"min": 0.9}, 0.85, "00_a/acc = 0.85 violates >= 0.9"),
    ({"max": 0.1}, 0.2, "00_a/acc = 0.2 violates <= 0.1"),
    ({"min": 0, "max": 1}, 1.5, "00_a/acc = 1.5 violates >= 0 and <= 1"),
    ({"min": 0}, "high", "00_a/acc = 'high' violates >= 0"),
])
def test_value_outside_its_spec_fails_naming_the_metric(tmp_path, spec, value, problem):
    run_dir = write_run(tmp_path, {"00_a": {"acc": value}})
    write_expected(tmp_path, {"00_a": {"acc": spec}})
    result = check_run(run_dir)
    assert not result.ok
    assert result.problems[0].startswith(problem)
    assert len(result.problems) == 1
    assert f"PROBLEM {problem}" in result.summary()


def test_expected_metric_that_was_not_recorded_fails(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}, "gap": {"min": 0.1}}})
    result = check_run(run_dir)
    assert result.problems == ["00_a/gap missing: expected >= 0.1, but the chapter did not record it."]
    assert ("00_a", "gap", ">= 0.1", None, False) in result.checked


def test_recorded_metric_without_expectation_fails_and_says_how_to_store_it(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "new": 3}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}})
    result = check_run(run_dir)
    [problem] = result.problems
    assert problem.startswith("00_a/new = 3 has no expectation")
    assert f"python -m specbook check {run_dir} --update" in problem


def test_failed_chapter_fails_without_repeating_its_missing_metrics(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}, "01_b": {}}, failed=["01_b"])
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}, "01_b": {"gap": {"min": 0.1}}})
    result = check_run(run_dir)
    [problem] = result.problems
    assert problem.startswith("01_b failed in cell 3 (ValueError: boom)")
    assert str(run_dir / "notebooks" / "01_b.ipynb") in problem


def test_chapter_not_in_the_run_is_reported_but_not_a_problem(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}, "02_c": {"x": {"value": 1}}})
    result = check_run(run_dir)
    assert result.ok
    assert result.not_run == ["02_c"]
    assert "not run (expectations kept): 02_c" in result.summary()


def test_missing_expectations_file_fails_and_explains_update(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    result = check_run(run_dir)
    [problem] = result.problems
    assert problem.startswith(f"no expectations file {tmp_path / 'expected' / 'smoke.json'}")
    assert "--update" in problem
    assert not (tmp_path / "expected").exists()


def test_against_overrides_the_default_expectations_file(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.5}}})
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"profile": "smoke", "metrics": {"00_a": {"acc": {"value": 0.9}}}}))
    assert not check_run(run_dir).ok
    assert check_run(run_dir, against=elsewhere).ok


def test_run_folder_without_metrics_json_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"holds no metrics.json; pass a folder written by `python -m specbook run`"):
        check_run(tmp_path)


def test_expectations_for_another_profile_are_refused(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    path = write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}}, profile="book")
    with pytest.raises(ValueError, match="profile 'book', but the run used profile 'smoke'"):
        check_run(run_dir, against=path)
    with pytest.raises(ValueError, match="profile 'book'"):
        check_run(run_dir, against=path, update=True)


@pytest.mark.parametrize("spec, match", [
    ({"value": 0.9, "min": 0.8}, "either 'value'.*or 'min'/'max' bounds, not both"),
    ({"valu": 0.9}, r"unknown key\(s\) \['valu'\]"),
    ({"min": "0.8"}, "bound 'min' must be a number"),
    ({"max": True}, "bound 'max' must be a number"),
    ({"min": 1, "max": 0}, "'min' \\(1\\) is above 'max' \\(0\\)"),
    ({"min": 0, "rtol": 0.1}, "only apply to a 'value' spec"),
    ({"value": 0.9, "atol": -1}, "'atol' must be a finite number >= 0"),
    ({"value": 0.9, "atol": True}, "'atol' must be a finite number >= 0"),
    ({"value": 0.9, "rtol": float("inf")}, "'rtol' must be a finite number >= 0"),
    ({"value": 0.9, "atol": float("nan")}, "'atol' must be a finite number >= 0"),
    ({"value": [0.9]}, "'value' must be a number, bool or string"),
    ({}, "needs 'value' or at least one of 'min'/'max'"),
    ({"machine_dependent": True, "max": 0.1}, r"exactly \{\"machine_dependent\": true\}"),
    ({"machine_dependent": False}, r"exactly \{\"machine_dependent\": true\}"),
    ({"machine_dependent": 1}, r"exactly \{\"machine_dependent\": true\}"),
    ({"machine_dependent": True, "why": "timing"}, r"unknown key\(s\) \['why'\]"),
    (0.9, "a spec must be an object"),
])
def test_malformed_spec_names_file_chapter_and_metric(tmp_path, spec, match):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    path = write_expected(tmp_path, {"00_a": {"acc": spec}})
    with pytest.raises(ValueError, match=match) as caught:
        check_run(run_dir)
    assert str(caught.value).startswith(f"{path}, 00_a/acc: ")


def test_malformed_expectations_file_is_a_value_error(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    path = write_expected(tmp_path, {})
    path.write_text('{"profile": "smoke"}')
    with pytest.raises(ValueError, match="exactly the keys 'profile' and 'metrics'"):
        check_run(run_dir)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        check_run(run_dir)


def test_update_moves_values_keeps_tolerances_and_bounds_adds_and_removes(tmp_path):
    run_dir = write_run(tmp_path, {
        "00_a": {
            "acc": 0.92,                                # value spec: moves, keeps atol
            "gap": 0.05,                                # bound: kept, and now violated
            "hinted": {"value": 1.5, "rtol": 0.1, "unit": "s"},
            "plain_float": 0.25,
            "count": 3,
            "flag": False,
            "name": "smoke",
        },
        "01_b": {},                                     # records nothing any more
    })
    path = write_expected(tmp_path, {
        "00_a": {"acc": {"value": 0.9, "atol": 0.05}, "gap": {"min": 0.1}, "stale": {"value": 1}},
        "01_b": {"old": {"value": 2}},
        "09_z": {"kept": {"max": 5}},                   # not in the run: kept as is
    })
    result = check_run(run_dir, update=True)

    assert result.updated
    assert result.problems == ["00_a/gap = 0.05 violates >= 0.1"]
    assert not result.ok
    assert result.not_run == ["09_z"]
    written = path.read_text()
    assert json.loads(written) == {"profile": "smoke", "metrics": {
        "00_a": {
            "acc": {"value": 0.92, "atol": 0.05},
            "gap": {"min": 0.1},
            "hinted": {"value": 1.5, "rtol": 0.1},
            "plain_float": {"value": 0.25, "rtol": 1e-6},
            "count": {"value": 3},
            "flag": {"value": False},
            "name": {"value": "smoke"},
        },
        "09_z": {"kept": {"max": 5}},
    }}
    assert written == json.dumps(json.loads(written), indent=2, sort_keys=True) + "\n"
    assert "changed 00_a/acc: 0.9 -> 0.92" in result.changes
    assert "added 00_a/plain_float: 0.25 (rtol 1e-06)" in result.changes
    assert {"removed 00_a/stale", "removed 01_b/old"} <= set(result.changes)
    assert "updated" in result.summary() and "removed 01_b/old" in result.summary()

    # the stored values now pass; only the bound the run violates still fails
    assert check_run(run_dir).problems == ["00_a/gap = 0.05 violates >= 0.1"]


# --------------------------------------------------------------- machine-dependent numbers
MACHINE = {"machine_dependent": True}


@pytest.mark.parametrize("seconds", [1e-4, 0.1, 250.0])
def test_machine_dependent_metric_is_shown_but_never_fails_on_its_value(tmp_path, seconds):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "seconds": seconds}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}, "seconds": MACHINE}})
    result = check_run(run_dir)
    assert result.ok, result.problems
    assert ("00_a", "seconds", "machine-dependent (not checked)", seconds, True) in result.checked
    summary = result.summary()
    assert f"machine-dependent (recorded, not checked): 00_a/seconds = {seconds!r}" in summary
    assert summary.endswith("OK")


def test_machine_dependent_metric_that_was_not_recorded_fails(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}, "seconds": MACHINE}})
    result = check_run(run_dir)
    assert result.problems == ["00_a/seconds missing: expected machine-dependent (not checked), "
                               "but the chapter did not record it."]
    assert "machine-dependent (recorded" not in result.summary()


@pytest.mark.parametrize("value", ["fast", True, None])
def test_machine_dependent_metric_must_still_be_a_number(tmp_path, value):
    run_dir = write_run(tmp_path, {"00_a": {"seconds": value}})
    write_expected(tmp_path, {"00_a": {"seconds": MACHINE}})
    assert check_run(run_dir).problems == [f"00_a/seconds = {value!r} is machine-dependent but must be a number"]


def test_update_keeps_a_machine_dependent_spec(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "seconds": 3.5}})
    path = write_expected(tmp_path, {"00_a": {"acc": {"value": 0.8}, "seconds": MACHINE}})
    result = check_run(run_dir, update=True)
    assert result.ok and result.changes == ["changed 00_a/acc: 0.8 -> 0.9"]
    assert json.loads(path.read_text())["metrics"]["00_a"] == {"acc": {"value": 0.9}, "seconds": MACHINE}
    # a later run on a machine 100 times slower still passes; one without the metric does not
    assert check_run(write_run(tmp_path / "slow", {"00_a": {"acc": 0.9, "seconds": 350.0}}), against=path).ok
    assert not check_run(write_run(tmp_path / "none", {"00_a": {"acc": 0.9}}), against=path).ok


# ------------------------------------------------------- numbers a profile is too small to judge
UNCHECKED = {"not_checked": "no power at these sizes"}


def test_a_not_checked_metric_is_listed_with_its_reason_and_never_fails_on_its_value(tmp_path):
    for value in (0.0, 0.5, 1.0):
        run_dir = write_run(tmp_path / str(value), {"00_a": {"acc": 0.9, "map": value, "map_sd": value / 2}})
        path = write_expected(tmp_path / str(value), {"00_a": {"acc": {"value": 0.9}, "map": UNCHECKED,
                                                               "map_sd": UNCHECKED}})
        result = check_run(run_dir, against=path)
        assert result.ok, result.problems
        summary = result.summary()
        assert (f"recorded, not checked (no power at these sizes): 00_a/map = {value!r}, "
                f"00_a/map_sd = {value / 2!r}") in summary


@pytest.mark.parametrize("value", ["high", True, None])
def test_a_not_checked_metric_must_still_be_recorded_as_a_number(tmp_path, value):
    run_dir = write_run(tmp_path, {"00_a": {"map": value}})
    write_expected(tmp_path, {"00_a": {"map": UNCHECKED}})
    assert check_run(run_dir).problems == [f"00_a/map = {value!r} is not checked at this profile but must be a number"]
    missing = write_run(tmp_path / "missing", {"00_a": {"acc": 0.9}})
    path = write_expected(tmp_path / "missing", {"00_a": {"acc": {"value": 0.9}, "map": UNCHECKED}})
    assert [p for p in check_run(missing, against=path).problems if "00_a/map missing" in p]


@pytest.mark.parametrize("spec, match", [
    ({"not_checked": ""}, "with the reason as text"),
    ({"not_checked": True}, "with the reason as text"),
    ({"not_checked": "why", "value": 0.3}, "with the reason as text"),
    ({"not_checked": "why", "above": "chance"}, "has nothing to check, a relation included"),
])
def test_a_malformed_not_checked_spec_is_refused(tmp_path, spec, match):
    run_dir = write_run(tmp_path, {"00_a": {"map": 0.3, "chance": 0.2}})
    write_expected(tmp_path, {"00_a": {"map": spec, "chance": {"value": 0.2}}})
    with pytest.raises(ValueError, match=match):
        check_run(run_dir)


def test_update_keeps_a_not_checked_spec(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "map": 0.31}})
    path = write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}, "map": UNCHECKED}})
    assert check_run(run_dir, update=True).ok
    assert json.loads(path.read_text())["metrics"]["00_a"]["map"] == UNCHECKED


def test_the_shipped_timings_are_machine_dependent():
    """The smoke expectations hold no wall-clock bound: such bounds live in benchmarks/."""
    from pathlib import Path

    metrics = json.loads((Path(__file__).parents[3] / "expected" / "smoke.json").read_text())["metrics"]
    assert metrics["05_structure_benchmark"]["runtime_T20_M4_seconds"] == MACHINE
    assert metrics["08_gan_editing"]["renderer_images_per_second"] == MACHINE


def test_update_creates_a_missing_file_and_its_folders(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "count": 2}})
    path = tmp_path / "new" / "dir" / "smoke.json"
    result = check_run(run_dir, against=path, update=True)
    assert result.ok
    assert json.loads(path.read_text()) == {"profile": "smoke", "metrics": {
        "00_a": {"acc": {"value": 0.9, "rtol": 1e-6}, "count": {"value": 2}}}}
    assert check_run(run_dir, against=path).ok


def test_update_refuses_a_run_with_a_failed_chapter(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.5}, "01_b": {}}, failed=["01_b"])
    path = write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}})
    before = path.read_text()
    with pytest.raises(ValueError, match="refusing to update .*01_b failed"):
        check_run(run_dir, update=True)
    assert path.read_text() == before


def test_cli_check_exit_codes(tmp_path, capsys):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    path = write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}})
    assert main(["check", str(run_dir)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("OK")

    path.write_text(json.dumps({"profile": "smoke", "metrics": {"00_a": {"acc": {"value": 0.5}}}}))
    assert main(["check", str(run_dir)]) == 1
    assert "PROBLEM 00_a/acc moved" in capsys.readouterr().out

    assert main(["check", str(run_dir), "--update"]) == 0
    assert main(["check", str(run_dir)]) == 0
    capsys.readouterr()

    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.startswith("error: run_dir=")


def test_cli_check_as_a_module(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.9}}}, profile="book")
    completed = subprocess.run(
        [sys.executable, "-m", "specbook", "check", str(run_dir),
         "--against", str(tmp_path / "expected" / "book.json")],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and "Traceback" not in completed.stderr


# --------------------------------------------------------------- relations between metrics
@pytest.mark.parametrize("spec, value", [
    ({"above": "chance"}, 0.31),
    ({"above": "chance", "by": 0.05}, 0.36),
    ({"below": "chance"}, 0.29),
    ({"below": "chance", "by": 0.05}, 0.24),
    ({"value": 0.5, "atol": 0.2, "above": "chance", "by": 0.1}, 0.45),
    ({"min": 0.0, "above": "chance"}, 0.4),
    ({"max": 0.5, "below": "chance", "by": 0}, 0.1),
])
def test_relation_that_holds_passes(tmp_path, spec, value):
    run_dir = write_run(tmp_path, {"00_a": {"acc": value, "chance": 0.3}})
    write_expected(tmp_path, {"00_a": {"acc": spec, "chance": {"value": 0.3}}})
    result = check_run(run_dir)
    assert result.ok, result.problems
    assert ("00_a", "acc", value, True) in [(i.chapter, i.metric, i.value, i.ok) for i in result.checked]


@pytest.mark.parametrize("spec, value, problem", [
    ({"above": "chance"}, 0.3, "00_a/acc = 0.3 is not above chance = 0.3 (difference +0)"),  # equal never passes
    ({"above": "chance"}, 0.2, "00_a/acc = 0.2 is not above chance = 0.3 (difference -0.1)"),
    ({"above": "chance", "by": 0.1}, 0.35, "00_a/acc = 0.35 is not above chance = 0.3 by more than 0.1"),
    ({"below": "chance"}, 0.4, "00_a/acc = 0.4 is not below chance = 0.3"),
    ({"below": "chance", "by": 0.1}, 0.25, "00_a/acc = 0.25 is not below chance = 0.3 by more than 0.1"),
    ({"above": "chance"}, True, "00_a/acc = True must be above chance = 0.3, but a relation compares numbers"),
    ({"above": "label"}, 0.5, "00_a/acc = 0.5 must be above label = 'x', but a relation compares numbers"),
    ({"above": "absent"}, 0.5, "00_a/acc must be above absent, but the chapter did not record absent."),
])
def test_relation_that_fails_names_both_metrics(tmp_path, spec, value, problem):
    run_dir = write_run(tmp_path, {"00_a": {"acc": value, "chance": 0.3, "label": "x"}})
    write_expected(tmp_path, {"00_a": {"acc": spec, "chance": {"value": 0.3}, "label": {"value": "x"}}})
    result = check_run(run_dir)
    [line] = result.problems
    assert line.startswith(problem), line
    assert ("00_a", "acc", value, False) in [(i.chapter, i.metric, i.value, i.ok) for i in result.checked]
    assert f"PROBLEM {line}" in result.summary()


def test_value_and_relation_are_both_checked_and_both_reported(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.25, "chance": 0.3}})
    write_expected(tmp_path, {"00_a": {"acc": {"value": 0.5, "atol": 0.1, "above": "chance", "by": 0.1},
                                       "chance": {"value": 0.3}}})
    result = check_run(run_dir)
    assert result.problems == [
        "00_a/acc moved: expected 0.5 (atol 0.1, rtol 1e-06), got 0.25",
        "00_a/acc = 0.25 is not above chance = 0.3 by more than 0.1 (difference -0.05)",
    ]
    [item] = [i for i in result.checked if i.metric == "acc"]
    assert item.expected == "0.5 (atol 0.1, rtol 1e-06) and above chance by > 0.1"


def test_bounds_and_relation_are_both_checked(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.35, "chance": 0.3}})
    write_expected(tmp_path, {"00_a": {"acc": {"min": 0.4, "above": "chance"}, "chance": {"value": 0.3}}})
    result = check_run(run_dir)
    assert result.problems == ["00_a/acc = 0.35 violates >= 0.4"]
    [item] = [i for i in result.checked if i.metric == "acc"]
    assert item.expected == ">= 0.4 and above chance"


def test_relation_only_looks_inside_its_own_chapter(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.5}, "01_b": {"chance": 0.3}})
    write_expected(tmp_path, {"00_a": {"acc": {"above": "chance"}}, "01_b": {"chance": {"value": 0.3}}})
    assert check_run(run_dir).problems == [
        "00_a/acc must be above chance, but the chapter did not record chance."]


@pytest.mark.parametrize("spec, match", [
    ({"above": "chance", "below": "other"}, "either 'above' or 'below', not both"),
    ({"by": 0.1}, "'by' is the margin of a relation"),
    ({"value": 0.9, "by": 0.1}, "'by' is the margin of a relation"),
    ({"above": "chance", "by": -0.1}, "'by' must be a non-negative number"),
    ({"above": "chance", "by": "0.1"}, "'by' must be a non-negative number"),
    ({"above": "chance", "by": True}, "'by' must be a non-negative number"),
    ({"above": "chance", "by": float("nan")}, "'by' must be a non-negative number"),
    ({"above": 3}, "'above' must name another metric of the same chapter"),
    ({"below": ""}, "'below' must name another metric of the same chapter"),
    ({"above": "acc"}, "'above' names the metric itself"),
    ({"machine_dependent": True, "above": "chance"}, "a machine-dependent metric measures the machine"),
    ({"value": 0.9, "min": 0.8, "above": "chance"}, "either 'value'.*or 'min'/'max' bounds, not both"),
    ({"above": "chance", "rtol": 0.1}, r"needs .value. or at least one of .min./.max.; got \{.rtol.: 0.1\}"),
    ({"above": "chance", "over": 1}, r"unknown key\(s\) \['over'\]"),
])
def test_malformed_relation_is_refused(tmp_path, spec, match):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.9, "chance": 0.3}})
    path = write_expected(tmp_path, {"00_a": {"acc": spec, "chance": {"value": 0.3}}})
    with pytest.raises(ValueError, match=match) as caught:
        check_run(run_dir)
    assert str(caught.value).startswith(f"{path}, 00_a/acc: ")


def test_update_keeps_relations_and_reports_a_run_that_violates_them(tmp_path):
    run_dir = write_run(tmp_path, {"00_a": {"acc": 0.32, "alone": 0.1, "bounded": 0.5, "chance": 0.3}})
    relations = {
        "acc": {"value": 0.5, "atol": 0.2, "above": "chance", "by": 0.1},  # value moves, relation stays
        "alone": {"below": "chance"},                                        # kept as is
        "bounded": {"min": 0.0, "above": "chance"},                          # kept as is
    }
    path = write_expected(tmp_path, {"00_a": {**relations, "chance": {"value": 0.3}}})
    result = check_run(run_dir, update=True)
    assert result.updated
    assert json.loads(path.read_text())["metrics"]["00_a"] == {
        "acc": {"value": 0.32, "atol": 0.2, "above": "chance", "by": 0.1},
        "alone": {"below": "chance"},
        "bounded": {"min": 0.0, "above": "chance"},
        "chance": {"value": 0.3},
    }
    assert result.problems == ["00_a/acc = 0.32 is not above chance = 0.3 by more than 0.1 (difference +0.02)"]
    assert check_run(run_dir).problems == result.problems


def test_shipped_expectations_relate_the_trained_chapters_to_chance_or_the_other_arm():
    """Every loose (atol >= 0.02) number of chapters 6-9 carries a relation, or a bound, or sits clear of chance."""
    from pathlib import Path
    shipped = json.loads((Path(__file__).parents[3] / "expected" / "smoke.json").read_text())["metrics"]
    relations = [(stem, name) for stem, specs in shipped.items() for name, spec in specs.items()
                 if "above" in spec or "below" in spec]
    assert {stem for stem, _ in relations} >= {"06_generalist_superset", "07_sparsity_tightening",
                                                "08_gan_editing", "09_pixels_to_tasks"}
    for stem, specs in shipped.items():
        for name, spec in specs.items():
            for key in ("above", "below"):
                if key in spec:
                    assert spec[key] in specs, f"{stem}/{name}: {key} names {spec[key]}, which has no expectation"
