"""Rules for combining many p-values into decisions."""
from __future__ import annotations

import numpy as np

from ..validation import as_real_array, check_probability

__all__ = ["CORRECTIONS", "reject", "check_alpha", "check_correction"]

#: ``None`` rejects every test with ``p < alpha`` (the paper's rule for Algorithm 1).
#: "bonferroni" and "holm" control the family-wise error under any dependence between the
#: tests; "bh" (Benjamini-Hochberg) controls the false discovery rate for independent or
#: positively dependent tests, "by" (Benjamini-Yekutieli) under any dependence.
CORRECTIONS = (None, "bonferroni", "holm", "bh", "by")


def check_alpha(alpha):
    """`alpha` as a float, or a ValueError when it is not a level in (0, 1)."""
    return check_probability(alpha, "alpha")


def check_correction(correction):
    """`correction`, or a ValueError listing :data:`CORRECTIONS`."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; got {correction!r}.")
    return correction


def reject(pvalues, alpha, correction=None):
    """Which of the tests to reject under a multiple-testing rule.

    Parameters
    ----------
    pvalues : array-like of shape (m,)
    alpha : float
        Level in (0, 1).
    correction : {None, "bonferroni", "holm", "bh", "by"}, default=None

    Returns
    -------
    ndarray of shape (m,), bool

    Raises
    ------
    ValueError
        For a bad `alpha` or `correction`, `pvalues` that is not 1-D, or a p-value that is
        not a number in [0, 1] (NaN included: it is neither evidence for nor against).
    """
    alpha = check_alpha(alpha)
    correction = check_correction(correction)
    pvalues = as_real_array(pvalues, "pvalues")
    if pvalues.ndim != 1:
        raise ValueError(f"pvalues must be 1-D (m,); got shape {pvalues.shape}: pass pvalues.ravel().")
    bad = np.flatnonzero(~((pvalues >= 0) & (pvalues <= 1)))
    if bad.size:
        raise ValueError(f"pvalues must lie in [0, 1]; pvalues[{bad[0]}] is {float(pvalues[bad[0]])!r}.")
    m = pvalues.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    if correction is None:
        return pvalues < alpha
    if correction == "bonferroni":
        return pvalues < alpha / m
    order = np.argsort(pvalues, kind="stable")
    sorted_p = pvalues[order]
    if correction == "holm":
        passing = sorted_p < alpha / (m - np.arange(m))
        n_reject = m if passing.all() else int(np.argmin(passing))
    else:  # step-up: the largest j with p_(j) <= j alpha / (m c), c = 1 (BH) or sum 1/i (BY)
        c = 1.0 if correction == "bh" else float(np.sum(1.0 / np.arange(1, m + 1)))
        below = np.flatnonzero(sorted_p <= alpha * np.arange(1, m + 1) / (m * c))
        n_reject = 0 if below.size == 0 else int(below[-1]) + 1
    decisions = np.zeros(m, dtype=bool)
    decisions[order[:n_reject]] = True
    return decisions
