"""Conditional-independence (CI) tests for Algorithm 1.

Every test is a callable object ``test(x, y, z) -> CITestResult`` that tests
``x indep y | z``; the p-value is small when the data show a dependence. Users can
plug in their own test with the same signature.

=============  ============================================================  ==========
name           test                                                          null
=============  ============================================================  ==========
``fisherz``    Fisher's z on the partial correlation (scalar x and y);       asymptotic
               Bartlett's partial canonical correlation test (vectors)
``gcm``        generalised covariance measure on cross-fitted random         asymptotic
               Fourier feature ridge regressions (the fast nonparametric
               test)
``knn-cmi``    Frenzel-Pompe kNN conditional mutual information              local
                                                                             permutation
``neural-cmi`` InfoNCE critic with locally shuffled negatives, scored on     local
               held-out samples                                              permutation
=============  ============================================================  ==========

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.standard_normal(500)
>>> x, y = z + rng.standard_normal(500), z + rng.standard_normal(500)
>>> ci_test(x, y, z).pvalue > 0.01      # independent given z
True
>>> ci_test(x, y).pvalue < 1e-10        # dependent without z
True
"""
from __future__ import annotations

import inspect
import numbers
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special
from scipy.spatial import cKDTree
from scipy.stats import rankdata
from threadpoolctl import threadpool_limits

from ._torch import one_thread
from .validation import as_columns, as_real_array, check_bool, check_device, check_int, check_memory, check_seed

__all__ = ["CITestResult", "FisherZ", "GCM", "KnnCMI", "NeuralCMI", "CI_TESTS", "get_ci_test", "ci_test",
           "check_ci_result"]

# A correlation matrix whose smallest eigenvalue (or Cholesky pivot) falls below this is treated
# as singular: some column is a linear function of the others up to R^2 > 1 - 1e-10.
_SINGULAR_TOL = 1e-10


@dataclass(frozen=True)
class CITestResult:
    """Outcome of one conditional-independence test.

    Attributes
    ----------
    statistic : float
        The test's statistic (see each test for its definition and null distribution).
    pvalue : float
        p-value in [0, 1]; small values are evidence against ``x indep y | z``.
    method : str
        Name of the test that produced the result.
    n : int
        Number of samples used.
    dof : float or None
        Degrees of freedom of the null distribution when it is chi-square or F-type; None for
        a standard-normal statistic or a permutation null.
    """

    statistic: float
    pvalue: float
    method: str
    n: int
    dof: float | None = None


# ---------------------------------------------------------------------------------- validation
def _as_columns(values, name):
    return as_columns(as_real_array(values, name), name, allow_empty=name == "z")


def _check_data(x, y, z):
    """Return x, y, z as finite float arrays of shape (n, d); z may have zero columns."""
    x = _as_columns(x, "x")
    y = _as_columns(y, "y")
    n = x.shape[0]
    if z is None or np.shape(z) in ((0,), (n, 0)):
        z = np.empty((n, 0))  # no conditioning set, or an empty one spelled out ([] or shape (n, 0))
    else:
        z = _as_columns(z, "z")
    for name, array in (("y", y), ("z", z)):
        if array.shape[0] != n:
            raise ValueError(f"x, y and z must have the same number of samples n; x has {n} rows but "
                             f"{name} has {array.shape[0]}.")
    for name, array in (("x", x), ("y", y), ("z", z)):
        constant = np.flatnonzero(np.ptp(array, axis=0) == 0) if n else []
        if len(constant):
            raise ValueError(f"{name} has a constant column (column {constant[0]}); a constant carries no "
                             "information and makes the covariance singular: drop it.")
    return x, y, z


def _check_min_samples(n, minimum, test, why):
    if n < minimum:
        raise ValueError(f"n = {n} samples is too small for {test}: it needs n >= {minimum} ({why}).")



def _check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}.")
    return value


def _call_docstring(returns):
    """Decorator: give a test's ``__call__`` the shared docstring, with `returns` on its result."""
    doc = f"""Test ``x indep y | z``; see the class docstring.

        Parameters
        ----------
        x : array-like of shape (n,) or (n, dx)
        y : array-like of shape (n,) or (n, dy)
        z : array-like of shape (n,) or (n, dz), optional
            The conditioning set; None or an empty array for a marginal test.

        Returns
        -------
        CITestResult
            {returns}
        """

    def decorate(method):
        method.__doc__ = doc
        return method
    return decorate


def _standardise(a):
    return (a - a.mean(axis=0)) / a.std(axis=0)


def _permutation_pvalue(statistic, null):
    """(1 + #{null >= statistic}) / (1 + #null): exact under exchangeability, never zero."""
    return float((1 + np.count_nonzero(null >= statistic)) / (1 + len(null)))


# ------------------------------------------------------------------------------------ Fisher z
def _index_tuple(index):
    """An int or a sequence of ints as a tuple (fast: the batched path parses ~10^5 queries)."""
    return (index,) if type(index) is int or isinstance(index, np.integer) else tuple(index)


