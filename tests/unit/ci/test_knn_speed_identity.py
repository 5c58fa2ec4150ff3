"""The fast paths of KnnCMI (and the sequential p-values NeuralCMI shares) against plain reference
computations: the same numbers, exactly.

The book's recorded results depend on every bit of the kNN CMI statistic and p-value, so the
stacked counting, the bisection counts and the local permutation must agree exactly (``==``,
not approximately) with straightforward per-permutation versions.
"""
import numpy as np
import pytest
from scipy.spatial import cKDTree

import specbook.ci.knn_cmi as knn_cmi
from specbook.ci.knn_cmi import _count_below, _count_true, _frenzel_pompe_estimate, _FrenzelPompe
from specbook.ci.neighbours import _local_permutation, _neighbour_lists


def brute_force_counts(x, y, z, k):
    """n_xz, n_yz, n_z from full max-norm distance matrices, one version of x."""
    def distances(a):
        d = np.zeros((len(a), len(a)))
        for column in a.T:
            np.maximum(d, np.abs(column[:, None] - column), out=d)
        return d

    d_x, d_y, d_z = distances(x), distances(y), distances(z)
    joint = np.maximum(np.maximum(d_x, d_y), d_z)
    np.fill_diagonal(joint, np.inf)
    radius = np.sort(joint, axis=1)[:, k - 1][:, None]
    return tuple((np.maximum(a, b) < radius).sum(axis=1) - 1 for a, b in ((d_x, d_z), (d_y, d_z), (d_z, d_z)))


