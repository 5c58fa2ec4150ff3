"""Grading student notebooks: hidden checks that call a student's function on fresh inputs.

Each chapter's coding exercises have hidden checks in ``notebooks/checks/<stem>.py``. The
instructor copy carries them (its last cell); the student copy does not. A checks file
defines ``CHECKS``, a dict from exercise label to a function ``check(student, solution)``:
``student`` and ``solution`` hold the exercise's functions as attributes (the student's,
and the chapter's solution), and the check calls both on inputs the chapter never used and
compares the answers with :func:`compare`, which raises AssertionError naming the call.

:func:`grade_notebooks` executes each returned student notebook (cells that raise do not
stop it), then, in the same kernel, defines the chapter's solution functions beside the
student's and runs the checks. Each exercise is scored

``passed``
    every check held;
``wrong``
    a check failed (the detail names the call and what differed);
``not attempted``
    the student's function still raises the stub's NotImplementedError;
``error``
    the student's function raised anything else, or is missing (the detail says which).

A cell of the chapter's own code that raised in the student's run (a notebook the student
broke outside the exercises) adds a row labelled :data:`OUTSIDE_EXERCISES` with status
``error``, naming the cell.

:func:`grade_answers` scores answers given as source text without executing the chapter
(the chapter's imports and the answer's functions only), which is how the tests check that
every solution scores full marks, every stub "not attempted" and a wrong answer "wrong".

Example
-------
::

    python -m specbook grade returned/*.ipynb --csv grades.csv
"""
from __future__ import annotations

import ast
import csv
import importlib.util
import json
import math
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .assignments import find_exercises, function_interfaces

__all__ = ["STATUSES", "ExerciseGrade", "compare", "load_checks", "grade_answers", "grade_notebooks",
           "write_csv", "CHECKS_FOLDER", "OUTSIDE_EXERCISES"]

#: The scores an exercise can get, best first.
STATUSES = ("passed", "wrong", "not attempted", "error")

#: Folder of the checks files, inside the chapters' folder.
CHECKS_FOLDER = "checks"


@dataclass(frozen=True)
class ExerciseGrade:
    """The score of one exercise of one notebook.

    Attributes
    ----------
    notebook : str
        The graded notebook's path as given (one folder per student keeps them apart), or the
        chapter for :func:`grade_answers`.
    chapter : str
    label : str
        The exercise (``ex-...``).
    status : str
        One of :data:`STATUSES`.
    detail : str
        Why, for every status but ``passed``.
    """

    notebook: str
    chapter: str
    label: str
    status: str
    detail: str = ""


def compare(got, expected, what, *, rtol=1e-6, atol=1e-9):
    """Raise AssertionError naming `what` unless `got` equals `expected`.

    Numbers, NumPy arrays and pandas objects are compared within ``rtol`` and ``atol``
    (NaN equals NaN); pandas objects also by index and columns; lists, tuples and dicts
    element by element; anything else with ``==``.

    Parameters
    ----------
    got, expected
        The student's answer and the solution's.
    what : str
        The call that produced them, e.g. ``"opened_by_task(world, 'a4', 1)"``.
    rtol, atol : float
        Tolerances for numbers.
    """
    problem = _difference(got, expected, rtol, atol)
    if problem:
        raise AssertionError(f"{what}: {problem}")


