import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef

import specbook as sb
from specbook.metrics import structure_scores


def test_structure_scores_match_scikit_learn():
    rng = np.random.default_rng(0)
    for _ in range(50):
        true = rng.random((10, 4)) < 0.3
        found = rng.random((10, 4)) < 0.4
        scores = structure_scores(true, found)
        assert scores["accuracy"] == pytest.approx((true == found).mean())
        assert scores["mcc"] == pytest.approx(matthews_corrcoef(true.ravel(), found.ravel()))
        assert scores["false_positives"] == int((found & ~true).sum())


def test_perfect_and_degenerate():
    true = np.eye(4, dtype=bool)
    assert structure_scores(true, true)["mcc"] == 1.0 and structure_scores(true, true)["accuracy"] == 1.0
    empty = structure_scores(true, np.zeros_like(true))
    assert empty["mcc"] == 0.0 and np.isnan(empty["precision"]) and empty["recall"] == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        structure_scores(np.zeros((2, 2), bool), np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match="boolean"):
        structure_scores(np.zeros((2, 2)), np.zeros((2, 2)))


# ----------------------------------------------------------------------------- Layer 2
import torch  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsRegressor  # noqa: E402

from specbook.metrics import block_r2, jacobian_magnitudes, jacobian_support, mean_corr_coef  # noqa: E402


def test_block_r2_matches_a_direct_scikit_learn_computation():
    rng = np.random.default_rng(0)
    est = rng.standard_normal((600, 3))
    true = np.column_stack([est[:, 0] + 0.3 * rng.standard_normal(600), np.sin(est[:, 1]) + est[:, 2]])
    train_t, test_t, train_e, test_e = train_test_split(true, est, test_size=0.5, random_state=4)
    reference = r2_score(test_t, LinearRegression().fit(train_e, train_t).predict(test_e))
    assert block_r2(true, est, "linear", seed=4) == pytest.approx(reference)
    knn = KNeighborsRegressor(10)
    reference = r2_score(test_t, KNeighborsRegressor(10).fit(train_e, train_t).predict(test_e))
    assert block_r2(true, est, knn, seed=4) == pytest.approx(reference)


def test_block_r2_tells_determined_from_independent_blocks():
    rng = np.random.default_rng(1)
    est = rng.standard_normal((2000, 2))
    determined = np.column_stack([np.tanh(2 * est[:, 0]) * est[:, 1], est[:, 0] ** 3])
    assert block_r2(determined, est, "kernel") > 0.9
    assert block_r2(determined, est, "linear") < block_r2(determined, est, "kernel")
    assert abs(block_r2(rng.standard_normal((2000, 2)), est, "kernel")) < 0.02
    assert abs(block_r2(determined, np.empty((2000, 0)))) < 0.02


def test_mean_corr_coef_matches_hungarian_reference_and_finds_the_permutation():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((1000, 4))
    permutation = np.array([2, 0, 3, 1])
    est = -2.0 * z[:, permutation] + 0.5 * rng.standard_normal((1000, 4))
    score, matching = mean_corr_coef(z, est, return_matching=True)
    assert np.array_equal(permutation[matching], np.arange(4))
    correlation = np.abs(np.corrcoef(z.T, est.T)[:4, 4:])
    rows, cols = linear_sum_assignment(-correlation)
    assert score == pytest.approx(correlation[rows, cols].mean())
    cubed = mean_corr_coef(z, est ** 3, method="spearman")
    assert cubed == pytest.approx(mean_corr_coef(z, est, method="spearman"))
    assert cubed > mean_corr_coef(z, est ** 3)


def test_jacobian_support_reads_which_inputs_a_map_uses():
    def fn(x):
        return torch.stack([x[:, 0] * x[:, 1], torch.sin(x[:, 2]), 1e-4 * x[:, 0] + x[:, 3] ** 2], dim=1)

    x = np.random.default_rng(3).standard_normal((500, 4))
    expected = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=bool)
    assert np.array_equal(jacobian_support(fn, x), expected)
    assert jacobian_support(fn, x, tol=0.0)[2, 0]  # the tiny term is there, only below the tolerance
    magnitudes = jacobian_magnitudes(fn, x)
    assert magnitudes[1, 2] == pytest.approx(np.abs(np.cos(x[:, 2])).mean(), rel=1e-5)


