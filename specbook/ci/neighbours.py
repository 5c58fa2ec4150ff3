"""Nearest-neighbour lists and local permutations (Runge, 2018) for the permutation nulls."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


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
