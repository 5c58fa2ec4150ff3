"""Course assignments from the chapters: student copies with stubs, instructor copies with solutions.

Every exercise of the book is a sphinx-exercise ``exercise`` directive followed by a
gated solution (``solution-start`` ... ``solution-end``) whose code cells each define
at least one function: the function is what a student writes. :func:`make_assignments`
turns each chapter into two plain Jupyter notebooks (MyST ``.md`` and ``.ipynb``):

``student/<stem>``
    Solution prose is removed; each solution function keeps its signature and
    docstring and its body becomes ``raise NotImplementedError("<label>: ...")``.
    The other lines of the cell (the calls that show the answer) stay, so running
    the cell tells the student which exercise is still open. Stub cells are tagged
    ``raises-exception``, so the rest of the chapter still runs.
``instructor/<stem>``
    The chapter with its solutions shown (not collapsed), and at the end the hidden checks
    of ``notebooks/checks/<stem>.py`` that :mod:`specbook.harness.grading` scores returned
    student notebooks with.

Example
-------
::

    python -m specbook assignments 01 02 --out assignments/
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

from .files import write_text_atomic
from .profiles import PROFILES

__all__ = ["Exercise", "ChapterAssignment", "find_exercises", "student_stub", "function_interfaces",
           "make_assignments", "run_copy", "STUB_TAG"]

#: Tag of a student stub cell: nbclient lets the cell raise and runs the rest of the chapter.
STUB_TAG = "raises-exception"

_EXERCISE = re.compile(
    r"^(?P<fence>`{3,})\{exercise\}[^\n]*\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$\n?",
    re.MULTILINE | re.DOTALL,
)
_SOLUTION_START = re.compile(
    r"^(?P<fence>`{3,})\{solution-start\}[ \t]+(?P<label>\S+)[ \t]*\n(?::[^\n]*\n)*(?P=fence)[ \t]*(?:\n|$)",
    re.MULTILINE,
)
_SOLUTION_END = re.compile(r"^(?P<fence>`{3,})\{solution-end\}[^\n]*\n(?::[^\n]*\n)*(?P=fence)[ \t]*(?:\n|$)",
                           re.MULTILINE)
_LABEL = re.compile(r"^:label:[ \t]*(\S+)", re.MULTILINE)
_PARAMETERS_PROFILE = re.compile(r'^PROFILE = "[a-z]+"', re.MULTILINE)


@dataclass
class Exercise:
    """One exercise of a chapter.

    Attributes
    ----------
    label : str
        The ``:label:`` of the exercise directive (``ex-...``).
    question : str
        The directive's body.
    solution_cells : list of str
        Sources of the code cells of its solution, in order.
    """

    label: str
    question: str
    solution_cells: list[str] = field(default_factory=list)


@dataclass
class ChapterAssignment:
    """What :func:`make_assignments` wrote for one chapter.

    Attributes
    ----------
    stem : str
        The chapter (``01_collider_world``).
    exercises : list of Exercise
    student : Path
        The student notebook (``.ipynb``; its ``.md`` twin sits next to it).
    instructor : Path
        The instructor notebook (``.ipynb``, with its ``.md`` twin).
    """

    stem: str
    exercises: list[Exercise]
    student: Path
    instructor: Path


def find_exercises(notebook, stem="notebook") -> list[Exercise]:
    """The exercises of a chapter with the code cells of their solutions.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or str or Path
        A chapter, or the path of its MyST source or ``.ipynb``.
    stem : str, default="notebook"
        Name used in error messages.

    Returns
    -------
    list of Exercise
        In the order of the chapter.

    Raises
    ------
    ValueError
        When a solution names no exercise of the chapter, is not closed, or has no code
        cell; when a solution code cell defines no function; when an exercise has no
        solution.
    """
    cells = _read(notebook).cells
    exercises: dict[str, Exercise] = {}
    for cell, segments in _segment(cells, stem):
        if cell.cell_type == "markdown":
            for text, label in segments:
                if label is None:
                    for match in _EXERCISE.finditer(text):
                        found = _LABEL.search(match["options"])
                        if found is None:
                            raise ValueError(f"{stem}: an exercise directive has no :label:; give it one "
                                             "(assignments name their stubs after it).")
                        exercises[found[1]] = Exercise(found[1], match["body"].strip())
        elif segments is not None:
            label = segments
            if label not in exercises:
                raise ValueError(f"{stem}: solution {label!r} comes before (or without) its exercise; "
                                 f"known exercises: {', '.join(exercises) or 'none'}.")
            function_interfaces(cell.source, where=f"{stem}, solution of {label}")  # validates
            exercises[label].solution_cells.append(cell.source)
    for exercise in exercises.values():
        if not exercise.solution_cells:
            raise ValueError(
                f"{stem}: exercise {exercise.label!r} has no solution with a code cell; add a "
                "solution-start/solution-end block whose code cell defines the function the student writes."
            )
    return list(exercises.values())


def function_interfaces(source: str, *, where: str = "cell") -> dict[str, str]:
    """The top-level functions a code cell defines, with their signatures.

    Parameters
    ----------
    source : str
        Python source of a code cell.
    where : str, default="cell"
        Name used in error messages.

    Returns
    -------
    dict of str to str
        ``{"name": "(arg1, arg2=3)"}`` for every top-level ``def``, in order.

    Raises
    ------
    ValueError
        When the cell is not valid Python or defines no function.
    """
    tree = _parse(source, where)
    interfaces = {node.name: f"({ast.unparse(node.args)})" for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if not interfaces:
        raise ValueError(
            f"{where}: the solution's code cell defines no function. Put the answer in a function "
            "(its signature and docstring are what the student copy keeps) and call it below."
        )
    return interfaces


def student_stub(source: str, label: str, *, where: str = "cell") -> str:
    """A solution cell with each top-level function's body replaced by ``raise NotImplementedError``.

    Signatures, decorators, docstrings and every other line of the cell are kept verbatim.

    Parameters
    ----------
    source : str
        Python source of a solution's code cell.
    label : str
        The exercise's label, named in the NotImplementedError.
    where : str, default="cell"
        Name used in error messages.

    Returns
    -------
    str
    """
    function_interfaces(source, where=where)
    lines = source.splitlines()
    replacements = []
    for node in _parse(source, where).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        keep = 1 if _is_docstring(body[0]) else 0
        indent = " " * body[0].col_offset
        message = f"{label}: write {node.name}() (exercise {label})"
        stub = [f"{indent}raise NotImplementedError({message!r})"]
        if keep == len(body):
            first, last = body[-1].end_lineno, body[-1].end_lineno  # only a docstring: append after it
            replacements.append((first, last, [lines[last - 1], *stub]))
        else:
            replacements.append((body[keep].lineno, node.end_lineno, stub))
    for first, last, new in sorted(replacements, reverse=True):
        lines[first - 1:last] = new
    return "\n".join(lines)


def make_assignments(chapters=None, out="assignments", *, notebooks_dir=None, profile=None):
    """Write student and instructor notebooks for the chapters that have exercises.

    Parameters
    ----------
    chapters : str or list of str, optional
        Chapters by stem or number (``"01"``); None takes every chapter with an exercise.
    out : str or Path, default="assignments"
        Folder that receives ``student/`` and ``instructor/``.
    notebooks_dir : str or Path, optional
        Folder of the chapters' MyST sources; default as for ``specbook run``.
    profile : {"smoke", "book", "full"}, optional
        Written into the copies' ``parameters`` cell; default: keep the chapter's.

    Returns
    -------
    list of ChapterAssignment
    """
    from .runner import _resolve_notebooks_dir, _select_chapters, find_chapters

    if profile is not None and profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(sorted(PROFILES))} or None; got {profile!r}.")
    notebooks_dir = _resolve_notebooks_dir(notebooks_dir)
    available = find_chapters(notebooks_dir)
    selected = _select_chapters(chapters, available, notebooks_dir)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out={str(out)!r} is a file; pass the folder that receives student/ and instructor/ "
                         "(CLI: --out DIR).")
    written = []
    for stem in selected:
        source = notebooks_dir / f"{stem}.md"
        if not source.exists():
            raise ValueError(f"{stem}: its MyST source {source} is missing; assignments are made from it.")
        notebook = jupytext.read(source)
        exercises = find_exercises(notebook, stem)
        if not exercises:
            if chapters is not None:
                raise ValueError(f"chapters: {stem} has no exercise; choose chapters with exercises.")
            continue
        student = _write_copy(_student_copy(notebook, stem, profile), out / "student" / stem)
        checks = notebooks_dir / "checks" / f"{stem}.py"
        instructor = _write_copy(_instructor_copy(notebook, stem, profile, checks), out / "instructor" / stem)
        written.append(ChapterAssignment(stem, exercises, student, instructor))
    return written


def run_copy(path, *, cwd=None, timeout=600) -> dict[str, str]:
    """Execute a student (or instructor) copy and say where each exercise stands.

    The copy runs top to bottom in a fresh ``python3`` kernel; exercise cells may
    raise (they are tagged ``raises-exception``), any other cell that raises stops
    the run with nbclient's ``CellExecutionError``, naming the cell.

    Parameters
    ----------
    path : str or Path
        The copy's ``.ipynb``.
    cwd : str or Path, optional
        Folder the kernel starts in; default the copy's folder.
    timeout : float, default=600
        Seconds one cell may run.

    Returns
    -------
    dict of str to str
        Per exercise label: ``"open"`` (a stub raised NotImplementedError), ``"done"``
        (every cell of the exercise ran), or ``"error: <Exception>: <message>"``.
    """
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    cwd = path.parent if cwd is None else Path(cwd)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    status: dict[str, str] = {}
    for cell in notebook.cells:
        label = cell.metadata.get("specbook", {}).get("exercise")
        if label is None:
            continue
        errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
        if not errors:
            cell_status = "done"
        elif errors[0].ename == "NotImplementedError" and label in errors[0].evalue:
            cell_status = "open"
        else:
            cell_status = f"error: {errors[0].ename}: {errors[0].evalue}"
        # An exercise is as far as its worst cell: an error outranks an open stub, which outranks done.
        worst = max(status.get(label, "done"), cell_status, key=lambda s: ("done", "open").index(s)
                    if s in ("done", "open") else 2)
        status[label] = worst
    return status


def _read(notebook):
    if isinstance(notebook, (str, Path)):
        return jupytext.read(notebook)
    return notebook


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: not valid Python ({exc.msg}, line {exc.lineno}).") from None


def _is_docstring(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _segment(cells, stem):
    """Yield ``(cell, segments)``: a markdown cell's ``[(text, solution label or None)]``, a code
    cell's solution label (None outside solutions)."""
    label = None
    for cell in cells:
        if cell.cell_type != "markdown":
            yield cell, (label if cell.cell_type == "code" else None)
            continue
        text, segments = cell.source, []
        while text:
            marker = (_SOLUTION_START if label is None else _SOLUTION_END).search(text)
            if marker is None:
                segments.append((text, label))
                break
            segments.append((text[:marker.start()], label))
            if label is None:
                label = marker["label"]
                segments.append(("", label))  # where the solution starts, even if it has no prose
            else:
                label = None
            text = text[marker.end():]
        yield cell, segments
    if label is not None:
        raise ValueError(f"{stem}: the solution of {label!r} has no solution-end directive; close it.")


