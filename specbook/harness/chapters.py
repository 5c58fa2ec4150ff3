"""What a chapter is called: the one pattern by which every part of the harness finds the chapters.

A chapter is a file ``notebooks/NN_slug.ipynb`` (with its MyST twin ``NN_slug.md``): two digits,
an underscore and a slug of lower-case letters, digits and underscores (``01_collider_world``).
A *primer*, a short chapter read just before the chapter that needs it, adds one lower-case
letter to the number (``00a_d_separation`` comes after ``00_quickstart`` and before
``01_collider_world``). Names sort in reading order: ``_`` sorts before the letters.

The runner, the prerequisites map, the Sphinx extension and the tests all use
:data:`CHAPTER_STEM`, so a new kind of name is allowed (or refused) everywhere at once.

This module imports nothing from the rest of the package.
"""
from __future__ import annotations

import re
from pathlib import Path

__all__ = ["CHAPTER_STEM", "CHAPTER_STEM_RE", "is_chapter_stem", "chapter_number", "is_primer", "chapter_files"]

#: A chapter's stem, as a regular expression without anchors: a number (two digits, then a
#: lower-case letter for a primer), an underscore and a slug.
CHAPTER_STEM = r"\d\d[a-z]?_[a-z0-9_]+"
#: :data:`CHAPTER_STEM`, anchored: matches a whole stem.
CHAPTER_STEM_RE = re.compile(rf"^{CHAPTER_STEM}$")


def is_chapter_stem(stem: str) -> bool:
    """Whether `stem` (a file name without its suffix) names a chapter."""
    return isinstance(stem, str) and CHAPTER_STEM_RE.match(stem) is not None


def chapter_number(stem: str) -> str:
    """The part of a chapter's stem before its first underscore: ``"05"`` for ``05_structure_benchmark``,
    ``"05a"`` for ``05a_identifiability``. The runner selects chapters by it."""
    return stem.split("_", 1)[0]


def is_primer(stem: str) -> bool:
    """Whether chapter `stem` is a primer (its number ends in a letter, like ``00a``)."""
    return chapter_number(stem)[-1:].isalpha()


def chapter_files(folder, suffix: str) -> list[Path]:
    """The chapter files of `folder` with `suffix` (``".md"`` or ``".ipynb"``), in reading order.

    A folder that does not exist holds none.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.is_file() and path.suffix == suffix and is_chapter_stem(path.stem))
