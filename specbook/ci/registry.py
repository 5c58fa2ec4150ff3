"""The tests by name (:data:`CI_TESTS`), :func:`ci_test` and the check of a test's result."""
from __future__ import annotations

import inspect
import numbers

import numpy as np

from .fisherz import FisherZ
from .gcm import GCM
from .knn_cmi import KnnCMI
from .neural_cmi import NeuralCMI


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
