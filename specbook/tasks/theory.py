"""Checking Theorem 1 and Corollary 1 by d-separation over many random collider worlds."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..worlds.collider import ColliderWorld
from .discovery import LOCAL_CONDITIONING, QUERIES, oracle_tasks
from ..metrics import pair_truth, query_truth, selection_truth
from ..progress import progress_bar
from ..validation import check_bool, check_choice, check_int, check_seed

_TASK_ROLES = ("collider", "confounder", "mediator")
#: Most worlds one call may draw: 40 times the ``full`` profile's 25,000 (a short run; see
#: ``benchmarks/results/docstring_figures.md``), so that a typo such as ``10**12`` is refused
#: instead of running for years.
MAX_WORLDS = 1_000_000

__all__ = ["random_worlds", "verify_theorem1", "verify_selection", "pair_truth", "world_features"]


def world_features(world):
    """Which of the paper's patterns a world shows: interleaving, repeats, skips, overlaps, cuts."""
    if not all(hasattr(world, name) for name in ("assignment", "M", "disconnected")):
        raise ValueError(f"world must be a ColliderWorld (with assignment, M and disconnected); got "
                         f"{type(world).__name__}.")
    A = world.assignment
    served = [np.flatnonzero(A[:, i]) for i in range(world.M)]
    repeats = any(np.any(np.diff(segments) > 1) for segments in served)
    # two tasks interleave when their serving segments alternate: i, j, i (or j, i, j)
    interleaving = False
    for i in range(world.M):
        for j in range(world.M):
            if i != j and len(served[i]) >= 2:
                between = [(a, b) for a, b in zip(served[i][:-1], served[i][1:]) if b - a > 1]
                interleaving |= any(np.any((served[j] > a) & (served[j] < b)) for a, b in between)
    return {
        "interleaving": interleaving,
        "repeats": repeats,
        "skips": bool((~A.any(axis=1)).any()),
        "overlaps": bool((A.sum(axis=1) >= 2).any()),
        "disconnections": len(world.disconnected) > 0,
    }


def random_worlds(n_worlds, L_values=(2, 3, 4, 5), max_segments=6, max_tasks=4, task_role="collider", seed=0):
    """Yield `n_worlds` random collider worlds of varied shape (graphs only are needed).

    Each world draws its segment length from `L_values`, 2..`max_segments` segments,
    1..`max_tasks` tasks, a disconnection probability in [0, 0.5] and a task density
    in [0.1, 0.6], all from one generator seeded with `seed`. `task_role` is passed to
    :class:`~specbook.ColliderWorld` (the same seed gives the same shapes for every role).

    Raises
    ------
    ValueError
        At the call (not at the first world drawn) for a bad argument, naming it.
    """
    n_worlds = check_int(n_worlds, "n_worlds", 0)
    if n_worlds > MAX_WORLDS:
        raise ValueError(f"n_worlds = {n_worlds:,} is above the limit of {MAX_WORLDS:,} worlds; draw fewer.")
    L_values = _check_L_values(L_values)
    max_segments = check_int(max_segments, "max_segments", 2)
    max_tasks = check_int(max_tasks, "max_tasks", 1)
    check_choice(task_role, "task_role", _TASK_ROLES)
    return _random_worlds(n_worlds, L_values, max_segments, max_tasks, task_role, check_seed(seed))


def _check_L_values(L_values):
    if isinstance(L_values, (str, bytes)) or not hasattr(L_values, "__iter__"):
        raise ValueError(f"L_values must be a non-empty list of segment lengths (integers >= 1); got {L_values!r}.")
    L_values = list(L_values)
    if not L_values:
        raise ValueError(f"L_values must be a non-empty list of segment lengths (integers >= 1); got {L_values!r}.")
    return tuple(check_int(L, f"L_values[{i}]", 1) for i, L in enumerate(L_values))


def _random_worlds(n_worlds, L_values, max_segments, max_tasks, task_role, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n_worlds):
        L = int(rng.choice(L_values))
        N = int(rng.integers(2, max_segments + 1))
        yield ColliderWorld(
            T=N * L, M=int(rng.integers(1, max_tasks + 1)), L=L,
            p_disconnect=float(rng.uniform(0.0, 0.5)), task_density=float(rng.uniform(0.1, 0.6)),
            task_role=task_role, seed=int(rng.integers(2**31)),
        )