def _plain_exercises(text: str) -> str:
    """sphinx-exercise directives as plain Markdown, for Jupyter and Colab."""
    def quote(match):
        label = _LABEL.search(match["options"])
        body = match["body"].strip()
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
        return f"> **Exercise `{label[1] if label else ''}`.**\n>\n{quoted}\n"
    return _EXERCISE.sub(quote, text)


def _header(stem: str, role: str) -> nbformat.NotebookNode:
    if role == "student":
        text = (f"*Student copy of chapter `{stem}`, made by `python -m specbook assignments`.* "
                "Each exercise asks for the function in the cell below it: replace its "
                "`raise NotImplementedError(...)` with your code and run the cell.")
    else:
        text = (f"*Instructor copy of chapter `{stem}`, made by `python -m specbook assignments`*: "
                "the chapter with every solution shown.")
    return nbformat.v4.new_markdown_cell(text)


def _student_copy(notebook, stem, profile):
    cells = [_header(stem, "student")]
    for cell, segments in _segment(notebook.cells, stem):
        if cell.cell_type == "markdown":
            kept = []
            for text, label in segments:
                if label is None:
                    kept.append(_plain_exercises(text))
                elif not text:
                    kept.append(f"\n**Your answer to `{label}`:** write the function in the next cell.\n")
            source = "".join(kept).strip()
            if source:
                cells.append(nbformat.v4.new_markdown_cell(source))
        elif cell.cell_type == "code" and segments is not None:
            stub = nbformat.v4.new_code_cell(student_stub(cell.source, segments, where=f"{stem}, {segments}"))
            stub.metadata["tags"] = [STUB_TAG]
            stub.metadata["specbook"] = {"exercise": segments, "role": "stub"}
            cells.append(stub)
        else:
            cells.append(_copy_cell(cell, profile))
    return _notebook_like(notebook, cells)


