"""Student and instructor copies: stubs keep the solutions' interfaces, and student copies run to the stubs."""
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import jupytext
import nbformat
import pytest

from specbook.harness.chapters import chapter_files
from specbook.harness.assignments import (STUB_TAG, find_exercises, function_interfaces, make_assignments, run_copy,
                                  student_stub)

ROOT = Path(__file__).resolve().parents[3]
CHAPTERS = [p.stem for p in chapter_files(ROOT / "notebooks", ".md")]

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

CHAPTER = HEADER + """
# A chapter

```{code-cell} ipython3
:tags: [parameters]

PROFILE = "book"
SEED = 0
```

## Exercise

````{exercise}
:label: ex-double

Write `double(x)`, which returns twice `x`.
````

```{solution-start} ex-double
:class: dropdown
```

The answer is a product; the prose of the solution says why.

```{code-cell} ipython3
def double(x):
    \"\"\"Twice x.\"\"\"
    return 2 * x

double(PROFILE == "book") + SEED
```

```{solution-end}
```

After the solution.
"""


def write(tmp_path, text, name="01_chapter.md"):
    folder = tmp_path / "notebooks"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    jupytext.write(jupytext.read(path), path.with_suffix(".ipynb"), fmt="ipynb")
    return folder


def test_find_exercises_reads_the_label_question_and_solution_cells(tmp_path):
    (exercise,) = find_exercises(write(tmp_path, CHAPTER) / "01_chapter.md")
    assert exercise.label == "ex-double"
    assert exercise.question == "Write `double(x)`, which returns twice `x`."
    assert len(exercise.solution_cells) == 1 and exercise.solution_cells[0].startswith("def double(x):")


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("def double(x):\n    \"\"\"Twice x.\"\"\"\n    return 2 * x\n\n", "")
     .replace("double(PROFILE", "(PROFILE"), "defines no function"),
    (lambda t: t.replace("```{solution-end}\n```\n", ""), "has no solution-end"),
    (lambda t: t.replace("```{solution-start} ex-double", "```{solution-start} ex-triple"), r"before \(or without\)"),
    (lambda t: t.split("```{solution-start}")[0], "has no solution"),
    (lambda t: t.replace(":label: ex-double\n", ""), "has no :label:"),
    (lambda t: t.replace("return 2 * x", "return 2 *"), "not valid Python"),
])
def test_malformed_exercises_are_refused_naming_the_problem(tmp_path, change, message):
    folder = write(tmp_path, change(CHAPTER))
    with pytest.raises(ValueError, match=message):
        find_exercises(folder / "01_chapter.md", "01_chapter")


def test_student_stub_keeps_signature_docstring_and_calls():
    source = '@cache\ndef f(a, b=2, *rest, c, **options):\n    """Doc."""\n    x = a\n    return x\n\nf(1, c=3)'
    stub = student_stub(source, "ex-f")
    assert stub == ('@cache\ndef f(a, b=2, *rest, c, **options):\n    """Doc."""\n'
                    "    raise NotImplementedError('ex-f: write f() (exercise ex-f)')\n\nf(1, c=3)")
    assert function_interfaces(stub) == function_interfaces(source) == {"f": "(a, b=2, *rest, c, **options)"}


def test_student_and_instructor_copies_of_a_chapter(tmp_path):
    folder = write(tmp_path, CHAPTER)
    (chapter,) = make_assignments(None, tmp_path / "out", notebooks_dir=folder, profile="smoke")
    student = nbformat.read(chapter.student, as_version=4)
    text = "\n".join(cell.source for cell in student.cells)
    assert "return 2 * x" not in text and "prose of the solution" not in text
    assert "raise NotImplementedError('ex-double" in text and "After the solution." in text
    assert 'PROFILE = "smoke"' in text and "{exercise}" not in text and "solution-start" not in text
    (stub,) = [cell for cell in student.cells if cell.metadata.get("specbook")]
    assert stub.metadata.tags == [STUB_TAG] and stub.metadata.specbook == {"exercise": "ex-double", "role": "stub"}
    assert chapter.student.with_suffix(".md").exists()
    instructor = "\n".join(cell.source for cell in nbformat.read(chapter.instructor, as_version=4).cells)
    assert "return 2 * x" in instructor and "prose of the solution" in instructor

    assert run_copy(chapter.student) == {"ex-double": "open"}
    assert run_copy(chapter.instructor) == {"ex-double": "done"}


