import numpy as np
import pytest

from specbook.stats import covariance_z_scores, partial_correlation


def test_partial_correlation_matches_residual_regression():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5_000, 2))
    x = z @ [1.0, -0.5] + rng.standard_normal(5_000)
    y = z @ [0.3, 0.8] + 0.4 * x + rng.standard_normal(5_000)
    data = np.column_stack([x, y, z])
    cov = np.cov(data, rowvar=False)
    design = np.column_stack([np.ones(5_000), z])
    rx = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    ry = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    assert partial_correlation(cov, 0, 1, [2, 3]) == pytest.approx(np.corrcoef(rx, ry)[0, 1], abs=1e-10)
    assert partial_correlation(cov, 0, 1) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-10)


def test_partial_correlation_errors():
    with pytest.raises(ValueError, match="square"):
        partial_correlation(np.ones((2, 3)), 0, 1)
    with pytest.raises(ValueError, match="distinct"):
        partial_correlation(np.eye(3), 0, 0)
    with pytest.raises(ValueError, match="singular"):
        partial_correlation(np.ones((3, 3)), 0, 1, [2])
    with pytest.raises(ValueError, match="NaN"):
        partial_correlation(np.full((2, 2), np.nan), 0, 1)
    with pytest.raises(ValueError, match=r"y must be an integer in \[0, 2\]; got 3"):
        partial_correlation(np.eye(3), 0, 3)
    with pytest.raises(ValueError, match=r"given\[1\] must be an integer in \[0, 2\]; got 1.0"):
        partial_correlation(np.eye(3), 0, 1, [2, 1.0])
    assert partial_correlation(np.eye(3), np.int64(0), 2, [np.int64(1)]) == 0


def test_covariance_z_scores_are_standard_normal_under_the_model_and_not_otherwise():
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 1.0]])
    zs = np.concatenate([
        covariance_z_scores(rng.multivariate_normal(np.zeros(3), cov, size=2_000), cov) for _ in range(400)
    ])
    assert zs.shape == (400 * 6,)
    assert abs(zs.mean()) < 0.1 and 0.9 < zs.std() < 1.1
    wrong = covariance_z_scores(rng.multivariate_normal(np.zeros(3), np.eye(3), size=2_000), cov)
    assert np.abs(wrong).max() > 10


def test_covariance_z_scores_errors():
    with pytest.raises(ValueError, match="shape"):
        covariance_z_scores(np.ones(5), np.eye(1))
    with pytest.raises(ValueError, match="population_cov must have shape"):
        covariance_z_scores(np.ones((5, 2)), np.eye(3))
    with pytest.raises(ValueError, match="at least 2 rows"):
        covariance_z_scores(np.ones((1, 2)), np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        covariance_z_scores(np.full((5, 2), np.nan), np.eye(2))
