"""The generalised covariance measure (:class:`GCM`), the fast nonparametric CI test."""
from __future__ import annotations

import numpy as np
from scipy import special

from .._threads import limited_threads
from ..validation import check_choice, check_int, check_seed
from .residuals import _crossfit_residuals
from ..stats import standardise
from .result import CITestResult, _call_docstring, _check_data, _check_min_samples


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
    the variance of their sum by O(effective degrees of freedom / n) - small for flexible
    fits at n = 5,000, yet enough to make the test clearly anti-conservative when ignored
    (``benchmarks/results/docstring_figures.md``). It is computed exactly for the ridge
    smoothers (see ``_crossfit_variance_factor``); ``kappa = 1`` for the linear regressor.

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
        self.regressor = check_choice(regressor, "regressor", ("rff", "linear"))
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
        targets = standardise(np.hstack([x, y]))
        # Matrices a few hundred wide: BLAS threads cost more than they give, so one thread is
        # faster here (timings: benchmarks/results/docstring_figures.md).
        with limited_threads(1, user_api="blas"):
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