def _difference(got, expected, rtol, atol):
    import numpy as np
    import pandas as pd

    if isinstance(expected, (pd.Series, pd.DataFrame)):
        if type(got) is not type(expected):
            return f"expected a pandas {type(expected).__name__}, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"expected shape {expected.shape}, got {got.shape}"
        if not got.index.equals(expected.index):
            return f"expected index {list(expected.index)}, got {list(got.index)}"
        if isinstance(expected, pd.DataFrame) and not got.columns.equals(expected.columns):
            return f"expected columns {list(expected.columns)}, got {list(got.columns)}"
        for key in (expected.columns if isinstance(expected, pd.DataFrame) else [None]):
            column_got = got if key is None else got[key]
            column_expected = expected if key is None else expected[key]
            for index, (a, b) in enumerate(zip(column_got.tolist(), column_expected.tolist())):
                problem = _difference(a, b, rtol, atol)
                if problem:
                    where = expected.index[index] if key is None else (expected.index[index], key)
                    return f"at {where!r}: {problem}"
        return ""
    if isinstance(expected, np.ndarray):
        got_array = np.asarray(got)
        if got_array.shape != expected.shape:
            return f"expected shape {expected.shape}, got {got_array.shape}"
        if expected.dtype.kind in "biuf":
            if got_array.dtype.kind not in "biuf":
                return f"expected numbers, got an array of {got_array.dtype}"
            close = np.isclose(got_array, expected, rtol=rtol, atol=atol, equal_nan=True)
            if not close.all():
                first = tuple(int(i) for i in np.argwhere(~close)[0])
                return f"at {first}: expected {_plain(expected[first])!r}, got {_plain(got_array[first])!r}"
            return ""
        return "" if np.array_equal(got_array, expected) else f"expected {expected!r}, got {got_array!r}"
    if isinstance(expected, (bool, np.bool_)):
        return "" if isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected) else \
            f"expected {bool(expected)!r}, got {got!r}"
    if isinstance(expected, (int, float, np.integer, np.floating)):
        if not isinstance(got, (int, float, np.integer, np.floating)) or isinstance(got, (bool, np.bool_)):
            return f"expected the number {expected!r}, got {got!r}"
        if math.isnan(float(expected)) and math.isnan(float(got)):
            return ""
        return "" if math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol) else \
            f"expected {_plain(expected)!r}, got {_plain(got)!r}"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return f"expected {expected!r}, got {got!r}"
        for index, (a, b) in enumerate(zip(got, expected)):
            problem = _difference(a, b, rtol, atol)
            if problem:
                return f"item {index}: {problem}"
        return ""
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"expected keys {sorted(map(str, expected))}, got " + \
                (f"keys {sorted(map(str, got))}" if isinstance(got, dict) else repr(got))
        for key in expected:
            problem = _difference(got[key], expected[key], rtol, atol)
            if problem:
                return f"at {key!r}: {problem}"
        return ""
    return "" if got == expected else f"expected {expected!r}, got {got!r}"


def _plain(number):
    """A NumPy scalar as the Python number it holds (for messages)."""
    return number.item() if hasattr(number, "item") else number