def test_a_student_answer_that_raises_is_reported_as_an_error_and_a_right_one_as_done(tmp_path):
    (chapter,) = make_assignments(None, tmp_path / "out", notebooks_dir=write(tmp_path, CHAPTER))
    notebook = nbformat.read(chapter.student, as_version=4)
    (stub,) = [cell for cell in notebook.cells if cell.metadata.get("specbook")]
    original = stub.source
    for answer, status in [("return x / 0", "error: ZeroDivisionError: division by zero"), ("return x + x", "done")]:
        stub.source = original.replace("raise NotImplementedError('ex-double: write double() (exercise ex-double)')",
                                       answer)
        nbformat.write(notebook, chapter.student)
        assert run_copy(chapter.student) == {"ex-double": status}


def test_a_named_chapter_without_exercises_is_refused(tmp_path):
    folder = write(tmp_path, CHAPTER.split("## Exercise")[0])
    with pytest.raises(ValueError, match="has no exercise"):
        make_assignments(["01"], tmp_path / "out", notebooks_dir=folder)
    with pytest.raises(ValueError, match="profile must be one of"):
        make_assignments(None, tmp_path / "out", notebooks_dir=folder, profile="huge")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_chapter_has_exercises_whose_stubs_keep_the_solution_interface(stem):
    exercises = find_exercises(ROOT / "notebooks" / f"{stem}.md", stem)
    assert exercises, f"{stem} has no exercise"
    for exercise in exercises:
        for source in exercise.solution_cells:
            stub = student_stub(source, exercise.label)
            assert function_interfaces(stub) == function_interfaces(source), exercise.label
            assert f"NotImplementedError('{exercise.label}:" in stub


def test_the_command_line_writes_both_copies(tmp_path):
    done = subprocess.run([sys.executable, "-m", "specbook", "assignments", "01", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "01_collider_world: " in done.stdout
    assert (tmp_path / "student" / "01_collider_world.ipynb").exists()
    assert (tmp_path / "instructor" / "01_collider_world.md").exists()
    wrong = subprocess.run([sys.executable, "-m", "specbook", "assignments", "99", "--out", str(tmp_path)],
                           capture_output=True, text=True, cwd=ROOT)
    assert wrong.returncode == 2 and "'99' is not a chapter" in wrong.stderr


def _grade_student_copy(path):
    from specbook.harness.grading import grade_notebooks

    return path.stem, grade_notebooks([path], notebooks_dir=ROOT / "notebooks")


@pytest.mark.slow
def test_every_student_copy_runs_and_stops_only_at_its_stubs(tmp_path, monkeypatch):
    """The grader executes every untouched student copy: no cell outside the exercises raises (that would
    be a row labelled OUTSIDE_EXERCISES), and every exercise scores "not attempted"."""
    written = make_assignments(None, tmp_path / "assignments", notebooks_dir=ROOT / "notebooks", profile="smoke")
    assert [chapter.stem for chapter in written] == CHAPTERS
    for name, value in {"MPLBACKEND": "Agg", "SPECBOOK_PROGRESS": "0",
                        "SPECBOOK_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}.items():
        monkeypatch.setenv(name, value)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        results = dict(pool.map(_grade_student_copy, [chapter.student for chapter in written]))
    for chapter in written:
        scores = {grade.label: grade.status for grade in results[chapter.stem]}
        assert scores == {exercise.label: "not attempted" for exercise in chapter.exercises}, results[chapter.stem]
    print(f"graded a full set of {len(written)} untouched student notebooks (smoke profile, two at a time) in "
          f"{time.perf_counter() - start:.0f} s")


def test_the_teaching_page_lists_every_exercise_once():
    page = (ROOT / "book" / "teaching.md").read_text()
    listed = re.findall(r"`(ex-[A-Za-z0-9-]+)`", page)
    labels = [e.label for stem in CHAPTERS for e in find_exercises(ROOT / "notebooks" / f"{stem}.md", stem)]
    assert sorted(listed) == sorted(labels)
