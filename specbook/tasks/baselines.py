"""Baselines for the synthetic structure-recovery experiment: CCA, Group Lasso, SelTask.

The paper compares Algorithm 1 with CCA, Group Lasso and SelTask (Qiu, Zheng & Zhang,
"Identifying Selections for Unsupervised Subtask Discovery", NeurIPS 2024) on recovering
which segment serves which task, but it does not say how it adapted them. Every
function here is **our reading**, documented in its docstring: each takes what
Algorithm 1 takes (sampled states, the task variables, the segment length ``L``) and
returns a :class:`BaselineResult` whose ``segment_tasks`` is comparable with
``ColliderWorld.assignment``.

>>> import specbook as sb
>>> from specbook.tasks.baselines import BASELINES
>>> world = sb.ColliderWorld(T=8, M=2, L=2, seed=0)
>>> data = world.sample(n=2_000, seed=1)
>>> res = BASELINES["cca"](data.states, data.tasks, L=2, seed=0)
>>> res.segment_tasks.shape, res.method
((4, 2), 'cca')
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .labels import SegmentLabels
from .discovery import MAX_TESTS
from .multitest import CORRECTIONS, check_alpha, check_correction, reject
from ..stats import standardise
from ..validation import check_choice, check_int, check_real, check_seed, check_states_tasks

__all__ = ["BaselineResult", "cca_tasks", "group_lasso_tasks", "seltask_tasks", "recorrect", "BASELINES",
           "CORRECTIONS"]



@dataclass(frozen=True)
class BaselineResult(SegmentLabels):
    """What a baseline found: the labels of :class:`~specbook.tasks.labels.SegmentLabels` and its scores.

    Attributes
    ----------
    segment_tasks, step_tasks, method, seconds, L
        As in :class:`~specbook.tasks.labels.SegmentLabels` (`method` is ``"cca"``, ``"group-lasso"``
        or ``"seltask"``).
    scores : ndarray of shape (N, M), float
        The continuous score behind the decision; higher means more likely to serve.
        CCA: the held-out canonical correlation. Group Lasso: the Euclidean norm of the
        segment's coefficient block at the selected penalty. SelTask: the segment's
        largest NMF-reconstructed selection evidence with another segment (0/1 scale).
    info : dict
        Method-specific details (p-values, chosen penalties, pair evidence); see each function.
    """

    scores: np.ndarray
    info: dict = field(default_factory=dict, compare=False)


# ---------------------------------------------------------------------- validation
def _check_L(L):
    return check_int(L, "L", 1)


def _result(segment_tasks, scores, method, L, start, info):
    segment_tasks = np.asarray(segment_tasks, dtype=bool)
    return BaselineResult(
        segment_tasks=segment_tasks, step_tasks=np.repeat(segment_tasks, L, axis=0),
        scores=np.asarray(scores, dtype=float), method=method, seconds=time.perf_counter() - start, L=L,
        info=info,
    )


# ---------------------------------------------------------------------- CCA
def cca_tasks(states, tasks, L=2, alpha=0.05, seed=0, *, correction=None, test_fraction=0.5, max_iter=500):
    """CCA baseline: a segment serves a task when its states correlate with the task out of sample.

    Our reading; the paper does not say how it adapted CCA. For each segment ``S_k``
    and task ``g_i`` we fit scikit-learn's :class:`~sklearn.cross_decomposition.CCA`
    (one component) between the segment's states, shape ``(n, L d)``, and ``g_i`` on a
    random half of the samples, and compute the canonical correlation ``r`` of the
    fitted directions on the other half. Because the direction was fitted elsewhere,
    ``r`` is centred at 0 when the segment carries no information about ``g_i``; the
    segment serves the task when the one-sided Fisher test ``atanh(r) sqrt(n_test - 3)``
    rejects at level `alpha`. CCA sees *marginal* dependence, which also flows from
    temporally connected neighbours of a serving segment (their states are parents or
    children of its actions): false positives there are the expected weakness.

    Parameters
    ----------
    states : ndarray of shape (n, T, d) or (n, T)
    tasks : ndarray of shape (n, M)
    L : int, default=2
        Segment length (``T`` must be a multiple of it).
    alpha : float, default=0.05
        Level of each (segment, task) test.
    seed : int, default=0
        Seed of the train/test split.
    correction : {None, "bonferroni", "holm", "bh"}, default=None
        Multiple-testing rule over the ``N M`` tests; ``None`` tests each at `alpha`,
        like the paper's rule for Algorithm 1.
    test_fraction : float, default=0.5
        Fraction of the samples held out to evaluate the canonical correlation.
    max_iter : int, default=500
        Passed to :class:`~sklearn.cross_decomposition.CCA`.

    Returns
    -------
    BaselineResult
        ``scores`` holds the held-out canonical correlations; ``info["pvalues"]`` the
        (N, M) one-sided p-values.
    """
    from sklearn.cross_decomposition import CCA
    from sklearn.exceptions import ConvergenceWarning

    start = time.perf_counter()
    L = _check_L(L)
    alpha = check_alpha(alpha)
    seed = check_seed(seed)
    correction = check_correction(correction)
    test_fraction = check_real(test_fraction, "test_fraction", low=0, high=1, open_low=True, open_high=True)
    max_iter = check_int(max_iter, "max_iter", 1)
    states, tasks = check_states_tasks(states, tasks, L, reject_constant=True, caller="CCA")
    n, T, d = states.shape
    M, N = tasks.shape[1], T // L
    n_test = int(round(n * test_fraction))
    n_train = n - n_test
    if min(n_train, n_test) < L * d + 4:
        raise ValueError(
            f"n = {n} is too small for CCA with test_fraction={test_fraction}: each half needs more than "
            f"L * d + 3 = {L * d + 3} samples."
        )
    order = np.random.default_rng(seed).permutation(n)
    train, test = order[:n_train], order[n_train:]
    flat = states.reshape(n, T * d)
    r = np.zeros((N, M))
    for k in range(N):
        X = flat[:, k * L * d:(k + 1) * L * d]
        for i in range(M):
            y = tasks[:, [i]]
            cca = CCA(n_components=1, max_iter=max_iter)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cca.fit(X[train], y[train])
                u, v = cca.transform(X[test], y[test])
            u, v = np.ravel(u), np.ravel(v)
            su, sv = u.std(), v.std()
            r[k, i] = 0.0 if su == 0 or sv == 0 else float(np.mean((u - u.mean()) * (v - v.mean())) / (su * sv))
    z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12)) * np.sqrt(n_test - 3)
    pvalues = stats.norm.sf(z)
    decisions = reject(pvalues.ravel(), alpha, correction).reshape(N, M)
    return _result(decisions, r, "cca", L, start,
                   {"pvalues": pvalues, "alpha": alpha, "correction": correction, "n_test": n_test})


# ---------------------------------------------------------------------- Group Lasso
def _ols_rss(gram, xty, yty, columns):
    if columns.size == 0:
        return yty
    G = gram[np.ix_(columns, columns)]
    b = xty[columns]
    coef = np.linalg.lstsq(G, b, rcond=None)[0]
    return max(float(yty - b @ coef), 1e-300)


def _group_lasso_path(X, y, alphas, group_size, tol):
    """Group-lasso coefficients along the decreasing penalties `alphas`, shape (len(alphas), p).

    Minimises ``||y - X w||^2 / (2 n) + alpha sum_g ||w_g||_2`` (unit group weights, no
    intercept) with celer's :func:`~celer.celer_path`, one group per ``group_size``
    contiguous columns, each fit warm-started from the previous one; the solver stops
    when the duality gap is at most ``tol ||y||^2 / n``. Compiled ahead (Cython): no
    compilation on the first call.
    """
    from celer import celer_path

    _, coefs, _ = celer_path(np.asfortranarray(X), y, "grouplasso", alphas=alphas, groups=group_size, tol=tol,
                             max_iter=100, prune=True)
    return coefs.T


#: Most penalties on :func:`group_lasso_tasks`' path: each is a fit per task, so 1,000 already takes minutes.
MAX_LAMBDAS = 1_000


def group_lasso_tasks(states, tasks, L=2, seed=0, *, selection="bic", n_lambdas=30, lambda_min_ratio=1e-3,
                      cv=5, tol=1e-6):
    """Group Lasso baseline: a segment serves a task when its coefficient block survives the penalty.

    Our reading; the paper does not say how it adapted Group Lasso. For each task
    ``g_i`` we regress the standardised ``g_i`` on all standardised states with
    a group lasso, ``||y - X w||^2 / (2 n) + lambda sum_g ||w_g||_2`` with one group per
    segment (its ``L d`` state columns, unit group weights), solved by celer's
    :func:`~celer.celer_path` along a grid of ``n_lambdas`` penalties from the smallest
    one that zeroes every group down to ``lambda_min_ratio`` times it, each fit
    warm-started from the previous one. The penalty is chosen by BIC
    (default): each support on the path is refitted by least squares and scored by
    ``n log(RSS / n) + df log n`` with ``df`` the number of selected columns (the
    relaxed-lasso BIC, consistent for the support, unlike cross-validation, which picks
    penalties for prediction and keeps spurious groups). ``selection="cv"`` picks the
    penalty with the smallest `cv`-fold held-out error instead (folds shuffled with
    `seed`). A segment serves ``g_i`` when its block is non-zero at the chosen penalty.
    Expected weakness: states predict ``g_i`` through the actions, and the state after a
    serving action (the first state of the next segment, when connected) is informative
    too, so connected neighbours are selected.

    Parameters
    ----------
    states : ndarray of shape (n, T, d) or (n, T)
    tasks : ndarray of shape (n, M)
    L : int, default=2
    seed : int, default=0
        Seed of the cross-validation folds (unused by ``selection="bic"``, which is deterministic).
    selection : {"bic", "cv"}, default="bic"
    n_lambdas : int, default=30
        Penalties on the path; at most ``MAX_LAMBDAS`` (1,000).
    lambda_min_ratio : float, default=1e-3
        Below about 1e-14 the smallest penalties are beyond what the solver can certify
        in double precision: it warns (``ConvergenceWarning``) and takes seconds each.
    cv : int, default=5
        Number of folds for ``selection="cv"``.
    tol : float, default=1e-6
        Solver tolerance: each fit stops when its duality gap is at most ``tol ||y||^2 / n``
        (about ``tol``: the task is standardised).

    Returns
    -------
    BaselineResult
        ``scores`` holds the blocks' coefficient norms; ``info["lambdas"]`` the (M,)
        chosen penalties and ``info["lambda_max"]`` the (M,) smallest all-zero penalties.

    Notes
    -----
    The solver is celer's, compiled ahead (Cython): the first call in a process costs no
    compilation (about 0.4 s with celer's import, n = 1,000, T = 20, M = 4; later calls
    about 0.06 s). The book used skglm's ``GroupLasso`` before, which solves the same
    problem but compiled itself with numba in every new process (about 10 s); on 44
    worlds (T = 10 to 40, linear and nonlinear, n = 1,000 to 10,000) the two gave the
    same labels, penalties and path supports (``benchmarks/results/group_lasso_solvers.md``).
    """
    start = time.perf_counter()
    L = _check_L(L)
    seed = check_seed(seed)
    check_choice(selection, "selection", ("bic", "cv"))
    n_lambdas = check_int(n_lambdas, "n_lambdas", 2)
    if n_lambdas > MAX_LAMBDAS:
        raise ValueError(f"n_lambdas must be at most {MAX_LAMBDAS:,} (each is a group-lasso fit per task); "
                         f"got {n_lambdas:,}.")
    lambda_min_ratio = check_real(lambda_min_ratio, "lambda_min_ratio", low=0, high=1, open_low=True, open_high=True)
    if selection == "cv":
        cv = check_int(cv, "cv", 2)
    tol = check_real(tol, "tol", low=0, open_low=True)
    states, tasks = check_states_tasks(states, tasks, L, min_n=cv if selection == "cv" else 3, reject_constant=True,
                                       caller="Group Lasso")
    n, T, d = states.shape
    M, N = tasks.shape[1], T // L
    X = standardise(states.reshape(n, T * d))
    Y = standardise(tasks)
    group_size = L * d
    ratios = np.logspace(0, np.log10(lambda_min_ratio), n_lambdas)

    def path(Xa, y):
        lam_max = max(np.linalg.norm(Xa[:, g * group_size:(g + 1) * group_size].T @ y) for g in range(N)) / Xa.shape[0]
        return lam_max, _group_lasso_path(Xa, y, lam_max * ratios, group_size, tol)

    scores = np.zeros((N, M))
    chosen, maxima, criteria = np.zeros(M), np.zeros(M), []
    gram, log_n = X.T @ X, np.log(n)
    folds = None
    if selection == "cv":
        folds = np.array_split(np.random.default_rng(seed).permutation(n), cv)
    for i in range(M):
        y = Y[:, i]
        lam_max, coefs = path(X, y)
        if selection == "bic":
            xty, yty = X.T @ y, float(y @ y)
            crit = []
            for coef in coefs:
                columns = np.flatnonzero(coef != 0)
                crit.append(n * np.log(_ols_rss(gram, xty, yty, columns) / n) + columns.size * log_n)
        else:
            errors = np.zeros(n_lambdas)
            for held in folds:
                keep = np.setdiff1d(np.arange(n), held)
                _, fold_coefs = path(X[keep], y[keep])
                errors += ((y[held, None] - X[held] @ fold_coefs.T) ** 2).sum(axis=0)
            crit = list(errors / n)
        best = int(np.argmin(crit))
        blocks = coefs[best].reshape(N, group_size)
        scores[:, i] = np.linalg.norm(blocks, axis=1)
        chosen[i], maxima[i] = lam_max * ratios[best], lam_max
        criteria.append(np.asarray(crit))
    return _result(scores > 0, scores, "group-lasso", L, start,
                   {"lambdas": chosen, "lambda_max": maxima, "selection": selection, "criteria": np.array(criteria)})


# ---------------------------------------------------------------------- SelTask
def _gaussian_cmi(cov, x, y, z):
    """Gaussian conditional mutual information of blocks x and y given z (nats), and the squared
    partial canonical correlations."""
    idx_xy = list(x) + list(y)
    if z:
        S_zz = cov[np.ix_(z, z)]
        S_az = cov[np.ix_(idx_xy, z)]
        cond = cov[np.ix_(idx_xy, idx_xy)] - S_az @ np.linalg.solve(S_zz, S_az.T)
    else:
        cond = cov[np.ix_(idx_xy, idx_xy)]
    if np.any(np.diag(cond) <= 1e-10 * np.diag(cov)[idx_xy]):
        raise np.linalg.LinAlgError("a variable is (numerically) determined by the conditioning set")
    dx = len(x)
    A, B, C = cond[:dx, :dx], cond[dx:, dx:], cond[:dx, dx:]
    # squared partial canonical correlations: eigenvalues of A^-1 C B^-1 C^T
    rho2 = np.linalg.eigvals(np.linalg.solve(A, C) @ np.linalg.solve(B, C.T)).real
    rho2 = np.clip(rho2, 0.0, 1 - 1e-12)
    return float(-0.5 * np.sum(np.log1p(-rho2))), rho2


def _masked_rank1_nmf(A, seed, max_iter, tol):
    """One non-negative factor per matrix, ``A[i] ~ w_i h_i^T``, ignoring the diagonals.

    Lee-Seung multiplicative updates on the stack ``A`` of shape (m, N, N); the
    unobserved diagonal entries are replaced by the current reconstruction before
    every update, as seqNMF does for masked entries. Returns the reconstructions.
    """
    m, N, _ = A.shape
    rng = np.random.default_rng(seed)
    W = rng.random((m, N, 1))
    H = rng.random((m, 1, N))
    observed = ~np.eye(N, dtype=bool)
    eps = 1e-12
    previous = np.inf
    for _ in range(max_iter):
        R = W @ H
        X = np.where(observed, A, R)
        H *= (W.transpose(0, 2, 1) @ X) / (W.transpose(0, 2, 1) @ W @ H + eps)
        W *= (X @ H.transpose(0, 2, 1)) / (W @ (H @ H.transpose(0, 2, 1)) + eps)
        cost = float(np.sum(((A - W @ H) * observed) ** 2))
        if previous - cost <= tol * max(previous, 1.0) and previous < np.inf:
            break
        previous = cost
    return W @ H


def seltask_tasks(states, tasks, L=2, alpha=0.05, seed=0, *, correction="bh", threshold=0.5, max_iter=1000,
                  tol=1e-9):
    """SelTask baseline: selection (collider) signatures between segments, completed by NMF.

    Our reading; the paper does not say how it adapted SelTask (Qiu, Zheng & Zhang,
    NeurIPS 2024). SelTask (i) checks with conditional-independence tests that the
    subgoal acts as a *selection* variable (conditioning on it makes otherwise
    independent variables dependent), then (ii) discovers subtasks by sequential
    (convolutive) NMF of the trajectory data, one factor per subtask, and binarises the
    factors at 0.5. What we port:

    1. *Selection signature.* For each task ``g_i`` and pair of segments ``k < v``, the
       representative (last) states ``s_{kL}`` and ``s_{vL}`` are tested for dependence
       given their immediate predecessors ``{s_{kL-1}, s_{vL-1}}`` plus ``g_i`` (a looser
       set than Algorithm 1's band: the successors are not conditioned on), with the
       Gaussian likelihood-ratio test (Bartlett's partial-canonical-correlation test; for
       scalar states the asymptotic equivalent of Fisher's z). A pair carries selection
       evidence when the test rejects under `correction` across all ``M N (N - 1) / 2``
       tests *and* adding ``g_i`` increases the pair's Gaussian conditional mutual
       information (the selection signature is a change caused by conditioning on ``g_i``).
    2. *Factorisation.* Each task's binary ``N x N`` evidence matrix (rows: partner
       segments; columns: segments, i.e. time) is stacked into an ``(M N) x N`` matrix and
       factorised by NMF with one factor per task, each factor's loadings confined to its
       own task's rows (the task variables are observed here, so which selection a factor
       stands for is known), and the unobserved diagonal imputed from the reconstruction
       (seqNMF's handling of masked entries). A task's segments all serve one collider,
       so their evidence should form a clique; the rank-one reconstruction fills in pairs
       the tests missed between segments that share partners and fades isolated pairs. A
       segment serves ``g_i`` when its largest reconstructed evidence with another segment
       reaches `threshold` (SelTask's 0.5 on binary data).

    Simplified: the segment is the unit of time and the segments are given, so a
    convolutive factor with a one-segment lag is plain NMF; seqNMF's cross-orthogonality
    penalty (which forbids a segment from serving two tasks, something the collider
    worlds allow) and its binarisation penalty are dropped; the number of factors is the
    number of tasks instead of a tuned K. Expected weakness: without the successors in
    the conditioning set, a state also reaches ``g_i`` through the later actions of its
    temporally connected chain, so segments just before a serving segment pick up
    evidence.

    The factorisation is a small numpy port of seqNMF's multiplicative updates with its
    masked-entry imputation (scikit-learn's NMF has no mask); the authors' code is at
    github.com/EvieQ01/Subtask_discovery_selection (``phase_1_CItests``, ``phase_2_seqNMF``).
    On the paper's setting (``benchmarks/baselines.py``: T = 20, M = 4, n = 10,000, 10
    worlds) this scores a little above labelling both segments of every significant pair
    (``info["significant"]``, no factorisation); in our exploratory runs on the same
    worlds an unconstrained stacked NMF and thresholding the activations ``h`` at half
    their maximum (SelTask's rule read literally) both did no better than that pair rule:
    a sparse evidence graph concentrates ``h`` on its hubs. The accuracies are in
    ``benchmarks/results/baselines.md`` and ``benchmarks/results/docstring_figures.md``.

    Parameters
    ----------
    states : ndarray of shape (n, T, d) or (n, T)
    tasks : ndarray of shape (n, M)
    L : int, default=2
    alpha : float, default=0.05
        Level of the selection-signature tests.
    seed : int, default=0
        Seed of the NMF initialisation.
    correction : {None, "bonferroni", "holm", "bh"}, default="bh"
        Multiple-testing rule over the pair tests. Benjamini-Hochberg by default: with no
        correction about 5 % of the pairs reject on a world without any selection, and
        the factorisation would turn them into labels (a sizeable share of all segments at
        T = 20, M = 4; see ``benchmarks/results/docstring_figures.md``).
    threshold : float, default=0.5
        Reconstructed evidence (on the 0/1 scale of the evidence) needed to label a segment.
    max_iter : int, default=1000
        NMF iterations (multiplicative updates).
    tol : float, default=1e-9
        Stop when an iteration lowers the masked squared error by less than this fraction.

    Returns
    -------
    BaselineResult
        ``scores[k, i]`` is segment k's largest reconstructed evidence for task i;
        ``info`` holds ``"pvalues"`` (M, N, N) (NaN where ``k >= v``), ``"significant"``
        (M, N, N) bool (the evidence, upper triangle), ``"cmi_gain"`` (M, N, N) and
        ``"reconstruction"`` (M, N, N).

    Raises
    ------
    ValueError
        For a bad argument, naming it, and for more than
        :data:`~specbook.tasks.discovery.MAX_TESTS` (1,000,000) selection tests ``M N (N - 1) / 2``.
    """
    start = time.perf_counter()
    L = _check_L(L)
    alpha = check_alpha(alpha)
    seed = check_seed(seed)
    correction = check_correction(correction)
    threshold = check_real(threshold, "threshold", low=0, high=1, open_low=True)
    max_iter = check_int(max_iter, "max_iter", 1)
    tol = check_real(tol, "tol", low=0)
    states, tasks = check_states_tasks(states, tasks, L, pairwise=True, reject_constant=True, caller="SelTask")
    n, T, d = states.shape
    M, N = tasks.shape[1], T // L
    if M * N * (N - 1) // 2 > MAX_TESTS:
        raise ValueError(f"SelTask with T={T}, M={M} and L={L} would run {M * N * (N - 1) // 2:,} selection tests, "
                         f"above the limit of {MAX_TESTS:,}: use fewer steps (or a larger L) or fewer tasks.")
    min_n = 4 * d + 6  # the largest conditioning set has 2 d + 1 columns
    if n < min_n:
        raise ValueError(f"need at least n = {min_n} samples for the selection tests; got n = {n}.")
    data = np.concatenate([states.reshape(n, T * d), tasks], axis=1)
    cov = np.cov(data, rowvar=False)

    def cols(step):  # 1-based step -> columns
        return list(range((step - 1) * d, step * d))

    pairs, pvals, gains = [], [], []
    try:
        for k in range(1, N):
            for v in range(k + 1, N + 1):
                x_step, y_step = k * L, v * L
                z = [c for step in (x_step - 1, y_step - 1) if step >= 1 and step not in (x_step, y_step)
                     for c in cols(step)]
                x, y = cols(x_step), cols(y_step)
                cmi0, _ = _gaussian_cmi(cov, x, y, z)
                # Bartlett's correction: n - |Z| - 1 - (dx + dy + 1) / 2, with g_i counted in Z
                dof = max(n - (len(z) + 1) - 1 - (2 * d + 1) / 2, 1.0)
                for i in range(M):
                    cmig, _ = _gaussian_cmi(cov, x, y, z + [T * d + i])
                    pairs.append((i, k - 1, v - 1))
                    pvals.append(float(stats.chi2.sf(2 * dof * cmig, d * d)))
                    gains.append(cmig - cmi0)
    except np.linalg.LinAlgError:
        raise ValueError("states and tasks have collinear columns (singular covariance): the selection tests "
                         "cannot condition on them.") from None
    pvals, gains = np.array(pvals), np.array(gains)
    P = np.full((M, N, N), np.nan)
    G = np.full((M, N, N), np.nan)
    for (i, k, v), p, gain in zip(pairs, pvals, gains):
        P[i, k, v], G[i, k, v] = p, gain
    segment_tasks, scores, S, reconstruction = _seltask_labels(P, G, alpha, correction, seed, threshold, max_iter, tol)
    return _result(segment_tasks, scores, "seltask", L, start,
                   {"pvalues": P, "significant": S, "cmi_gain": G, "reconstruction": reconstruction,
                    "alpha": alpha, "correction": correction, "seed": seed, "threshold": threshold,
                    "max_iter": max_iter, "tol": tol})


def _seltask_labels(P, G, alpha, correction, seed, threshold, max_iter, tol):
    """SelTask's steps after the tests: the rule, the evidence, the factorisation, the labels.

    `P` and `G` are the (M, N, N) p-values and CMI gains (upper triangle). The tests are
    handed to :func:`~specbook.tasks.multitest.reject` pair-major (every task of the pair
    ``(1, 2)``, then of ``(1, 3)``, ...), the order in which :func:`seltask_tasks` runs them.
    """
    M, N, _ = P.shape
    k, v = np.triu_indices(N, 1)
    pvals, gains = P[:, k, v].T.ravel(), G[:, k, v].T.ravel()  # (pairs, M): pair-major
    significant = reject(pvals, alpha, correction) & (gains > 0)
    S = np.zeros((M, N, N), dtype=bool)
    S[:, k, v] = significant.reshape(k.size, M).T
    evidence = (S | S.transpose(0, 2, 1)).astype(float)
    reconstruction = np.zeros((M, N, N))
    active = np.flatnonzero(evidence.any(axis=(1, 2)))
    if active.size:
        reconstruction[active] = _masked_rank1_nmf(evidence[active], seed, max_iter, tol)
    off_diagonal = np.where(np.eye(N, dtype=bool), -np.inf, reconstruction)
    scores = np.maximum(off_diagonal.max(axis=2), 0.0).T  # (N, M)
    return scores >= threshold, scores, S, reconstruction


# ---------------------------------------------------------------------- other rules
def recorrect(result, correction):
    """The same baseline run, decided under another multiple-testing rule.

    CCA and SelTask keep their tests' p-values (``info["pvalues"]``); this re-applies
    :func:`~specbook.tasks.multitest.reject` to them, so comparing the rules costs one run of
    the tests instead of one per rule. The labels equal those of calling the baseline
    again with ``correction=correction`` and the same other arguments (SelTask redoes
    its factorisation on the new evidence).

    Parameters
    ----------
    result : BaselineResult
        From :func:`cca_tasks` or :func:`seltask_tasks`.
    correction : {None, "bonferroni", "holm", "bh", "by"}
        The rule to decide by (see :data:`~specbook.tasks.multitest.CORRECTIONS`).

    Returns
    -------
    BaselineResult
        New labels, scores and ``info`` (``info["correction"]`` updated); ``seconds``
        adds the time of the re-decision to the original run's.

    Raises
    ------
    ValueError
        For Group Lasso (it selects by BIC or cross-validation, not by tests) or an
        unknown `correction`.

    Examples
    --------
    >>> import specbook as sb
    >>> data = sb.ColliderWorld(T=8, M=2, L=2, seed=0).sample(n=2_000, seed=1)
    >>> found = cca_tasks(data.states, data.tasks, L=2)
    >>> bool((recorrect(found, "holm").segment_tasks
    ...       == cca_tasks(data.states, data.tasks, L=2, correction="holm").segment_tasks).all())
    True
    """
    start = time.perf_counter()
    if not isinstance(result, BaselineResult):
        raise ValueError(f"result must be a BaselineResult of cca_tasks or seltask_tasks; got {type(result).__name__}.")
    correction = check_correction(correction)
    info = result.info
    if result.method == "cca":
        P = info["pvalues"]
        segment_tasks = reject(P.ravel(), info["alpha"], correction).reshape(P.shape)
        scores, info = result.scores, {**info, "correction": correction}
    elif result.method == "seltask":
        segment_tasks, scores, S, reconstruction = _seltask_labels(
            info["pvalues"], info["cmi_gain"], info["alpha"], correction, info["seed"], info["threshold"],
            info["max_iter"], info["tol"])
        info = {**info, "significant": S, "reconstruction": reconstruction, "correction": correction}
    else:
        raise ValueError(f"{result.method!r} does not decide by tests: no multiple-testing rule to change.")
    found = _result(segment_tasks, scores, result.method, result.L, start, info)
    return dataclasses.replace(found, seconds=result.seconds + found.seconds)


#: The baselines by name, each called as ``f(states, tasks, L=..., seed=...)``.
BASELINES = {"cca": cca_tasks, "group-lasso": group_lasso_tasks, "seltask": seltask_tasks}
