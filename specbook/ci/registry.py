"""The tests by name (:data:`CI_TESTS`), :func:`ci_test` and the check of a test's result."""
from __future__ import annotations

import functools
import inspect
import numbers
import warnings

import numpy as np

from .fisherz import FisherZ
from .gcm import GCM
from .knn_cmi import KnnCMI
from .neural_cmi import NeuralCMI


CI_TESTS = {"fisherz": FisherZ, "gcm": GCM, "knn-cmi": KnnCMI, "neural-cmi": NeuralCMI}
"""Names accepted by :func:`get_ci_test` and :func:`ci_test`, with the class each builds."""


#: Stands for "not given" where ``method=``, the old name of ``test=``, is still accepted.
_NOT_GIVEN = object()


def _renamed_method(test, method, function):
    """`test` ("fisherz" when neither is given), or `method`, its old name (with a DeprecationWarning)."""
    if method is _NOT_GIVEN:
        return "fisherz" if test is _NOT_GIVEN else test
    if test is not _NOT_GIVEN:
        raise ValueError(f"{function}: give the CI test as test= only (method= is its deprecated old name).")
    warnings.warn(f"{function}(method=...) is deprecated; the CI test is test= everywhere in specbook "
                  f"(e.g. {function}(test={method!r}))", DeprecationWarning, stacklevel=3)
    return method


@functools.lru_cache(maxsize=None)
def _constructor_options(cls):
    """Names of the options a CI test class takes (cached: Algorithm 1 asks on every call)."""
    return [name for name in inspect.signature(cls).parameters]


def get_ci_test(test=_NOT_GIVEN, *, method=_NOT_GIVEN, **options):
    """Build a CI test from its name, or pass a user's test through.

    Parameters
    ----------
    test : str or callable, default="fisherz"
        A name in :data:`CI_TESTS`, or any callable ``test(x, y, z) -> CITestResult``
        (returned unchanged).
    method : str or callable, optional
        Deprecated old name of `test`.
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
    test = _renamed_method(test, method, "get_ci_test")
    if isinstance(test, str):
        if test not in CI_TESTS:
            raise ValueError(f"unknown CI test {test!r}; choose one of {list(CI_TESTS)} or pass a callable "
                             "test(x, y, z) -> CITestResult.")
        cls = CI_TESTS[test]
        accepted = _constructor_options(cls)
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise ValueError(f"{test!r} does not take the option(s) {unknown}; it accepts {accepted or 'none'}.")
        return cls(**options)
    if callable(test):
        if options:
            raise ValueError(f"options {sorted(options)} can only configure a test given by name; "
                             "configure your own test object before passing it.")
        return test
    raise ValueError(f"test must be one of {list(CI_TESTS)} or a callable test(x, y, z); got {test!r}.")


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


def ci_test(x, y, z=None, test=_NOT_GIVEN, *, method=_NOT_GIVEN, **options):
    """Test ``x indep y | z`` with the named (or given) CI test.

    Parameters
    ----------
    x : array-like of shape (n,) or (n, dx)
    y : array-like of shape (n,) or (n, dy)
    z : array-like of shape (n,) or (n, dz), optional
        The conditioning set; None or an empty array for a marginal test.
    test : str or callable, default="fisherz"
        See :func:`get_ci_test`.
    method : str or callable, optional
        Deprecated old name of `test`.
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
    test = _renamed_method(test, method, "ci_test")
    return check_ci_result(get_ci_test(test, **options)(x, y, z), test)
