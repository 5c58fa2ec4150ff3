import warnings

import numpy as np
import pytest

import specbook as sb
from specbook.ci import CovarianceCITest, FisherZ, IndexedCovarianceCITest
from specbook.tasks.discovery import PAIR_QUERIES, QUERIES, _covariance
from specbook.experiments.structure import recorrect
from specbook.metrics import selection_truth
from specbook.tasks.theory import pair_truth


@pytest.fixture(scope="module")
def strong():
    world = sb.ColliderWorld(T=12, M=2, L=2, action_noise=0.25, seed=3)
    return world, world.sample(n=10_000, seed=4)


def test_band_set_matches_the_paper_example_and_drops_out_of_range_steps():
    assert sb.band_set(2, 4, T=10, L=2) == [3, 5, 7, 9]
    assert sb.band_set(1, 5, T=10, L=2) == [1, 3, 9]          # s11 does not exist
    assert sb.band_set(1, 2, T=4, L=2) == [1, 3]               # shared neighbour s3 once
    assert sb.band_set(1, 3, T=9, L=3, representative=1) == [2, 6, 8]
    with pytest.raises(ValueError, match="1 <= k < v"):
        sb.band_set(3, 2, T=10, L=2)


def test_discover_tasks_recovers_a_strong_world(strong):
    world, data = strong
    found = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm")
    assert np.array_equal(found.segment_tasks, world.assignment)
    assert np.array_equal(found.step_tasks, np.repeat(world.assignment, 2, axis=0))
    N, M = world.N, world.M
    assert found.pvalues.shape == (M, N, N) and found.statistics.shape == (M, N, N)
    lower = np.tril(np.ones((N, N), dtype=bool))
    assert np.isnan(found.pvalues[:, lower]).all() and not found.pair_dependent[:, lower].any()
    assert found.n_tests == M * N * (N - 1) // 2
    assert np.array_equal(found.pair_dependent, pair_truth(world.assignment))


def test_same_data_same_result_and_2d_states(strong):
    world, data = strong
    a = sb.discover_tasks(data.states, data.tasks, L=2)
    b = sb.discover_tasks(data.states[:, :, 0], data.tasks, L=2)
    assert np.array_equal(a.pvalues, b.pvalues, equal_nan=True)


def test_covariance_fast_path_equals_one_test_per_query(strong):
    world, data = strong

    class PlainFisherZ:  # the same test without the batched path
        def __call__(self, x, y, z):
            return FisherZ()(x, y, z)

    fast = sb.discover_tasks(data.states, data.tasks, L=2, test="fisherz")
    slow = sb.discover_tasks(data.states, data.tasks, L=2, test=PlainFisherZ())
    assert np.allclose(fast.pvalues, slow.pvalues, equal_nan=True, rtol=1e-8, atol=1e-12)
    assert slow.method == "PlainFisherZ"


class _UnindexedFisherZ:
    """Fisher z with its covariance path but without pvalues_from_index."""

    def __init__(self):
        self.test = FisherZ()

    def __call__(self, x, y, z=None):
        return self.test(x, y, z)

    def pvalues_from_covariance(self, cov, n, queries):
        return self.test.pvalues_from_covariance(cov, n, queries)


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("state_dim", [1, 2])
def test_index_path_equals_the_covariance_path(query, state_dim):
    world = sb.ColliderWorld(T=12, M=3, L=3, state_dim=state_dim, seed=5)
    data = world.sample(n=2_000, seed=6)
    plain = _UnindexedFisherZ()
    assert not isinstance(plain, IndexedCovarianceCITest) and isinstance(plain, CovarianceCITest)
    assert isinstance(FisherZ(), IndexedCovarianceCITest)
    fast = sb.discover_tasks(data.states, data.tasks, L=3, query=query)
    general = sb.discover_tasks(data.states, data.tasks, L=3, query=query, test=plain)
    assert np.allclose(fast.pvalues, general.pvalues, equal_nan=True, rtol=1e-10, atol=1e-14)
    assert np.allclose(fast.statistics, general.statistics, equal_nan=True, rtol=1e-10, atol=1e-12)
    assert np.array_equal(fast.pair_dependent, general.pair_dependent)


