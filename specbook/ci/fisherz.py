"""Fisher's z and Bartlett's partial canonical correlation test (:class:`FisherZ`)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy import special

from ..validation import as_real_array, check_choice, check_int
from .result import CITestResult, _call_docstring, _check_data, _check_min_samples

# A correlation matrix whose smallest eigenvalue (or Cholesky pivot) falls below this is treated
# as singular: some column is a linear function of the others up to R^2 > 1 - 1e-10.
_SINGULAR_TOL = 1e-10


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
        self.scalar_test = check_choice(scalar_test, "scalar_test", ("fisher-z", "bartlett"))

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
        cov, n
            As for :meth:`test_from_covariance`.
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
        correlation = self._correlation(cov)
        n = check_int(n, "n", 1)
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
            statistics[group], pvalues[group] = self._group_pvalues(correlation, n, index, group, dx, dy, dz)
        return statistics, pvalues

    def pvalues_from_index(self, cov, n, index, dx=1, dy=1):
        """Run many queries given as one integer array (no per-query parsing).

        Parameters
        ----------
        cov, n
            As for :meth:`test_from_covariance`.
        index : ndarray of int, shape (Q, width)
            Row ``q`` holds the columns of query ``q``: its conditioning set, then its `dx`
            x columns, then its `dy` y columns (disjoint within a row). A row whose conditioning
            set is smaller than ``width - dx - dy`` fills the rest of it with -1.
        dx, dy : int, default=1
            Number of x and y columns in every query.

        Returns
        -------
        statistics, pvalues : ndarray of shape (Q,)
            As :meth:`pvalues_from_covariance` returns for the same queries (up to rounding
            where rows are padded).
        """
        correlation = self._correlation(cov)
        n = check_int(n, "n", 1)
        dx, dy = check_int(dx, "dx", 1), check_int(dy, "dy", 1)
        index = np.asarray(index)
        if index.ndim != 2 or index.shape[1] < dx + dy or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be an integer array of shape (queries, |Z| + dx + dy) with dx={dx}, "
                             f"dy={dy}; got dtype {index.dtype} and shape {index.shape}.")
        width = index.shape[1] - dx - dy
        padding = index[:, :width] == -1
        if not padding.any():
            return self._group_pvalues(correlation, n, index, np.arange(len(index)), dx, dy, width)
        # A padded place gets a stand-in column of its own, uncorrelated with everything: its block of
        # the Cholesky factor is the identity and the rest is the factor of the row's real query.
        D = len(correlation)
        extended = np.eye(D + width)
        extended[:D, :D] = correlation
        outside = (index < 0) | (index >= D)
        outside[:, :width] &= ~padding
        stand_in = np.where(padding, D + np.arange(width), index[:, :width])
        return self._group_pvalues(extended, n, np.column_stack([stand_in, index[:, width:]]), np.arange(len(index)),
                                   dx, dy, width - padding.sum(axis=1), outside=outside)

    def _group_pvalues(self, correlation, n, index, positions, dx, dy, dz, outside=None):
        """Statistics and p-values of the queries in the rows of `index` (dz: one size or one per row)."""
        self._check_group(index, positions, len(correlation), n, dx, dy, dz, outside)
        # Correlation scale keeps the Cholesky pivots comparable to _SINGULAR_TOL.
        sub = correlation[index[:, :, None], index[:, None, :]]
        return self._from_cholesky(self._cholesky(sub, positions), n, dx, dy, dz)

    def pvalues_given_the_rest(self, cov, n, columns, targets, y_idx):
        """Test each target block of `columns` against `y_idx` given every other column of `columns`.

        One inverse of the covariance of ``columns + y_idx`` serves every target: for a
        target ``x`` the partial covariance of ``(x, y)`` given the rest is the inverse of the
        ``(x, y)`` block of that precision matrix. The statistics are those of
        :meth:`pvalues_from_covariance` on the queries ``(x, y_idx, columns without x)`` (up to
        rounding: both formulas depend on ``n`` and ``|Z|`` only through ``n - |Z|``).

        Parameters
        ----------
        cov, n
            As for :meth:`test_from_covariance`.
        columns : sequence of int
            Columns of `cov`: the targets and what they are conditioned on.
        targets : sequence of (int or sequence of int)
            Blocks of `columns`, each of the same size, tested in turn.
        y_idx : int or sequence of int
            Columns of `cov` outside `columns`.

        Returns
        -------
        statistics, pvalues : ndarray of shape (len(targets),)
        """
        correlation = self._correlation(cov)
        n = check_int(n, "n", 1)
        columns, y_idx = [int(c) for c in columns], list(_index_tuple(y_idx))
        targets = [list(_index_tuple(target)) for target in targets]
        if not targets:
            return np.empty(0), np.empty(0)
        dx, dy = len(targets[0]), len(y_idx)
        if any(len(target) != dx for target in targets) or not dx or not dy:
            raise ValueError("targets must be non-empty blocks of one size, and y_idx must name a column.")
        position = {column: i for i, column in enumerate(columns)}
        if len(position) != len(columns) or set(y_idx) & set(columns) or any(c not in position
                                                                            for t in targets for c in t):
            raise ValueError("columns must be distinct, hold every target, and not contain y_idx.")
        dz = len(columns) - dx
        self._check_n(n, dx, dy, dz)
        index = np.array(columns + y_idx)
        if index.min() < 0 or index.max() >= len(correlation):
            raise ValueError(f"columns and y_idx must be column indices in 0..{len(correlation) - 1} "
                             f"(cov is {len(correlation)} x {len(correlation)}).")
        # refuses collinear columns, as the general path does
        factor = self._cholesky(correlation[np.ix_(index, index)][None], [0])[0]
        inverse_factor = np.linalg.inv(factor)  # numpy's LAPACK, whose threads discover_tasks limits
        precision = inverse_factor.T @ inverse_factor
        y_rows = np.arange(len(columns), len(index))
        rows = np.array([[position[c] for c in target] + list(y_rows) for target in targets])
        partial = np.linalg.inv(precision[rows[:, :, None], rows[:, None, :]])  # (x, y) given the rest
        partial = (partial + np.swapaxes(partial, 1, 2)) / 2
        return self._from_cholesky(self._cholesky(partial, list(range(len(targets)))), n - dz, dx, dy, 0)

    @staticmethod
    def _correlation(cov):
        """`cov` checked (square, finite, symmetric, positive variances) and scaled to a correlation matrix."""
        cov = as_real_array(cov, "cov")
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise ValueError(f"cov must be a square matrix; got shape {cov.shape}.")
        if not np.all(np.isfinite(cov)):
            raise ValueError("cov contains NaN or inf.")
        if not np.array_equal(cov, cov.T) and not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * np.abs(cov).max()):
            raise ValueError("cov must be symmetric (a covariance matrix).")
        variances = np.diag(cov)
        if np.any(variances <= 0):
            raise ValueError(f"cov has a non-positive variance at column {np.flatnonzero(variances <= 0)[0]} "
                             "(a constant variable); drop it.")
        scale = np.sqrt(variances)
        return cov / np.outer(scale, scale)

    @staticmethod
    def _check_n(n, dx, dy, dz):
        _check_min_samples(n, dx + dy + dz + 2, "fisherz",
                           f"dx + dy + |Z| + 2 with dx={dx}, dy={dy}, |Z|={dz}: the degrees of freedom "
                           "n - |Z| - 3 (scalar) or n - 1 - |Z| - (dx + dy + 1) / 2 (Bartlett) must be positive")

    @staticmethod
    def _check_group(index, positions, D, n, dx, dy, dz, outside=None):
        if outside is None:
            outside = (index < 0) | (index >= D)
        if outside.any():
            row = np.flatnonzero(outside.any(axis=1))[0]
            raise ValueError(f"queries[{positions[row]}] has a column index outside 0..{D - 1} (cov is {D} x {D}).")
        ordered = np.sort(index, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if repeated.any():
            raise ValueError(f"queries[{positions[np.flatnonzero(repeated)[0]]}]: x_idx, y_idx and z_idx must be "
                             "disjoint and without repeats.")
        FisherZ._check_n(n, dx, dy, int(np.max(dz, initial=0)))

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
        trailing = factor[:, -(dx + dy):, -(dx + dy):]  # Cholesky factor of the partial covariance S_xy|z
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
