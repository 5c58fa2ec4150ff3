import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef

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