def test_index_path_on_selected_data():
    world = sb.ColliderWorld(T=12, M=2, L=2, seed=7)
    selected = world.sample_selected(n=3_000, selected=1, seed=8)
    fast = sb.discover_tasks(selected.states, None, L=2)
    general = sb.discover_tasks(selected.states, None, L=2, test=_UnindexedFisherZ())
    assert np.allclose(fast.pvalues, general.pvalues, equal_nan=True, rtol=1e-10, atol=1e-14)


def test_covariance_from_the_gram_matrix_matches_numpy_cov():
    rng = np.random.default_rng(9)
    states, tasks = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6)), rng.standard_normal((500, 2))
    for offset in (0.0, 3.0, 1e7):  # a mean far above the spread takes the centred route
        shifted = states + offset * np.arange(6)
        cov, mean = _covariance(shifted, tasks)
        expected = np.cov(np.column_stack([shifted, tasks]), rowvar=False)
        assert np.allclose(cov, expected, rtol=1e-9, atol=1e-12), offset
        assert np.allclose(mean, np.column_stack([shifted, tasks]).mean(axis=0))
        assert np.array_equal(cov, cov.T)


def test_corrections_only_remove_rejections(strong):
    world, data = strong
    plain = sb.discover_tasks(data.states, data.tasks, L=2).pair_dependent
    for rule in ("bonferroni", "holm", "bh", "by"):
        corrected = sb.discover_tasks(data.states, data.tasks, L=2, correction=rule).pair_dependent
        assert not (corrected & ~plain).any(), rule


def test_vector_states():
    world = sb.ColliderWorld(T=8, M=2, L=2, state_dim=3, action_noise=0.25, seed=1)
    data = world.sample(n=5_000, seed=2)
    found = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm")
    assert found.segment_tasks.shape == (4, 2)
    assert (found.segment_tasks == world.assignment).mean() >= 0.75


def _truth(assignment, query):
    if query != "local":
        return pair_truth(assignment)
    truth = np.zeros((assignment.shape[1], len(assignment), len(assignment)), dtype=bool)
    for k, i in zip(*np.nonzero(assignment)):
        truth[i, k, k] = True
    return truth


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("L", [2, 3])
def test_oracle_equals_truth_for_L_at_least_2(L, query):
    for seed in range(20):
        world = sb.ColliderWorld(T=4 * L, M=3, L=L, p_disconnect=0.3, seed=seed)
        found = sb.oracle_tasks(world.graph, T=world.T, M=world.M, L=L, query=query)
        assert np.array_equal(found.pair_dependent, _truth(world.assignment, query))
        assert np.array_equal(found.segment_tasks, world.assignment)
        assert np.array_equal(found.pvalues[found.pair_dependent], np.zeros(found.pair_dependent.sum()))
        assert found.query == query


def test_intersection_union_takes_the_larger_pvalue_of_the_two_task_tests(strong):
    world, data = strong
    found = sb.discover_tasks(data.states, data.tasks, L=2, query="intersection-union")
    assert found.query == "intersection-union" and found.n_tests == world.M * world.N * (world.N - 1) // 2
    states = data.states[:, :, 0]
    for i, k, v in [(0, 0, 3), (1, 2, 5), (0, 1, 2)]:
        band = [t - 1 for t in sb.band_set(k + 1, v + 1, T=world.T, L=2)]
        by_hand = [sb.ci_test(states[:, 2 * s + 1], data.tasks[:, i], states[:, band]) for s in (k, v)]
        binding = max(by_hand, key=lambda r: r.pvalue)
        assert found.pvalues[i, k, v] == pytest.approx(binding.pvalue, rel=1e-8, abs=1e-300)
        assert found.statistics[i, k, v] == pytest.approx(binding.statistic, rel=1e-8)
    assert np.array_equal(sb.discover_tasks(data.states, data.tasks, L=2, correction="holm",
                                            query="intersection-union").segment_tasks, world.assignment)


