"""Limiting the BLAS and OpenMP threads of a block of work, cheaply.

``threadpoolctl.threadpool_limits`` scans the loaded libraries on every call (about half a
millisecond), which is more than a whole Fisher-z Algorithm 1 run; one controller made
on first use and reused costs microseconds per limit.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["limited_threads"]


@lru_cache(maxsize=1)
def _controller_for(n_modules):
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _controller():
    # An import may load a library with a thread pool of its own (torch's OpenMP, scikit-learn's):
    # the controller is made again whenever modules were imported since the last one was made.
    return _controller_for(len(sys.modules))


@contextmanager
def limited_threads(threads=1, user_api=None):
    """Run the enclosed numpy/scipy work on at most `threads` BLAS (and OpenMP) threads, then restore.

    Small matrix work is no faster on several threads, and where processes share the cores
    (two chapters, two test workers) idle BLAS threads spin and slow it by a multiple.
    `user_api` is threadpoolctl's (``"blas"``, ``"openmp"``, or None for both).
    """
    with _controller().limit(limits=threads, user_api=user_api):
        yield
