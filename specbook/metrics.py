"""Scores that compare what a method found with the truth.

Layer 1: :func:`structure_scores` (segment-task matrices). Layer 2: :func:`block_r2`
(how much of one block of variables another block determines), :func:`mean_corr_coef`
(latents matched one to one) and :func:`jacobian_support` (which inputs a map reads).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.metrics import average_precision_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._threads import limited_threads
from .validation import (as_columns, as_real_array, check_bool, check_choice, check_probability, check_real, check_seed,
                         check_selected)

__all__ = ["structure_scores", "pair_truth", "query_truth", "selection_truth", "mean_average_precision",
           "map_chance_level", "block_r2",
           "mean_corr_coef", "jacobian_magnitudes", "jacobian_support", "REGRESSORS", "MIN_SPLIT_SAMPLES"]


def structure_scores(true, found):
    """Compare an estimated segment-task matrix with the true one.

    Parameters
    ----------
    true, found : array-like of shape (N, M), bool
        True where a segment serves a task.

    Returns
    -------
    dict
        ``accuracy`` (share of entries right), ``mcc`` (Matthews correlation over all
        entries; 0 when either matrix is constant, as scikit-learn does), ``precision``,
        ``recall`` (NaN when undefined), ``false_positives`` and ``false_negatives``.
    """
    true = np.asarray(true)
    found = np.asarray(found)
    if true.shape != found.shape or true.ndim != 2:
        raise ValueError(f"true and found must be (N, M) matrices of the same shape; "
                         f"got {true.shape} and {found.shape}.")
    if true.dtype != bool or found.dtype != bool:
        raise ValueError("true and found must be boolean matrices (True where a segment serves a task).")
    if true.size == 0:
        raise ValueError(f"true and found must have at least one segment and one task; got shape {true.shape}.")
    tp = int((true & found).sum())
    tn = int((~true & ~found).sum())
    fp = int((~true & found).sum())
    fn = int((true & ~found).sum())
    denominator = np.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    return {
        "accuracy": (tp + tn) / true.size,
        "mcc": 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "false_positives": fp,
        "false_negatives": fn,
    }


def pair_truth(assignment):
    """Which segment pairs Theorem 1 makes dependent, task by task.

    Parameters
    ----------
    assignment : array-like of shape (N, M), bool (or integers 0 and 1)
        True where segment ``S_k`` serves task ``g_i``.

    Returns
    -------
    ndarray of shape (M, N, N), bool
        ``[i - 1, k - 1, v - 1]`` is True when ``k < v`` and both segments serve ``g_i``.
    """
    A = np.asarray(assignment)
    if A.ndim != 2 or not (A.dtype == bool or (np.issubdtype(A.dtype, np.integer) and np.isin(A, (0, 1)).all())):
        raise ValueError(f"assignment must be an (N, M) array of booleans (a boolean matrix, or integers 0/1); got "
                         f"dtype {A.dtype} and shape {A.shape}.")
    A = A.astype(bool)
    if A.size == 0:
        raise ValueError(f"assignment must have at least one segment and one task; got shape {A.shape}.")
    both = A.T[:, :, None] & A.T[:, None, :]
    return both & np.triu(np.ones(both.shape[1:], dtype=bool), k=1)[None]


def query_truth(assignment, query="collider"):
    """What each test of a query of Algorithm 1 should find: True where the truth is dependence.

    Parameters
    ----------
    assignment : array-like of shape (N, M), bool (or integers 0 and 1)
    query : {"collider", "intersection-union", "local"}, default="collider"

    Returns
    -------
    truth : ndarray of shape (M, N, N), bool
        :func:`pair_truth` for the pair queries; for ``"local"``, on the diagonal, whether
        segment k serves task i.
    tested : ndarray of shape (M, N, N), bool
        The cells the query tests (the pairs ``k < v``, or the diagonal), so that
        ``tested & ~truth`` are its true null hypotheses.
    """
    truth = pair_truth(assignment)
    check_choice(query, "query", ("collider", "intersection-union", "local"))
    M, N, _ = truth.shape
    tested = np.zeros((M, N, N), dtype=bool)
    if query == "local":
        k = np.arange(N)
        tested[:, k, k] = True
        truth = np.zeros_like(truth)
        truth[:, k, k] = np.asarray(assignment).astype(bool).T
    else:
        tested[:] = np.triu(np.ones((N, N), dtype=bool), k=1)
    return truth, tested


def selection_truth(assignment, selected):
    """Which segments a selection on tasks lets Algorithm 1 find: those serving a selected, shared task.

    On data kept only when the selected tasks were achieved, with the task values unrecorded,
    the pair test finds a segment exactly when it serves a selected task that another segment
    serves too (chapter 4 checks this by d-separation). Which selected task, when several
    were, the data cannot tell.

    Parameters
    ----------
    assignment : array-like of shape (N, M), bool (or integers 0 and 1)
    selected : sequence of int
        1-based tasks the data are selected on.

    Returns
    -------
    ndarray of shape (N, 1), bool
        Laid out like ``TaskDiscovery.segment_tasks`` for ``tasks=None``.
    """
    truth = pair_truth(assignment)  # validates assignment
    M = truth.shape[0]
    columns = [i - 1 for i in check_selected(selected, M)]
    served = np.asarray(assignment).astype(bool)[:, columns]
    return served[:, served.sum(axis=0) >= 2].any(axis=1)[:, None]


def mean_average_precision(assignment, statistics, *, per_task=False):
    """Average precision of the pair-task dependences ranked by a test statistic, averaged over tasks.

    For each task the ``N (N - 1) / 2`` segment pairs are ranked by their statistic (larger =
    more dependent) and scored against :func:`pair_truth` by scikit-learn's
    ``average_precision_score``; no threshold (and so no calibration) is involved. A random
    ranking scores :func:`map_chance_level` on average, more than the share of dependent pairs.

    Parameters
    ----------
    assignment : array-like of shape (N, M), bool
        The true segment-task matrix.
    statistics : array-like of shape (M, N, N)
        Statistics laid out like :attr:`specbook.tasks.discovery.TaskDiscovery.statistics` (only the
        entries ``k < v`` are read).
    per_task : bool, default=False
        Also return the average precision of each task (NaN for a task with no dependent pair,
        which is left out of the mean).

    Returns
    -------
    float, or (float, ndarray of shape (M,))
    """
    truth = pair_truth(assignment)
    per_task = check_bool(per_task, "per_task")
    statistics = as_real_array(statistics, "statistics")
    if statistics.shape != truth.shape:
        raise ValueError(f"statistics must have shape (M, N, N) = {truth.shape} to match assignment; "
                         f"got {statistics.shape}.")
    upper = np.triu_indices(truth.shape[1], k=1)
    scores = statistics[:, upper[0], upper[1]]
    if not np.isfinite(scores).all():
        raise ValueError("statistics has NaN or inf among the pairs k < v; every pair needs a finite statistic "
                         "(a test that failed cannot be ranked).")
    labels = truth[:, upper[0], upper[1]]
    precisions = np.array([average_precision_score(y, s) if y.any() else np.nan for y, s in zip(labels, scores)])
    if np.isnan(precisions).all():
        raise ValueError("no task has a dependent pair of segments (each needs two serving segments), so "
                         "average precision is undefined.")
    value = float(np.nanmean(precisions))
    return (value, precisions) if per_task else value


def map_chance_level(assignment):
    """The expected :func:`mean_average_precision` of a uniformly random ranking: mAP's chance level.

    A task whose ``n = N (N - 1) / 2`` segment pairs hold ``d >= 1`` dependent ones has, under a
    random ranking (no ties), expected average precision

    ``E[AP] = (H_n + (n - H_n) (d - 1) / (n - 1)) / n = d / n + (H_n - 1) (n - d) / (n (n - 1))``,

    with ``H_n = 1 + 1/2 + ... + 1/n``: a dependent pair at rank r has expected precision
    ``(1 + (r - 1)(d - 1) / (n - 1)) / r``, and its rank is uniform. It exceeds the share of
    dependent pairs ``d / n`` (early lucky hits count with a precision near 1), most for a task
    with one dependent pair (``H_n / n`` against ``1 / n``). As :func:`mean_average_precision`
    does, the tasks with no dependent pair are left out of the mean.

    Parameters
    ----------
    assignment : array-like of shape (N, M), bool
        The true segment-task matrix.

    Returns
    -------
    float
    """
    truth = pair_truth(assignment)
    n_segments = truth.shape[1]
    n = n_segments * (n_segments - 1) // 2
    upper = np.triu_indices(n_segments, k=1)
    dependent = truth[:, upper[0], upper[1]].sum(axis=1)
    if not dependent.any():
        raise ValueError("no task has a dependent pair of segments (each needs two serving segments), so "
                         "average precision, and its chance level, is undefined.")
    harmonic = float(np.sum(1.0 / np.arange(1, n + 1)))
    per_task = [(harmonic + (n - harmonic) * (d - 1) / (n - 1)) / n if n > 1 else 1.0 for d in dependent if d > 0]
    return float(np.mean(per_task))


# ----------------------------------------------------------------------------- Layer 2
def _kernel_ridge(seed):
    """RBF kernel ridge regression through 300 Nystroem features, penalty chosen by CV."""
    return make_pipeline(StandardScaler(), Nystroem(n_components=300, random_state=seed),
                         RidgeCV(alphas=np.logspace(-4, 2, 7)))


#: Fewest samples each of the training and the held-out part of :func:`block_r2` may have: below
#: that a held-out R^2 is noise (two samples give NaN, three about -1 for a perfect relation).
MIN_SPLIT_SAMPLES = 5

#: Regressors :func:`block_r2` accepts by name; each maps a seed to a scikit-learn estimator.
REGRESSORS = {
    "linear": lambda seed: LinearRegression(),
    "kernel": _kernel_ridge,
}


def block_r2(true_block, est_block, regressor="kernel", *, test_fraction=0.5, seed=0):
    """Held-out R^2 of predicting a block of true variables from a block of estimated ones.

    A random `test_fraction` of the samples is held out; `regressor` is fitted on the rest
    to predict every column of `true_block` from `est_block`, and the score is the R^2 on
    the held-out samples, averaged over the columns of `true_block` (scikit-learn's
    ``r2_score`` with ``multioutput="uniform_average"``). Near 1: the estimated block
    determines the true one; near 0: it says nothing about it.

    Parameters
    ----------
    true_block : array-like of shape (n,) or (n, d_true)
    est_block : array-like of shape (n,) or (n, d_est)
        ``d_est = 0`` is allowed (an empty estimated block): the prediction is then the
        training mean, and the score is about 0.
    regressor : {"kernel", "linear"} or scikit-learn regressor, default="kernel"
        ``"kernel"``: RBF kernel ridge regression on 300 Nystroem features of the
        standardised inputs, penalty by cross-validation (nonlinear). ``"linear"``: least
        squares. An estimator is cloned before fitting.
    test_fraction : float, default=0.5
        In (0, 1). Both parts need at least :data:`MIN_SPLIT_SAMPLES` (5) samples, so
        ``n >= 10`` at the default.
    seed : int, default=0
        Seed of the split (and of the Nystroem features), in [0, 2**32).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For arrays that are not real and finite or do not pair up, too few samples for the
        split, a constant column of `true_block` (its R^2 is undefined), or a bad option.
    """
    true_block = as_columns(as_real_array(true_block, "true_block"), "true_block")
    est_block = as_columns(as_real_array(est_block, "est_block"), "est_block", allow_empty=True)
    if len(true_block) != len(est_block):
        raise ValueError(
            f"true_block and est_block must have the same number of samples; "
            f"got {len(true_block)} and {len(est_block)}."
        )
    test_fraction = check_probability(test_fraction, "test_fraction")
    seed = check_seed(seed)
    n = len(true_block)
    n_test = math.ceil(test_fraction * n)  # how scikit-learn's train_test_split rounds
    if min(n_test, n - n_test) < MIN_SPLIT_SAMPLES:
        raise ValueError(f"block_r2 needs at least {MIN_SPLIT_SAMPLES} samples in each of the training and held-out "
                         f"parts for a meaningful R^2; got n = {n} with test_fraction = {test_fraction:g} "
                         f"({n - n_test} and {n_test}): pass more samples.")
    constant = np.flatnonzero(np.ptp(true_block, axis=0) == 0)
    if constant.size:
        raise ValueError(f"true_block has constant columns {constant.tolist()}: their R^2 is undefined; drop them.")
    if isinstance(regressor, str):
        if regressor not in REGRESSORS:
            raise ValueError(f"regressor={regressor!r} is not known; use one of {sorted(REGRESSORS)} or an estimator.")
        model = REGRESSORS[regressor](seed)
    elif hasattr(regressor, "fit") and hasattr(regressor, "predict"):
        model = clone(regressor)
    else:
        raise ValueError(f"regressor must be a name in {sorted(REGRESSORS)} or a scikit-learn regressor; "
                         f"got {regressor!r}.")
    train_true, test_true, train_est, test_est = train_test_split(
        true_block, est_block, test_size=test_fraction, random_state=seed)
    if est_block.shape[1] == 0:
        prediction = np.broadcast_to(train_true.mean(axis=0), test_true.shape)
    else:
        with limited_threads(1):  # small matrices: more BLAS threads only contend
            prediction = model.fit(train_est, train_true).predict(test_est)
    return float(r2_score(test_true, np.reshape(prediction, test_true.shape)))


def mean_corr_coef(z_true, z_est, method="pearson", *, return_matching=False):
    """Mean absolute correlation of true and estimated latents, matched one to one.

    The matching maximises the summed ``|corr|`` (Hungarian algorithm, scipy's
    ``linear_sum_assignment``); with different numbers of columns, the smaller set is
    matched.

    Parameters
    ----------
    z_true : array-like of shape (n, d_true)
    z_est : array-like of shape (n, d_est)
    method : {"pearson", "spearman"}, default="pearson"
        Spearman's rank correlation scores monotone (not only linear) recovery.
    return_matching : bool, default=False
        Also return ``matching``, an int array of length ``d_true``: ``matching[i]`` is the
        estimated latent matched to true latent ``i`` (-1 when unmatched).

    Returns
    -------
    float, or (float, ndarray)
    """
    z_true = as_columns(as_real_array(z_true, "z_true"), "z_true")
    z_est = as_columns(as_real_array(z_est, "z_est"), "z_est")
    if len(z_true) != len(z_est):
        raise ValueError(f"z_true and z_est must have the same number of samples; got {len(z_true)} and {len(z_est)}.")
    if len(z_true) < 3:
        raise ValueError(f"mean_corr_coef needs at least 3 samples (two points always correlate perfectly); "
                         f"got {len(z_true)}.")
    method = check_choice(method, "method", ("pearson", "spearman"))
    return_matching = check_bool(return_matching, "return_matching")
    for name, array in (("z_true", z_true), ("z_est", z_est)):
        constant = np.flatnonzero(array.std(axis=0) == 0)
        if constant.size:
            raise ValueError(f"{name} has constant columns {constant.tolist()}: their correlation is undefined.")
    if method == "spearman":
        z_true, z_est = rankdata(z_true, axis=0), rankdata(z_est, axis=0)
    d_true = z_true.shape[1]
    correlation = np.abs(np.corrcoef(z_true, z_est, rowvar=False)[:d_true, d_true:])
    rows, columns = linear_sum_assignment(correlation, maximize=True)
    score = float(correlation[rows, columns].mean())
    if not return_matching:
        return score
    matching = np.full(d_true, -1)
    matching[rows] = columns
    return score, matching


def jacobian_magnitudes(fn, x):
    """Mean absolute Jacobian of a row-wise map over sample points.

    Parameters
    ----------
    fn : callable
        Maps a torch tensor of shape (n, d_in) to one of shape (n, d_out), row by row
        (output row ``i`` depends on input row ``i`` only), differentiably.
    x : array-like or torch.Tensor of shape (n, d_in)
        Points at which the Jacobian is taken.

    Returns
    -------
    ndarray of shape (d_out, d_in)
        ``mean_i |d fn(x_i)_a / d x_i,b|``.
    """
    import torch

    if not callable(fn):
        raise ValueError(f"fn must be a callable torch map from (n, d_in) to (n, d_out); got {fn!r}.")
    if isinstance(x, torch.Tensor):
        if x.is_complex():
            raise ValueError(f"x must hold real numbers; got dtype {x.dtype}.")
        points = x if x.is_floating_point() else x.float()  # gradients need a floating dtype
    else:
        points = torch.as_tensor(as_real_array(x, "x").astype(np.float32))
    if points.ndim != 2 or 0 in points.shape:
        raise ValueError(f"x must have shape (n, d_in) with n, d_in >= 1; got {tuple(points.shape)}.")
    if not torch.isfinite(points).all():
        raise ValueError("x contains NaN or inf.")
    points = points.detach().clone().requires_grad_(True)
    outputs = fn(points)
    if not isinstance(outputs, torch.Tensor):
        raise ValueError(f"fn must return a torch.Tensor (differentiable in its input); it returned "
                         f"{type(outputs).__name__}.")
    if outputs.ndim != 2 or len(outputs) != len(points) or outputs.shape[1] == 0:
        raise ValueError(f"fn must map (n, d_in) to (n, d_out); it returned shape {tuple(outputs.shape)}.")
    rows = []
    for a in range(outputs.shape[1]):
        (gradient,) = torch.autograd.grad(outputs[:, a].sum(), points, retain_graph=True)
        rows.append(gradient.abs().mean(dim=0))
    return torch.stack(rows).detach().cpu().numpy().astype(np.float64)


def jacobian_support(fn, x, tol=0.05):
    """Which inputs each output of a map depends on: the support of its Jacobian.

    An entry ``(a, b)`` is in the support when the mean absolute derivative of output
    ``a`` in input ``b`` over the points `x` exceeds `tol` times the largest entry of row
    ``a`` (a relative tolerance, so the answer does not depend on the output's scale).

    Parameters
    ----------
    fn : callable
        Row-wise, differentiable torch map from (n, d_in) to (n, d_out).
    x : array-like or torch.Tensor of shape (n, d_in)
    tol : float, default=0.05
        Relative tolerance in [0, 1).

    Returns
    -------
    ndarray of shape (d_out, d_in), bool
    """
    tol = check_real(tol, "tol", low=0, high=1, open_high=True)  # a relative tolerance
    magnitudes = jacobian_magnitudes(fn, x)
    return magnitudes > tol * magnitudes.max(axis=1, keepdims=True)
