"""Record the numbers a chapter reports, so a papermill run can check them.

``record(name, value)`` always shows the number; when the chapter is executed
by ``python -m specbook run`` it also writes it to the JSON file named by the
environment variable :data:`METRICS_ENV`, which the runner gathers into the run
folder's ``metrics.json``. Inside a notebook it also *glues* the value under its
name (MyST-NB), so the chapter's prose quotes the recorded number itself,
``{glue:text}`name:.3f```, never a typed copy of it.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import re
from pathlib import Path

import numpy as np

from .files import write_json_atomic
from ..validation import check_real

__all__ = ["record", "METRICS_ENV", "read_metrics"]

#: Environment variable holding the path of the JSON file that receives the metrics.
METRICS_ENV = "SPECBOOK_METRICS_FILE"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


def _plain(value):
    """Convert `value` to a JSON scalar, refusing what cannot be checked later."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ValueError(
                f"value must be a scalar; got an array of shape {value.shape}. "
                "Record one number per name (e.g. a mean), or loop over the entries."
            )
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"value must be finite; got {value}. A NaN or inf metric cannot be checked.")
        return value
    if isinstance(value, str):
        return value
    raise TypeError(f"value must be a number, bool or str; got {type(value).__name__}.")


def record(name: str, value, *, unit: str | None = None, description: str | None = None,
           atol: float | None = None, rtol: float | None = None):
    """Show a reported number and, under the runner, store it for the regression check.

    Parameters
    ----------
    name : str
        Identifier of the number within its chapter (letters, digits, ``_ . -``).
    value : bool, int, float or str
        The number. NumPy scalars are accepted; NaN and inf are refused.
    unit : str, optional
        Unit shown next to the value (e.g. ``"s"``).
    description : str, optional
        One line saying what the number is.
    atol, rtol : float, optional
        Tolerance suggested for a new expectation when ``specbook check --update``
        first stores this number (default: exact up to ``rtol=1e-6``): a finite
        number >= 0, as ``check`` reads it.

    Raises
    ------
    ValueError
        For a bad name, tolerance, unit or description, a NaN or inf value, or,
        under the runner, a metrics file that cannot be read or written.
    TypeError
        For a value that is not a number, bool or str.

    Notes
    -----
    Returns nothing, so that a cell ending with ``record(...)`` shows the number once.
    In an IPython kernel with MyST-NB installed (the book build), the value is also
    glued under `name`, so prose can quote it with ``{glue:text}`name:.3f```.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name={name!r} is not a valid metric name; use letters, digits, '_', '.' or '-', "
            "starting with a letter."
        )
    # The tolerances `specbook check` reads back (checking._is_tolerance): refused here, not there.
    tolerances = {label: check_real(tol, label, low=0) for label, tol in (("atol", atol), ("rtol", rtol))
                  if tol is not None}
    for label, text in (("unit", unit), ("description", description)):
        if text is not None and not isinstance(text, str):
            raise ValueError(f"{label} must be a str or None; got {text!r} (write it as text, e.g. {str(text)!r}).")
    value = _plain(value)
    entry = {"value": value}
    for key, extra in (("unit", unit), ("description", description)):
        if extra is not None:
            entry[key] = extra
    entry.update(tolerances)

    print(f"recorded {name} = {value}" + (f" {unit}" if unit else ""))
    target = os.environ.get(METRICS_ENV)
    if target:
        _store(Path(target), name, entry)
    _glue(name, value)


def _store(path: Path, name: str, entry: dict) -> None:
    """Add `entry` under `name` to the metrics file at `path`, written by the runner's kernel."""
    metrics = read_metrics(path)
    metrics[name] = entry
    try:
        write_json_atomic(path, metrics, sort_keys=True)
    except OSError as exc:
        raise ValueError(
            f"cannot write the metrics file {path} named by {METRICS_ENV} ({exc.strerror or exc}); run the "
            f"chapter with `python -m specbook run`, which sets it, or unset {METRICS_ENV} to record nothing."
        ) from None


def _glue(name: str, value) -> None:
    """Glue `value` under `name` for MyST-NB, when running in a kernel that has it."""
    try:
        from IPython import get_ipython
        from myst_nb import glue
    except ImportError:  # Colab and plain Python: the prose shows the role's text, the cell shows the number
        return
    if get_ipython() is not None:
        glue(name, value, display=False)


def read_metrics(path) -> dict:
    """Read a metrics file written by :func:`record` (empty dict when absent).

    Raises
    ------
    ValueError
        When the file is not a JSON object of metrics, naming it and what to do.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        metrics = exc
    if not isinstance(metrics, dict):
        problem = f"({metrics})" if isinstance(metrics, Exception) else "(not a JSON object)"
        raise ValueError(f"the metrics file {path} cannot be read {problem}; delete it and run the chapter "
                         "again (python -m specbook run CHAPTER), which rewrites it.")
    return metrics
