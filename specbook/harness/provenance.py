"""What a run was made from, and what has changed in the checkout since.

``specbook run`` records a digest of every source file of the package and of every
chapter notebook it executed (:func:`source_digests`, :func:`file_digest`);
:func:`staleness` compares them with the files of a checkout. ``specbook report``
refuses a run made from a tree with uncommitted changes, and marks a run whose
inputs have changed since as stale (``--strict`` refuses it). ``report`` and
``check`` both refuse a run folder whose chapters did not all complete
(:func:`check_complete`): a chapter still "running" (the run was killed) or
"interrupted".

This module imports nothing from the rest of the package (the report and the
book's Sphinx extension use it without loading torch).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["PACKAGE_DIR", "INCOMPLETE_STATUSES", "COMMITTED_RUN", "file_digest", "source_digests", "staleness",
           "check_clean", "check_complete"]

#: Statuses of a chapter whose notebook did not finish: its numbers, if any, are not this run's.
INCOMPLETE_STATUSES = ("running", "interrupted")

#: The book profile's committed run, relative to the repository root.
COMMITTED_RUN = "book/run"

#: The folder of the specbook package whose sources a run records.
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # specbook/


def file_digest(path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_digests(package_dir=PACKAGE_DIR) -> dict[str, str]:
    """Map every ``.py`` file of the package (path relative to `package_dir`) to its digest."""
    package_dir = Path(package_dir)
    return {path.relative_to(package_dir).as_posix(): file_digest(path)
            for path in sorted(package_dir.rglob("*.py"), key=lambda p: p.relative_to(package_dir).as_posix())}


def check_clean(run: dict, where) -> None:
    """Refuse a run made from a tree with uncommitted changes.

    Parameters
    ----------
    run : dict
        A run's ``metrics.json``.
    where : str or Path
        The run folder, named in the error.

    Raises
    ------
    ValueError
        When the run recorded ``git_dirty: true``: its numbers may come from code that
        no commit holds.
    """
    if run.get("git_dirty"):
        commit = (run.get("git_commit") or "unknown")[:12]
        raise ValueError(
            f"the run in {where} was made from a tree with uncommitted changes (on commit {commit}): "
            "no commit holds the code behind its numbers. Commit, then run again from the clean tree "
            "(python -m specbook run ...)."
        )


def check_complete(run: dict, run_dir) -> None:
    """Refuse a run summary whose chapter entries are malformed or whose chapters did not all complete.

    Parameters
    ----------
    run : dict
        A run's ``metrics.json``.
    run_dir : str or Path
        The run folder; its ``state.json`` (written by ``specbook run`` before and after
        each chapter) is read too, since a run killed outright never rewrote ``metrics.json``.

    Raises
    ------
    ValueError
        When a chapter entry lacks its status or metrics, or when a chapter is still
        "running" or was "interrupted" (naming them, and saying to rerun with ``--resume``).
    """
    path = Path(run_dir) / "metrics.json"
    chapters = run["chapters"]
    if not isinstance(chapters, dict):
        raise ValueError(f"{path}: 'chapters' must map chapter stems to entries; got {type(chapters).__name__}. "
                         "Re-create it with `python -m specbook run`.")
    for stem, chapter in chapters.items():
        if not isinstance(chapter, dict) or not isinstance(chapter.get("status"), str) \
                or not isinstance(chapter.get("metrics"), dict):
            raise ValueError(f"{path}: the entry of chapter {stem} lacks its 'status' or 'metrics'; the file is not "
                             "what `python -m specbook run` writes. Run the chapter again (python -m specbook run "
                             f"{stem} --out {run_dir}).")
    incomplete = {stem for stem, chapter in chapters.items() if chapter["status"] in INCOMPLETE_STATUSES}
    incomplete |= {stem for stem, entry in _read_state(Path(run_dir)).items()
                   if isinstance(entry, dict) and entry.get("status") in INCOMPLETE_STATUSES}
    if incomplete:
        stems = sorted(incomplete)
        raise ValueError(
            f"the run in {run_dir} is incomplete: chapter(s) {', '.join(stems)} did not finish (the run was "
            "interrupted or killed), so the folder holds no numbers of theirs from this run. Rerun them with "
            f"`python -m specbook run {' '.join(stems)} --out {run_dir} --resume` (with the run's --profile "
            "and --seed)."
        )


def _read_state(run_dir: Path) -> dict:
    """The chapters of a run folder's ``state.json`` (empty when absent); see :mod:`specbook.harness.runner`."""
    path = run_dir / "state.json"
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc}); run the chapters again (python -m specbook run "
                         f"--out {run_dir} --force) to rewrite the folder.") from None
    return state if isinstance(state, dict) else {}


def staleness(run: dict, package_dir=PACKAGE_DIR, notebooks_dir=None) -> list[str]:
    """What differs between the inputs a run recorded and a checkout's files.

    Parameters
    ----------
    run : dict
        A run's ``metrics.json``.
    package_dir : str or Path
        The package whose sources to compare (default: this one).
    notebooks_dir : str or Path, optional
        The checkout's chapters; default the ``notebooks`` folder beside `package_dir`.

    Returns
    -------
    list of str
        One line per difference (a source file changed, added or removed; a chapter
        notebook changed or gone); empty when the run is up to date. A run that
        recorded no digests (made by an older specbook) gets one line saying so.
    """
    package_dir = Path(package_dir)
    notebooks_dir = package_dir.parent / "notebooks" if notebooks_dir is None else Path(notebooks_dir)
    recorded = run.get("source_files")
    if recorded is None:
        return ["the run recorded no digests of its inputs (made by an older specbook): nothing vouches "
                "that the package and chapters are the ones it ran"]
    current = source_digests(package_dir)
    changes = [f"specbook/{name} changed" for name in sorted(recorded.keys() & current.keys())
               if recorded[name] != current[name]]
    changes += [f"specbook/{name} added" for name in sorted(current.keys() - recorded.keys())]
    changes += [f"specbook/{name} removed" for name in sorted(recorded.keys() - current.keys())]
    for stem, chapter in run.get("chapters", {}).items():
        notebook = notebooks_dir / f"{stem}.ipynb"
        digest = chapter.get("notebook_sha256")
        if not notebook.is_file():
            changes.append(f"notebooks/{stem}.ipynb is gone")
        elif digest is None or digest != file_digest(notebook):
            changes.append(f"notebooks/{stem}.ipynb changed")
    return changes
