"""Scoring a fitted VAE against the world that made the data (Proposition 2 and Theorem 2).

:func:`task_block_scores` asks, per task, how many latents the fitted task map reads
and what those latents know about the true relevant and irrelevant blocks;
:func:`latent_alignment` matches estimated latents to true ones; :func:`fit_models` fits
several models at once in worker processes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import block_r2, jacobian_magnitudes, mean_corr_coef
from .parallel import fit_many
from .vae import SpecialistVAE

__all__ = ["task_jacobian", "estimated_support", "task_block_scores", "latent_alignment", "fit_models"]


def _check_pair(model, world, sample):
    if not isinstance(model, SpecialistVAE):
        raise ValueError(f"model must be a fitted SpecialistVAE; got {type(model).__name__}.")
    if model.n_latents != world.n_latents or model.n_tasks != world.n_tasks:
        raise ValueError(
            f"model ({model.n_latents} latents, {model.n_tasks} tasks) and world ({world.n_latents} latents, "
            f"{world.n_tasks} tasks) do not match."
        )
    return model.transform(sample.obs)


def task_jacobian(task_map, points, n_tasks):
    """Mean |Jacobian| of a task map, one row per task (the largest over a vector task's outputs).

    Parameters
    ----------
    task_map : callable
        Row-wise torch map from (n, n_latents) to (n, n_tasks), (n, n_tasks * task_dim)
        or (n, n_tasks, task_dim): a fitted ``SpecialistVAE.task_map`` or a world's
        ``task_function``.
    points : array-like of shape (n, n_latents)
    n_tasks : int

    Returns
    -------
    ndarray of shape (n_tasks, n_latents)
    """
    magnitudes = jacobian_magnitudes(lambda z: task_map(z).reshape(len(z), -1), points)
    return magnitudes.reshape(n_tasks, -1, magnitudes.shape[1]).max(axis=1)


def estimated_support(model, z, tol=0.05):
    """The latents each task of a fitted model reads, one row per task.

    Latent ``j`` is in task ``k``'s support when the task map's mean |derivative| in it
    (:func:`task_jacobian`, for vector tasks the largest over the outputs) is at least
    `tol` times the largest of row ``k``, *and* the mask lets it through
    (``model.support_``: mask entry above ``mask_threshold``). The Jacobian alone cannot
    tell a closed entry from a weak one, since a sigmoid mask is never exactly zero; the
    mask alone says nothing about whether the head uses an open entry.
    """
    if isinstance(tol, bool) or not 0 <= tol < 1:
        raise ValueError(f"tol must be a relative tolerance in [0, 1); got {tol!r}.")
    magnitudes = task_jacobian(model.task_map, z, model.n_tasks)
    return (magnitudes >= tol * magnitudes.max(axis=1, keepdims=True)) & model.support_


def task_block_scores(model, world, sample, *, regressor="kernel", tol=0.05, seed=0):
    """Per task: true and estimated support sizes and block R^2 of the estimated relevant latents.

    The estimated support of task ``k`` is the support of row ``k`` of the Jacobian of the
    fitted task map ``z -> u_hat`` at the posterior means of `sample` (relative tolerance
    `tol`, open mask entries only; see :func:`estimated_support`), the paper's
    ``I((J_uhat)_k)``.
    Its latents form the estimated block ``z[:, I_hat_k]``, and

    - ``r2_relevant`` is the held-out R^2 of the true block ``s[:, I_k]`` from it;
    - ``r2_irrelevant`` the same for the other true latents ``s[:, not I_k]``.

    Parameters
    ----------
    model : SpecialistVAE
        A fitted model.
    world : TaskLatentWorld
        The world that generated its training data.
    sample : LatentSample
        Held-out samples of `world` (their true latents are used for scoring only).
    regressor : str or estimator, default="kernel"
        Passed to :func:`specbook.metrics.block_r2`.
    tol : float, default=0.05
    seed : int, default=0
        Seed of the R^2 train/test split.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task``, ``true_support``, ``estimated_support`` (tuples of
        latent indices), ``true_size``, ``estimated_size``, ``superset`` (estimated size
        >= true size), ``equal`` (sizes equal), ``r2_relevant``, ``r2_irrelevant``.
    """
    z = _check_pair(model, world, sample)
    support = estimated_support(model, z, tol)
    rows = []
    for k, true_support in enumerate(world.supports):
        estimated = np.flatnonzero(support[k])
        irrelevant = np.setdiff1d(np.arange(world.n_latents), true_support)
        rows.append({
            "task": k,
            "true_support": tuple(true_support),
            "estimated_support": tuple(int(j) for j in estimated),
            "true_size": len(true_support),
            "estimated_size": len(estimated),
            "superset": len(estimated) >= len(true_support),
            "equal": len(estimated) == len(true_support),
            "r2_relevant": block_r2(sample.latents[:, list(true_support)], z[:, estimated], regressor, seed=seed),
            "r2_irrelevant": (block_r2(sample.latents[:, irrelevant], z[:, estimated], regressor, seed=seed)
                              if irrelevant.size else np.nan),
        })
    return pd.DataFrame(rows)


def latent_alignment(model, world, sample, *, tol=0.05):
    """Match estimated latents to true ones and check the match carries supports onto supports.

    The matching ``pi`` maximises the summed absolute Spearman correlation (Hungarian
    algorithm; :func:`specbook.metrics.mean_corr_coef`). Theorem 2 identifies blocks, not
    single latents, so the check is on supports: ``pi`` recovers the structure when every
    true latent ``i`` and its match ``pi(i)`` serve the same tasks.

    Returns
    -------
    dict
        ``mcc`` (mean matched |Spearman correlation|), ``matching`` (``matching[i] = pi(i)``),
        ``columns_agree`` (per true latent: same tasks under ``pi``) and
        ``structure_recovered`` (all agree).
    """
    z = _check_pair(model, world, sample)
    mcc, matching = mean_corr_coef(sample.latents, z, method="spearman", return_matching=True)
    support = estimated_support(model, z, tol)
    agree = np.array([np.array_equal(world.support_matrix[:, i], support[:, j]) for i, j in enumerate(matching)])
    return {"mcc": mcc, "matching": matching, "columns_agree": agree, "structure_recovered": bool(agree.all())}


def fit_models(settings, obs=None, tasks=None, *, n_jobs=1):
    """Fit one :class:`SpecialistVAE` per dict of constructor options, in parallel processes.

    Parameters
    ----------
    settings : list of dict
        Constructor options of each model (``progress`` is forced off in workers).
    obs, tasks : array-like, optional
        Training data shared by all models; a dict may instead carry its own ``"obs"`` and
        ``"tasks"`` (e.g. for a sample-size sweep).
    n_jobs : int, default=1
        Worker processes (joblib). A CPU fit runs on one torch thread wherever it runs, so
        the results are the same for any `n_jobs`.

    Returns
    -------
    list of SpecialistVAE
    """
    jobs = []
    for options in settings:
        options = dict(options)
        job_obs, job_tasks = options.pop("obs", obs), options.pop("tasks", tasks)
        if job_obs is None or job_tasks is None:
            raise ValueError("every setting needs training data: pass obs and tasks, or give the dict 'obs' and 'tasks'.")
        jobs.append((options, (job_obs, job_tasks), {}))
    return fit_many(SpecialistVAE, jobs, n_jobs=n_jobs)
