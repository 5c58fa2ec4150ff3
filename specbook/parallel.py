"""Fitting several models at once: in worker processes (joblib), or as tasks on a Dask cluster.

Every fan-out of the package (:func:`fit_many`, :func:`specbook.experiments.pixels.run_trials`) goes
through :func:`run_parallel`. Where the environment variable :data:`DASK_SCHEDULER_ENV`
names a Dask scheduler, as ``python -m specbook run --executor dask`` does in the chapter
kernels, the calls become tasks on that cluster; otherwise they run in joblib's loky
worker processes. Each call fixes its own seed and thread count, so the results do not
depend on where it runs.
"""
from __future__ import annotations

import os

from joblib import Parallel, delayed, effective_n_jobs, parallel_config

__all__ = ["DASK_SCHEDULER_ENV", "fit_many", "run_parallel"]

#: Environment variable holding a Dask scheduler address (``tcp://host:8786``); when set,
#: :func:`run_parallel` runs its calls on that cluster.
DASK_SCHEDULER_ENV = "SPECBOOK_DASK_SCHEDULER"


def import_distributed():
    """Import ``dask.distributed`` (the ``dask`` extra), or say how to install it.

    Returns
    -------
    module
        The ``distributed`` package.

    Raises
    ------
    ImportError
        When it is not installed; the message names ``pip install "specbook[dask]"``.
    """
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running on a Dask cluster needs dask.distributed, which is not installed; "
            'install it with: pip install "specbook[dask]"'
        ) from exc
    return distributed


def run_parallel(calls, n_jobs):
    """Run joblib ``delayed`` calls in `n_jobs` workers, or as tasks on a Dask cluster.

    Parameters
    ----------
    calls : iterable of joblib delayed calls
        What to run, e.g. ``[delayed(f)(x) for x in xs]``.
    n_jobs : int or None
        Worker processes, as for :class:`joblib.Parallel`. When that is one worker (1, or
        None outside a joblib ``parallel_config``), the calls run here, one after the
        other, even where :data:`DASK_SCHEDULER_ENV` names a cluster.

    Returns
    -------
    list
        The results, in the order of `calls`.
    """
    address = os.environ.get(DASK_SCHEDULER_ENV)
    if not address or effective_n_jobs(n_jobs) == 1:
        return Parallel(n_jobs=n_jobs)(calls)
    distributed = import_distributed()
    # The cluster decides how many calls run at once; n_jobs only asks for more than one.
    with distributed.Client(address, set_as_default=False) as client, \
            parallel_config(backend="dask", client=client):
        return Parallel(n_jobs=n_jobs)(calls)


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
        Worker processes, or tasks on the Dask cluster named by :data:`DASK_SCHEDULER_ENV`
        (see :func:`run_parallel`). The specbook estimators train on one torch thread
        wherever they run, so the fitted models do not depend on `n_jobs` or on where
        they were fitted.

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
    return run_parallel(calls, n_jobs)
