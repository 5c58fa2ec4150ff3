"""Progress bars that a built book can switch off.

Long computations show a tqdm bar while a person watches. When chapters are executed
to build the book (``make book``) or by the papermill runner, the bars would end up as
hundreds of lines in the saved outputs, so those set ``SPECBOOK_PROGRESS=0``.
"""
from __future__ import annotations

import os

from tqdm.auto import tqdm

from .validation import check_bool

__all__ = ["PROGRESS_ENV", "progress_bar"]

#: Environment variable: ``0`` hides every specbook progress bar.
PROGRESS_ENV = "SPECBOOK_PROGRESS"


def progress_bar(iterable=None, *, progress=True, **options):
    """A tqdm bar, hidden when `progress` is False or the environment says ``SPECBOOK_PROGRESS=0``.

    `progress` must be a bool: a string such as ``"no"`` would be truthy and show the bar.
    """
    hidden = not check_bool(progress, "progress") or os.environ.get(PROGRESS_ENV) == "0"
    return tqdm(iterable, disable=hidden, **options)