def test_local_query_tests_each_segment_against_the_task_given_its_neighbours(strong):
    world, data = strong
    found = sb.discover_tasks(data.states, data.tasks, L=2, query="local")
    N, M = world.N, world.M
    assert found.query == "local" and found.n_tests == M * N
    off_diagonal = ~np.eye(N, dtype=bool)
    assert np.isnan(found.pvalues[:, off_diagonal]).all() and not found.pair_dependent[:, off_diagonal].any()
    states = data.states[:, :, 0]
    for i, k in [(0, 0), (1, 2), (0, N - 1)]:  # the last segment's state has no successor
        band = [t - 1 for t in sb.local_band(k + 1, T=world.T, L=2)]
        assert len(band) == (1 if k == N - 1 else 2)
        by_hand = sb.ci_test(states[:, 2 * k + 1], data.tasks[:, i], states[:, band])
        assert found.pvalues[i, k, k] == pytest.approx(by_hand.pvalue, rel=1e-8, abs=1e-300)
        assert found.statistics[i, k, k] == pytest.approx(by_hand.statistic, rel=1e-8)
    holm = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query="local")
    assert np.array_equal(holm.segment_tasks, world.assignment)
    assert np.array_equal(recorrect(found, "holm").segment_tasks, holm.segment_tasks)


def test_local_query_on_all_other_states(strong):
    world, data = strong
    found = sb.discover_tasks(data.states, data.tasks, L=2, query="local", conditioning="all-states")
    assert found.conditioning == "all-states" and found.n_tests == world.M * world.N
    states = data.states[:, :, 0]
    for i, k in [(0, 0), (1, 2), (0, world.N - 1)]:
        others = [t for t in range(world.T) if t != 2 * k + 1]
        by_hand = sb.ci_test(states[:, 2 * k + 1], data.tasks[:, i], states[:, others])
        assert found.pvalues[i, k, k] == pytest.approx(by_hand.pvalue, rel=1e-8, abs=1e-300)
        assert found.statistics[i, k, k] == pytest.approx(by_hand.statistic, rel=1e-8)
    holm = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query="local", conditioning="all-states")
    assert np.array_equal(holm.segment_tasks, world.assignment)
    band = sb.discover_tasks(data.states, data.tasks, L=2, query="local")
    assert band.conditioning == "band" and not np.allclose(band.pvalues[:, 0, 0], found.pvalues[:, 0, 0])


class _WithoutGivenTheRest(FisherZ):
    """Fisher z that does not offer the one-inverse path: discover_tasks runs every query on its own."""

    pvalues_given_the_rest = None


