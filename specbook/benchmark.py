"""Structure-recovery trials: run discovery methods on sampled worlds and score them."""
from __future__ import annotations

import time

import pandas as pd
from joblib import delayed

from .collider import ColliderWorld
from .discovery import discover_tasks
from .metrics import structure_scores
from .parallel import run_parallel
from .progress import progress_bar

__all__ = ["algorithm1", "structure_trials"]


def algorithm1(test="fisherz", alpha=0.05, correction=None, **test_options):
    """Algorithm 1 as a method for :func:`structure_trials` (a callable ``(states, tasks, L)``)."""
    def method(states, tasks, L):
        return discover_tasks(states, tasks, L=L, test=test, alpha=alpha, correction=correction, **test_options)
    return method


def structure_trials(methods, *, T, M, L=2, n_samples, seeds, world_options=None, n_jobs=1, progress=True):
    """Score each method on one sampled world per seed.

    Parameters
    ----------
    methods : dict of str to callable
        ``method(states, tasks, L)`` returning an object with ``segment_tasks`` (N, M) bool.
    T, M, L : int
        World shape (see :class:`~specbook.ColliderWorld`).
    n_samples : int
        Sequences sampled per world.
    seeds : iterable of int
        One world per seed (world seed ``seed``, sampling seed ``seed + 1``).
    world_options : dict, optional
        Further :class:`~specbook.ColliderWorld` arguments (``mechanism``, ``task_noise``, ...).
    n_jobs : int, default=1
        Worlds scored at once, in worker processes or on a Dask cluster (see
        :func:`~specbook.parallel.run_parallel`). The scores do not depend on it; the
        ``seconds`` do, a little, when the workers share the cores.
    progress : bool, default=True
        A bar over the worlds (updated as each one is scored when ``n_jobs == 1``).

    Returns
    -------
    pandas.DataFrame
        One row per seed and method: the setting, ``seconds`` and the scores of
        :func:`~specbook.metrics.structure_scores`.
    """
    world_options = dict(world_options or {})
    seeds = list(seeds)
    bar = progress_bar(total=len(seeds), desc=f"T={T} M={M} n={n_samples}", progress=progress, leave=False)
    if n_jobs == 1:
        per_world = []
        for seed in seeds:
            per_world.append(_score_world(methods, T, M, L, n_samples, seed, world_options))
            bar.update()
    else:
        per_world = run_parallel([delayed(_score_world)(methods, T, M, L, n_samples, seed, world_options)
                                  for seed in seeds], n_jobs)
        bar.update(len(seeds))
    bar.close()
    return pd.DataFrame([row for rows in per_world for row in rows])


def _score_world(methods, T, M, L, n_samples, seed, world_options):
    """The rows of :func:`structure_trials` for the world of one seed."""
    world = ColliderWorld(T=T, M=M, L=L, seed=seed, **world_options)
    data = world.sample(n=n_samples, seed=seed + 1)
    rows = []
    for name, method in methods.items():
        start = time.perf_counter()
        found = method(data.states, data.tasks, L)
        seconds = time.perf_counter() - start
        rows.append({"method": name, "seed": seed, "T": T, "M": M, "L": L, "n": n_samples,
                     **world_options, "seconds": seconds,
                     **structure_scores(world.assignment, found.segment_tasks)})
    return rows
