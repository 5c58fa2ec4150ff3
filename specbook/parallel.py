"""Fitting several models at once in worker processes (joblib)."""
from __future__ import annotations

from joblib import Parallel, delayed

__all__ = ["fit_many"]


def _fit_one(estimator_class, options, args, kwargs):
    return estimator_class(**options).fit(*args, **kwargs)


def fit_many(estimator_class, jobs, *, n_jobs=1):
    """Fit ``estimator_class(**options).fit(*args, **kwargs)`` for every job, in `n_jobs` processes.

    Parameters
    ----------
    estimator_class : type
        An estimator whose constructor takes a ``progress`` flag (forced off in workers,
        where bars from several processes would interleave).
    jobs : list of (dict, tuple, dict)
        Constructor options, positional and keyword arguments of ``fit``, per model.
    n_jobs : int, default=1
        Worker processes. The specbook estimators train on one torch thread wherever they
        run, so the fitted models do not depend on `n_jobs`.

    Returns
    -------
    list
        The fitted estimators, in the order of `jobs`.
    """
    calls = []
    for options, args, kwargs in jobs:
        options = dict(options)
        if n_jobs != 1:
            options["progress"] = False
        calls.append(delayed(_fit_one)(estimator_class, options, tuple(args), dict(kwargs)))
    return Parallel(n_jobs=n_jobs)(calls)
