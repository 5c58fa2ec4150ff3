"""Scores that compare what a method found with the truth."""
from __future__ import annotations

import numpy as np

__all__ = ["structure_scores"]


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
        raise ValueError(f"true and found must be (N, M) matrices of the same shape; got {true.shape} and {found.shape}.")
    if true.dtype != bool or found.dtype != bool:
        raise ValueError("true and found must be boolean matrices (True where a segment serves a task).")
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
