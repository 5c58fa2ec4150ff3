"""What a CI test offers, as typing protocols: what Algorithm 1 may rely on, checked with isinstance.

Any callable ``test(x, y, z=None) -> CITestResult`` is a :class:`CITest`. A test may offer
more, and Algorithm 1 uses it when it does: a :class:`CovarianceCITest` answers many
queries from one covariance matrix at once (Fisher z's fast path), an
:class:`IndexedCovarianceCITest` takes queries of one shape as one integer array (no
per-query parsing: Algorithm 1's tests differ only in their columns), a
:class:`GivenTheRestCITest` tests each of several column blocks given all the others from one
inverse (the local query given every other state), and a :class:`PermutationCITest` says
how many permutations its null has, so that a rule whose threshold its smallest p-value
cannot pass is flagged before the tests run.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from .result import CITestResult

__all__ = ["CITest", "CovarianceCITest", "GivenTheRestCITest", "IndexedCovarianceCITest", "PermutationCITest"]


@runtime_checkable
class CITest(Protocol):
    """A conditional-independence test: ``test(x, y, z=None)`` returns a :class:`CITestResult`."""

    def __call__(self, x, y, z=None) -> CITestResult: ...


@runtime_checkable
class CovarianceCITest(CITest, Protocol):
    """A test that also answers many queries from one covariance matrix, vectorised."""

    def pvalues_from_covariance(self, cov, n, queries):
        """``(statistics, pvalues)`` of the queries ``(x_idx, y_idx, z_idx)`` on `cov` from `n` samples."""
        ...


@runtime_checkable
class IndexedCovarianceCITest(CovarianceCITest, Protocol):
    """A covariance test that also takes many queries of one shape as one integer array."""

    def pvalues_from_index(self, cov, n, index, dx=1, dy=1):
        """``(statistics, pvalues)`` of the rows of `index` (each: the z columns, then dx x and dy y columns)."""
        ...


@runtime_checkable
class GivenTheRestCITest(CovarianceCITest, Protocol):
    """A covariance test that also tests each of many targets given all the other columns of a set at once."""

    def pvalues_given_the_rest(self, cov, n, columns, targets, y_idx):
        """``(statistics, pvalues)``: each target block of `columns` against `y_idx` given the rest of `columns`."""
        ...


@runtime_checkable
class PermutationCITest(CITest, Protocol):
    """A test whose null comes from `n_permutations` permutations (smallest p-value ``1 / (1 + n)``)."""

    n_permutations: int
