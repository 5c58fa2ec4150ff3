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
        first stores this number (default: exact up to ``rtol=1e-6``).

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
    for label, tol in (("atol", atol), ("rtol", rtol)):
        if tol is not None and not (isinstance(tol, numbers.Real) and tol >= 0):
            raise ValueError(f"{label} must be a non-negative number; got {tol!r}.")
    value = _plain(value)
    entry = {"value": value}
    for key, extra in (("unit", unit), ("description", description), ("atol", atol), ("rtol", rtol)):
        if extra is not None:
            entry[key] = extra

    print(f"recorded {name} = {value}" + (f" {unit}" if unit else ""))
    target = os.environ.get(METRICS_ENV)
    if target:
        path = Path(target)
        metrics = read_metrics(path)
        metrics[name] = entry
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(metrics, indent=2, sort_keys=True))
        tmp.replace(path)
    _glue(name, value)


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
    """Read a metrics file written by :func:`record` (empty dict when absent)."""
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text())
