"""Cross-fitted ridge regressions on random Fourier features of z, and their residuals.

Private helpers shared by :class:`~specbook.ci.GCM`, :class:`~specbook.ci.KnnCMI` and
:class:`~specbook.ci.NeuralCMI`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ..stats import standardise

# Design of the "rff" regressor (see GCM): Gaussian-kernel random Fourier features of the
# standardised z at these multiples of the median pairwise distance, 1-D random Fourier features
# of every coordinate (an additive part, which high-dimensional isotropic kernels fit poorly),
# and z itself. Ridge penalties are tried relative to the mean eigenvalue of the feature Gram.
_BANDWIDTH_FACTORS = (0.5, 1.0, 2.0)
_ADDITIVE_PAIRS = 6          # cos/sin pairs per coordinate of z
_RIDGE_GRID = np.logspace(-6, 2, 17)
_MEDIAN_SAMPLE = 1000        # rows used for the median heuristic
_LEVERAGE_SAMPLE = 512       # rows used to estimate the sum of products of leverages


def _random_features(z, n_features, rng):
    z = standardise(z)
    sample = z[rng.choice(len(z), size=min(len(z), _MEDIAN_SAMPLE), replace=False)]
    squared = (sample**2).sum(axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * sample @ sample.T, 0.0))
    median = np.median(distances[np.triu_indices(len(sample), k=1)])
    half = n_features // 2
    frequencies = [rng.standard_normal((z.shape[1], half)) / (factor * median) for factor in _BANDWIDTH_FACTORS]
    additive = rng.standard_normal((z.shape[1], _ADDITIVE_PAIRS))
    # Single precision halves the cost of the sines and cosines; the features are random anyway.
    z32 = z.astype(np.float32)
    angles = [z32 @ omega.astype(np.float32) for omega in frequencies]
    angles.append((z32[:, :, None] * additive.astype(np.float32)).reshape(len(z), -1))
    scales = [np.sqrt(half)] * len(frequencies) + [np.sqrt(_ADDITIVE_PAIRS)]
    blocks = [z] + [np.hstack([np.cos(a), np.sin(a)]) / scale for a, scale in zip(angles, scales)]
    return np.hstack(blocks)


@dataclass
class _RidgeFold:
    """Ridge regressions fitted on one fold and evaluated on the other.

    ``shrinks[b]`` holds ``1 / (s + lambda_b)`` for the eigenvalues ``s`` of the training Gram
    matrix; ``leverage_sum`` estimates ``sum_i (1 + hx_i) (1 + hy_i)`` over the evaluation rows,
    with ``h_i`` the squared norm of row i of the cross-fold smoother.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    shrinks: list
    predictions: list
    leverage_sum: float


def _ridge_fold(features, targets, blocks, train, test, rng):
    """Fit one ridge regression per block of target columns on `train`, the penalty chosen by GCV."""
    feature_mean, target_mean = features[train].mean(axis=0), targets[train].mean(axis=0)
    centred = features[train] - feature_mean
    centred_targets = targets[train] - target_mean
    n = len(train)
    eigenvalues, eigenvectors = linalg.eigh(centred.T @ centred, driver="evd", check_finite=False)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    projected = eigenvectors.T @ (centred.T @ centred_targets)          # (p, columns)
    shrink_grid = 1.0 / (eigenvalues[None, :] + eigenvalues.mean() * _RIDGE_GRID[:, None])
    dof = (eigenvalues[None, :] * shrink_grid).sum(axis=1)               # trace of the hat matrix
    # RSS(lambda) = |t|^2 - sum_j c_j^2 (2 / (s_j + lambda) - s_j / (s_j + lambda)^2)
    rss_weights = 2 * shrink_grid - eigenvalues[None, :] * shrink_grid**2
    evaluation = features[test] - feature_mean
    rows = rng.choice(len(test), size=min(len(test), _LEVERAGE_SAMPLE), replace=False)
    rotated_squared = (evaluation[rows] @ eigenvectors) ** 2
    shrinks, predictions, leverages = [], [], []
    for block in blocks:
        rss = (centred_targets[:, block] ** 2).sum() - rss_weights @ (projected[:, block] ** 2).sum(axis=1)
        shrink = shrink_grid[np.argmin(rss / (n * (1 - dof / n) ** 2))]
        coefficients = eigenvectors @ (shrink[:, None] * projected[:, block])
        shrinks.append(shrink)
        predictions.append(evaluation @ coefficients + target_mean[block])
        leverages.append(rotated_squared @ (eigenvalues * shrink**2))
    leverage_sum = len(test) * float(np.mean((1 + leverages[0]) * (1 + leverages[1])))
    return _RidgeFold(eigenvalues, eigenvectors, shrinks, predictions, leverage_sum)


