"""Where chapters keep what is costly to recompute (trained networks), so a rerun resumes.

The runner points :data:`CACHE_ENV` at ``<run folder>/cache`` and ``make book`` at
``_build/run/cache``; a chapter asks :func:`cache_path` for a file there and passes it to a
fit as its checkpoint. Without the variable (a chapter opened by hand, or on Colab)
nothing is cached and everything is trained afresh.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_path"]

#: Environment variable naming the cache folder.
CACHE_ENV = "SPECBOOK_CACHE_DIR"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def cache_path(*parts):
    """The path ``$SPECBOOK_CACHE_DIR/part/.../part`` (folders created), or None when no cache is set.

    Parameters
    ----------
    *parts : str
        Folder and file names (letters, digits, ``_ . -``), e.g. ``("08_gan_editing", "gan-0.pt")``.
    """
    if not parts:
        raise ValueError("cache_path needs at least a file name.")
    for part in parts:
        if not isinstance(part, str) or not _NAME.match(part):
            raise ValueError(f"cache path parts must be plain names (letters, digits, '_', '.', '-'); got {part!r}.")
    root = os.environ.get(CACHE_ENV)
    if not root:
        return None
    path = Path(root).joinpath(*parts)
    blocking = next((folder for folder in [path.parent, *path.parent.parents]
                     if folder.exists() and not folder.is_dir()),
                    None)
    if blocking is not None:
        raise ValueError(f"the cache folder {CACHE_ENV}={root!r} cannot hold {'/'.join(parts)!r}: {str(blocking)!r} is "
                         "a file, not a folder; point the variable at a folder.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
