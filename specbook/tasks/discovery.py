"""Algorithm 1: which segments serve which task, from band conditional-independence tests.

For every task ``g_i`` and every pair of segments ``k < v`` the representative
states ``s_{kL}`` and ``s_{vL}`` are tested for independence given the band set

    Z_band(k, v, i) = {s_{kL-1}, s_{kL+1}, s_{vL-1}, s_{vL+1}} U {g_i}

(Theorem 1: dependent exactly when both segments serve ``g_i``). A rejection adds
``g_i`` to the task sets of both segments.

``query="intersection-union"`` is the book's variant (not the paper's): it asks instead
whether *each* representative state depends on ``g_i`` given the band states without
``g_i``, and rejects when both do (see :func:`discover_tasks`).

``query="local"`` is the book's own proposition (not the paper's): with ``L >= 2`` and the
task observed, ``s_{kL}`` and ``g_i`` are dependent given its two neighbours
``{s_{kL-1}, s_{kL+1}}`` exactly when segment ``S_k`` serves ``g_i``. One test per
(segment, task), and a task served by a single segment is found too. With
``conditioning="all-states"`` the local test conditions on every other state instead of the two
neighbours (the book's extension of its proposition: the same answers by d-separation, and the
other states explain part of the task's variance, so the test has more power).
"""
from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from ..ci import (CovarianceCITest, GivenTheRestCITest, IndexedCovarianceCITest, PermutationCITest, check_ci_result,
                  describe_test, get_ci_test)
from .dseparation import DSeparation
from .labels import SegmentLabels
from .multitest import CORRECTIONS, check_alpha, check_correction, reject
from .._threads import limited_threads
from ..validation import check_choice, check_int, check_memory, check_selected, check_states_tasks

__all__ = ["TaskDiscovery", "band_set", "local_band", "query_cells", "discover_tasks", "oracle_tasks", "CORRECTIONS",
           "QUERIES", "LOCAL_CONDITIONING", "PAIR_QUERIES", "MAX_TESTS", "MAX_ORACLE_TESTS"]

#: The CI statements Algorithm 1 can decide by: the paper's collider test of a (pair, task), the
#: book's intersection-union variant, or the book's local test of a (segment, task).
QUERIES = ("collider", "intersection-union", "local")
#: Conditioning sets of the local query: the representative's two neighbours (the book's proposition),
#: or every other state (its extension; same answers by d-separation, more power on data).
LOCAL_CONDITIONING = ("band", "all-states")
#: The queries that test pairs of segments (``"local"`` tests each segment on its own).
PAIR_QUERIES = ("collider", "intersection-union")

#: Most CI tests one call of :func:`discover_tasks` runs (``M N (N - 1) / 2``, twice that for
#: the intersection-union query). Fisher z runs the 99,000 tests of T = 200, M = 20 quickly
#: (``benchmarks/results/discovery.md``), and this allows about ten times as many; the book's
#: largest call, T = 80 and M = 16, runs 12,480.
MAX_TESTS = 1_000_000
#: Most d-separation checks one call of :func:`oracle_tasks` makes (each walks the graph; the
#: random worlds of the graph-level checks need at most 300).
MAX_ORACLE_TESTS = 100_000


@dataclass(frozen=True)
class TaskDiscovery(SegmentLabels):
    """What Algorithm 1 found: the labels of :class:`~specbook.tasks.labels.SegmentLabels` and its tests.

    Attributes
    ----------
    segment_tasks, step_tasks, method, seconds, L
        As in :class:`~specbook.tasks.labels.SegmentLabels` (`method` names the CI test).
    pvalues : ndarray of shape (M, N, N)
        ``pvalues[i - 1, k - 1, v - 1]`` of the test for the pair ``k < v``; NaN where ``k >= v``.
        For ``query="local"`` the diagonal ``[i - 1, k - 1, k - 1]`` holds segment ``S_k``'s own
        test and every other entry is NaN.
    statistics : ndarray of shape (M, N, N)
        The tests' statistics, laid out like `pvalues` (NaN where a method has none).
    pair_dependent : ndarray of shape (M, N, N), bool
        Pairs declared dependent after the multiple-testing rule (False where ``k >= v``); for
        ``query="local"``, segments declared dependent on the task, on the diagonal.
    alpha : float
        Level of the tests.
    correction : str or None
        The multiple-testing rule (see :data:`CORRECTIONS`).
    query : str
        The CI statements tested (see :data:`QUERIES`).
    conditioning : str
        The local query's conditioning set (see :data:`LOCAL_CONDITIONING`); "band" for the pair queries.
    tasks_observed : bool
        False for data selected on tasks that were not recorded (``tasks=None``): then ``M = 1``
        and the one column says which segments share a selected task with another segment
        (which selected task, when several were, the data cannot tell).
    """

    pvalues: np.ndarray
    statistics: np.ndarray
    pair_dependent: np.ndarray
    alpha: float
    correction: str | None
    query: str = "collider"
    tasks_observed: bool = True
    conditioning: str = "band"

    @property
    def n_tests(self) -> int:
        """Number of decisions: ``M * N * (N - 1) / 2`` pairs, or ``M * N`` segments for ``query="local"``."""
        return int(np.isfinite(self.pvalues).sum())