def data(n, dz, dx, seed, ties):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dz))
    x = rng.standard_normal((n, dx)) + (z[:, :1] if dz else 0)
    y = rng.standard_normal((n, 1)) + (np.sin(z[:, -1:]) if dz else 0) + 0.5 * x[:, :1]
    if ties:  # rounded values, and a tenth of the rows exact duplicates of others
        x, y, z = np.round(x, 1), np.round(y, 1), np.round(z, 1)
        source, target = rng.integers(0, n, (2, n // 10))
        x[target], y[target], z[target] = x[source], y[source], z[source]
    return x, y, z


@pytest.mark.parametrize("dz, dx, ties, width", [(3, 1, False, 20), (3, 2, True, 12), (1, 1, True, 150),
                                                 (0, 1, True, 20), (0, 2, False, 149)])
def test_stacked_counts_equal_brute_force_counts(dz, dx, ties, width, monkeypatch):
    n, k = 150, 4
    x, y, z = data(n, dz, dx, seed=dz + 10 * dx + ties, ties=ties)
    estimator = _FrenzelPompe(x, y, z, k, width=width)  # short lists: many rows go to brute force
    rng = np.random.default_rng(1)
    permutations = np.array([rng.permutation(n) for _ in range(7)])
    references = [brute_force_counts(x[p], y, z, k) for p in permutations]
    stacked = estimator.counts(x[permutations])
    for version, reference in enumerate(references):
        for count, expected in zip(stacked, reference):
            assert count[version].dtype == np.intp and np.array_equal(count[version], expected)
    monkeypatch.setattr(knn_cmi, "STACK_BYTES", 3 * 8 * n * width)  # stacks of 3, 3 and 1 versions
    expected = [_frenzel_pompe_estimate(k, *reference) for reference in references]
    assert estimator.permuted_cmis(x, permutations) == expected
    assert [estimator.cmi(x[p]) for p in permutations] == expected


def test_count_below_is_a_strict_count_on_sorted_rows_with_ties():
    rng = np.random.default_rng(0)
    for width in (1, 2, 3, 7, 8, 64, 193):
        rows = np.sort(np.round(rng.random((30, width)), 1), axis=1)
        values = np.round(rng.uniform(-0.1, 1.1, (4, 30)), 1)  # often equal to an entry, or out of range
        assert np.array_equal(_count_below(rows, values), (rows < values[..., None]).sum(axis=-1))
        mask = rng.random((4, 30, width)) < 0.9
        assert np.array_equal(_count_true(mask), mask.sum(axis=-1))


def sequential_local_permutation(candidates, rng):
    """The local permutation as a plain loop: round by round, rows in priority order take their
    round's candidate if no row took it before; rows left over take a random candidate."""
    n, k = candidates.shape
    candidates = rng.permuted(candidates, axis=1)
    priority = rng.permutation(n)
    perm, taken = [None] * n, set()
    for r in range(k):
        for row in sorted(range(n), key=lambda row: priority[row]):
            if perm[row] is None and candidates[row, r] not in taken:
                perm[row] = int(candidates[row, r])
                taken.add(perm[row])
    rest = [row for row in range(n) if perm[row] is None]
    for row, column in zip(rest, rng.integers(k, size=len(rest))):
        perm[row] = int(candidates[row, column])
    return np.array(perm)


@pytest.mark.parametrize("n, k, clumped", [(300, 5, False), (300, 12, True), (40, 3, True)])
def test_local_permutation_equals_a_plain_loop(n, k, clumped):
    # clumped candidates (few distinct ones) make many proposers compete for each candidate
    z = np.random.default_rng(k).standard_normal((n, 2))
    candidates = _neighbour_lists(np.round(z, 0) if clumped else z, k)[1]
    for seed in range(5):
        rng, reference_rng = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = sequential_local_permutation(candidates, reference_rng)
        assert np.array_equal(_local_permutation(candidates, rng), expected)
        assert rng.random() == reference_rng.random()  # the same draws, so the stream goes on alike


@pytest.mark.parametrize("duplicates", [False, True])
def test_neighbour_lists_drop_each_point_itself(duplicates):
    points = np.random.default_rng(3).standard_normal((200, 2))
    if duplicates:
        points[:50] = points[50:100]
    distances, indices = cKDTree(points).query(points, k=11, p=np.inf)
    is_self = indices == np.arange(200)[:, None]
    keep = np.argsort(is_self, axis=1, kind="stable")[:, :10]
    ours = _neighbour_lists(points, 10)
    assert np.array_equal(ours[0], np.take_along_axis(distances, keep, axis=1))
    assert np.array_equal(ours[1], np.take_along_axis(indices, keep, axis=1))
    assert not np.any(ours[1] == np.arange(200)[:, None])


def test_zero_radii_count_nothing_as_strictly_within_and_warn():
    """k or more exact copies put the k-th neighbour at distance 0: nothing is strictly closer, and the
    statistic stays finite (it was -inf when the brute force met such a sample without z)."""
    import warnings

    from specbook.ci import KnnCMI

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 2, 300).astype(float), rng.integers(0, 2, 300).astype(float)
    with pytest.warns(UserWarning, match=r"300 of 300 samples have more than k = 10 exact copies"):
        result = KnnCMI(n_permutations=20)(x, y)
    assert np.isfinite(result.statistic) and result.pvalue == 1.0
    estimator = _FrenzelPompe(x[:, None], y[:, None], np.empty((300, 0)), 10, width=64)
    n_xz, n_yz, n_z = estimator.counts(x[:, None])
    assert (n_xz == 0).all() and (n_yz == 0).all() and (n_z == 299).all()
    rows = np.arange(5)
    assert [counts.tolist() for counts in estimator._brute_force(x[:, None], rows)] == [[0] * 5, [0] * 5, [299] * 5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KnnCMI(n_permutations=20)(rng.normal(size=300), rng.normal(size=300), rng.normal(size=(300, 2)))


def test_sequential_pvalue_stops_at_the_hth_exceedance_else_counts_them_all():
    from specbook.ci.result import _sequential_pvalue

    null = np.array([0.1, 0.5, 0.2, 0.6, 0.7, 0.0])
    assert _sequential_pvalue(0.4, null, stop_after=2) == 2 / 4  # the 2nd estimate >= 0.4 is the 4th drawn
    assert _sequential_pvalue(0.4, null, stop_after=4) == (1 + 3) / (1 + 6)  # only 3 reach it
    assert _sequential_pvalue(0.4, null, stop_after=None) == (1 + 3) / (1 + 6)
    assert _sequential_pvalue(0.8, null, stop_after=1) == 1 / 7


def test_sequential_null_is_a_prefix_of_the_full_null_and_stops_early(monkeypatch):
    n, k = 200, 4
    x, y, z = data(n, 2, 1, seed=3, ties=False)
    estimator = _FrenzelPompe(x, y, z, k, width=64)
    monkeypatch.setattr(knn_cmi, "STACK_BYTES", 3 * 8 * n * 64)  # stacks of 3: stopping mid-way is exercised
    rng = np.random.default_rng(5)
    full = estimator.permuted_cmis(x, np.array([rng.permutation(n) for _ in range(40)]))
    statistic = float(np.quantile(full, 0.5))  # about half of them reach it: stops after about 2 h
    rng = np.random.default_rng(5)
    drawn = estimator.sequential_null(x, lambda: rng.permutation(n), 40, statistic, stop_after=5)
    assert drawn == full[:len(drawn)] and len(drawn) < 40
    assert sum(value >= statistic for value in drawn) >= 5
    rng = np.random.default_rng(5)
    assert estimator.sequential_null(x, lambda: rng.permutation(n), 40, statistic, stop_after=None) == full


SEQUENTIAL_TESTS = {"knn-cmi": {}, "neural-cmi": {"hidden": 16, "epochs": 5}}  # small critics keep it quick


@pytest.mark.parametrize("test", sorted(SEQUENTIAL_TESTS))
@pytest.mark.parametrize("seed", range(6))
def test_stopping_early_changes_no_pvalue_below_stop_after_over_n_permutations(seed, test):
    """Dependent and independent pairs alike: a p-value under 0.1 is the one all 100 permutations give,
    one at or above it stays at or above it, and the statistic is the same."""
    from specbook.ci import get_ci_test

    rng = np.random.default_rng(seed)
    z = rng.standard_normal((400, 2))
    x = z[:, :1] + rng.standard_normal((400, 1))
    y = np.sin(z[:, 1:]) + (0.15 * seed) * x + rng.standard_normal((400, 1))
    options = SEQUENTIAL_TESTS[test]
    sequential = get_ci_test(test, seed=seed, **options)(x, y, z)
    every = get_ci_test(test, seed=seed, stop_after=None, **options)(x, y, z)
    assert sequential.statistic == every.statistic
    if min(sequential.pvalue, every.pvalue) < 0.1:
        assert sequential.pvalue == every.pvalue
    else:
        assert sequential.pvalue >= 0.1 and every.pvalue >= 0.1


def test_the_six_pairs_give_pvalues_on_both_sides_of_the_stopping_bound():
    """The pairs above include p-values below 0.1 (where stopping must change nothing) and above it
    (where it stops early), so both branches of that test are exercised."""
    from specbook.ci import get_ci_test

    for test, options in SEQUENTIAL_TESTS.items():
        pvalues = []
        for seed in (0, 5):
            rng = np.random.default_rng(seed)
            z = rng.standard_normal((400, 2))
            x = z[:, :1] + rng.standard_normal((400, 1))
            y = np.sin(z[:, 1:]) + (0.15 * seed) * x + rng.standard_normal((400, 1))
            pvalues.append(get_ci_test(test, seed=seed, stop_after=None, **options)(x, y, z).pvalue)
        assert pvalues[0] >= 0.1 and pvalues[1] < 0.1, (test, pvalues)


@pytest.mark.parametrize("test", ["KnnCMI", "NeuralCMI"])
def test_stop_after_must_be_a_positive_integer_or_none(test):
    from specbook import ci

    with pytest.raises(ValueError, match="stop_after"):
        getattr(ci, test)(stop_after=0)
    assert getattr(ci, test)(stop_after=None).stop_after is None
