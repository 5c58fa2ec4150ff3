"""The grader: hidden checks give every solution full marks, every stub "not attempted", and catch a wrong answer."""
import csv
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from specbook.harness.assignments import find_exercises, make_assignments
from specbook.harness.chapters import chapter_files
from specbook.harness.grading import (OUTSIDE_EXERCISES, STATUSES, compare, grade_answers, grade_notebooks,
                                      load_checks)

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = [p.stem for p in chapter_files(NOTEBOOKS, ".md")]


def wrong_answers(stem):
    path = NOTEBOOKS / "checks" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"wrong_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG


def solutions(stem):
    return {exercise.label: "\n\n".join(exercise.solution_cells)
            for exercise in find_exercises(NOTEBOOKS / f"{stem}.md", stem)}


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_solution_scores_full_marks(stem):
    grades = grade_answers(stem, solutions(stem))
    assert [grade.label for grade in grades] == list(solutions(stem))
    assert {grade.label: grade.status for grade in grades} == dict.fromkeys(solutions(stem), "passed"), grades


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_untouched_stub_is_not_attempted(stem):
    grades = grade_answers(stem, {})
    assert {grade.label: grade.status for grade in grades} == dict.fromkeys(solutions(stem), "not attempted"), grades


@pytest.mark.parametrize("stem", CHAPTERS)
def test_a_wrong_answer_to_every_exercise_is_caught(stem):
    wrong = wrong_answers(stem)
    assert sorted(wrong) == sorted(solutions(stem)), "WRONG needs one wrong answer per exercise"
    grades = grade_answers(stem, wrong)
    assert {grade.label: grade.status for grade in grades} == dict.fromkeys(wrong, "wrong"), grades
    assert all(grade.detail for grade in grades)  # the failing check is named


def test_an_answer_that_raises_or_defines_nothing_is_an_error():
    grades = {grade.label: grade for grade in grade_answers("00_quickstart", {
        "ex-quickstart-serving": "def serving_segments(world, task):\n    return 1 / 0\n\n\n"
                                 "def agrees_with_assignment(world):\n    return True\n",
        "ex-quickstart-z-scale": "x = 1\n",
    })}
    assert grades["ex-quickstart-serving"].status == "error"
    assert "ZeroDivisionError" in grades["ex-quickstart-serving"].detail
    assert grades["ex-quickstart-z-scale"].status == "error"
    assert "defines no function error_scale" in grades["ex-quickstart-z-scale"].detail
    unparsable = grade_answers("00_quickstart", {"ex-quickstart-z-scale": "def error_scale(:\n"})
    assert unparsable[1].status == "error" and "SyntaxError" in unparsable[1].detail


def test_grade_answers_refuses_labels_of_no_exercise():
    with pytest.raises(ValueError, match=r"\['ex-nope'\] are not exercises of 00_quickstart"):
        grade_answers("00_quickstart", {"ex-nope": "def f():\n    pass\n"})


def test_load_checks_needs_a_file_naming_every_exercise(tmp_path):
    shutil.copy(NOTEBOOKS / "00_quickstart.md", tmp_path)
    with pytest.raises(ValueError, match="no hidden checks at"):
        load_checks("00_quickstart", tmp_path)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "00_quickstart.py").write_text("CHECKS = {'ex-quickstart-serving': print}\n")
    with pytest.raises(ValueError, match="CHECKS must map each exercise of 00_quickstart"):
        load_checks("00_quickstart", tmp_path)