def _check_L(L):
    try:
        return check_int(L, "L", 2)
    except ValueError as error:
        raise ValueError(
            f"{error} Theorem 1 needs segments of at least two steps: with L = 1 the band set of a segment "
            "reaches into its neighbours, whose actions may serve other tasks."
        ) from None


def _check_test_count(n_tests, limit, what, T, M, L):
    if n_tests > limit:
        raise ValueError(
            f"{what} with T={T}, M={M} and L={L} would run {n_tests:,} tests (with N = T / L = "
            f"{T // L} segments), above the limit of {limit:,}: use fewer steps (or a larger L) or fewer tasks."
        )


def _check_representative(representative, L):
    if representative is None:
        return L
    return check_int(representative, "representative", 1, L)


def band_set(k, v, T, L, representative=None):
    """1-based steps of the band states for segments ``k < v``.

    Parameters
    ----------
    k, v : int
        1-based segments with ``k < v``.
    T, L : int
        Horizon and segment length.
    representative : int, optional
        Position (1..L) of the representative state within its segment; the last
        (``L``, the paper's choice) by default. The band moves with it (Corollary 1).

    Returns
    -------
    list of int
        The steps next to the two representatives, ``r - 1`` and ``r + 1`` for each,
        dropping steps outside ``1..T`` and the representatives themselves.

    Raises
    ------
    ValueError
        When an argument is not an integer, `T` is not a multiple of `L`, the segments
        are not ``1 <= k < v <= T / L`` or `representative` is not in ``1..L``.

    Examples
    --------
    The paper's Figure 2 example, ``L = 2``, segments 2 and 4:

    >>> band_set(2, 4, T=10, L=2)
    [3, 5, 7, 9]
    """
    L, T = check_int(L, "L", 1), check_int(T, "T", 1)
    if T % L:
        raise ValueError(f"T must be a multiple of L so that the steps split into equal segments; got T={T}, L={L}.")
    position = _check_representative(representative, L)
    k, v = check_int(k, "k", 1), check_int(v, "v", 1)
    if not k < v <= T // L:
        raise ValueError(f"need 1 <= k < v <= N = {T // L}; got k={k}, v={v}.")
    reps = {(k - 1) * L + position, (v - 1) * L + position}
    steps = {t for r in reps for t in (r - 1, r + 1)}
    return sorted(t for t in steps if 1 <= t <= T and t not in reps)


