"""The result of a CI test, and the data checks and helpers that all the tests share."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import as_columns, as_real_array


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



def _call_docstring(returns):
    """Decorator: give a test's ``__call__`` the shared docstring, with `returns` on its result."""
    doc = f"""Test ``x indep y | z``; see the class docstring.

        Parameters
        ----------
        x, y, z
            As for :func:`specbook.ci.ci_test`.

        Returns
        -------
        CITestResult
            {returns}
        """

    def decorate(method):
        method.__doc__ = doc
        return method
    return decorate


def _permutation_pvalue(statistic, null):
    """(1 + #{null >= statistic}) / (1 + #null): exact under exchangeability, never zero."""
    return float((1 + np.count_nonzero(null >= statistic)) / (1 + len(null)))


def _sequential_pvalue(statistic, null, stop_after):
    """Besag & Clifford's (1991) sequential p-value of a null drawn until `stop_after` estimates reach
    `statistic`: ``stop_after / k`` when the `stop_after`-th of them is the k-th drawn, else the
    :func:`_permutation_pvalue` of the whole null (also when `stop_after` is None)."""
    reached = np.flatnonzero(np.asarray(null) >= statistic)
    if stop_after is None or len(reached) < stop_after:
        return _permutation_pvalue(statistic, np.asarray(null))
    return float(stop_after / (reached[stop_after - 1] + 1))
