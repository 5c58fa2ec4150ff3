"""Nearest-neighbour lists and local permutations (Runge, 2018) for the permutation nulls."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def _neighbour_lists(points, m):
    """Distances and indices of the `m` nearest other points (max-norm), nearest first."""
    distances, indices = cKDTree(points).query(points, k=m + 1, p=np.inf, workers=-1)
    if np.array_equal(indices[:, 0], np.arange(len(points))):  # the usual case, without the sort below
        return np.ascontiguousarray(distances[:, 1:]), np.ascontiguousarray(indices[:, 1:])
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
        # each candidate goes to its proposer of lowest priority value (the values are distinct):
        # an unbuffered minimum finds it without sorting the proposals
        rank = priority[rows]
        best = np.full(n, n)
        np.minimum.at(best, proposal, rank)
        winner = rank == best[proposal]
        perm[rows[winner]] = proposal[winner]
        used[proposal[winner]] = True
    rest = np.flatnonzero(perm < 0)
    perm[rest] = candidates[rest, rng.integers(k, size=rest.size)]
    return perm


def _max_abs_difference(values, neighbours):
    """``max_c |values[..., neighbours[i, j], c] - values[..., i, c]|`` for every row i and column j.

    Parameters
    ----------
    values : ndarray of shape (..., n, d)
        One set of n points, or a stack of them (versions of x).
    neighbours : ndarray of shape (n, w)
        Indices into the n points.

    Returns
    -------
    ndarray of shape (..., n, w)
    """
    out = None
    for c in range(values.shape[-1]):
        # a contiguous column and `take` gather several times faster than fancy indexing
        column = np.ascontiguousarray(values[..., c])
        difference = np.take(column, neighbours, axis=-1)
        np.subtract(difference, column[..., None], out=difference)
        np.abs(difference, out=difference)
        out = difference if out is None else np.maximum(out, difference, out=out)
    return out