def load_checks(stem, notebooks_dir=None) -> dict:
    """The hidden checks of chapter `stem`: ``CHECKS`` of ``<notebooks_dir>/checks/<stem>.py``.

    Raises
    ------
    ValueError
        When the file is missing or its ``CHECKS`` does not name exactly the chapter's
        exercises with callables.
    """
    from .runner import _resolve_notebooks_dir

    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    path = notebooks_dir / CHECKS_FOLDER / f"{stem}.py"
    if not path.is_file():
        raise ValueError(f"{stem}: no hidden checks at {path}; write CHECKS = {{label: check}} there.")
    spec = importlib.util.spec_from_file_location(f"specbook_checks_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checks = getattr(module, "CHECKS", None)
    labels = [exercise.label for exercise in find_exercises(notebooks_dir / f"{stem}.md", stem)]
    if not isinstance(checks, dict) or sorted(checks) != sorted(labels) \
            or not all(callable(check) for check in checks.values()):
        found = sorted(checks) if isinstance(checks, dict) else checks
        raise ValueError(f"{path}: CHECKS must map each exercise of {stem} ({', '.join(labels)}) to a "
                         f"check(student, solution); got {found!r}.")
    return checks


def grade_answers(stem, answers, *, notebooks_dir=None) -> list[ExerciseGrade]:
    """Score answers given as source, without executing the chapter.

    Each answer's functions are defined in a namespace holding the chapter's imports (its
    cells' top-level ``import`` statements), as are the solution's, and the exercise's check
    compares them.

    Parameters
    ----------
    stem : str
        The chapter.
    answers : dict of str to str
        Exercise label to the source of the student's cell(s); an exercise left out is
        scored from its untouched stub.
    notebooks_dir : str or Path, optional
        Folder of the chapters (default as for ``specbook run``).

    Returns
    -------
    list of ExerciseGrade
        One per exercise of the chapter, in order.
    """
    from .assignments import student_stub
    from .runner import _resolve_notebooks_dir

    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    exercises = find_exercises(notebooks_dir / f"{stem}.md", stem)
    unknown = sorted(set(answers) - {exercise.label for exercise in exercises})
    if unknown:
        raise ValueError(f"answers: {unknown} are not exercises of {stem}; its exercises are "
                         f"{[exercise.label for exercise in exercises]}.")
    imports = chapter_imports(notebooks_dir / f"{stem}.md")
    checks = load_checks(stem, notebooks_dir)
    grades = []
    for exercise in exercises:
        source = answers.get(exercise.label)
        if source is None:
            source = "\n\n".join(student_stub(cell, exercise.label) for cell in exercise.solution_cells)
        namespace = {"__name__": "__grading__"}
        exec(compile(imports, f"<{stem} imports>", "exec"), namespace)  # noqa: S102 (the book's own code)
        try:
            exec(compile(definitions(source), f"<answer to {exercise.label}>", "exec"), namespace)  # noqa: S102
        except Exception as exc:  # a student's answer that does not even define its functions
            grades.append(ExerciseGrade(stem, stem, exercise.label, "error", f"{type(exc).__name__}: {exc}"))
            continue
        grades.append(_grade_one(stem, stem, exercise, namespace, checks[exercise.label]))
    return grades


def chapter_imports(source) -> str:
    """The top-level ``import`` statements of a chapter's code cells, as one block of source."""
    import jupytext

    notebook = jupytext.read(source) if isinstance(source, (str, Path)) else source
    lines = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics (the Colab install cell): nothing to import there
            continue
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(lines))


def definitions(source) -> str:
    """Only the imports and top-level function definitions of `source` (no calls, no figures)."""
    tree = ast.parse(source)
    kept = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef))]
    return "\n\n".join(ast.unparse(node) for node in kept)


def _functions(exercise):
    names = []
    for cell in exercise.solution_cells:
        names += list(function_interfaces(cell))
    return names


def _grade_one(notebook, stem, exercise, namespace, check):
    """Score one exercise whose student functions are in `namespace` (solutions defined beside them)."""
    names = _functions(exercise)
    missing = [name for name in names if not callable(namespace.get(name))]
    if missing:
        return ExerciseGrade(notebook, stem, exercise.label, "error",
                             f"the notebook defines no function {', '.join(missing)} (the exercise asks for it)")
    student = types.SimpleNamespace(**{name: namespace[name] for name in names})
    reference = dict(namespace)
    for cell in exercise.solution_cells:
        exec(compile(definitions(cell), f"<solution of {exercise.label}>", "exec"), reference)  # noqa: S102
    solution = types.SimpleNamespace(**{name: reference[name] for name in names})
    try:
        check(student, solution)
    except NotImplementedError as exc:
        if exercise.label in str(exc):
            return ExerciseGrade(notebook, stem, exercise.label, "not attempted", str(exc))
        return ExerciseGrade(notebook, stem, exercise.label, "error", f"NotImplementedError: {exc}")
    except AssertionError as exc:
        return ExerciseGrade(notebook, stem, exercise.label, "wrong", str(exc))
    except Exception as exc:  # the student's function failed on the fresh inputs
        return ExerciseGrade(notebook, stem, exercise.label, "error", f"{type(exc).__name__}: {exc}")
    return ExerciseGrade(notebook, stem, exercise.label, "passed")


def _chapter_of(notebook, notebooks_dir) -> str:
    """The chapter a student copy came from, by the exercise labels its cells carry."""
    from .runner import find_chapters

    labels = {cell.metadata.get("specbook", {}).get("exercise") for cell in notebook.cells} - {None}
    if not labels:
        raise ValueError("the notebook has no exercise cells (cells tagged by `specbook assignments`); grade "
                         "the student copies that command writes.")
    for stem in find_chapters(notebooks_dir):
        if labels <= {exercise.label for exercise in find_exercises(notebooks_dir / f"{stem}.md", stem)}:
            return stem
    raise ValueError(f"no chapter has the exercises {sorted(labels)}.")


