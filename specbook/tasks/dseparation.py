"""d-separation queries on one fixed DAG, many times over: the oracle's CI test.

:func:`networkx.is_d_separator` checks that the graph is acyclic, and finds the ancestors
of `x`, on every call; the oracle asks hundreds of questions of one graph, so those checks
were most of the time of the book's exhaustive verifications (``benchmarks/oracle_speed.py``).
:class:`DSeparation` checks the graph once, keeps its adjacency and each node's ancestors as
plain sets, and answers each question with the reachability rule of
:func:`networkx.is_d_separator` (its Bayes-ball traversal, as networkx 3.6 writes it) on one
queue.
``tests/unit/tasks/test_dseparation.py`` checks it against :func:`networkx.is_d_separator`
on random DAGs and on the worlds of the book.
"""
from __future__ import annotations

from collections import deque

import networkx as nx

__all__ = ["DSeparation"]


class DSeparation:
    """Answers "are `x` and `y` d-separated by `z`?" in one directed acyclic graph.

    Parameters
    ----------
    graph : networkx.DiGraph
        Acyclic. It is read once: later changes to it are not seen.

    Examples
    --------
    >>> import networkx as nx
    >>> collider = DSeparation(nx.DiGraph([("a", "c"), ("b", "c")]))
    >>> collider.separated({"a"}, {"b"}, set()), collider.separated({"a"}, {"b"}, {"c"})
    (True, False)
    """

    def __init__(self, graph):
        if not isinstance(graph, nx.DiGraph):
            raise ValueError(f"graph must be a networkx.DiGraph; got {type(graph).__name__}.")
        if not nx.is_directed_acyclic_graph(graph):
            raise ValueError("graph has a directed cycle; d-separation needs a DAG.")
        self._parents = {node: set(graph.pred[node]) for node in graph}
        self._children = {node: set(graph.succ[node]) for node in graph}
        self._ancestors = {}
        for node in nx.topological_sort(graph):
            self._ancestors[node] = frozenset(self._parents[node]).union(
                *(self._ancestors[parent] for parent in self._parents[node]))

    def separated(self, x, y, z):
        """Whether every path between the node sets `x` and `y` is blocked by the node set `z`.

        The three sets must be disjoint and hold nodes of the graph.
        """
        x, y, z = set(x), set(y), set(z)
        overlap = x & y or x & z or y & z
        if overlap:
            raise ValueError(f"x, y and z must be disjoint node sets; they share {sorted(map(str, overlap))}.")
        unknown = (x | y | z) - self._parents.keys()
        if unknown:
            raise ValueError(f"nodes {sorted(map(str, unknown))} are not in the graph.")
        parents, children = self._parents, self._children
        ancestors_or_z = set().union(*(self._ancestors[node] for node in x)) | z | x
        # (node, reached from a parent?): a start counts as reached from a child
        queue, seen = deque((node, False) for node in x), set()
        while queue:
            step = queue.popleft()
            if step in seen:
                continue
            seen.add(step)
            node, from_parent = step
            if node in y:
                return False
            # the path may go on up to the parents: from a child, through a node outside z; from a parent,
            # at a node of z (an open collider; one with a descendant in z is opened by the search coming
            # back up from that descendant) or of An(x) | x (a directed path leads back down to x)
            if (node in ancestors_or_z) if from_parent else (node not in z):
                queue.extend((parent, False) for parent in parents[node])
            if node not in z:
                queue.extend((child, True) for child in children[node])
        return True