def test_layer2_metrics_bad_input():
    z = np.zeros((10, 2)) + np.arange(10)[:, None]
    with pytest.raises(ValueError, match="same number of samples"):
        block_r2(z, z[:5])
    with pytest.raises(ValueError, match="regressor"):
        block_r2(z, z, regressor="forest")
    with pytest.raises(ValueError, match="NaN"):
        block_r2(np.full((10, 1), np.nan), z)
    with pytest.raises(ValueError, match="test_fraction"):
        block_r2(z, z, test_fraction=1.5)
    with pytest.raises(ValueError, match="constant columns"):
        mean_corr_coef(np.ones((10, 2)), z)
    with pytest.raises(ValueError, match="method"):
        mean_corr_coef(z, z, method="kendall")
    with pytest.raises(ValueError, match="tol"):
        jacobian_support(lambda x: x, z, tol=2)
    with pytest.raises(ValueError, match="fn must map"):
        jacobian_support(lambda x: x.sum(), z)


def test_pair_truth_and_mean_average_precision():
    from sklearn.metrics import average_precision_score

    A = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], dtype=bool)
    truth = sb.metrics.pair_truth(A)
    assert truth.shape == (2, 4, 4)
    assert {tuple(p) for p in np.argwhere(truth[0])} == {(0, 1), (0, 3), (1, 3)}
    assert {tuple(p) for p in np.argwhere(truth[1])} == {(1, 2)}
    perfect = np.where(truth, 2.0, 1.0)
    perfect[:, np.tril_indices(4)[0], np.tril_indices(4)[1]] = np.nan
    assert sb.metrics.mean_average_precision(A, perfect) == 1.0
    rng = np.random.default_rng(0)
    stats = rng.random((2, 4, 4))
    value, per_task = sb.metrics.mean_average_precision(A, stats, per_task=True)
    upper = np.triu_indices(4, k=1)
    expected = [average_precision_score(truth[i][upper], stats[i][upper]) for i in range(2)]
    assert np.allclose(per_task, expected) and value == pytest.approx(np.mean(expected))
    # a reversed ranking is worse than the perfect one
    assert sb.metrics.mean_average_precision(A, -np.nan_to_num(perfect)) < 1.0


def test_mean_average_precision_bad_input():
    A = np.array([[1, 0], [1, 0], [0, 1]], dtype=bool)  # task 2 has a single segment: no dependent pair
    stats = np.ones((2, 3, 3))
    value, per_task = sb.metrics.mean_average_precision(A, stats, per_task=True)
    assert np.isnan(per_task[1]) and value == pytest.approx(1 / 3)  # tied scores: the share of dependent pairs
    with pytest.raises(ValueError, match=r"shape \(M, N, N\)"):
        sb.metrics.mean_average_precision(A, np.ones((2, 4, 4)))
    bad = stats.copy()
    bad[0, 0, 1] = np.nan
    with pytest.raises(ValueError, match="finite statistic"):
        sb.metrics.mean_average_precision(A, bad)
    with pytest.raises(ValueError, match="no task has a dependent pair"):
        sb.metrics.mean_average_precision(np.eye(3, 2, dtype=bool), stats)
    assert np.array_equal(sb.metrics.pair_truth(A.astype(int)), sb.metrics.pair_truth(A))  # 0/1 read as booleans
    with pytest.raises(ValueError, match="boolean matrix"):
        sb.metrics.pair_truth(2 * A.astype(int))
    with pytest.raises(ValueError, match="boolean matrix"):
        sb.metrics.pair_truth(A.astype(float))


def test_map_chance_level_is_the_mean_map_of_random_rankings_and_above_the_share():
    rng = np.random.default_rng(0)
    for assignment in (np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], dtype=bool),
                       rng.random((7, 3)) < 0.4):
        truth = sb.metrics.pair_truth(assignment)
        if not truth.any():
            continue
        exact = sb.metrics.map_chance_level(assignment)
        draws = [sb.metrics.mean_average_precision(assignment, rng.random(truth.shape)) for _ in range(1_000)]
        standard_error = np.std(draws) / np.sqrt(len(draws))
        assert abs(np.mean(draws) - exact) < 4 * standard_error
        n = truth.shape[1] * (truth.shape[1] - 1) / 2
        shares = truth.sum(axis=(1, 2)) / n
        assert exact > np.mean(shares[shares > 0])


def test_map_chance_level_edge_cases():
    n = 6 * 5 // 2
    one_pair = np.array([[1], [1], [0], [0], [0], [0]], dtype=bool)  # one dependent pair of 15
    assert sb.metrics.map_chance_level(one_pair) == pytest.approx(np.sum(1 / np.arange(1, n + 1)) / n)
    every_pair = np.ones((4, 2), dtype=bool)
    assert sb.metrics.map_chance_level(every_pair) == pytest.approx(1.0)
    assert sb.metrics.map_chance_level(np.array([[1], [1]], dtype=bool)) == 1.0  # one pair, dependent
    with pytest.raises(ValueError, match="no task has a dependent pair"):
        sb.metrics.map_chance_level(np.array([[1, 0], [0, 1], [0, 0]], dtype=bool))
