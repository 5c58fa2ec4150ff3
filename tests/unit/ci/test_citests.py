from contextlib import nullcontext
import numpy as np
import pytest
from scipy import special, stats

from specbook.ci import (CI_TESTS, GCM, CITestResult, FisherZ, KnnCMI, NeuralCMI, ci_test, get_ci_test)
from specbook.ci.knn_cmi import _FrenzelPompe
from specbook.ci.neighbours import _local_permutation, _neighbour_lists


def gaussian_chain(n, seed, dependence=0.0, dz=2):
    """x and y both depend linearly on z; y also depends on x with weight `dependence`."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dz))
    x = z @ rng.uniform(0.5, 1.0, dz) + rng.standard_normal(n)
    y = z @ rng.uniform(0.5, 1.0, dz) + dependence * x + rng.standard_normal(n)
    return x, y, z


def nonlinear_pair(n, seed, dependence=0.0, d=1):
    """x and y depend nonlinearly on a shared 3-dimensional z; y also depends on x's own noise.

    Both share the term z_1**2, so linear residuals stay correlated: a linear test fails here.
    """
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, (n, 3))
    own = rng.standard_normal((n, d))
    x = np.sin(1.5 * z[:, :1]) + 0.5 * z[:, 1:2] ** 2 + 0.5 * own
    y = np.cos(1.5 * z[:, :1]) * z[:, 2:] + 0.4 * z[:, 1:2] ** 2 + 0.5 * rng.standard_normal((n, d))
    return x, y + dependence * np.tanh(2 * own), z


# ---------------------------------------------------------------------------------- calibration
# A calibration test draws NULL_DRAWS data sets under the null and counts rejections at 0.05.
# A test of size 0.05 lands in CALIBRATED with probability 0.991; one of size 0.08 (or 0.02)
# lands outside with probability 0.912 (0.996): test_the_calibration_window checks both with
# scipy. (The former check, 200 draws accepting a rate in [0.01, 0.10], passed a test of size
# 0.09 74% of the time.) Run them apart with `pytest -m calibration`.
NULL_DRAWS = 1000
CALIBRATED = (33, 68)
ALPHA = 0.05


def rejections(pvalues):
    return int(np.sum(np.asarray(pvalues) < ALPHA))


def test_the_calibration_window():
    low, high = CALIBRATED

    def inside(size):
        return stats.binom.cdf(high, NULL_DRAWS, size) - stats.binom.cdf(low - 1, NULL_DRAWS, size)

    assert inside(0.05) > 0.99
    assert 1 - inside(0.08) >= 0.9 and 1 - inside(0.02) >= 0.9
    assert stats.binom.cdf(20, 200, 0.09) - stats.binom.cdf(1, 200, 0.09) > 0.7  # the old check


def residual(a, z):
    design = np.column_stack([np.ones(len(a)), z])
    return a - design @ np.linalg.lstsq(design, a, rcond=None)[0]


# ------------------------------------------------------------------------------------ Fisher z
@pytest.mark.parametrize("dz", [0, 1, 4])
def test_fisherz_matches_the_direct_formula(dz):
    x, y, z = gaussian_chain(300, seed=dz, dependence=0.1, dz=max(dz, 1))
    z = z[:, :dz]
    r = np.corrcoef(residual(x, z), residual(y, z))[0, 1]
    statistic = np.arctanh(r) * np.sqrt(300 - dz - 3)
    result = FisherZ()(x, y, z)
    assert isinstance(result, CITestResult) and result.method == "fisherz" and result.n == 300 and result.dof is None
    assert result.statistic == pytest.approx(statistic, abs=1e-10)
    assert result.pvalue == pytest.approx(2 * stats.norm.sf(abs(statistic)), abs=1e-10)


def test_fisherz_agrees_with_causallearn(reference_library):
    cit = reference_library("causallearn.utils.cit")
    x, y, z = gaussian_chain(500, seed=3, dependence=0.08, dz=3)
    data = np.column_stack([x, y, z])
    theirs = cit.CIT(data, "fisherz")(0, 1, [2, 3, 4])
    assert FisherZ()(x, y, z).pvalue == pytest.approx(theirs, abs=1e-8)


def test_bartlett_matches_canonical_correlations():
    rng = np.random.default_rng(0)
    n, z = 400, rng.standard_normal((400, 3))
    x = z[:, :2] + rng.standard_normal((n, 2))
    y = z @ rng.standard_normal((3, 3)) + 0.2 * x[:, :1] + rng.standard_normal((n, 3))
    rx, ry = residual(x, z), residual(y, z)

    def inverse_sqrt(a):
        values, vectors = np.linalg.eigh(a)
        return vectors / np.sqrt(values) @ vectors.T

    whitened = inverse_sqrt(rx.T @ rx) @ (rx.T @ ry) @ inverse_sqrt(ry.T @ ry)
    rho = np.linalg.svd(whitened, compute_uv=False)
    statistic = -(n - 1 - 3 - (2 + 3 + 1) / 2) * np.log(1 - rho**2).sum()
    result = FisherZ()(x, y, z)
    assert result.dof == 6
    assert result.statistic == pytest.approx(statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(stats.chi2.sf(statistic, 6), rel=1e-8)


def test_bartlett_for_scalars_follows_fisherz_and_is_chi_square_under_independence():
    bartlett = FisherZ(scalar_test="bartlett")
    decisions, statistics = [], []
    for seed in range(200):
        x, y, z = gaussian_chain(200, seed, dependence=0.15 * (seed % 2))
        fisher_p, bartlett_result = FisherZ()(x, y, z).pvalue, bartlett(x, y, z)
        decisions.append((fisher_p < 0.05) == (bartlett_result.pvalue < 0.05))
        assert bartlett_result.pvalue == pytest.approx(fisher_p, abs=0.01)
        if seed % 2 == 0:
            statistics.append(bartlett_result.statistic)
    assert np.mean(decisions) >= 0.98
    assert stats.kstest(statistics, stats.chi2(1).cdf).pvalue > 0.01


@pytest.mark.calibration
def test_bartlett_vectors_are_calibrated_and_powerful():
    rng = np.random.default_rng(1)
    null_p, power_p = [], []
    for _ in range(NULL_DRAWS):
        z = rng.standard_normal((300, 3))
        x = z[:, :2] + rng.standard_normal((300, 2))
        y = z[:, 1:] @ rng.standard_normal((2, 3)) + rng.standard_normal((300, 3))
        null_p.append(FisherZ()(x, y, z).pvalue)
        power_p.append(FisherZ()(x, y + 0.3 * x[:, :1], z).pvalue)
    assert CALIBRATED[0] <= rejections(null_p) <= CALIBRATED[1]
    assert rejections(power_p) > 0.9 * NULL_DRAWS


@pytest.mark.calibration
def test_fisherz_is_calibrated():
    pvalues = [FisherZ()(*gaussian_chain(300, seed)).pvalue for seed in range(NULL_DRAWS)]
    assert CALIBRATED[0] <= rejections(pvalues) <= CALIBRATED[1]


def test_fisherz_rejects_dependence():
    x, y, z = gaussian_chain(500, seed=0, dependence=0.3)
    assert FisherZ()(x, y, z).pvalue < 1e-4
    assert FisherZ()(x, y).pvalue < 1e-10  # z induces a marginal dependence


def test_batched_fisherz_equals_per_query():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((500, 10)) @ rng.standard_normal((10, 10))
    cov = np.cov(data, rowvar=False)
    queries = []
    for _ in range(300):
        dx, dy, dz = rng.integers(1, 3), rng.integers(1, 3), rng.integers(0, 5)
        columns = rng.permutation(10)
        queries.append((list(columns[:dx]), list(columns[dx:dx + dy]), list(columns[dx + dy:dx + dy + dz])))
    queries += [(0, 1, []), (2, 3, 4)]  # ints are single columns
    test = FisherZ()
    statistics, pvalues = test.pvalues_from_covariance(cov, 500, queries)

    def columns(index):
        return data[:, np.atleast_1d(index).astype(int)]

    for (xi, yi, zi), statistic, pvalue in zip(queries, statistics, pvalues):
        single = test(columns(xi), columns(yi), columns(zi))
        assert single.statistic == pytest.approx(statistic, abs=1e-10)
        assert single.pvalue == pytest.approx(pvalue, abs=1e-10)
        assert test.test_from_covariance(cov, 500, xi, yi, zi).pvalue == pvalue


@pytest.mark.parametrize("scalar_test", ["fisher-z", "bartlett"])
@pytest.mark.parametrize("dx, dy, dz", [(1, 1, 0), (1, 1, 3), (2, 1, 2), (2, 3, 1)])
def test_index_array_equals_the_query_list(scalar_test, dx, dy, dz):
    rng = np.random.default_rng(dx + 10 * dy + 100 * dz)
    cov = np.cov(rng.standard_normal((300, 9)) @ rng.standard_normal((9, 9)), rowvar=False)
    index = np.array([rng.permutation(9)[:dz + dx + dy] for _ in range(40)])
    queries = [(list(row[dz:dz + dx]), list(row[dz + dx:]), list(row[:dz])) for row in index]
    test = FisherZ(scalar_test=scalar_test)
    statistics, pvalues = test.pvalues_from_index(cov, 300, index, dx, dy)
    expected_statistics, expected_pvalues = test.pvalues_from_covariance(cov, 300, queries)
    assert np.array_equal(statistics, expected_statistics) and np.array_equal(pvalues, expected_pvalues)


@pytest.mark.parametrize("scalar_test", ["fisher-z", "bartlett"])
def test_index_array_rows_padded_with_minus_one_are_their_smaller_queries(scalar_test):
    rng = np.random.default_rng(4)
    cov = np.cov(rng.standard_normal((300, 9)) @ rng.standard_normal((9, 9)), rowvar=False)
    sizes = rng.integers(0, 5, size=30)
    rows = [rng.permutation(9)[:size + 2] for size in sizes]
    index = np.array([[-1] * (4 - size) + list(row) for size, row in zip(sizes, rows)])
    queries = [(int(row[-2]), int(row[-1]), list(row[:-2])) for row in rows]
    test = FisherZ(scalar_test=scalar_test)
    statistics, pvalues = test.pvalues_from_index(cov, 300, index)
    expected_statistics, expected_pvalues = test.pvalues_from_covariance(cov, 300, queries)
    assert np.allclose(statistics, expected_statistics, rtol=1e-12, atol=1e-12)
    assert np.allclose(pvalues, expected_pvalues, rtol=1e-10, atol=1e-15)
    with pytest.raises(ValueError, match="outside 0..8"):  # padding only in the conditioning set
        test.pvalues_from_index(cov, 300, np.array([[0, -1]]))


def test_index_array_bad_input_names_the_argument():
    test, cov = FisherZ(), np.eye(4)
    with pytest.raises(ValueError, match="index must be an integer array"):
        test.pvalues_from_index(cov, 100, np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="index must be an integer array"):
        test.pvalues_from_index(cov, 100, np.array([0, 1]))
    with pytest.raises(ValueError, match="index must be an integer array"):
        test.pvalues_from_index(cov, 100, np.array([[0, 1]]), dx=2)
    with pytest.raises(ValueError, match="dx"):
        test.pvalues_from_index(cov, 100, np.array([[0, 1]]), dx=0)
    with pytest.raises(ValueError, match="outside 0..3"):
        test.pvalues_from_index(cov, 100, np.array([[0, 4]]))
    with pytest.raises(ValueError, match="disjoint"):
        test.pvalues_from_index(cov, 100, np.array([[1, 1]]))


@pytest.mark.parametrize("scalar_test", ["fisher-z", "bartlett"])
@pytest.mark.parametrize("dx, dy", [(1, 1), (2, 1), (2, 3)])
def test_given_the_rest_equals_the_general_path(scalar_test, dx, dy):
    rng = np.random.default_rng(dx + 10 * dy)
    data = rng.standard_normal((400, 12)) @ rng.standard_normal((12, 12))
    cov = np.cov(data, rowvar=False)
    columns = [5, 0, 7, 2, 9, 4, 1, 11][: 4 * dx]  # any order
    targets = [columns[i * dx:(i + 1) * dx] for i in range(4)]
    y_idx = [3, 6, 8][:dy]
    test = FisherZ(scalar_test)
    statistics, pvalues = test.pvalues_given_the_rest(cov, 400, columns, targets, y_idx if dy > 1 else 3)
    queries = [(target, y_idx, [c for c in columns if c not in target]) for target in targets]
    expected_statistics, expected_pvalues = test.pvalues_from_covariance(cov, 400, queries)
    assert statistics == pytest.approx(expected_statistics, rel=1e-9, abs=1e-12)
    assert pvalues == pytest.approx(expected_pvalues, rel=1e-9, abs=1e-300)


def test_given_the_rest_refuses_what_the_general_path_refuses():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((50, 5))
    data[:, 4] = data[:, 0] + data[:, 1]  # collinear
    cov = np.cov(data, rowvar=False)
    test = FisherZ()
    with pytest.raises(ValueError, match="singular"):
        test.pvalues_given_the_rest(cov, 50, [0, 1, 4], [[0], [1]], 2)
    with pytest.raises(ValueError, match="one size"):
        test.pvalues_given_the_rest(cov, 50, [0, 1, 2], [[0], [1, 2]], 3)
    with pytest.raises(ValueError, match="not contain y_idx"):
        test.pvalues_given_the_rest(cov, 50, [0, 1, 2], [[0]], 2)
    with pytest.raises(ValueError, match="hold every target"):
        test.pvalues_given_the_rest(cov, 50, [0, 1], [[2]], 3)
    with pytest.raises(ValueError, match="too small for fisherz"):
        test.pvalues_given_the_rest(cov, 4, [0, 1, 2], [[0]], 3)
    with pytest.raises(ValueError, match="0..4"):
        test.pvalues_given_the_rest(cov, 50, [0, 7], [[0]], 3)
    assert [len(a) for a in test.pvalues_given_the_rest(cov, 50, [0, 1], [], 3)] == [0, 0]


@pytest.mark.parametrize("method, args", [("pvalues_from_covariance", (50, [(0, 1, (2,))])),
                                          ("pvalues_given_the_rest", (50, [0, 1], [[0]], 2))])
@pytest.mark.parametrize("mend, message", [(lambda c: c.__setitem__((1, 1), np.nan), "NaN or inf"),
                                           (lambda c: c.__setitem__((0, 1), 5.0), "symmetric"),
                                           (lambda c: c.__setitem__((2, 2), 0.0), "non-positive variance")])
def test_both_covariance_paths_check_cov_alike(method, args, mend, message):
    cov = np.cov(np.random.default_rng(0).standard_normal((50, 4)), rowvar=False)
    mend(cov)
    with pytest.raises(ValueError, match=message):
        getattr(FisherZ(), method)(cov, *args)


# ----------------------------------------------------------------------------------------- GCM
@pytest.mark.calibration
@pytest.mark.parametrize("d", [1, 3])
def test_gcm_is_calibrated_on_a_nonlinear_null(d):
    pvalues = [GCM(seed=s)(*nonlinear_pair(500, 10_000 + s, d=d)).pvalue for s in range(NULL_DRAWS)]
    assert CALIBRATED[0] <= rejections(pvalues) <= CALIBRATED[1]


def test_a_linear_test_is_not_calibrated_on_the_nonlinear_null():
    # x and y share nonlinear functions of z, which linear residuals keep
    linear = np.array([FisherZ()(*nonlinear_pair(1000, seed)).pvalue for seed in range(50)])
    assert np.mean(linear < 0.05) > 0.5


@pytest.mark.parametrize("d", [1, 3])
def test_gcm_rejects_a_nonlinear_dependence(d):
    # (that it accepts independence is test_gcm_is_calibrated_on_a_nonlinear_null's, over 1,000 draws)
    x, y, z = nonlinear_pair(2000, seed=1, dependence=0.3, d=d)
    result = GCM(seed=0)(x, y, z)
    assert result.pvalue < 1e-3 and result.dof == d * d


def test_gcm_linear_is_close_to_partial_correlation():
    x, y, z = gaussian_chain(2000, seed=4, dependence=0.05)
    gcm = GCM(regressor="linear")(x, y, z)
    fisher = FisherZ()(x, y, z)
    assert gcm.statistic == pytest.approx(fisher.statistic**2, rel=0.1)
    assert gcm.pvalue == pytest.approx(fisher.pvalue, abs=0.02)


def test_gcm_is_deterministic_under_a_seed():
    x, y, z = nonlinear_pair(600, seed=5, dependence=0.1)
    assert GCM(seed=3)(x, y, z) == GCM(seed=3)(x, y, z)
    assert GCM(seed=3)(x, y, z).statistic != GCM(seed=4)(x, y, z).statistic


# -------------------------------------------------------------------------------------- kNN CMI
def brute_force_cmi(x, y, z, k):
    def distances(a):
        if a.shape[1] == 0:
            return np.zeros((len(a), len(a)))
        return np.abs(a[:, None, :] - a[None, :, :]).max(axis=2)

    d_x, d_y, d_z = distances(x), distances(y), distances(z)
    joint = np.maximum(np.maximum(d_x, d_y), d_z)
    np.fill_diagonal(joint, np.inf)
    radius = np.sort(joint, axis=1)[:, k - 1][:, None]
    counts = [(np.maximum(a, b) < radius).sum(axis=1) - 1 for a, b in ((d_x, d_z), (d_y, d_z), (d_z, d_z))]
    digamma = special.digamma
    return digamma(k) - np.mean(digamma(counts[0] + 1) + digamma(counts[1] + 1) - digamma(counts[2] + 1))


@pytest.mark.parametrize("dz, m", [(2, 6), (2, 40), (0, 6), (3, 299)])
def test_knn_estimator_is_exact_whatever_the_neighbour_list_length(dz, m):
    x, y, z = nonlinear_pair(300, seed=6, dependence=0.3)
    z = z[:, :dz]
    estimator = _FrenzelPompe(x, y, z, k=5, width=m)
    assert estimator.cmi(x) == pytest.approx(brute_force_cmi(x, y, z, 5), abs=1e-12)
    shuffled = x[np.random.default_rng(0).permutation(300)]
    assert estimator.cmi(shuffled) == pytest.approx(brute_force_cmi(shuffled, y, z, 5), abs=1e-12)
    estimator.fit_lengths(np.full(300, 2), np.full(300, 2))  # lists cut to k + 1: mostly brute force
    assert estimator.cmi(shuffled) == pytest.approx(brute_force_cmi(shuffled, y, z, 5), abs=1e-12)


def test_local_permutation_stays_local_and_mostly_without_replacement():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((1000, 2))
    candidates = np.column_stack([np.arange(1000), _neighbour_lists(z, 4)[1]])
    perm = _local_permutation(candidates, np.random.default_rng(1))
    assert all(perm[i] in candidates[i] for i in range(1000))
    assert len(np.unique(perm)) > 0.9 * 1000
    assert np.array_equal(perm, _local_permutation(candidates, np.random.default_rng(1)))
    assert np.mean(perm != np.arange(1000)) > 0.5


def test_local_permutation_with_many_candidates():
    # with 30 candidates a late round can find no free candidate at all, which used to raise
    z = np.random.default_rng(2).standard_normal((200, 2))
    candidates = np.column_stack([np.arange(200), _neighbour_lists(z, 29)[1]])
    perm = _local_permutation(candidates, np.random.default_rng(3))
    assert all(perm[i] in candidates[i] for i in range(200))
    assert len(np.unique(perm)) > 0.85 * 200


@pytest.mark.calibration
def test_knn_cmi_is_calibrated_where_x_and_y_share_parents_in_z():
    # Where x and y both vary with z inside a z-neighbourhood, a local permutation blurs that
    # shared variation away and the null falls below the statistic. Residualising on z
    # removes the variation first (see KnnCMI's Notes); at n = 400, where the regressions
    # are poor, this setting still rejected 8.5% of 200 null cases at 0.05, and at n = 600 it
    # rejects 64 of 1,000, near the top of the window. 20 permutations: p < 0.05 exactly when
    # the statistic beats all 20, with probability 1/21 = 0.048 under the null (19 could never reject).
    # stop_after=1 stops at the first permutation that reaches the statistic (p = 1/k >= 1/20):
    # every decision at 0.05 is the one all 20 give, at a fraction of the permutations.
    pvalues = [KnnCMI(n_permutations=20, stop_after=1, seed=s)(*nonlinear_pair(600, seed=20_000 + s)).pvalue
               for s in range(NULL_DRAWS)]
    assert CALIBRATED[0] <= rejections(pvalues) <= CALIBRATED[1]


def test_knn_cmi_options_are_checked_and_the_unresidualised_scheme_still_runs():
    with pytest.raises(ValueError, match=r"residualize must be 'rff' or None; got 'linear'"):
        KnnCMI(residualize="linear")
    with pytest.raises(ValueError, match="include_self must be True or False"):
        KnnCMI(include_self="yes")
    with pytest.raises(ValueError, match="k_perm must be an integer >= 2"):
        KnnCMI(k_perm=1, include_self=True)
    x, y, z = nonlinear_pair(600, seed=7, dependence=0.6)
    old = KnnCMI(n_permutations=50, residualize=None, include_self=True, seed=0)
    assert old(x, y, z).pvalue < 0.05
    assert old(x, y, z).statistic != KnnCMI(n_permutations=50, seed=0)(x, y, z).statistic  # residuals differ


def test_knn_cmi_rejects_dependence_and_is_seeded():
    # (that it accepts independence is the calibration test's, over 1,000 null draws)
    x, y, z = nonlinear_pair(600, seed=7, dependence=0.6)
    test = KnnCMI(n_permutations=50, seed=0)
    assert test(x, y, z).pvalue < 0.05
    x, y, z = nonlinear_pair(600, seed=8)
    result = test(x, y, z)
    assert result.method == "knn-cmi" and 0 < result.pvalue <= 1
    assert result == KnnCMI(n_permutations=50, seed=0)(x, y, z)
    assert KnnCMI(k=0.02, n_permutations=5)(x, y).pvalue < 0.5  # marginal test, k as a fraction


def test_knn_cmi_agrees_with_tigramite(reference_library):
    cmiknn = reference_library("tigramite.independence_tests.cmiknn")
    x, y, z = nonlinear_pair(400, seed=9, dependence=0.4)
    theirs = cmiknn.CMIknn(knn=10, transform="ranks", sig_samples=10, workers=1)
    value = theirs.get_dependence_measure(np.column_stack([x, y, z]).T, np.array([0, 1] + [2] * z.shape[1]))
    ours = _FrenzelPompe(*(np.argsort(np.argsort(a, axis=0), axis=0) + 1.0 for a in (x, y, z)), k=10, width=100)
    assert ours.cmi(np.argsort(np.argsort(x, axis=0), axis=0) + 1.0) == pytest.approx(value, abs=1e-9)


# ----------------------------------------------------------------------------------- neural CMI
def test_neural_cmi_rejects_dependence_and_is_deterministic():
    # (that it accepts independence is test_neural_cmi_is_calibrated's, over 1,000 null draws)
    x, y, z = nonlinear_pair(800, seed=10, dependence=1.0)
    test = NeuralCMI(epochs=60, n_permutations=50, seed=0)
    dependent = test(x, y, z)
    assert dependent.pvalue < 0.05 and dependent.statistic > 0
    assert dependent == NeuralCMI(epochs=60, n_permutations=50, seed=0)(x, y, z)


@pytest.mark.calibration
def test_neural_cmi_is_calibrated():
    # small draws (n = 150, 10 epochs, 32 hidden units) keep 1,000 of them near 30 s on one core;
    # 20 permutations, as for kNN CMI (the critic is trained once per draw, not per permutation), and
    # stop_after=1 for the same reason: the decisions at 0.05 are those of all 20
    pvalues = [NeuralCMI(hidden=32, epochs=10, n_permutations=20, stop_after=1, seed=s)(
               *nonlinear_pair(150, 30_000 + s)).pvalue for s in range(NULL_DRAWS)]
    assert CALIBRATED[0] <= rejections(pvalues) <= CALIBRATED[1]


def test_neural_cmi_device_validation():
    import torch

    with pytest.raises(ValueError, match="device"):
        NeuralCMI(device="not-a-device")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            NeuralCMI(device="cuda")


# ------------------------------------------------------------------------------ the registry
def test_registry_and_ci_test():
    assert set(CI_TESTS) == {"fisherz", "knn-cmi", "gcm", "neural-cmi"}
    assert isinstance(get_ci_test("knn-cmi", seed=1, k=5), KnnCMI)
    x, y, z = gaussian_chain(200, seed=0)
    assert ci_test(x, y, z) == FisherZ()(x, y, z)
    assert ci_test(x, y, z, test="gcm", regressor="linear") == GCM(regressor="linear")(x, y, z)

    def my_test(x, y, z=None):
        return CITestResult(statistic=0.0, pvalue=0.5, method="mine", n=len(x))

    assert get_ci_test(my_test) is my_test
    assert ci_test(x, y, z, test=my_test).pvalue == 0.5
    with pytest.raises(ValueError, match=r"unknown CI test 'kci'; choose one of \['fisherz', 'gcm', 'knn-cmi', "
                                         r"'neural-cmi'\]"):
        get_ci_test("kci")
    with pytest.raises(ValueError, match="does not take the option"):
        get_ci_test("fisherz", seed=0)
    with pytest.raises(ValueError, match="only configure a test given by name"):
        get_ci_test(my_test, seed=0)
    with pytest.raises(ValueError, match="callable"):
        get_ci_test(3)


def test_method_is_the_deprecated_old_name_of_test():
    x, y, z = gaussian_chain(200, seed=0)
    with pytest.warns(DeprecationWarning, match=r"ci_test\(method=...\) is deprecated; .* test= everywhere"):
        old = ci_test(x, y, z, method="gcm", regressor="linear")
    assert old == ci_test(x, y, z, test="gcm", regressor="linear")
    with pytest.warns(DeprecationWarning, match="get_ci_test"):
        assert isinstance(get_ci_test(method="knn-cmi"), KnnCMI)
    with pytest.raises(ValueError, match="test= only"):
        ci_test(x, y, z, test="gcm", method="gcm")
    for bad in ({"test": None}, {"method": None}):  # None is no test, under either name
        with pytest.warns(DeprecationWarning) if "method" in bad else nullcontext():
            with pytest.raises(ValueError, match="test must be one of"):
                ci_test(x, y, z, **bad)


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("method", list(CI_TESTS))
def test_bad_data_is_refused_with_the_argument_named(method):
    test = get_ci_test(method)
    x, y, z = gaussian_chain(200, seed=0)
    with pytest.raises(ValueError, match=r"x must be 1-D \(n,\) or 2-D"):
        test(x.reshape(10, 10, 2), y, z)
    with pytest.raises(ValueError, match="same number of samples.*y has 199"):
        test(x, y[:-1], z)
    with pytest.raises(ValueError, match="same number of samples.*z has 150"):
        test(x, y, z[:150])
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or inf.*row 3"):
        test(x, bad, z)
    bad = z.copy()
    bad[5, 1] = np.inf
    with pytest.raises(ValueError, match="z contains NaN or inf"):
        test(x, y, bad)
    with pytest.raises(ValueError, match="x has a constant column"):
        test(np.column_stack([x, np.ones(200)]), y, z)
    with pytest.raises(ValueError, match="x has no columns"):
        test(np.empty((200, 0)), y, z)


def test_fisherz_singular_covariance_names_the_argument():
    x, y, z = gaussian_chain(200, seed=0)
    with pytest.raises(ValueError, match="z has columns that are collinear"):
        FisherZ()(x, y, np.column_stack([z, z[:, 0] - 2 * z[:, 1]]))
    with pytest.raises(ValueError, match="x has columns that are collinear with each other or with z"):
        FisherZ()(np.column_stack([x, 2 * x]), y, z)
    with pytest.raises(ValueError, match="x has columns that are collinear .* with z"):
        FisherZ()(z[:, 0] + z[:, 1], y, z)
    with pytest.raises(ValueError, match="y has columns that are collinear"):
        FisherZ()(x, x - z[:, 0], z)


def test_gcm_refuses_collinear_columns():
    x, y, z = nonlinear_pair(300, seed=0)
    with pytest.raises(ValueError, match="residual products have a singular covariance"):
        GCM()(np.column_stack([x, -x]), y, z)


@pytest.mark.parametrize("test, n, match", [
    (FisherZ(), 6, r"fisherz: it needs n >= 7"),        # |Z| = 3: n - |Z| - 3 must be positive
    (GCM(), 19, r"gcm: it needs n >= 20"),
    (KnnCMI(k=10), 39, r"knn-cmi: it needs n >= 40"),
    (NeuralCMI(), 39, r"neural-cmi: it needs n >= 40"),
])
def test_too_few_samples(test, n, match):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=match):
        test(rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((n, 3)))


def test_bad_options():
    for make, match in [
        (lambda: FisherZ(scalar_test="t"), "scalar_test must be one of"),
        (lambda: GCM(regressor="forest"), "regressor must be one of"),
        (lambda: GCM(seed=-1), "seed must be an integer in \\[0, 2\\*\\*32\\)"),
        (lambda: KnnCMI(k=0), "k must be an integer >= 1"),
        (lambda: KnnCMI(k=1.5), "k must be an integer >= 1 or a fraction"),
        (lambda: KnnCMI(transform="log"), "transform must be one of"),
        (lambda: KnnCMI(n_permutations=0), "n_permutations must be an integer >= 1"),
        (lambda: NeuralCMI(epochs=0), "epochs must be an integer >= 1"),
        (lambda: NeuralCMI(seed=1.5), "seed must be an integer"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()


def test_batched_fisherz_bad_input():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((100, 4))
    cov = np.cov(data, rowvar=False)
    test = FisherZ()
    with pytest.raises(ValueError, match="square"):
        test.pvalues_from_covariance(cov[:3], 100, [(0, 1, [])])
    with pytest.raises(ValueError, match="NaN"):
        test.pvalues_from_covariance(np.full((4, 4), np.nan), 100, [(0, 1, [])])
    with pytest.raises(ValueError, match="symmetric"):
        test.pvalues_from_covariance(cov + np.triu(np.ones((4, 4)), 1), 100, [(0, 1, [])])
    with pytest.raises(ValueError, match=r"queries\[1\] has a column index outside 0..3"):
        test.pvalues_from_covariance(cov, 100, [(0, 1, []), (0, 4, [])])
    with pytest.raises(ValueError, match=r"queries\[0\].*disjoint"):
        test.pvalues_from_covariance(cov, 100, [(0, 1, [1])])
    with pytest.raises(ValueError, match=r"queries\[0\] must be a tuple"):
        test.pvalues_from_covariance(cov, 100, [(0, 1)])
    with pytest.raises(ValueError, match=r"queries\[1\]: column indices must be integers"):
        test.pvalues_from_covariance(cov, 100, [(0, 1, [2]), (0, 1, [2.5])])
    with pytest.raises(ValueError, match=r"queries\[0\]: x_idx and y_idx must name at least one column"):
        test.pvalues_from_covariance(cov, 100, [([], 1, [2])])
    with pytest.raises(ValueError, match="n = 5 samples is too small"):
        test.pvalues_from_covariance(cov, 5, [(0, 1, [2, 3])])
    singular = np.cov(np.column_stack([data, data[:, 0] + data[:, 1]]), rowvar=False)
    with pytest.raises(ValueError, match=r"queries\[1\]: the covariance of \(x, y, z\) is singular"):
        test.pvalues_from_covariance(singular, 100, [(0, 1, [2]), (4, 2, [0, 1])])
    with pytest.raises(ValueError, match="non-positive variance"):
        test.pvalues_from_covariance(np.diag([1.0, 0.0, 1.0]), 100, [(0, 2, [])])


def test_the_protocols_say_what_each_test_offers():
    from specbook.ci import CITest, CovarianceCITest, PermutationCITest

    offers = {name: (isinstance(cls(), CovarianceCITest), isinstance(cls(), PermutationCITest))
              for name, cls in CI_TESTS.items()}
    assert offers == {"fisherz": (True, False), "gcm": (False, False), "knn-cmi": (False, True),
                      "neural-cmi": (False, True)}

    def my_test(x, y, z=None):
        return CITestResult(statistic=0.0, pvalue=0.5, method="mine", n=len(x))

    assert isinstance(my_test, CITest) and not isinstance(my_test, CovarianceCITest)
    assert not isinstance(3, CITest)