class FisherZ:
    """Gaussian (linear) conditional-independence test.

    For scalar `x` and `y` this is the standard Fisher-z test: with ``r`` the sample partial
    correlation of `x` and `y` given `z`, ``statistic = atanh(r) * sqrt(n - |Z| - 3)`` is
    standard normal under independence and the p-value is two-sided.

    For vectors (``dx > 1`` or ``dy > 1``) it is Bartlett's partial canonical correlation
    test: with ``rho_i`` the canonical correlations of `x` and `y` after partialling out `z`,
    ``statistic = -(n - 1 - |Z| - (dx + dy + 1) / 2) * sum_i log(1 - rho_i**2)`` is
    chi-square with ``dx * dy`` degrees of freedom. The sum is computed from log-determinants
    of the partial covariance: ``logdet S_xy|z - logdet S_xx|z - logdet S_yy|z``.

    Both are exact-level tests for Gaussian data and test zero partial (canonical)
    correlation in general; a dependence with no linear trace is invisible to them.

    Parameters
    ----------
    scalar_test : {"fisher-z", "bartlett"}, default="fisher-z"
        Test used when x and y are both scalar. Bartlett's test then has one degree of
        freedom and agrees with Fisher's z to first order in the partial correlation.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((1000, 2))
    >>> x = z.sum(axis=1) + rng.standard_normal(1000)
    >>> y = z[:, 0] - x + rng.standard_normal(1000)
    >>> FisherZ()(x, y, z).pvalue < 1e-10
    True
    """

    name = "fisherz"

    def __init__(self, scalar_test="fisher-z"):
        self.scalar_test = _check_choice(scalar_test, "scalar_test", ("fisher-z", "bartlett"))

    @_call_docstring("``dof`` is None for Fisher's z (standard normal) and ``dx * dy`` for Bartlett's test.")
    def __call__(self, x, y, z=None):
        x, y, z = _check_data(x, y, z)
        (n, dx), dy, dz = x.shape, y.shape[1], z.shape[1]
        self._check_n(n, dx, dy, dz)
        # z first, so that the trailing Cholesky block of the joint covariance is S_xy|z.
        cov = np.atleast_2d(np.cov(np.hstack([z, x, y]), rowvar=False))
        scale = np.sqrt(np.diag(cov))
        correlation = cov / np.outer(scale, scale)
        for name, stop, what in (("z", dz, "columns that are collinear with each other"),
                                 ("x", dz + dx, "columns that are collinear with each other or with z"),
                                 ("y", dz + dx + dy, "columns that are collinear with each other, with x or with z")):
            if stop and np.linalg.eigvalsh(correlation[:stop, :stop])[0] < _SINGULAR_TOL:
                raise ValueError(f"{name} has {what}, so the covariance of (x, y, z) is singular; "
                                 "drop the redundant columns.")
        return self.test_from_covariance(cov, n, range(dz, dz + dx), range(dz + dx, dz + dx + dy), range(dz))

    def test_from_covariance(self, cov, n, x_idx, y_idx, z_idx=()):
        """Test one query on a precomputed covariance matrix.

        Parameters
        ----------
        cov : ndarray of shape (D, D)
            Sample covariance (or correlation) of all variables.
        n : int
            Number of samples `cov` was estimated from.
        x_idx, y_idx, z_idx : int or sequence of int
            Columns of `cov` holding x, y and the conditioning set (disjoint).

        Returns
        -------
        CITestResult
        """
        statistics, pvalues = self.pvalues_from_covariance(cov, n, [(x_idx, y_idx, z_idx)])
        dx, dy = len(_index_tuple(x_idx)), len(_index_tuple(y_idx))
        fisher = dx == dy == 1 and self.scalar_test == "fisher-z"
        return CITestResult(statistic=float(statistics[0]), pvalue=float(pvalues[0]), method=self.name,
                            n=int(n), dof=None if fisher else float(dx * dy))

    def pvalues_from_covariance(self, cov, n, queries):
        """Run many tests on sub-blocks of one covariance matrix, vectorised.

        Queries are grouped by ``(dx, dy, |Z|)``; each group's sub-blocks are stacked and
        factorised at once with batched Cholesky decompositions.

        Parameters
        ----------
        cov : ndarray of shape (D, D)
            Sample covariance (or correlation) of all variables.
        n : int
            Number of samples `cov` was estimated from.
        queries : sequence of (x_idx, y_idx, z_idx)
            Each index is an int or a sequence of ints into the columns of `cov`; the three
            must be disjoint within a query.

        Returns
        -------
        statistics : ndarray of shape (len(queries),)
            The signed Fisher-z statistic for scalar queries (unless ``scalar_test="bartlett"``),
            Bartlett's chi-square statistic for vector queries.
        pvalues : ndarray of shape (len(queries),)
        """
        cov = as_real_array(cov, "cov")
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise ValueError(f"cov must be a square matrix; got shape {cov.shape}.")
        if not np.all(np.isfinite(cov)):
            raise ValueError("cov contains NaN or inf.")
        if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * np.abs(cov).max()):
            raise ValueError("cov must be symmetric (a covariance matrix).")
        n = check_int(n, "n", 1)
        variances = np.diag(cov)
        if np.any(variances <= 0):
            raise ValueError(f"cov has a non-positive variance at column {np.flatnonzero(variances <= 0)[0]} "
                             "(a constant variable); drop it.")
        scale = np.sqrt(variances)
        correlation = cov / np.outer(scale, scale)

        if isinstance(queries, (str, bytes)) or not hasattr(queries, "__iter__"):
            raise ValueError(f"queries must be a list of (x_idx, y_idx, z_idx) tuples; got {queries!r}.")
        queries = list(queries)
        positions, rows = defaultdict(list), defaultdict(list)  # per (dx, dy, |Z|): query numbers, columns
        for position, query in enumerate(queries):
            try:
                x_idx, y_idx, z_idx = query
                x_idx, y_idx, z_idx = _index_tuple(x_idx), _index_tuple(y_idx), _index_tuple(z_idx)
            except (TypeError, ValueError):
                raise ValueError(f"queries[{position}] must be a tuple (x_idx, y_idx, z_idx) of ints or sequences "
                                 f"of ints; got {query!r}.") from None
            if not x_idx or not y_idx:
                raise ValueError(f"queries[{position}]: x_idx and y_idx must name at least one column.")
            key = len(x_idx), len(y_idx), len(z_idx)
            positions[key].append(position)
            rows[key].append(z_idx + x_idx + y_idx)

        statistics = np.empty(len(queries))
        pvalues = np.empty(len(queries))
        for (dx, dy, dz), group in positions.items():
            group = np.array(group)
            index = np.array(rows[dx, dy, dz])
            if not np.issubdtype(index.dtype, np.integer):
                first = next(p for p, row in zip(group, rows[dx, dy, dz])
                             if not all(isinstance(i, (int, np.integer)) for i in row))
                raise ValueError(f"queries[{first}]: column indices must be integers.")
            self._check_group(index, group, cov.shape[0], n, dx, dy, dz)
            # Correlation scale keeps the Cholesky pivots comparable to _SINGULAR_TOL.
            sub = correlation[index[:, :, None], index[:, None, :]]
            factor = self._cholesky(sub, group)
            statistics[group], pvalues[group] = self._from_cholesky(factor, n, dx, dy, dz)
        return statistics, pvalues

    @staticmethod
    def _check_n(n, dx, dy, dz):
        _check_min_samples(n, dx + dy + dz + 2, "fisherz",
                           f"dx + dy + |Z| + 2 with dx={dx}, dy={dy}, |Z|={dz}: the degrees of freedom "
                           "n - |Z| - 3 (scalar) or n - 1 - |Z| - (dx + dy + 1) / 2 (Bartlett) must be positive")

    @staticmethod
    def _check_group(index, positions, D, n, dx, dy, dz):
        outside = (index < 0) | (index >= D)
        if outside.any():
            row = np.flatnonzero(outside.any(axis=1))[0]
            raise ValueError(f"queries[{positions[row]}] has a column index outside 0..{D - 1} (cov is {D} x {D}).")
        ordered = np.sort(index, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if repeated.any():
            raise ValueError(f"queries[{positions[np.flatnonzero(repeated)[0]]}]: x_idx, y_idx and z_idx must be "
                             "disjoint and without repeats.")
        FisherZ._check_n(n, dx, dy, dz)

    @staticmethod
    def _cholesky(sub, positions):
        try:
            factor = np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            factor = None
        pivots = None if factor is None else np.diagonal(factor, axis1=1, axis2=2) ** 2
        if factor is None or (pivots < _SINGULAR_TOL).any():
            bad = [int(positions[i]) for i in range(len(sub)) if np.linalg.eigvalsh(sub[i])[0] < _SINGULAR_TOL]
            raise ValueError(f"queries{bad[:5]}: the covariance of (x, y, z) is singular (a column is constant or "
                             "collinear with the others); drop the redundant columns.")
        return factor

    def _from_cholesky(self, factor, n, dx, dy, dz):
        trailing = factor[:, dz:, dz:]  # Cholesky factor of the partial covariance S_xy|z
        if dx == dy == 1 and self.scalar_test == "fisher-z":
            below, corner = trailing[:, 1, 0], trailing[:, 1, 1]
            r = below / np.hypot(below, corner)
            statistic = np.arctanh(r) * np.sqrt(n - dz - 3)
            return statistic, special.erfc(np.abs(statistic) / np.sqrt(2))
        log_pivots = np.log(np.diagonal(trailing, axis1=1, axis2=2))
        logdet_xy = 2 * log_pivots.sum(axis=1)
        logdet_xx = 2 * log_pivots[:, :dx].sum(axis=1)
        yy_block = trailing[:, dx:, :] @ np.swapaxes(trailing[:, dx:, :], 1, 2)
        logdet_yy = 2 * np.log(np.diagonal(np.linalg.cholesky(yy_block), axis1=1, axis2=2)).sum(axis=1)
        sum_log = np.minimum(logdet_xy - logdet_xx - logdet_yy, 0.0)  # sum log(1 - rho^2) <= 0
        statistic = -(n - 1 - dz - (dx + dy + 1) / 2) * sum_log
        return statistic, special.chdtrc(dx * dy, statistic)


# ----------------------------------------------------------------------------------------- GCM
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
    z = _standardise(z)
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


class GCM:
    """Generalised covariance measure (Shah & Peters, 2020): the fast nonparametric CI test.

    Each column of `x` and of `y` is regressed on `z`; under ``x indep y | z`` the products
    of the residuals ``R_ij = res_x_i * res_y_j`` have mean zero. With ``p = dx * dy`` and
    ``Rbar``, ``S`` the mean vector and covariance of the products, the statistic is
    Hotelling's ``T^2 = n Rbar' S^{-1} Rbar / kappa`` on the whitened mean vector, and
    ``(n - p) / (p (n - 1)) T^2`` is referred to ``F(p, n - p)`` (the finite-sample form of
    the chi-square(p) limit; for scalar x and y it is the squared t-statistic).

    ``kappa >= 1`` corrects the variance for cross-fitting: an out-of-fold residual still
    depends on the other fold's noise, which correlates products across folds and inflates
    the variance of their sum by O(effective degrees of freedom / n) - a few percent for
    flexible fits at n = 5,000, enough to push the level from 0.05 to about 0.1 when
    ignored. It is computed exactly for the ridge smoothers (see
    ``_crossfit_variance_factor``); ``kappa = 1`` for the linear regressor.

    The test has power against dependences that leave a conditional covariance
    ``E[cov(x, y | z)] != 0`` (for instance the explaining-away dependence a collider
    induces); a dependence with zero conditional covariance is invisible to it. Its level
    relies on the regressions capturing ``E[x | z]`` and ``E[y | z]``: the product of their
    errors must be small against ``n^{-1/2}``.

    Parameters
    ----------
    regressor : {"rff", "linear"}, default="rff"
        ``"rff"``: ridge regression on random features of the standardised `z` - Gaussian
        kernel features at 0.5, 1 and 2 times the median pairwise distance, 1-D features of
        every coordinate, and `z` itself - with one penalty for the columns of x and one for
        those of y, each chosen by generalised cross-validation, cross-fitted over 2 folds so
        that every residual is out-of-sample (BLAS runs on one thread meanwhile, which is
        faster at these sizes). ``"linear"``: least-squares residuals on
        ``[1, z]`` (in sample); GCM is then close to a partial-correlation test, with a
        heteroscedasticity-robust variance.
    n_features : int, default=128
        Number of Gaussian-kernel random features per bandwidth (half cosines, half sines);
        at most ``n / 16`` are used.
    seed : int, default=0
        Seed of the fold split and the random features.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(-2, 2, (2000, 2))
    >>> x = np.sin(2 * z[:, 0]) + 0.3 * rng.standard_normal(2000)
    >>> y = np.cos(2 * z[:, 0]) * z[:, 1] + 0.3 * rng.standard_normal(2000)
    >>> GCM(seed=0)(x, y, z).pvalue > 0.01
    True
    """

    name = "gcm"

    def __init__(self, regressor="rff", n_features=128, seed=0):
        self.regressor = _check_choice(regressor, "regressor", ("rff", "linear"))
        self.n_features = check_int(n_features, "n_features", 2)
        self.seed = check_seed(seed)

    @_call_docstring("``statistic`` is Hotelling's T^2 (variance-corrected) and ``dof`` is ``dx * dy``.")
    def __call__(self, x, y, z=None):
        x, y, z = _check_data(x, y, z)
        (n, dx), dy, dz = x.shape, y.shape[1], z.shape[1]
        p = dx * dy
        _check_min_samples(n, max(20, dz + 3, p + 2), "gcm",
                           "at least 20, |Z| + 3 for the regressions and dx * dy + 2 for the covariance "
                           f"of the dx * dy = {p} residual products")
        targets = _standardise(np.hstack([x, y]))
        # Matrices a few hundred wide: BLAS threads cost more than they give (0.49 s against
        # 0.31 s per test at n = 5,000 on a 2-core machine).
        with threadpool_limits(1, user_api="blas"):
            residuals, kappa = self._residuals(targets, z, dx)
        products = (residuals[:, :dx, None] * residuals[:, None, dx:]).reshape(n, p)
        mean = products.mean(axis=0)
        covariance = np.cov(products, rowvar=False).reshape(p, p)
        try:
            whitened = np.linalg.solve(np.linalg.cholesky(covariance), mean)
        except np.linalg.LinAlgError:
            raise ValueError("the residual products have a singular covariance: x or y is a deterministic "
                             "function of z, or has collinear columns.") from None
        statistic = float(n * (whitened @ whitened) / kappa)
        pvalue = special.fdtrc(p, n - p, (n - p) / (p * (n - 1)) * statistic)
        return CITestResult(statistic=statistic, pvalue=float(pvalue), method=self.name, n=n, dof=float(p))

    def _residuals(self, targets, z, dx):
        """Residuals of the standardised [x, y] columns on z, and the variance factor kappa."""
        n = len(z)
        if z.shape[1] == 0:
            return targets, 1.0  # already centred
        if self.regressor == "linear":
            design = np.hstack([np.ones((n, 1)), z])
            return targets - design @ np.linalg.lstsq(design, targets, rcond=None)[0], 1.0
        return _crossfit_residuals(targets, z, dx, self.n_features, np.random.default_rng(self.seed))


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


# -------------------------------------------------------------------------- local permutations
def _neighbour_lists(points, m):
    """Distances and indices of the `m` nearest other points (max-norm), nearest first."""
    distances, indices = cKDTree(points).query(points, k=m + 1, p=np.inf, workers=-1)
    # Drop each point itself; with exact duplicates it need not come first, and when it is
    # missing altogether the farthest entry goes (argsort is stable and False < True).
    is_self = indices == np.arange(len(points))[:, None]
    keep = np.argsort(is_self, axis=1, kind="stable")[:, :m]
    return np.take_along_axis(distances, keep, axis=1), np.take_along_axis(indices, keep, axis=1)


def _local_permutation(candidates, rng):
    """Map each sample to one of its candidate samples, without replacement as far as possible.

    A vectorised form of Runge's (2018) local permutation scheme: in round ``r`` every
    unassigned sample proposes its ``r``-th candidate (candidates are shuffled per row);
    a candidate not yet used goes to the proposer with the highest random priority. Samples
    left after all rounds draw one of their candidates at random (with replacement).

    Parameters
    ----------
    candidates : ndarray of shape (n, k)
        Row ``i`` lists sample ``i`` itself and its nearest neighbours in z.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n,)
        ``x[perm]`` is x shuffled among z-neighbours.
    """
    n, k = candidates.shape
    candidates = rng.permuted(candidates, axis=1)
    priority = rng.permutation(n)
    perm = np.full(n, -1)
    used = np.zeros(n, dtype=bool)
    for r in range(k):
        rows = np.flatnonzero(perm < 0)
        proposal = candidates[rows, r]
        free = ~used[proposal]
        rows, proposal = rows[free], proposal[free]
        order = np.lexsort((priority[rows], proposal))
        rows, proposal = rows[order], proposal[order]
        winner = np.diff(proposal, prepend=-1) != 0  # first proposer of each candidate; none may be left
        perm[rows[winner]] = proposal[winner]
        used[proposal[winner]] = True
    rest = np.flatnonzero(perm < 0)
    perm[rest] = candidates[rest, rng.integers(k, size=rest.size)]
    return perm


def _max_abs_difference(values, neighbours):
    """``max_c |values[i, c] - values[neighbours[i, j], c]|`` for every row i and column j."""
    out = np.abs(values[neighbours, 0] - values[:, 0, None])
    for column in range(1, values.shape[1]):
        np.maximum(out, np.abs(values[neighbours, column] - values[:, column, None]), out=out)
    return out


# -------------------------------------------------------------------------------------- kNN CMI
def _frenzel_pompe_estimate(k, n_xz, n_yz, n_z):
    digammas = special.digamma(n_xz + 1) + special.digamma(n_yz + 1) - special.digamma(n_z + 1)
    return float(special.digamma(k) - digammas.mean())


class _FrenzelPompe:
    """Frenzel-Pompe CMI estimates for many versions of x against fixed y and z.

    The neighbour searches in the (y, z) and z spaces do not depend on x, so they are done
    once: each sample keeps a list of its nearest neighbours in each space, sorted by
    distance. For a (permuted) x, the joint k-th neighbour distance and the counts are read
    off these lists; the few samples whose radius reaches past the end of a list are
    computed by brute force against all samples. The result is exact whatever the lengths.
    """

    def __init__(self, x, y, z, k, width):
        self.y, self.z, self.k = y, z, k
        self.yz_distance, self.yz_neighbours = _neighbour_lists(np.hstack([y, z]), self._clip(width))
        if z.shape[1]:
            self.z_distance, self.z_neighbours = _neighbour_lists(z, self._clip(width))
        else:
            self.x_tree = cKDTree(x)  # a global permutation keeps the set of x values

    def _clip(self, width):
        # at least k + 1 for the radius; at most n - 1, and about 2**23 entries per list
        n = len(self.y)
        return int(min(n - 1, max(self.k + 1, min(width, 2**23 // n))))

    def fit_lengths(self, n_yz, n_z, coverage=0.99):
        """Resize the lists to what `coverage` of the samples need for counts like these (plus 25%)."""
        def resized(distance, neighbours, points, counts):
            width = self._clip(1.25 * np.quantile(counts, coverage) + 1)
            if width <= distance.shape[1]:
                return np.ascontiguousarray(distance[:, :width]), np.ascontiguousarray(neighbours[:, :width])
            return _neighbour_lists(points, width)

        self.yz_distance, self.yz_neighbours = resized(self.yz_distance, self.yz_neighbours,
                                                       np.hstack([self.y, self.z]), n_yz)
        if self.z.shape[1]:
            self.z_distance, self.z_neighbours = resized(self.z_distance, self.z_neighbours, self.z, n_z)

    def counts(self, x):
        """Counts ``n_xz``, ``n_yz``, ``n_z`` of other samples strictly within each sample's radius."""
        n, k = len(x), self.k
        joint = np.maximum(_max_abs_difference(x, self.yz_neighbours), self.yz_distance)
        radius = np.partition(joint, k - 1, axis=1)[:, k - 1]
        exact = radius <= self.yz_distance[:, -1]
        n_yz = (self.yz_distance < radius[:, None]).sum(axis=1)
        if self.z.shape[1]:
            exact &= radius <= self.z_distance[:, -1]
            n_z = (self.z_distance < radius[:, None]).sum(axis=1)
            xz = np.maximum(_max_abs_difference(x, self.z_neighbours), self.z_distance)
            n_xz = (xz < radius[:, None]).sum(axis=1)
        else:
            n_z = np.full(n, n - 1)
            n_xz = self.x_tree.query_ball_point(x, np.nextafter(radius, 0), p=np.inf, workers=-1,
                                                return_length=True) - 1
        rows = np.flatnonzero(~exact)
        for chunk in np.array_split(rows, -(-len(rows) // 64)) if len(rows) else []:
            n_xz[chunk], n_yz[chunk], n_z[chunk] = self._brute_force(x, chunk)
        return n_xz, n_yz, n_z

    def cmi(self, x):
        return _frenzel_pompe_estimate(self.k, *self.counts(x))

    def _brute_force(self, x, rows):
        def distance(values):
            if values.shape[1] == 0:
                return np.zeros((len(rows), len(values)))
            d = np.abs(values[rows, None, :] - values[None, :, :]).max(axis=2)
            d[np.arange(len(rows)), rows] = np.inf  # a sample is not its own neighbour
            return d

        d_x, d_y, d_z = distance(x), distance(self.y), distance(self.z)
        d_yz = np.maximum(d_y, d_z)
        radius = np.partition(np.maximum(d_x, d_yz), self.k - 1, axis=1)[:, self.k - 1, None]
        n_z = (d_z < radius).sum(axis=1) - (self.z.shape[1] == 0)  # without z every sample is "within"
        return (np.maximum(d_x, d_z) < radius).sum(axis=1), (d_yz < radius).sum(axis=1), n_z


class KnnCMI:
    """Conditional mutual information test: Frenzel-Pompe kNN estimate, local permutation null.

    The statistic is the Frenzel & Pompe (2007) estimate (max-norm)
    ``I(x; y | z) = psi(k) - < psi(n_xz + 1) + psi(n_yz + 1) - psi(n_z + 1) >`` where
    ``eps_i`` is the distance to the k-th neighbour of sample i in the joint space and the
    ``n`` count other samples strictly within ``eps_i`` in each subspace. The null
    distribution comes from `n_permutations` copies of x shuffled *locally*: each sample
    takes the x of one of its `k_perm` nearest neighbours in z, without replacement as far
    as possible (Runge, 2018), which keeps the dependence of x on z and breaks only the one
    on y. Without z the permutation is global.

    By default x and y are first replaced by their residuals on z (the cross-fitted
    random-feature ridge regressions of :class:`GCM`). Given z a residual is x shifted by a
    function of z, so the conditional mutual information, and the hypothesis, are
    unchanged; but the residuals hardly vary with z, so swapping them between z-neighbours
    that are not at exactly the same z no longer blurs a dependence on z away, which is what
    biases the local-permutation null. Every column is then transformed to ranks (or
    standardised), so the estimate is invariant to monotone (or affine) changes of scale.
    The neighbour search in the (y, z) and z spaces is shared by all permutations (see
    ``_FrenzelPompe``), so one test costs about one neighbour search plus vectorised
    counting per permutation.

    Parameters
    ----------
    k : int or float, default=10
        Number of neighbours in the joint space; a float in (0, 1) is a fraction of n.
        Needs ``n >= 4 k``.
    k_perm : int, default=5
        Size of the z-neighbourhood x is shuffled within.
    n_permutations : int, default=100
        Number of local permutations; the smallest possible p-value is ``1 / (1 + n_permutations)``.
    transform : {"rank", "standardize"}, default="rank"
        Per-column transform applied to x, y and z before the distances.
    residualize : {"rff", None}, default="rff"
        ``"rff"``: test the residuals of x and y on z (see above); ``None``: x and y as given.
    include_self : bool, default=False
        Whether a sample is among its own `k_perm` candidates (then it has ``k_perm - 1``
        neighbours besides itself) - the scheme that suits ``residualize=None``, see Notes.
    seed : int, default=0
        Seed of the permutations and of the residualising regressions.

    Notes
    -----
    A local permutation gives sample i the x of a neighbour at a nearby z, so its level
    depends on the data. Where x still varies with z inside a neighbourhood (no
    residualising), the shuffle blurs that variation, the null estimates fall and the test
    becomes anti-conservative: a true permutation among the neighbours (a maximum matching,
    without the sample itself) rejected 7.2% of null cases in the band setting of
    ``benchmarks/citests.py`` (n = 2,000, |Z| = 5) and 18% in the shared-parent setting of
    the test suite. Two features raise the null estimates again: a sample among its own
    candidates (about a quarter of the shuffled x stay in place), and the samples that the
    rounds leave without a free candidate (about 12%) repeating a neighbour's x, ties that
    the kNN estimate reads as dependence. With ``residualize=None, include_self=True`` they
    win and the test is conservative (type-I error 0.029 at 0.05 over 1,000 null draws in
    the band setting, power 0.09 at d = 1 and 0.0 at d = 4). Residualising removes the
    blur itself, so the default leaves the sample out of its candidates: type-I error 0.048
    (1,000 draws, d = 1) and 0.050 (200 draws, d = 4), power 0.15 and 0.44
    (``benchmarks/results/citests.md``). It relies on the regressions, as GCM does: in the
    shared-parent setting at n = 400 (25 random features per bandwidth) it
    rejected 8.5% of 200 null cases at 0.05, against 3.8% of 80 at n = 2,000.
    """

    name = "knn-cmi"

    def __init__(self, k=10, k_perm=5, n_permutations=100, transform="rank", residualize="rff",
                 include_self=False, seed=0):
        if isinstance(k, numbers.Real) and not isinstance(k, (bool, numbers.Integral)):
            if not 0 < k < 1:
                raise ValueError(f"k must be an integer >= 1 or a fraction of n in (0, 1); got {k!r}.")
            self.k = float(k)
        else:
            self.k = check_int(k, "k", 1)
        self.include_self = check_bool(include_self, "include_self")
        self.k_perm = check_int(k_perm, "k_perm", 2 if self.include_self else 1)
        self.n_permutations = check_int(n_permutations, "n_permutations", 1)
        self.transform = _check_choice(transform, "transform", ("rank", "standardize"))
        self.residualize = _check_choice(residualize, "residualize", ("rff", None))
        self.seed = check_seed(seed)

    @_call_docstring("``statistic`` is the CMI estimate in nats (it can be slightly negative).")
    def __call__(self, x, y, z=None):
        x, y, z = _check_data(x, y, z)
        n, dx = x.shape
        k = self.k if isinstance(self.k, int) else max(1, int(self.k * n))
        _check_min_samples(n, max(4 * k, self.k_perm + 1), "knn-cmi", f"4 k with k = {k} neighbours")
        rng = np.random.default_rng(self.seed)
        if z.shape[1] and self.residualize == "rff":
            with threadpool_limits(1, user_api="blas"):  # see GCM
                residuals, _ = _crossfit_residuals(_standardise(np.hstack([x, y])), z, dx, 128, rng)
            x, y = residuals[:, :dx], residuals[:, dx:]
        x, y, z = (self._transform(a) for a in (x, y, z))
        estimator = _FrenzelPompe(x, y, z, k, width=max(64, 32 * k, self.k_perm))
        n_xz, n_yz, n_z = estimator.counts(x)
        statistic = _frenzel_pompe_estimate(k, n_xz, n_yz, n_z)
        if z.shape[1]:
            neighbours = estimator.z_neighbours[:, : self.k_perm - self.include_self]
            candidates = np.column_stack([np.arange(n), neighbours]) if self.include_self else neighbours
            # Local permutations leave the counts much as they are: lists just long enough for
            # them keep the per-permutation cost low (brute force covers the rare longer radius).
            estimator.fit_lengths(n_yz, n_z)
            null = [estimator.cmi(x[_local_permutation(candidates, rng)]) for _ in range(self.n_permutations)]
        else:
            null = [estimator.cmi(x[rng.permutation(n)]) for _ in range(self.n_permutations)]
        return CITestResult(statistic=statistic, pvalue=_permutation_pvalue(statistic, np.array(null)),
                            method=self.name, n=n)

    def _transform(self, a):
        if self.transform == "rank":
            return rankdata(a, axis=0) / len(a)
        return _standardise(a)


# ----------------------------------------------------------------------------------- neural CMI
class NeuralCMI:
    """Neural conditional mutual information test with an InfoNCE critic.

    A critic ``f(x, y, z)`` (an MLP on the concatenated, standardised inputs) is trained on a
    random half of the samples to pick the true ``y_i`` out of ``{y_i} U {y_j : j among the
    n_negatives nearest neighbours of i in z}`` for each ``(x_i, z_i)``; the negatives are
    y shuffled *locally*, so they follow ``p(y | z)`` and the only thing that tells the
    positive apart is a dependence of y on x given z. The statistic is the InfoNCE bound
    ``< f(x_i, y_i, z_i) - log mean_j exp f(x_i, y_j, z_i) >`` (j over positive and
    negatives) on the held-out half, in nats.

    Null: the trained critic is re-scored on the held-out half with x locally permuted
    (each sample takes the x of one of its `k_perm` nearest z-neighbours, Runge 2018),
    `n_permutations` times; the critic is not retrained, so the null is cheap. Terms of the
    critic that depend on (x, z) alone cancel in the InfoNCE score, and terms in (y, z) are
    untouched by permuting x, so the null reacts only to an x-y interaction.

    Before all this, x and y are replaced by their residuals on z (ridge regression on the
    random features of :class:`GCM`, fitted on the training half). Given z a residual is an
    invertible shift of x, so the hypothesis is unchanged; but without it x carries
    information about z, which the critic uses to recognise the true y, and which a local
    permutation (z-neighbours are never at exactly the same z) partly destroys - a false
    "dependence" that made the test reject about 20% of null cases at n = 800 in our checks.

    Parameters
    ----------
    hidden : int, default=64
        Width of the critic's two hidden layers.
    epochs : int, default=100
        Passes over the training half (mini-batches of 256, Adam with learning rate 1e-3).
    n_negatives : int, default=8
        Locally shuffled negatives per sample.
    k_perm : int, default=5
        Size of the z-neighbourhood (itself included) x is shuffled within for the null.
    n_permutations : int, default=100
        Number of local permutations of the held-out half.
    device : str, default="cpu"
        Torch device; ``"cuda"`` is honoured when available.
    seed : int, default=0
        Seed of the split, the critic's initialisation, the mini-batches and the permutations.
        Results are deterministic on CPU.
    """

    name = "neural-cmi"
    _BATCH_SIZE = 256
    _LEARNING_RATE = 1e-3

    def __init__(self, hidden=64, epochs=100, n_negatives=8, k_perm=5, n_permutations=100, device="cpu", seed=0):
        self.hidden = check_int(hidden, "hidden", 1)
        # the critic's hidden-to-hidden layer, with Adam's two moments and the gradient: 4 floats a weight
        check_memory(16 * self.hidden ** 2, f"NeuralCMI(hidden={self.hidden})'s critic",
                     fix="choose a smaller hidden (the default is 64)")
        self.epochs = check_int(epochs, "epochs", 1)
        self.n_negatives = check_int(n_negatives, "n_negatives", 1)
        self.k_perm = check_int(k_perm, "k_perm", 2)
        self.n_permutations = check_int(n_permutations, "n_permutations", 1)
        self.device = check_device(device)
        self.seed = check_seed(seed)

    @_call_docstring("``statistic`` is the held-out InfoNCE estimate in nats (at most ``log(n_negatives + 1)``).")
    def __call__(self, x, y, z=None):
        x, y, z = _check_data(x, y, z)
        n = len(x)
        per_half = max(self.n_negatives, self.k_perm) + 1
        _check_min_samples(n, max(40, 4 * per_half), "neural-cmi",
                           f"at least 40 and 4 (max(n_negatives, k_perm) + 1) = {4 * per_half} so that each half "
                           "has enough z-neighbours")
        with one_thread(self.device):
            return self._test(x, y, z)

    def _test(self, x, y, z):
        import torch

        n = len(x)
        rng = np.random.default_rng(self.seed)
        halves = np.array_split(rng.permutation(n), 2)
        data = [_standardise(a) for a in (x, y, z)]
        if z.shape[1]:
            data[0], data[1] = self._residualise(data, halves[0], rng)
        train, test = (self._split(data, rows, rng) for rows in halves)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            critic = self._critic(sum(a.shape[1] for a in data)).to(self.device)

        optimiser = torch.optim.Adam(critic.parameters(), lr=self._LEARNING_RATE)
        n_train = len(train["x"])
        for _ in range(self.epochs):
            for batch in np.array_split(rng.permutation(n_train), max(1, n_train // self._BATCH_SIZE)):
                batch = torch.as_tensor(batch, device=self.device)
                scores = self._infonce(critic, train["x"][batch], train["y"], train["z"][batch],
                                       train["candidates"][batch])
                optimiser.zero_grad()
                (-scores.mean()).backward()
                optimiser.step()

        with torch.no_grad():
            def held_out_score(x_rows):
                return float(self._infonce(critic, test["x"][x_rows], test["y"], test["z"], test["candidates"]).mean())

            statistic = held_out_score(slice(None))
            null = np.array([held_out_score(torch.as_tensor(_local_permutation(test["shuffle_within"], rng),
                                                            device=self.device))
                             for _ in range(self.n_permutations)])
        return CITestResult(statistic=statistic, pvalue=_permutation_pvalue(statistic, null), method=self.name, n=n)

    @staticmethod
    def _residualise(data, train, rng):
        """x and y minus their ridge regressions on random features of z, fitted on `train`."""
        x, y, z = data
        targets = np.hstack([x, y])
        features = _random_features(z, max(2, min(128, len(train) // 8)), rng)
        blocks = (slice(0, x.shape[1]), slice(x.shape[1], targets.shape[1]))
        fit = _ridge_fold(features, targets, blocks, train, np.arange(len(z)), rng)
        return [targets[:, block] - prediction for block, prediction in zip(blocks, fit.predictions)]

    def _split(self, data, rows, rng):
        """Tensors of one half, with each sample's negatives and its neighbourhood for the null."""
        import torch

        x, y, z = (torch.as_tensor(a[rows], dtype=torch.float32, device=self.device) for a in data)
        neighbours = self._z_neighbours(data[2][rows], rng)
        return {"x": x, "y": y, "z": z,
                # column 0 is the positive (the sample itself), the others are its negatives
                "candidates": torch.as_tensor(neighbours[:, : self.n_negatives + 1], device=self.device),
                "shuffle_within": neighbours[:, : self.k_perm]}

    def _critic(self, inputs):
        from torch import nn

        return nn.Sequential(nn.Linear(inputs, self.hidden), nn.ELU(), nn.Linear(self.hidden, self.hidden), nn.ELU(),
                             nn.Linear(self.hidden, 1))

    def _z_neighbours(self, z, rng):
        """(n, max(n_negatives, k_perm) + 1): each sample itself, then its nearest neighbours in z.

        Without z every sample is a neighbour of every other, so random others are drawn.
        """
        n, width = len(z), max(self.n_negatives, self.k_perm)
        if z.shape[1] == 0:
            others = (np.arange(n)[:, None] + rng.integers(1, n, size=(n, width))) % n
        else:
            others = _neighbour_lists(z, width)[1]
        return np.column_stack([np.arange(n), others])

    @staticmethod
    def _infonce(critic, x, y_all, z, candidates):
        """Per-sample InfoNCE score; column 0 of `candidates` is the positive."""
        import torch

        batch, width = candidates.shape
        inputs = torch.cat([x[:, None, :].expand(batch, width, -1), y_all[candidates],
                            z[:, None, :].expand(batch, width, -1)], dim=2)
        scores = critic(inputs).squeeze(-1)
        return scores[:, 0] - torch.logsumexp(scores, dim=1) + np.log(width)


# ------------------------------------------------------------------------------------ registry
CI_TESTS = {"fisherz": FisherZ, "gcm": GCM, "knn-cmi": KnnCMI, "neural-cmi": NeuralCMI}
"""Names accepted by :func:`get_ci_test` and :func:`ci_test`, with the class each builds."""


def get_ci_test(method="fisherz", **options):
    """Build a CI test from its name, or pass a user's test through.

    Parameters
    ----------
    method : str or callable
        A name in :data:`CI_TESTS`, or any callable ``test(x, y, z) -> CITestResult``
        (returned unchanged).
    **options
        Keyword arguments of the named test's class (for example ``seed`` or ``k``).

    Returns
    -------
    callable
        ``test(x, y, z=None) -> CITestResult``.

    Examples
    --------
    >>> get_ci_test("knn-cmi", seed=0).k
    10
    """
    if isinstance(method, str):
        if method not in CI_TESTS:
            raise ValueError(f"unknown CI test {method!r}; choose one of {list(CI_TESTS)} or pass a callable "
                             "test(x, y, z) -> CITestResult.")
        cls = CI_TESTS[method]
        accepted = [name for name in inspect.signature(cls).parameters]
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise ValueError(f"{method!r} does not take the option(s) {unknown}; it accepts {accepted or 'none'}.")
        return cls(**options)
    if callable(method):
        if options:
            raise ValueError(f"options {sorted(options)} can only configure a test given by name; "
                             "configure your own test object before passing it.")
        return method
    raise ValueError(f"method must be one of {list(CI_TESTS)} or a callable test(x, y, z); got {method!r}.")


def describe_test(test):
    """A readable name of a CI test given by name or as an object (for messages)."""
    if isinstance(test, str):
        return test
    return getattr(test, "name", None) or getattr(test, "__name__", None) or type(test).__name__


def _real_scalar(value):
    """`value` as a float when it is a real number (a 0-d array included, a bool not), else None."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def check_ci_result(result, test):
    """`result` of the CI test `test` after checking it has a numeric ``statistic`` and a ``pvalue`` in [0, 1].

    A user's test that returns NaN, a negative p-value or one above 1 would otherwise be
    counted as independent or dependent without a word.

    Raises
    ------
    ValueError
        Naming the test and what it returned.
    """
    name = describe_test(test)
    if not (hasattr(result, "pvalue") and hasattr(result, "statistic")):
        raise ValueError(f"the CI test {name!r} returned {result!r}; a CI test must return an object with "
                         "`statistic` and `pvalue` (such as a CITestResult).")
    pvalue = _real_scalar(result.pvalue)
    if pvalue is None or not 0 <= pvalue <= 1:
        raise ValueError(f"the CI test {name!r} returned the p-value {result.pvalue!r}; a p-value must be a number "
                         "in [0, 1]: fix the test.")
    if _real_scalar(result.statistic) is None:
        raise ValueError(f"the CI test {name!r} returned the statistic {result.statistic!r}; it must be a real "
                         "number (NaN where the test has none).")
    return result


def ci_test(x, y, z=None, method="fisherz", **options):
    """Test ``x indep y | z`` with the named (or given) CI test.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, dx)
    y : array-like of shape (n,) or (n, dy)
    z : array-like of shape (n,) or (n, dz), optional
        The conditioning set; None or an empty array for a marginal test.
    method : str or callable, default="fisherz"
        See :func:`get_ci_test`.
    **options
        Options of the named test.

    Returns
    -------
    CITestResult

    Raises
    ------
    ValueError
        For bad data or options, naming them, and when a user's test returns a p-value
        that is not a number in [0, 1] (see :func:`check_ci_result`).
    """
    return check_ci_result(get_ci_test(method, **options)(x, y, z), method)
