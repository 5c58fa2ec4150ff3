"""Support recovery over a family of task-latent worlds: l1 weights chosen from data against fixed ones."""
from __future__ import annotations

import warnings

import pandas as pd
from joblib import delayed

from ..parallel import run_parallel
from ..specialists.identifiability import task_block_scores
from ..specialists.vae import SpecialistVAE
from ..validation import check_int, check_seed
from ..worlds.latent import TaskLatentWorld

__all__ = ["OUTCOMES", "sparsity_arms", "sparsity_trials", "support_outcomes"]

#: How an estimated support compares with the true one, by size (a model numbers its latents in its own order).
OUTCOMES = ("exact", "superset", "short")


def sparsity_arms(fixed=(0.3, 0.5, 1.0, 2.0, 3.0), *, learning_rate=3e-3):
    """The arms compared: ``"auto"``, ``"default"`` (``sparsity=2.0``) and ``"fixed <lambda>"`` per value of `fixed`.

    The fixed arms get the mask learning rate ``"auto"`` uses (3 x `learning_rate`), so that they
    differ from it in the weight alone; the default arm keeps every default.
    """
    return {"auto": {"sparsity": "auto"}, "default": {"sparsity": 2.0},
            **{f"fixed {value:g}": {"sparsity": float(value), "mask_learning_rate": 3 * learning_rate}
               for value in fixed}}


def _score_world(index, world, arms, n, n_test, model_options, seed):
    train, test = world.sample(n=n, seed=seed), world.sample(n=n_test, seed=seed + 1)
    rows = []
    for arm, options in arms.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty support is counted as "short"
            model = SpecialistVAE(n_latents=world.n_latents, n_tasks=world.n_tasks, progress=False, seed=seed,
                                  **model_options, **options).fit(train.obs, train.tasks)
        weights = model.sparsity_ if isinstance(model.sparsity_, tuple) else (model.sparsity_,) * world.n_tasks
        for row in task_block_scores(model, world, test, seed=seed).itertuples():
            outcome = OUTCOMES[0 if row.estimated_size == row.true_size else 1 if row.estimated_size > row.true_size
                               else 2]
            rows.append({"world": index, "task": row.task, "arm": arm, "true_size": row.true_size,
                         "estimated_size": row.estimated_size, "outcome": outcome, "r2_relevant": row.r2_relevant,
                         "r2_irrelevant": row.r2_irrelevant, "sparsity": weights[row.task],
                         "fit_seconds": model.fit_seconds_})
    return rows


def sparsity_trials(worlds, arms, *, n=4_000, n_test=4_000, seed=0, n_jobs=1, **model_options):
    """Fit one :class:`~specbook.SpecialistVAE` per (world, arm) and score each task's support.

    Parameters
    ----------
    worlds : sequence of TaskLatentWorld
        E.g. :func:`~specbook.worlds.latent.random_task_latent_worlds`. Each model has its
        world's number of latents.
    arms : dict of str to dict
        SpecialistVAE options per arm, e.g. :func:`sparsity_arms`.
    n, n_test : int, default=4,000
        Training and held-out samples per world (sample seeds `seed` and ``seed + 1``).
    seed : int, default=0
        Seed of the samples, the models and the R^2 splits.
    n_jobs : int, default=1
        Worlds scored at once (see :func:`~specbook.parallel.run_parallel`).
    **model_options
        Further SpecialistVAE options shared by every arm (``epochs``, ``batch_size``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per (world, task, arm): ``true_size``, ``estimated_size`` (Jacobian support, as
        :func:`~specbook.specialists.identifiability.task_block_scores`), ``outcome`` (one of
        :data:`OUTCOMES`), ``r2_relevant``, ``r2_irrelevant``, the task's ``sparsity`` (chosen,
        for ``"auto"``) and the model's ``fit_seconds``.
    """
    worlds = list(worlds)
    if not worlds or not all(isinstance(world, TaskLatentWorld) for world in worlds):
        raise ValueError("worlds must be a non-empty sequence of TaskLatentWorld (e.g. from "
                         "random_task_latent_worlds).")
    if not isinstance(arms, dict) or not arms or not all(isinstance(options, dict) for options in arms.values()):
        raise ValueError(f"arms must be a non-empty dict of arm name to SpecialistVAE options; got {arms!r:.80}.")
    n, n_test = check_int(n, "n", 50), check_int(n_test, "n_test", 10)
    seed, n_jobs = check_seed(seed), check_int(n_jobs, "n_jobs", 1)
    SpecialistVAE(**model_options)  # a bad shared option fails here, not in a worker
    results = run_parallel([delayed(_score_world)(index, world, arms, n, n_test, model_options, seed)
                            for index, world in enumerate(worlds)], n_jobs)
    return pd.DataFrame([row for rows in results for row in rows])


def support_outcomes(trials):
    """Per arm: the share of (world, task) pairs of each outcome, R^2 on the exact pairs, mean fit seconds.

    Parameters
    ----------
    trials : pandas.DataFrame
        What :func:`sparsity_trials` returns.

    Returns
    -------
    pandas.DataFrame
        Indexed by arm (in the order of `trials`): ``pairs``, ``exact``, ``superset``, ``short``
        (shares), ``r2_relevant`` and ``r2_irrelevant`` (means over the exact pairs; NaN where
        none), ``fit_seconds``.
    """
    missing = {"arm", "outcome", "r2_relevant", "r2_irrelevant", "fit_seconds"} - set(getattr(trials, "columns", ()))
    if missing:
        raise ValueError(f"trials must be what sparsity_trials returns; missing columns {sorted(missing)}.")
    grouped = trials.groupby("arm", sort=False)
    shares = pd.crosstab(trials.arm, trials.outcome, normalize="index").reindex(columns=list(OUTCOMES),
                                                                                 fill_value=0.0)
    exact = trials[trials.outcome == "exact"].groupby("arm")[["r2_relevant", "r2_irrelevant"]].mean()
    summary = pd.concat([grouped.size().rename("pairs"), shares, exact, grouped.fit_seconds.mean()], axis=1)
    return summary.reindex(trials.arm.unique())
