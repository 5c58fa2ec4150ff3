"""Write files whole or not at all.

Every file the package writes (run folders, expectations, reports, assignment
notebooks) goes through :func:`write_text_atomic`: the text goes to a temporary
file in the same folder, which then replaces the target with :func:`os.replace`.
A full disk, a size limit or an interruption leaves the old file as it was (and
no temporary file behind), never half a new one.

This module imports nothing from the rest of the package.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

__all__ = ["write_text_atomic", "write_json_atomic"]


def write_text_atomic(path, text: str) -> None:
    """Replace the file at `path` with `text` (UTF-8), in one step.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    text : str
        The whole new contents.

    Raises
    ------
    OSError
        When the temporary file cannot be written or renamed; `path` is then unchanged.
    """
    path = Path(path)
    # In the same folder, so that the rename stays on one file system and is atomic;
    # a unique name, so that two writers of the same file never share a temporary file.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the data is on disk before the name points at it
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path, data, *, sort_keys: bool = False) -> None:
    """Replace the file at `path` with `data` as indented JSON and a final newline, in one step.

    Parameters
    ----------
    path : str or Path
        The file to write; its folder must exist.
    data : object
        Anything :func:`json.dumps` takes.
    sort_keys : bool, default=False
        Sort the keys of every object (for files kept under version control).
    """
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=sort_keys) + "\n")