def local_band(k, T, L, representative=None):
    """1-based steps of the local query's conditioning set for segment ``k``: the representative's neighbours.

    Parameters
    ----------
    k : int
        1-based segment.
    T, L : int
        Horizon and segment length.
    representative : int, optional
        Position (1..L) of the representative state; the last (``L``) by default.

    Returns
    -------
    list of int
        ``r - 1`` and ``r + 1`` for the representative step ``r``, dropping steps outside ``1..T``.

    Examples
    --------
    >>> local_band(2, T=10, L=2)
    [3, 5]
    """
    L, T = check_int(L, "L", 1), check_int(T, "T", 1)
    if T % L:
        raise ValueError(f"T must be a multiple of L so that the steps split into equal segments; got T={T}, L={L}.")
    position = _check_representative(representative, L)
    k = check_int(k, "k", 1, T // L)
    r = (k - 1) * L + position
    return [t for t in (r - 1, r + 1) if 1 <= t <= T]


@lru_cache(maxsize=64)
def _segments(T, L, representative, conditioning="band"):
    """(k, k, representative step, None, conditioning steps) for every segment, 1-based: the local query's units."""
    def steps(k):
        if conditioning == "band":
            return tuple(local_band(k, T, L, representative))
        x = (k - 1) * L + representative
        return tuple(t for t in range(1, T + 1) if t != x)

    return tuple((k, k, (k - 1) * L + representative, None, steps(k)) for k in range(1, T // L + 1))


def _check_conditioning(conditioning, query):
    conditioning = check_choice(conditioning, "conditioning", LOCAL_CONDITIONING)
    if conditioning != "band" and query != "local":
        raise ValueError(f"conditioning={conditioning!r} applies to query='local' only; the pair queries condition "
                         f"on their band set. Pass query='local', or leave conditioning='band'.")
    return conditioning


def query_cells(query, N):
    """Where a query's tests sit in the (N, N) layout of :class:`TaskDiscovery`, in test order.

    Parameters
    ----------
    query : str
        One of :data:`QUERIES`.
    N : int
        Number of segments.

    Returns
    -------
    (ndarray, ndarray)
        0-based rows and columns: the pairs ``k < v`` (row-major) for the pair queries, the
        diagonal for ``"local"``.
    """
    _check_query(query)
    N = check_int(N, "N", 1)
    if query == "local":
        return np.arange(N), np.arange(N)
    return np.triu_indices(N, k=1)


def _n_tests(query, M, N):
    return M * N if query == "local" else M * N * (N - 1) // 2 * (1 if query == "collider" else 2)


@lru_cache(maxsize=64)
def _pairs(T, L, representative):
    """(k, v, x step, y step, band steps) for every pair of segments k < v, 1-based (cached: repeated calls
    on one shape spent more time here than in the tests)."""
    N = T // L
    return tuple((k, v, (k - 1) * L + representative, (v - 1) * L + representative,
                  tuple(band_set(k, v, T, L, representative)))
                 for k in range(1, N) for v in range(k + 1, N + 1))


def _check_query(query):
    if query not in QUERIES:
        raise ValueError(f"query must be one of {list(QUERIES)}; got {query!r}.")
    return query


def _assemble(pairs, M, statistics, pvalues, decisions, T, L, alpha, correction, method, start, query,
              conditioning="band"):
    """Lay the flat per-test results (task-major, then pair or segment) out as (M, N, N) arrays."""
    N = T // L
    cells = (np.arange(M)[:, None] * N * N + _cells(pairs, N)).reshape(-1)  # flat (task, k, v), task-major
    P, S = np.full((M, N, N), np.nan), np.full((M, N, N), np.nan)
    D = np.zeros((M, N, N), dtype=bool)
    P.flat[cells], S.flat[cells], D.flat[cells] = pvalues, statistics, decisions
    segment_tasks = (D | D.transpose(0, 2, 1)).any(axis=2).T
    return TaskDiscovery(
        segment_tasks=segment_tasks, step_tasks=np.repeat(segment_tasks, L, axis=0), pvalues=P,
        statistics=S, pair_dependent=D, L=L, alpha=alpha, correction=correction, method=method,
        seconds=time.perf_counter() - start, query=query, conditioning=conditioning,
    )


@lru_cache(maxsize=64)
def _cells(pairs, N):
    """Flat positions ``(k - 1) N + (v - 1)`` of the (1-based) pairs or segments in an N x N table (read-only)."""
    cells = np.array([(pair[0] - 1) * N + pair[1] - 1 for pair in pairs], dtype=np.intp)
    cells.flags.writeable = False
    return cells


def discover_tasks(states, tasks, L=2, test="fisherz", alpha=0.05, correction=None, *,
                   representative=None, query="collider", conditioning="band", **test_options):
    """Algorithm 1: label each segment with the tasks it serves.

    Parameters
    ----------
    states : ndarray of shape (n, T, d) or (n, T)
        Sampled state sequences (true states, observations, or estimated latents).
    tasks : ndarray of shape (n, M), or None
        The task variables. None for data *selected* on tasks that were not recorded (e.g.
        :meth:`~specbook.ColliderWorld.sample_selected`): the pair test then runs without
        ``g_i`` in the band set, where the selection stands in for it (chapter 4), and the
        result has one column, the segments that share a selected task.
    L : int, default=2
        Segment length (>= 2; `T` must be a multiple of it).
    test : str or callable, default="fisherz"
        A name from :data:`specbook.ci.CI_TESTS` or a CI-test object called as
        ``test(x, y, z)`` and returning an object with ``statistic`` and ``pvalue``.
    alpha : float, default=0.05
        Level of the tests (the paper uses 0.05), in (0, 1).
    correction : {None, "bonferroni", "holm", "bh", "by"}, default=None
        ``None`` is the paper's rule: any uncorrected rejection labels both segments.
        The others control the family-wise error ("bonferroni", "holm"; valid under any
        dependence between the tests) or the false discovery rate over all
        ``M N (N - 1) / 2`` tests: "bh" (Benjamini-Hochberg, which assumes positively
        dependent tests) and "by" (Benjamini-Yekutieli, valid under any dependence).
    representative : int, optional
        Position (1..L) of the representative state in each segment; default ``L``.
    query : {"collider", "intersection-union", "local"}, default="collider"
        ``"collider"`` is the paper's test, ``s_{kL} indep s_{vL} | Z_band(k, v, i)``.
        ``"intersection-union"`` (the book's variant) tests ``s_{kL} indep g_i | B`` and
        ``s_{vL} indep g_i | B`` with ``B`` the band states (``Z_band`` without ``g_i``) and
        takes the larger p-value (and its statistic): it rejects only when both tests do,
        which keeps the level alpha (an intersection-union test, Berger 1982). By
        d-separation it gives the same answers as the collider test when ``L >= 2``
        (chapter 4 checks it), but its errors are less correlated across tasks: under the
        collider test a pair's chance dependence given the band states is shared by all M
        tasks, while here a pair that serves no task needs two chance rejections. It runs
        twice as many tests. ``"local"`` (the book's proposition, not the paper's) tests each
        segment on its own, ``s_{kL} indep g_i | {s_{kL-1}, s_{kL+1}}``: ``M N`` tests instead of
        ``M N (N - 1) / 2``, and a task that a single segment serves is found too, which no pair
        query can do. Like the others it needs ``L >= 2`` and a representative after the
        segment's first step (chapter 4 shows why), and it needs the task values: it cannot
        run on data selected on a task that was not recorded.
    conditioning : {"band", "all-states"}, default="band"
        The local query's conditioning set: ``"band"``, the representative's two neighbours (the
        book's proposition); ``"all-states"``, every other state (its extension: by d-separation the
        answers are the same when ``L >= 2`` and the representative is not the segment's first
        state, and the other states explain part of the task's variance, so the test has more
        power; the CI test then conditions on ``(T - 1) d`` columns, and Fisher z answers every
        segment of a task from one inverse). Only for ``query="local"``.
    **test_options
        Passed to the CI test when `test` is a name (e.g. ``seed``).

    Returns
    -------
    TaskDiscovery
        With ``pvalues`` and ``statistics`` of the decision for each (pair, task), or for each
        (segment, task) on the diagonal with ``query="local"``.

    Raises
    ------
    ValueError
        For a bad argument, naming it; for states or tasks with a constant or a duplicated
        column among those the tests use; for more than :data:`MAX_TESTS` (1,000,000) tests;
        for a covariance larger than :func:`~specbook.validation.check_memory` allows; and
        when the CI test returns a p-value that is not a number in [0, 1].
    """
    start = time.perf_counter()
    L = _check_L(L)
    alpha = check_alpha(alpha)
    correction = check_correction(correction)
    query = _check_query(query)
    conditioning = _check_conditioning(conditioning, query)
    observed = tasks is not None
    if not observed and query != "collider":
        raise ValueError(f"query={query!r} tests states against the task values, and tasks=None (data selected on "
                         "tasks that were not recorded) has none: only the pair test query='collider' can run, "
                         "with the selection in place of the task.")
    if observed:
        states, tasks = check_states_tasks(states, tasks, L, min_n=2, pairwise=True, caller="Algorithm 1")
    else:
        no_tasks = np.zeros((np.shape(states)[0] if np.ndim(states) else 0, 1))  # states are checked alone
        states = check_states_tasks(states, no_tasks, L, min_n=2, pairwise=True, caller="Algorithm 1")[0]
        tasks = np.empty((len(states), 0))
    representative = _check_representative(representative, L)
    ci = get_ci_test(test, **test_options)
    n, T, d = states.shape
    M = tasks.shape[1] if observed else 1  # unobserved: one column of labels, "shares a selected task"
    N = T // L
    _check_test_count(_n_tests(query, M, N), MAX_TESTS, "Algorithm 1", T, M, L)
    D = T * d + tasks.shape[1]
    uses_covariance = isinstance(ci, CovarianceCITest)
    if uses_covariance:
        check_memory(D * D * 8 * 3 + n * D * 8, f"the covariance of {D:,} state and task columns",
                     fix="use fewer steps, state dimensions or tasks")
    pairs = _segments(T, L, representative, conditioning) if query == "local" else _pairs(T, L, representative)
    plan = _plan(T, d, L, representative, query, conditioning, observed)
    used = list(plan.used) + list(range(T * d, D))  # and every task
    cov = data = None
    # Small matrices: one BLAS thread is as fast alone and much faster beside other busy processes.
    with limited_threads(1):
        if uses_covariance:
            # One covariance, then every test on its sub-blocks: the cost no longer grows with n per test.
            cov, mean = _covariance(states.reshape(n, T * d), tasks)
            _check_used_columns(np.sqrt(np.diag(cov)), np.abs(mean), used, d, T)
            _check_duplicates(cov, used, d, T)
        else:
            data = np.concatenate([states.reshape(n, T * d), tasks], axis=1)
            _check_used_columns(data[:, used].std(axis=0), np.abs(data[:, used]).max(axis=0), used, d, T, subset=True)
        given_the_rest = cov is not None and conditioning == "all-states" and isinstance(ci, GivenTheRestCITest)
        indexed = cov is not None and isinstance(ci, IndexedCovarianceCITest)

        def run(side):
            """Statistics and p-values of one side's queries for each task, task-major."""
            queries, copies = plan.queries[side], M if observed else 1
            if cov is None:
                results = [check_ci_result(ci(data[:, x], data[:, y], data[:, z]), test)
                           for x, y, z in _for_every_task(queries, plan.task_column, copies)]
                return (np.array([r.statistic for r in results], dtype=float),
                        np.array([r.pvalue for r in results], dtype=float))
            if given_the_rest:  # one inverse per task serves every segment
                parts = [ci.pvalues_given_the_rest(cov, n, list(range(T * d)), [x for x, _, _ in queries],
                                                   plan.task_column + i) for i in range(copies)]
                statistics, pvalues = (np.concatenate(part) for part in zip(*parts))
                method = "pvalues_given_the_rest"
            elif indexed:
                statistics, pvalues = _indexed_pvalues(ci, cov, n, plan.groups[side], len(queries),
                                                       plan.task_column, copies)
                method = "pvalues_from_index"
            else:
                statistics, pvalues = ci.pvalues_from_covariance(
                    cov, n, list(_for_every_task(queries, plan.task_column, copies)))
                method = "pvalues_from_covariance"
            statistics, pvalues = np.asarray(statistics, dtype=float), np.asarray(pvalues, dtype=float)
            expected = (copies * len(queries),)
            if pvalues.shape != expected or statistics.shape != expected:
                raise ValueError(f"the CI test {describe_test(test)!r}: {method} must return statistics and p-values "
                                 f"of shape {expected}; got {statistics.shape} and {pvalues.shape}.")
            bad = np.flatnonzero(~((pvalues >= 0) & (pvalues <= 1)))
            if bad.size:
                raise ValueError(f"the CI test {describe_test(test)!r} returned the p-value "
                                 f"{float(pvalues[bad[0]])!r}; a p-value must be a number in [0, 1]: fix the test.")
            return statistics, pvalues

        # task-major order: every pair for g1, then every pair for g2, ...
        if query == "intersection-union" and observed:
            statistics_x, pvalues_x = run(0)
            statistics_y, pvalues_y = run(1)
            binding = pvalues_y > pvalues_x
            statistics = np.where(binding, statistics_y, statistics_x)
            pvalues = np.where(binding, pvalues_y, pvalues_x)
        else:
            statistics, pvalues = run(0)
    _warn_if_unreachable(ci, alpha, correction, len(pvalues))
    name = test if isinstance(test, str) else type(test).__name__
    decisions = reject(pvalues, alpha, correction)
    found = _assemble(pairs, M, statistics, pvalues, decisions, T, L, alpha, correction, name, start, query,
                      conditioning)
    return found if observed else dataclasses.replace(found, tasks_observed=False)


def _covariance(states, tasks):
    """numpy.cov's estimate for the columns of `states` (n, T d) and `tasks` (n, M), and their means.

    From the Gram matrix and the column sums, with no centred copy of the data (half the time of
    centring first); when some column's mean dwarfs its spread, where that formula loses digits, the
    data are centred first instead. Small products: call it with the BLAS on one thread.
    """
    n, p = states.shape
    ones = np.ones(n)
    mean = np.concatenate([ones @ states, ones @ tasks]) / n
    gram = np.empty((p + tasks.shape[1],) * 2)
    gram[:p, :p] = states.T @ states
    gram[:p, p:] = states.T @ tasks
    gram[p:, :p] = gram[:p, p:].T
    gram[p:, p:] = tasks.T @ tasks
    cov = (gram - n * np.outer(mean, mean)) / (n - 1)
    if np.any(np.diag(cov) < 1e-6 * np.diag(gram) / n):  # would lose more than 6 of 16 digits
        centred = np.concatenate([states, tasks], axis=1) - mean
        cov = centred.T @ centred / (n - 1)
    return cov, mean


@dataclass(frozen=True)
class _Plan:
    """Algorithm 1's queries for one shape of data, in columns of the (states, tasks) matrix.

    `queries` holds one or two sides (two for the intersection-union query) of ``(x, y, z)``
    queries written for the first task; `groups` the same queries as integer arrays for
    ``pvalues_from_index`` (see :func:`_query_groups`); `used` the state columns the tests read.
    """

    queries: tuple
    groups: tuple
    used: tuple
    task_column: int


@lru_cache(maxsize=64)
def _plan(T, d, L, representative, query, conditioning, observed):
    """The :class:`_Plan` of one shape (cached: building it took longer than the tests it plans)."""
    pairs = _segments(T, L, representative, conditioning) if query == "local" else _pairs(T, L, representative)

    def columns(t):
        if t is None:
            return None
        return (t - 1) * d if d == 1 else list(range((t - 1) * d, t * d))

    per_pair = [(columns(x), columns(y), [c for t in band for c in range((t - 1) * d, t * d)])
                for k, v, x, y, band in pairs]
    task_column = T * d  # the first task's column; task i's is task_column + i
    if not observed:  # the selection stands where g_i stood: the band states alone
        sides = [per_pair]
    elif query == "collider":
        sides = [[(x, y, z + [task_column]) for x, y, z in per_pair]]
    elif query == "local":
        sides = [[(x, task_column, z) for x, _, z in per_pair]]
    else:
        sides = [[(x, task_column, z) for x, y, z in per_pair], [(y, task_column, z) for x, y, z in per_pair]]
    used_steps = sorted({t for k, v, x, y, band in pairs for t in (x, y, *band) if t is not None})
    used = [c for t in used_steps for c in range((t - 1) * d, t * d)]
    return _Plan(queries=tuple(tuple(side) for side in sides), groups=tuple(_query_groups(side) for side in sides),
                 used=tuple(used), task_column=task_column)


def _query_groups(queries):
    """`queries` as ``(dx, dy, positions, rows)`` per (dx, dy), each row ``z + x + y`` with z padded at its
    start with -1 to the group's largest conditioning set (read-only arrays: they are cached)."""
    shapes = {}
    for position, (x, y, z) in enumerate(queries):
        x, y, z = ([c] if isinstance(c, (int, np.integer)) else list(c) for c in (x, y, z))
        shapes.setdefault((len(x), len(y)), []).append((position, z, x + y))
    groups = []
    for (dx, dy), members in shapes.items():
        width = max(len(z) for _, z, _ in members)
        positions = np.array([position for position, _, _ in members])
        rows = np.array([[-1] * (width - len(z)) + z + xy for _, z, xy in members], dtype=np.intp)
        positions.flags.writeable = rows.flags.writeable = False
        groups.append((dx, dy, positions, rows))
    return tuple(groups)


def _for_every_task(queries, task_column, copies):
    """`queries` written for the first task, then for each later one (its column moved to ``task_column + i``)."""
    def moved(columns, i):
        if isinstance(columns, (int, np.integer)):
            return columns + i if columns == task_column else columns
        return [c + i if c == task_column else c for c in columns]

    for i in range(copies):
        for x, y, z in queries:
            yield (x, y, z) if i == 0 else (moved(x, i), moved(y, i), moved(z, i))


def _indexed_pvalues(ci, cov, n, groups, n_queries, task_column, copies):
    """Run every task's copy of the planned queries through ``ci.pvalues_from_index``, one call per shape."""
    statistics, pvalues = np.empty(copies * n_queries), np.empty(copies * n_queries)
    moves = np.arange(copies)
    for dx, dy, positions, rows in groups:
        every = (rows + moves[:, None, None] * (rows == task_column)).reshape(-1, rows.shape[1])
        where = (moves[:, None] * n_queries + positions).reshape(-1)
        statistics[where], pvalues[where] = ci.pvalues_from_index(cov, n, every, dx, dy)
    return statistics, pvalues


def _describe_column(column, d, T):
    """A state or task column in the user's terms: ``step 3`` (``step 3, dimension 2``) or ``task 1``."""
    if column >= T * d:
        return f"task {column - T * d + 1}"
    step, dim = divmod(column, d)
    return f"step {step + 1}" + (f", dimension {dim + 1}" if d > 1 else "")


def _check_used_columns(spread, magnitude, used, d, T, subset=False):
    """Refuse constant columns among those Algorithm 1 tests, in terms of states and tasks.

    `spread` and `magnitude` (standard deviations and typical absolute values) are given for
    every column, or for the `used` ones only when `subset`.
    """
    if not subset:
        spread, magnitude = spread[used], magnitude[used]
    constant = np.flatnonzero(spread <= 1e-12 * (1 + magnitude))
    if constant.size:
        where = [_describe_column(used[c], d, T) for c in constant[:5]]
        raise ValueError(f"states or tasks have constant columns ({'; '.join(where)}), which carry no information "
                         "and make the tests' covariances singular: drop them or add the missing variation.")


def _check_duplicates(cov, used, d, T):
    """Refuse two columns that are copies of each other (up to scale and sign) among those tested."""
    sub = cov[np.ix_(used, used)]
    scale = np.sqrt(np.diag(sub))
    correlation = np.abs(sub / np.outer(scale, scale))
    np.fill_diagonal(correlation, 0.0)
    if (correlation > 1 - 1e-10).any():
        pairs = np.argwhere(np.triu(correlation) > 1 - 1e-10)
        a, b = (_describe_column(used[c], d, T) for c in pairs[0])
        raise ValueError(f"states or tasks have duplicated columns: {a} and {b} are copies of each other (correlation "
                         "1), so the tests' covariances are singular; drop one of them.")


def _warn_if_unreachable(ci, alpha, correction, n_tests):
    """Warn when a permutation test's smallest p-value cannot pass a family-wise rule's threshold."""
    if correction not in ("bonferroni", "holm") or not isinstance(ci, PermutationCITest) \
            or not isinstance(ci.n_permutations, int):
        return
    permutations = ci.n_permutations
    smallest, threshold = 1 / (1 + permutations), alpha / n_tests
    if smallest >= threshold:
        warnings.warn(
            f"correction={correction!r} over {n_tests} tests rejects only p < alpha / {n_tests} = {threshold:.2g}, "
            f"but with n_permutations={permutations} the smallest p-value of {type(ci).__name__} is "
            f"1 / {permutations + 1} = {smallest:.2g}: no test can be rejected. Use at least "
            f"{int(np.ceil(1 / threshold))} permutations, correction=None or 'bh'.",
            stacklevel=3,
        )


def oracle_tasks(graph, T, M, L, *, representative=None, query="collider", selected=None, conditioning="band"):
    """Algorithm 1 with d-separation in `graph` as the CI test (infinite data, faithfulness).

    Parameters
    ----------
    graph : networkx.DiGraph
        A DAG over ``"s1".."sT"``, ``"a1".."aT"``, ``"g1".."gM"`` (e.g. ``ColliderWorld.graph``).
    T, M : int
        Horizon and number of tasks.
    L : int
        Segment length. Unlike :func:`discover_tasks`, ``L = 1`` is accepted here so that
        one can see why Theorem 1 needs ``L >= 2``.
    representative : int, optional
        Position (1..L) of the representative state; default ``L``.
    query : {"collider", "intersection-union", "local"}, default="collider"
        The CI statements decided by d-separation (see :func:`discover_tasks`).
    selected : sequence of int, optional
        1-based tasks the data are selected on, without their values (as
        ``discover_tasks(states, None, ...)`` sees them): each gets a selection node
        ``"S<i>"``, a child of ``g_i``, which is conditioned on, and the pair test conditions
        on the band states alone. The result then has one column (see
        :attr:`TaskDiscovery.tasks_observed`); only ``query="collider"`` can run.
    conditioning : {"band", "all-states"}, default="band"
        The local query's conditioning set (see :func:`discover_tasks`).

    Returns
    -------
    TaskDiscovery
        ``pvalues`` is 0 where the pair is declared dependent (d-connected given the
        band set; for ``"intersection-union"``, both states d-connected to the task; for
        ``"local"``, on the diagonal, the segment's state d-connected to the task given its
        neighbours) and 1 otherwise; ``statistics`` is NaN.

    Raises
    ------
    ValueError
        When `graph` is not a directed acyclic ``networkx.DiGraph`` holding every node,
        for a bad `T`, `M`, `L`, `representative` or `query`, and for more than
        :data:`MAX_ORACLE_TESTS` (100,000) d-separation checks.
    """
    start = time.perf_counter()
    if not isinstance(graph, nx.DiGraph):
        raise ValueError(f"graph must be a networkx.DiGraph (e.g. ColliderWorld.graph); got {type(graph).__name__}.")
    T, M = check_int(T, "T", 2), check_int(M, "M", 1)
    L = check_int(L, "L", 1)
    if T % L or T // L < 2:
        raise ValueError(f"T must be a multiple of L with at least two segments; got T={T}, L={L}.")
    representative = _check_representative(representative, L)
    query = _check_query(query)
    conditioning = _check_conditioning(conditioning, query)
    N = T // L
    _check_test_count(_n_tests(query, M, N), MAX_ORACLE_TESTS, "oracle_tasks", T, M, L)
    expected = {f"{kind}{t}" for kind in "sa" for t in range(1, T + 1)} | {f"g{i}" for i in range(1, M + 1)}
    missing = expected - set(graph)
    if missing:
        raise ValueError(f"graph lacks nodes {sorted(missing)[:5]}... for T={T}, M={M}.")
    pairs = _segments(T, L, representative, conditioning) if query == "local" else _pairs(T, L, representative)
    if selected is not None:
        return _oracle_selected(graph, T, M, L, pairs, selected, query, start)
    d_separated = DSeparation(graph).separated  # refuses a graph with a directed cycle

    def separated(i, x, y, band):
        band = {f"s{t}" for t in band}
        if query == "local":
            return d_separated({f"s{x}"}, {f"g{i}"}, band)
        if query == "collider":
            return d_separated({f"s{x}"}, {f"s{y}"}, band | {f"g{i}"})
        return d_separated({f"s{x}"}, {f"g{i}"}, band) or d_separated({f"s{y}"}, {f"g{i}"}, band)

    independent = np.array([separated(i, x, y, band) for i in range(1, M + 1) for k, v, x, y, band in pairs])
    return _assemble(pairs, M, np.full(independent.size, np.nan), independent.astype(float), ~independent, T, L,
                     0.5, None, "d-separation", start, query, conditioning)


def _oracle_selected(graph, T, M, L, pairs, selected, query, start):
    """oracle_tasks on data selected on `selected` (task values unrecorded): one column of pair decisions."""
    if query != "collider":
        raise ValueError(f"query={query!r} needs the task values; with selected tasks (values unrecorded) only the "
                         "pair test query='collider' can run.")
    selected = check_selected(selected, M)
    graph = graph.copy()
    graph.add_edges_from((f"g{i}", f"S{i}") for i in selected)
    conditioned = {f"S{i}" for i in selected}
    d_separated = DSeparation(graph).separated
    independent = np.array([d_separated({f"s{x}"}, {f"s{y}"}, {f"s{t}" for t in band} | conditioned)
                            for k, v, x, y, band in pairs])
    found = _assemble(pairs, 1, np.full(independent.size, np.nan), independent.astype(float), ~independent, T, L,
                      0.5, None, "d-separation", start, query)
    return dataclasses.replace(found, tasks_observed=False)
