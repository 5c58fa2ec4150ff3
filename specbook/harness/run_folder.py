"""A run folder's summary, ``metrics.json``: the runner writes it (whole or not at all), this reads it.

``check``, ``report``, the book build and the Sphinx extension's banner all read a run
through :func:`read_run`, so they refuse the same broken, incomplete or dirty runs with the
same words.
"""
from __future__ import annotations

import json
from pathlib import Path

from .provenance import check_clean, check_complete

__all__ = ["read_json", "read_run"]


def read_json(path: Path):
    """The JSON document in `path`, or a ``ValueError`` naming the file and what is wrong with it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}).") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror or exc}).") from None


def read_run(run_dir, *, allow_dirty=False, require=("profile", "chapters")) -> dict:
    """Read and validate a run folder's ``metrics.json``.

    Parameters
    ----------
    run_dir : str or Path
        A folder written by ``python -m specbook run``.
    allow_dirty : bool, default=False
        Accept a run made from a tree with uncommitted changes (the book's own build, whose
        pages say so; ``check``, which compares numbers, not provenance).
    require : sequence of str
        Keys the summary must hold.

    Raises
    ------
    ValueError
        Naming the file: no summary, one that cannot be parsed or lacks a required key, a run
        with a chapter that did not finish (still "running" in ``state.json`` because the run
        was killed, or "interrupted"), or a dirty run unless `allow_dirty`.
    """
    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        raise ValueError(f"run_dir={str(run_dir)!r} holds no metrics.json; pass a folder written by "
                         f"`python -m specbook run` (e.g. run `python -m specbook run --out {run_dir}` first).")
    try:
        run = read_json(path)
    except ValueError as exc:
        raise ValueError(f"{exc} Run the chapters again to rewrite it.") from None
    missing = set(require) - set(run if isinstance(run, dict) else ())
    if missing:
        raise ValueError(f"{path} is not a specbook run's metrics.json: it lacks {sorted(missing)}. "
                         "Re-create it with `python -m specbook run`.")
    check_complete(run, run_dir)
    if not allow_dirty:
        check_clean(run, run_dir)
    return run