def _instructor_copy(notebook, stem, profile, checks=None):
    cells = [_header(stem, "instructor")]
    for cell, segments in _segment(notebook.cells, stem):
        if cell.cell_type == "markdown":
            source = "".join(_plain_exercises(text) if label is None
                             else (f"\n**Solution of `{label}`.**\n" if not text else text)
                             for text, label in segments).strip()
            if source:
                cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            copy = _copy_cell(cell, profile)
            if cell.cell_type == "code" and segments is not None:
                copy.metadata["specbook"] = {"exercise": segments, "role": "solution"}
            cells.append(copy)
    if checks is not None and checks.is_file():
        cells.append(nbformat.v4.new_markdown_cell(
            "## Hidden checks\n\nWhat `python -m specbook grade` runs on a returned student notebook (from "
            f"`notebooks/checks/{stem}.py`; the student copy does not have them): each check calls the student's "
            "function and the solution's on inputs the chapter never used and compares the answers. `WRONG` "
            "holds a mistake per exercise that the checks catch."))
        cells.append(nbformat.v4.new_code_cell(checks.read_text().rstrip() + "\n"))
    return _notebook_like(notebook, cells)


def _copy_cell(cell, profile):
    copy = nbformat.from_dict(dict(cell))
    copy.metadata = nbformat.from_dict(dict(cell.metadata))
    if profile is not None and "parameters" in cell.metadata.get("tags", []):
        copy.source = _PARAMETERS_PROFILE.sub(f'PROFILE = "{profile}"', cell.source)
    return copy


def _notebook_like(notebook, cells):
    copy = nbformat.v4.new_notebook(cells=cells)
    copy.metadata = {"kernelspec": dict(notebook.metadata.get("kernelspec", {})),
                     "jupytext": {"default_lexer": "ipython3"}}
    for index, cell in enumerate(copy.cells):
        cell.id = f"cell-{index}"  # stable ids: the same chapter gives the same files
    return copy


def _write_copy(notebook, path_without_suffix: Path) -> Path:
    try:
        path_without_suffix.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out: cannot make the folder {path_without_suffix.parent} ({exc.strerror or exc}); pass "
                         "a folder you can write to (CLI: --out DIR).") from None
    ipynb = path_without_suffix.with_suffix(".ipynb")
    for path, fmt in ((ipynb, "ipynb"), (path_without_suffix.with_suffix(".md"), "md:myst")):
        text = jupytext.writes(notebook, fmt=fmt)
        # Whole or not at all, and ending with a newline as jupytext.write leaves it.
        write_text_atomic(path, text if text.endswith("\n") else text + "\n")
    return ipynb