def _crossfit_variance_factor(fit_a, fit_b, n_a, n_b):
    """Factor by which cross-fitting inflates the variance of the sum of residual products.

    With residuals ``r_x = Q_x e_x`` and ``r_y = Q_y e_y`` (``Q = I - S``, ``S`` the cross-fold
    smoother: rows of fold A are predicted from fold B and vice versa) and independent
    homoscedastic noise, ``Var(r_x' r_y) = sx^2 sy^2 <Q_x Q_x', Q_y Q_y'>_F`` while the
    per-sample variance estimate sums to ``sx^2 sy^2 sum_i (Q_x Q_x')_ii (Q_y Q_y')_ii``.
    The ratio exceeds 1 by O(dof / n): a residual depends on the other fold's noise, which
    makes products across folds correlated. Every trace reduces to eigenvalues of the two
    folds' Gram matrices and the overlaps of their eigenvectors, so this costs O(p^3).

    `fit_a` is fitted on fold A (it predicts fold B) and `fit_b` on fold B.
    """
    s_a, s_b = fit_a.eigenvalues, fit_b.eigenvalues
    (x_a, y_a), (x_b, y_b) = fit_a.shrinks, fit_b.shrinks
    overlap = fit_b.eigenvectors.T @ fit_a.eigenvectors                # U = V_B' V_A
    overlap_squared = overlap**2
    gram_a_in_b = (overlap * s_a) @ overlap.T                          # V_B' G_A V_B
    gram_b_in_a = (overlap.T * s_b) @ overlap                          # V_A' G_B V_A

    def within(x_shrink, y_shrink, s_train, gram_eval_in_train, n_eval):
        # <I + Sx Sx', I + Sy Sy'> over the evaluation fold; Sx Sx' = F_e M G_t M F_e'
        kx, ky = s_train * x_shrink**2, s_train * y_shrink**2
        diagonal = np.diag(gram_eval_in_train)
        return n_eval + kx @ diagonal + ky @ diagonal + kx @ gram_eval_in_train**2 @ ky

    numerator = within(x_b, y_b, s_b, gram_a_in_b, n_a) + within(x_a, y_a, s_a, gram_b_in_a, n_b)
    across = ((x_b * y_b * s_b) @ np.diag(gram_a_in_b) + (x_b * s_b) @ overlap_squared @ (s_a * y_a)
              + (y_b * s_b) @ overlap_squared @ (s_a * x_a) + (x_a * y_a * s_a) @ np.diag(gram_b_in_a))
    numerator += 2 * across
    return max(1.0, numerator / (fit_a.leverage_sum + fit_b.leverage_sum))


def _crossfit_residuals(targets, z, dx, n_features, rng):
    """Out-of-fold residuals of the [x, y] `targets` (x = the first `dx` columns) on z, and kappa.

    Ridge regression on random features of z (see :class:`GCM`), one penalty for x's columns
    and one for y's, each fitted on one half of the samples and evaluated on the other.
    """
    n = len(z)
    # A feature count beyond n / 16 per bandwidth only costs time at small n.
    features = _random_features(z, max(2, min(n_features, n // 16)), rng)
    fold_a, fold_b = np.array_split(rng.permutation(n), 2)
    blocks = (slice(0, dx), slice(dx, targets.shape[1]))
    fit_a = _ridge_fold(features, targets, blocks, fold_a, fold_b, rng)
    fit_b = _ridge_fold(features, targets, blocks, fold_b, fold_a, rng)
    residuals = np.empty_like(targets)
    for fit, rows in ((fit_a, fold_b), (fit_b, fold_a)):
        for block, prediction in zip(blocks, fit.predictions):
            residuals[rows, block] = targets[rows, block] - prediction
    return residuals, _crossfit_variance_factor(fit_a, fit_b, len(fold_a), len(fold_b))