@pytest.mark.parametrize("L, state_dim", [(2, 1), (3, 1), (4, 2)])
def test_all_states_one_inverse_per_task_equals_one_query_per_segment(L, state_dim):
    world = sb.ColliderWorld(T=12, M=3, L=L, state_dim=state_dim, seed=L)
    data = world.sample(n=2_000, seed=1)
    fast = sb.discover_tasks(data.states, data.tasks, L=L, query="local", conditioning="all-states")
    plain = sb.discover_tasks(data.states, data.tasks, L=L, query="local", conditioning="all-states",
                              test=_WithoutGivenTheRest())
    assert np.allclose(fast.statistics, plain.statistics, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.allclose(fast.pvalues, plain.pvalues, rtol=1e-9, atol=1e-300, equal_nan=True)
    assert np.array_equal(fast.segment_tasks, plain.segment_tasks)


@pytest.mark.parametrize("query", PAIR_QUERIES)
def test_all_states_conditioning_is_for_the_local_query_only(strong, query):
    world, data = strong
    with pytest.raises(ValueError, match="conditioning='all-states' applies to query='local' only"):
        sb.discover_tasks(data.states, data.tasks, L=2, query=query, conditioning="all-states")
    with pytest.raises(ValueError, match="conditioning='all-states' applies to query='local' only"):
        sb.oracle_tasks(world.graph, T=world.T, M=world.M, L=2, query=query, conditioning="all-states")
    with pytest.raises(ValueError, match="conditioning must be one of 'band', 'all-states'; got 'all'"):
        sb.discover_tasks(data.states, data.tasks, L=2, query="local", conditioning="all")


def test_only_the_local_query_finds_a_task_that_one_segment_serves():
    A = np.zeros((5, 2), dtype=bool)
    A[[0, 3], 0] = True   # task 1: two segments
    A[2, 1] = True        # task 2: segment 3 alone
    world = sb.ColliderWorld(T=10, M=2, L=2, assignment=A, action_noise=0.25, seed=5)
    data = world.sample(n=10_000, seed=6)
    for query in QUERIES:
        oracle = sb.oracle_tasks(world.graph, T=10, M=2, L=2, query=query).segment_tasks
        found = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query=query).segment_tasks
        expected = A if query == "local" else A & [True, False]  # a pair query cannot see task 2
        assert np.array_equal(oracle, expected), query
        assert np.array_equal(found, expected), query


def test_local_query_needs_L_at_least_2_and_a_representative_after_the_first_step():
    A = np.zeros((6, 1), dtype=bool)
    A[2, 0] = True
    world = sb.ColliderWorld(T=6, M=1, L=1, assignment=A, disconnected=[], seed=0)
    found = sb.oracle_tasks(world.graph, T=6, M=1, L=1, query="local")
    assert found.pair_dependent[0, 3, 3] and not A[3, 0]  # s4 <- a3 -> g1, a3 outside the band
    B = np.zeros((3, 1), dtype=bool)
    B[1, 0] = True
    world = sb.ColliderWorld(T=6, M=1, L=2, assignment=B, disconnected=[], seed=0)
    first = sb.oracle_tasks(world.graph, T=6, M=1, L=2, representative=1, query="local")
    assert first.pair_dependent[0, 2, 2] and not B[2, 0]  # s5 <- a4 -> g1: segment 2's last action


def test_oracle_with_L1_shows_false_dependences():
    A = np.zeros((6, 1), dtype=bool)
    A[[0, 3], 0] = True
    world = sb.ColliderWorld(T=6, M=1, L=1, assignment=A, disconnected=[], seed=0)
    found = sb.oracle_tasks(world.graph, T=6, M=1, L=1)
    assert found.pair_dependent[0, 1, 3]  # s2 <- a1 -> g1 <- a4 <- s4
    assert not pair_truth(A)[0, 1, 3]


def test_warns_when_a_permutation_test_cannot_pass_a_family_wise_threshold(strong):
    world, data = strong
    states, tasks = data.states[:300, :8], data.tasks[:300]  # 4 segments: 12 tests
    with pytest.warns(UserWarning, match=r"smallest p-value of KnnCMI is 1 / 21 .* no test can be rejected"):
        found = sb.discover_tasks(states, tasks, L=2, test="knn-cmi", correction="holm", n_permutations=20)
    assert not found.pair_dependent.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb.discover_tasks(states, tasks, L=2, test="knn-cmi", correction=None, n_permutations=20)
        sb.discover_tasks(states, tasks, L=2, correction="holm")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(L=1), "L must be an integer >= 2; got 1. Theorem 1"),
        (dict(L=2.0), "L must be an integer"),
        (dict(L=5), "multiple of L"),
        (dict(alpha=0.0), "alpha"),
        (dict(alpha=1.0), "alpha"),
        (dict(correction="fdr"), "correction"),
        (dict(test="pearson"), "pearson"),
        (dict(representative=3), "representative"),
        (dict(query="mediator"), r"query must be one of \['collider', 'intersection-union', 'local'\]"),
    ],
)
def test_bad_arguments(strong, kwargs, match):
    world, data = strong
    with pytest.raises(ValueError, match=match):
        sb.discover_tasks(data.states, data.tasks, **{"L": 2, **kwargs})


