"""Scoring a fitted VAE against the world that made the data (Proposition 2 and Theorem 2).

:func:`task_block_scores` asks, per task, how many latents the fitted task map reads
and what those latents know about the true relevant and irrelevant blocks;
:func:`latent_alignment` matches estimated latents to true ones; :func:`fit_models` fits
several models at once in worker processes. :func:`support_containment` asks the sharper
question behind Proposition 2 (does the estimated support, carried to the true latents by
the alignment, contain the true one, and is it simply every latent?), and
:func:`sample_sd` is the spread the book reports next to a mean.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import block_r2, jacobian_magnitudes, mean_corr_coef
from ..parallel import fit_many
from .vae import SpecialistVAE
from ..validation import as_real_array, check_int, check_real, check_seed

__all__ = ["task_jacobian", "estimated_support", "task_block_scores", "latent_alignment", "fit_models", "sample_sd",
           "aligned_support", "support_containment", "one_based"]


def _check_model(model):
    if not isinstance(model, SpecialistVAE):
        raise ValueError(f"model must be a fitted SpecialistVAE; got {type(model).__name__}.")


def _check_world_sample(world, sample):
    # read by attribute, so that a hand-built world or sample (as in the tests) serves as well
    if not all(hasattr(world, name) for name in ("n_latents", "n_tasks", "supports", "support_matrix")):
        raise ValueError(f"world must be the TaskLatentWorld that made the data; got {type(world).__name__}.")
    if not all(hasattr(sample, name) for name in ("obs", "latents")):
        raise ValueError(f"sample must be a LatentSample of the world (world.sample(n)); got {type(sample).__name__}.")


def _check_pair(model, world, sample):
    _check_model(model)
    _check_world_sample(world, sample)
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
    n_tasks = check_int(n_tasks, "n_tasks", 1)
    magnitudes = jacobian_magnitudes(lambda z: task_map(z).reshape(len(z), -1), points)
    if len(magnitudes) % n_tasks:
        raise ValueError(f"task_map gives {len(magnitudes)} outputs, which do not split into n_tasks = {n_tasks} "
                         "tasks of equal size.")
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
    _check_model(model)
    tol = check_real(tol, "tol", low=0, high=1, open_high=True)  # a relative tolerance
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
    seed = check_seed(seed)
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
    if isinstance(settings, dict) or not isinstance(settings, (list, tuple)) \
            or not all(isinstance(options, dict) for options in settings):
        raise ValueError(f"settings must be a list of dicts of SpecialistVAE options; got {settings!r:.80}.")
    n_jobs = check_int(n_jobs, "n_jobs", 1)
    jobs = []
    for options in settings:
        options = dict(options)
        job_obs, job_tasks = options.pop("obs", obs), options.pop("tasks", tasks)
        if job_obs is None or job_tasks is None:
            raise ValueError("every setting needs training data: "
                             "pass obs and tasks, or give the dict 'obs' and 'tasks'.")
        jobs.append((options, (job_obs, job_tasks), {}))
    return fit_many(SpecialistVAE, jobs, n_jobs=n_jobs)


def sample_sd(values):
    """Sample standard deviation (``ddof=1``) of a set of numbers; 0.0 when there is one.

    The spread the book records next to a mean over seeds, trials or edits. pandas and
    NumPy give NaN (or a warning) for a single value, which :func:`specbook.record`
    refuses; one run has no spread to report, so it is recorded as 0.0.

    Parameters
    ----------
    values : array-like
        Finite numbers (booleans count as 0 and 1), at least one.

    Returns
    -------
    float

    Examples
    --------
    >>> sample_sd([1.0, 2.0, 3.0])
    1.0
    >>> sample_sd([0.7])
    0.0
    """
    values = as_real_array(values, "values").ravel()
    if values.size == 0:
        raise ValueError("sample_sd needs at least one value.")
    if not np.isfinite(values).all():
        raise ValueError(f"sample_sd needs finite values; got {values.tolist()}.")
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def aligned_support(estimated, matching):
    """An estimated support written in true latents, through a matching of latents.

    Parameters
    ----------
    estimated : iterable of int
        Estimated latents a task reads (indices into the model's latents).
    matching : array-like of int, shape (n_true_latents,)
        ``matching[i]`` is the estimated latent matched to true latent ``i`` (-1 when
        unmatched), as returned by :func:`latent_alignment` or
        :func:`specbook.metrics.mean_corr_coef`.

    Returns
    -------
    tuple of int
        The true latents ``i`` whose match ``matching[i]`` is in `estimated`, in
        increasing order. An estimated latent matched to no true latent adds nothing.

    Examples
    --------
    True latents 0, 1, 2 matched to estimated latents 2, 0, 1; a task reading estimated
    latents 0 and 2 reads true latents 0 and 1:

    >>> aligned_support([0, 2], [2, 0, 1])
    (0, 1)
    """
    estimated = as_real_array(list(estimated) if isinstance(estimated, (set, frozenset)) else estimated, "estimated")
    matching = as_real_array(matching, "matching")
    for name, array in (("estimated", estimated), ("matching", matching)):
        if array.ndim != 1 or (array != np.round(array)).any():
            raise ValueError(f"{name} must be a one-dimensional sequence of integer latent indices; got {array}.")
    estimated = {int(j) for j in estimated}
    return tuple(int(i) for i, j in enumerate(matching) if j >= 0 and int(j) in estimated)


def support_containment(model, world, sample, *, tol=0.05):
    """Per task: does the estimated support, carried to the true latents, contain the true support?

    Proposition 2 compares support *sizes*; a size says nothing about *which* latents a
    task reads. Here the estimated support (:func:`estimated_support` on the posterior
    means of `sample`) is written in true latents through the matching of
    :func:`latent_alignment` (largest summed |Spearman correlation|,
    :func:`aligned_support`) and compared with the true support as a set. A model whose
    task reads every one of its latents contains any support trivially; ``reads_all``
    flags it. The model may have more latents than the world: the matching then pairs
    every true latent with one estimated latent and leaves the rest unmatched.

    Parameters
    ----------
    model : SpecialistVAE
        A fitted model with the world's number of tasks and at least its number of latents.
    world : TaskLatentWorld
    sample : LatentSample
        Held-out samples of `world`.
    tol : float, default=0.05
        Relative tolerance of :func:`estimated_support`.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task``, ``true_support``, ``estimated_support`` (estimated
        latents), ``aligned_support`` (true latents), ``contains_true`` (true support a
        subset of the aligned one), ``reads_all`` (the task reads every latent of the
        model).
    """
    _check_model(model)
    _check_world_sample(world, sample)
    if model.n_tasks != world.n_tasks or model.n_latents < world.n_latents:
        raise ValueError(
            f"model ({model.n_latents} latents, {model.n_tasks} tasks) needs the world's {world.n_tasks} tasks and "
            f"at least its {world.n_latents} latents."
        )
    z = model.transform(sample.obs)
    _, matching = mean_corr_coef(sample.latents, z, method="spearman", return_matching=True)
    support = estimated_support(model, z, tol)
    rows = []
    for k, true_support in enumerate(world.supports):
        estimated = tuple(int(j) for j in np.flatnonzero(support[k]))
        aligned = aligned_support(estimated, matching)
        rows.append({"task": k, "true_support": tuple(int(i) for i in true_support),
                     "estimated_support": estimated, "aligned_support": aligned,
                     "contains_true": set(true_support) <= set(aligned),
                     "reads_all": len(estimated) == model.n_latents})
    return pd.DataFrame(rows)


def one_based(table, columns=("task", "true_support", "estimated_support", "aligned_support")):
    """A copy of a score table with task and latent numbers counted from 1, for the reader.

    The code counts tasks and latents from 0; the book's notation counts them from 1.
    Integer columns among `columns` get 1 added; columns of tuples (supports) get 1
    added to every entry. Other columns, and columns not in the table, are left alone.

    Examples
    --------
    >>> one_based(pd.DataFrame({"task": [0, 1], "true_support": [(0, 1), (4,)]})).values.tolist()
    [[1, (1, 2)], [2, (5,)]]
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame of scores; got {type(table).__name__}.")
    shown = table.copy()
    for column in columns:
        if column not in shown:
            continue
        if pd.api.types.is_integer_dtype(shown[column]):
            shown[column] = shown[column] + 1
        else:
            shown[column] = [tuple(int(i) + 1 for i in entry) for entry in shown[column]]
    return shown
