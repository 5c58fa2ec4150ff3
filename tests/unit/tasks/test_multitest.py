import numpy as np
import pytest

from specbook.tasks.multitest import reject


def test_rules_on_a_known_example():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert reject(p, 0.05).sum() == 5
    assert reject(p, 0.05, "bonferroni").tolist() == [True] + [False] * 9
    assert reject(p, 0.05, "holm").sum() == 1  # 0.008 > 0.05 / 9
    assert reject(p, 0.05, "bh").sum() == 2    # 0.008 <= 2 * 0.05 / 10, 0.039 > 3 * 0.005
    assert reject(p, 0.05, "by").sum() == 1


def test_bh_matches_scipy():
    from scipy.stats import false_discovery_control

    rng = np.random.default_rng(0)
    for _ in range(50):
        p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.01, size=rng.integers(0, 10))])
        for method, name in (("bh", "bh"), ("by", "by")):
            assert np.array_equal(reject(p, 0.1, method), false_discovery_control(p, method=name) <= 0.1)


def test_order_is_kept_and_errors():
    p = np.array([0.5, 1e-9, 0.2])
    assert reject(p, 0.05, "holm").tolist() == [False, True, False]
    assert reject([], 0.05, "holm").size == 0
    with pytest.raises(ValueError, match="alpha"):
        reject(p, 1.5)
    with pytest.raises(ValueError, match="correction"):
        reject(p, 0.05, "fdr")