def test_compare_accepts_equal_answers_and_names_the_first_difference():
    compare(0.1 + 0.2, 0.3, "sum")
    compare(np.array([1.0, np.nan]), np.array([1.0, np.nan]), "nan")
    compare({"a": [1, 2], "b": (np.float64(0.5),)}, {"a": [1, 2], "b": (0.5,)}, "nested")
    compare(pd.Series([1.0, 2.0], index=["x", "y"]), pd.Series([1.0, 2.0], index=["x", "y"]), "series")
    cases = [
        (2, 1, r"f\(\): expected 1, got 2"),
        (True, 1.0, "expected the number"),
        (np.zeros((2, 2)), np.zeros((2, 3)), r"expected shape \(2, 3\)"),
        (np.array([1.0, 2.0]), np.array([1.0, 2.5]), r"at \(1,\): expected 2.5, got 2.0"),
        ([1, 2], [1, 2, 3], "expected"),
        ({"a": 1}, {"a": 1, "b": 2}, "expected keys"),
        (pd.Series([1.0], index=["y"]), pd.Series([1.0], index=["x"]), "expected index"),
        (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [2.0]}), r"at \(0, 'a'\)"),
        ([1.0, 2.0], pd.Series([1.0, 2.0]), "expected a pandas Series"),
        ("b", "a", "expected 'a', got 'b'"),
    ]
    for got, expected, message in cases:
        with pytest.raises(AssertionError, match=message):
            compare(got, expected, "f()")


def _filled(student_copy, answers, broken_cell=False):
    """The student copy with the i-th stub cell of each exercise in `answers` replaced by ``answers[label][i]``."""
    notebook = nbformat.read(student_copy, as_version=4)
    seen = {}
    for cell in notebook.cells:
        label = cell.metadata.get("specbook", {}).get("exercise")
        if label in answers:
            cell.source = answers[label][seen.setdefault(label, 0)]
            seen[label] += 1
        if broken_cell and cell.cell_type == "code" and "world = sb.ColliderWorld" in cell.source:
            cell.source += "\nraise RuntimeError('the student broke this cell')"
    return notebook


@pytest.mark.slow
def test_grade_executes_returned_notebooks_and_writes_a_csv(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("SPECBOOK_PROGRESS", "0")
    (written,) = make_assignments(["00"], tmp_path / "hw", profile="smoke")
    (serving, z_scale) = find_exercises(NOTEBOOKS / "00_quickstart.md", "00_quickstart")
    wrong = wrong_answers("00_quickstart")
    returned = tmp_path / "returned"
    returned.mkdir()
    nbformat.write(_filled(written.student, {serving.label: serving.solution_cells,
                                             z_scale.label: [wrong[z_scale.label]]}),
                   returned / "alice.ipynb")
    nbformat.write(_filled(written.student, {}, broken_cell=True), returned / "bob.ipynb")
    done = subprocess.run([sys.executable, "-m", "specbook", "grade", str(returned / "alice.ipynb"),
                           str(returned / "bob.ipynb"), "--csv", str(tmp_path / "grades.csv")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "2 notebook(s) graded" in done.stdout and "1 passed, 1 wrong, 2 not attempted, 1 error" in done.stdout
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    scores = {(Path(row["notebook"]).name, row["label"]): row["status"] for row in rows}
    assert scores == {("alice.ipynb", "ex-quickstart-serving"): "passed",
                      ("alice.ipynb", "ex-quickstart-z-scale"): "wrong",
                      ("bob.ipynb", "ex-quickstart-serving"): "not attempted",
                      ("bob.ipynb", "ex-quickstart-z-scale"): "not attempted",
                      ("bob.ipynb", OUTSIDE_EXERCISES): "error"}
    assert all(row["status"] in STATUSES and row["chapter"] == "00_quickstart" for row in rows)
    assert "the student broke this cell" in next(row["detail"] for row in rows if row["label"] == OUTSIDE_EXERCISES)


def test_grade_refuses_what_is_not_a_student_copy(tmp_path):
    with pytest.raises(ValueError, match="give at least one student notebook"):
        grade_notebooks([])
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="not a notebook file"):
        grade_notebooks([tmp_path / "notes.txt"])
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(plain, tmp_path / "plain.ipynb")
    with pytest.raises(ValueError, match="has no exercise cells"):
        grade_notebooks([tmp_path / "plain.ipynb"])