def verify_theorem1(n_worlds, L_values=(1, 2, 3, 4, 5), representatives="last", task_role="collider", seed=0,
                    progress=True, query="collider", conditioning="band"):
    """Compare Algorithm 1 with d-separation (the oracle) against the truth, pair by pair.

    Parameters
    ----------
    n_worlds : int
        Number of random worlds (see :func:`random_worlds`).
    L_values : tuple of int, default=(1, 2, 3, 4, 5)
        Segment lengths to draw from.
    representatives : {"last", "all"}, default="last"
        ``"last"``: the paper's representative state ``s_{kL}``. ``"all"``: every position
        1..L in turn (Corollary 1).
    task_role : {"collider", "confounder", "mediator"}, default="collider"
        How tasks attach to actions; Theorem 1 assumes colliders.
    seed : int, default=0
    progress : bool, default=True
    query : {"collider", "intersection-union", "local"}, default="collider"
        The CI statements the oracle decides (see :func:`~specbook.discover_tasks`). For
        ``"local"`` the truth of a (segment, task) query is whether the segment serves the task.
    conditioning : {"band", "all-states"}, default="band"
        The local query's conditioning set (see :func:`~specbook.discover_tasks`).

    Raises
    ------
    ValueError
        For a bad argument, naming it, and for more than :data:`MAX_WORLDS` (1,000,000) worlds.

    Returns
    -------
    pandas.DataFrame
        One row per world and representative position, with the world's shape, its
        features (:func:`world_features`), the number of segment pairs (``pairs``, and
        ``true_pairs`` that serve a common task), the number of CI statements decided
        (``queries``: the pairs, or the segments for ``"local"``, times the tasks; and
        ``true_dependent`` of them that should come out dependent), and ``false_dependent``
        (d-connected although the two segments do not both serve the task; for ``"local"``,
        although the segment does not serve it) and ``missed`` (d-separated although they do).
    """
    check_int(n_worlds, "n_worlds", 1)  # random_worlds allows none; a verification needs a world
    check_choice(representatives, "representatives", ("last", "all"))
    check_choice(query, "query", QUERIES)
    check_choice(conditioning, "conditioning", LOCAL_CONDITIONING)
    progress = check_bool(progress, "progress")
    rows = []
    worlds = random_worlds(n_worlds, L_values=L_values, task_role=task_role, seed=seed)
    for index, world in enumerate(progress_bar(worlds, total=n_worlds, desc="worlds", progress=progress)):
        truth = query_truth(world.assignment, query)[0]
        features = world_features(world)
        positions = range(1, world.L + 1) if representatives == "all" else [world.L]
        for position in positions:
            found = oracle_tasks(world.graph, world.T, world.M, world.L, representative=position,
                                 query=query, conditioning=conditioning).pair_dependent
            rows.append({
                "world": index, "T": world.T, "M": world.M, "L": world.L, "N": world.N,
                "representative": position, **features, "pairs": world.M * world.N * (world.N - 1) // 2,
                "true_pairs": int(pair_truth(world.assignment).sum()),
                "queries": world.M * (world.N if query == "local" else world.N * (world.N - 1) // 2),
                "true_dependent": int(truth.sum()),
                "false_dependent": int((found & ~truth).sum()), "missed": int((~found & truth).sum()),
            })
    table = pd.DataFrame(rows)
    table["mismatches"] = table["false_dependent"] + table["missed"]
    return table


def verify_selection(n_worlds, L_values=(2, 3, 4, 5), seed=0, progress=True):
    """Check by d-separation what the pair test finds on data selected on tasks (values unrecorded).

    In each random world (see :func:`random_worlds`) the data are selected on task 1 alone and
    on every task at once; the oracle (:func:`~specbook.oracle_tasks` with ``selected``)
    conditions on the band states and the selection nodes.

    Returns
    -------
    pandas.DataFrame
        One row per world and selection (``"one"`` or ``"all"``): ``segments``, the number of
        segments; ``segment_mismatches`` against :func:`~specbook.metrics.selection_truth`
        (the segments serving a selected task that another segment serves too);
        ``pair_mismatches`` against the pairs that share a selected task; and
        ``cross_task_pairs``, pairs found dependent although they share no selected task
        (they serve two different selected tasks: which task a pair shares is lost).
    """
    n_worlds = check_int(n_worlds, "n_worlds", 1)
    progress = check_bool(progress, "progress")
    rows = []
    worlds = random_worlds(n_worlds, L_values=L_values, seed=seed)
    for index, world in enumerate(progress_bar(worlds, total=n_worlds, desc="worlds", progress=progress)):
        for name, selected in (("one", [1]), ("all", list(range(1, world.M + 1)))):
            found = oracle_tasks(world.graph, world.T, world.M, world.L, selected=selected)
            shared = pair_truth(world.assignment)[[i - 1 for i in selected]].any(axis=0)
            rows.append({
                "world": index, "L": world.L, "M": world.M, "N": world.N, "selection": name,
                "selected": len(selected), "segments": world.N,
                "segment_mismatches": int((found.segment_tasks != selection_truth(world.assignment, selected)).sum()),
                "pair_mismatches": int((found.pair_dependent[0] != shared).sum()),
                "cross_task_pairs": int((found.pair_dependent[0] & ~shared).sum()),
            })
    return pd.DataFrame(rows)