def test_bad_data(strong):
    world, data = strong
    with pytest.raises(ValueError, match="same samples"):
        sb.discover_tasks(data.states[:100], data.tasks, L=2)
    for tasks in (data.tasks[:1], None):  # one sample: no covariance, and no warning from numpy either
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="needs at least n = 2 samples"):
                sb.discover_tasks(data.states[:1], tasks, L=2)
    with pytest.raises(ValueError, match=r"shape \(n, T, d\)"):
        sb.discover_tasks(data.states[None], data.tasks, L=2)
    bad = data.states.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sb.discover_tasks(bad, data.tasks, L=2)
    constant = data.states.copy()
    constant[:, 3, 0] = 1.0
    with pytest.raises(ValueError, match="singular|constant|collinear"):
        sb.discover_tasks(constant, data.tasks, L=2)
    with pytest.raises(ValueError, match="two segments"):
        sb.discover_tasks(data.states[:, :2], data.tasks, L=2)
    with pytest.raises(ValueError, match=r"For a single task pass tasks\[:, None\]"):
        sb.discover_tasks(data.states, data.tasks[:, 0], L=2)
    with pytest.raises(ValueError, match="real numbers"):
        sb.discover_tasks(data.states + 0j, data.tasks, L=2)


def test_on_selected_data_the_pair_test_finds_the_segments_of_the_selected_tasks():
    world = sb.ColliderWorld(T=20, M=4, L=2, action_noise=0.25, seed=0)
    for selected in ([1], [1, 2]):
        data = world.sample_selected(10_000, selected, seed=1)
        found = sb.discover_tasks(data.states, None, L=2, correction="holm")
        assert not found.tasks_observed and found.segment_tasks.shape == (world.N, 1)
        assert found.n_tests == world.N * (world.N - 1) // 2
        assert np.array_equal(found.segment_tasks, selection_truth(world.assignment, selected))
        oracle = sb.oracle_tasks(world.graph, T=20, M=4, L=2, selected=selected)
        assert np.array_equal(oracle.segment_tasks, selection_truth(world.assignment, selected))
    states = data.states[:, :, 0]
    band = [t - 1 for t in sb.band_set(2, 5, T=20, L=2)]
    by_hand = sb.ci_test(states[:, 3], states[:, 9], states[:, band])  # the band states alone
    assert found.pvalues[0, 1, 4] == pytest.approx(by_hand.pvalue, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("query", ["intersection-union", "local"])
def test_queries_that_need_the_task_values_refuse_selected_data(query):
    world = sb.ColliderWorld(T=8, M=2, L=2, seed=0)
    data = world.sample_selected(200, 1, seed=1)
    with pytest.raises(ValueError, match=rf"query='{query}' tests states against the task values, and tasks=None"):
        sb.discover_tasks(data.states, None, L=2, query=query)
    with pytest.raises(ValueError, match=rf"query='{query}' needs the task values"):
        sb.oracle_tasks(world.graph, T=8, M=2, L=2, selected=[1], query=query)
    with pytest.raises(ValueError, match=r"selected must be an integer in \[1, 2\]; got 3"):
        sb.oracle_tasks(world.graph, T=8, M=2, L=2, selected=[3])


def test_a_selection_that_keeps_too_few_samples_is_refused_by_the_test():
    world = sb.ColliderWorld(T=20, M=2, L=2, seed=0)
    data = world.sample_selected(5, 1, seed=1)
    with pytest.raises(ValueError, match=r"n = 5"):
        sb.discover_tasks(data.states, None, L=2)