#: Run in the student's kernel after the notebook: grade there, beside the student's own definitions.
_GRADING_CELL = """\
from specbook.harness.grading import _grade_kernel as __specbook_grade
__specbook_grade(globals(), {stem!r}, {notebook!r}, {notebooks_dir!r}, {out!r})
"""


def _grade_kernel(namespace, stem, notebook, notebooks_dir, out):
    """Grade every exercise of `stem` against the student's definitions in `namespace`; write JSON to `out`."""
    checks = load_checks(stem, notebooks_dir)
    exercises = find_exercises(Path(notebooks_dir) / f"{stem}.md", stem)
    grades = [_grade_one(notebook, stem, exercise, namespace, checks[exercise.label]) for exercise in exercises]
    Path(out).write_text(json.dumps([grade.__dict__ for grade in grades]))


def grade_notebooks(paths, *, csv_path=None, notebooks_dir=None, timeout=600, progress=False):
    """Execute returned student notebooks and score each exercise with the hidden checks.

    Parameters
    ----------
    paths : sequence of str or Path
        Student notebooks (``.ipynb``), as written by ``specbook assignments`` and filled in.
    csv_path : str or Path, optional
        Also write one row per (notebook, exercise) there.
    notebooks_dir : str or Path, optional
        Folder of the chapters and their ``checks/`` (default as for ``specbook run``).
    timeout : float, default=600
        Seconds one cell may run.
    progress : bool, default=False
        Print a line per notebook graded.

    Returns
    -------
    list of ExerciseGrade
    """
    from nbclient import NotebookClient

    from .runner import _resolve_notebooks_dir

    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    paths = [Path(path) for path in paths]
    if not paths:
        raise ValueError("paths: give at least one student notebook (.ipynb).")
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"{path}: not a notebook file; give the .ipynb of a student copy.")
    grades = []
    for path in paths:
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        stem = _chapter_of(notebook, notebooks_dir)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "grades.json"
            notebook.cells.append(nbformat.v4.new_code_cell(_GRADING_CELL.format(
                stem=stem, notebook=str(path), notebooks_dir=str(notebooks_dir), out=str(out))))
            # every cell runs even when one raises: an exercise is scored by its own functions
            NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            if not out.exists():
                errors = [output for output in notebook.cells[-1].get("outputs", []) if output.output_type == "error"]
                reason = f"{errors[0].ename}: {errors[0].evalue}" if errors else "no output"
                raise RuntimeError(f"{path}: grading failed in the kernel ({reason}).")
            found = [ExerciseGrade(**row) for row in json.loads(out.read_text())]
        found += _errors_outside_exercises(str(path), stem, notebook.cells[:-1])
        grades += found
        if progress:
            scores = ", ".join(f"{grade.label} {grade.status}" for grade in found)
            print(f"{path} ({stem}, {time.perf_counter() - start:.0f} s): {scores}")
    if csv_path is not None:
        write_csv(grades, csv_path)
    return grades


#: The label of a row that reports a cell outside every exercise that raised.
OUTSIDE_EXERCISES = "(outside exercises)"


def _errors_outside_exercises(notebook, stem, cells):
    """A grade row (status error) per cell of the chapter's own code that raised in the student's run."""
    rows = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or "exercise" in cell.metadata.get("specbook", {}):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                rows.append(ExerciseGrade(notebook, stem, OUTSIDE_EXERCISES, "error",
                                          f"cell {index}: {output.ename}: {output.evalue}"))
    return rows


def write_csv(grades, path):
    """One row per (notebook, exercise): notebook, chapter, label, status, detail."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "chapter", "label", "status", "detail"])
        for grade in grades:
            writer.writerow([grade.notebook, grade.chapter, grade.label, grade.status, grade.detail])
