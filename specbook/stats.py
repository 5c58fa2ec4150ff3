"""Small statistics shared by the chapters and the tests."""
from __future__ import annotations

import numpy as np

from .validation import as_real_array, check_int

__all__ = ["partial_correlation", "covariance_z_scores", "standardise"]


def partial_correlation(cov, x, y, given=()):
    """Partial correlation of coordinates `x` and `y` given the coordinates `given`.

    Parameters
    ----------
    cov : ndarray of shape (D, D)
        A covariance matrix (population or sample).
    x, y : int
        Indices of the two coordinates.
    given : sequence of int, default=()
        Indices of the conditioning coordinates.

    Returns
    -------
    float
        ``-P[x, y] / sqrt(P[x, x] P[y, y])`` with ``P`` the inverse of the covariance of
        ``(x, y, given)``; the ordinary correlation when `given` is empty.
    """
    cov = as_real_array(cov, "cov")
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"cov must be a square matrix; got shape {cov.shape}.")
    if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
        raise ValueError(f"given must be a sequence of coordinate indices; got {given!r}.")
    given = list(given)
    D = cov.shape[0]
    names = ["x", "y", *(f"given[{i}]" for i in range(len(given)))]
    idx = [check_int(index, name, 0, D - 1) for index, name in zip([x, y, *given], names)]
    if len(set(idx)) != len(idx):
        raise ValueError(f"x, y and given must be distinct coordinates; got x={x}, y={y}, given={given}.")
    sub = cov[np.ix_(idx, idx)]
    if not np.all(np.isfinite(sub)):
        raise ValueError("cov contains NaN or inf.")
    if not np.allclose(sub, sub.T) or (np.diag(sub) <= 0).any():
        raise ValueError("cov must be a covariance matrix: symmetric, with positive variances on the diagonal.")
    try:
        precision = np.linalg.inv(sub)
    except np.linalg.LinAlgError:
        raise ValueError("the covariance of (x, y, given) is singular: "
                         "a coordinate is constant or collinear.") from None
    return float(-precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1]))


def covariance_z_scores(samples, population_cov):
    """Standardised errors of a sample covariance against a Gaussian population's.

    For ``n`` Gaussian draws the sample covariance entry ``S_ij`` has variance
    ``(C_ii C_jj + C_ij**2) / n`` around the population entry ``C_ij``; dividing the
    error by that standard error gives z-scores that are close to standard normal
    when the samples do come from the population.

    Parameters
    ----------
    samples : ndarray of shape (n, D)
    population_cov : ndarray of shape (D, D)

    Returns
    -------
    ndarray of shape (D * (D + 1) // 2,)
        The z-scores of the entries on and above the diagonal.
    """
    samples = as_real_array(samples, "samples")
    population_cov = as_real_array(population_cov, "population_cov")
    if samples.ndim != 2 or samples.shape[1] == 0:
        raise ValueError(f"samples must have shape (n, D) with D >= 1; got shape {samples.shape}.")
    n, D = samples.shape
    if population_cov.shape != (D, D):
        raise ValueError(f"population_cov must have shape ({D}, {D}) to match samples; got {population_cov.shape}.")
    if n < 2:
        raise ValueError(f"samples needs at least 2 rows to estimate a covariance; got n={n}.")
    if not (np.all(np.isfinite(samples)) and np.all(np.isfinite(population_cov))):
        raise ValueError("samples and population_cov must be finite (no NaN or inf).")
    if not np.allclose(population_cov, population_cov.T) or (np.diag(population_cov) <= 0).any():
        raise ValueError("population_cov must be a covariance matrix: symmetric, with positive variances on the "
                         "diagonal.")
    sample_cov = np.cov(samples, rowvar=False)
    var = np.diag(population_cov)
    se = np.sqrt((np.outer(var, var) + population_cov**2) / n)
    rows, cols = np.triu_indices(D)
    return (sample_cov - population_cov)[rows, cols] / se[rows, cols]


def standardise(a):
    """Each column of `a` shifted and scaled to mean 0 and (population) standard deviation 1.

    A constant column has no scale: its entries become NaN (callers check their inputs first).
    """
    return (a - a.mean(axis=0)) / a.std(axis=0)
