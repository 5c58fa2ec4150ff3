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

:func:`path_states` answers the same question the slow, readable way, for teaching: it lists
every path between two nodes and says which node blocks it (the d-separation primer draws them).
"""
from __future__ import annotations

from collections import deque

import networkx as nx
import pandas as pd

__all__ = ["DSeparation", "path_states", "MAX_PATHS"]

#: Most paths :func:`path_states` lists by default: the number of paths grows exponentially with
#: the graph, and a table longer than this teaches nothing.
MAX_PATHS = 10_000


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


def _node_set(nodes, name, graph):
    if isinstance(nodes, str) or not hasattr(nodes, "__iter__"):
        raise ValueError(f"{name} must be a collection of nodes, such as {{'s2'}} or [], not a single node; "
                         f"got {nodes!r}.")
    nodes = set(nodes)
    unknown = [node for node in nodes if node not in graph]
    if unknown:
        raise ValueError(f"{name} names nodes that are not in the graph: {sorted(map(str, unknown))}.")
    return nodes


def _arrow_text(graph, path):
    """``"a1 <- s1 -> s2"``: the path with the direction of each of its edges."""
    parts = [str(path[0])]
    for u, v in zip(path, path[1:]):
        parts += ["->" if graph.has_edge(u, v) else "<-", str(v)]
    return " ".join(parts)


def path_states(graph, x, y, z=(), *, max_paths=MAX_PATHS):
    """Every path between `x` and `y` in a DAG, and whether the set `z` blocks it.

    A path is a sequence of distinct nodes, each joined to the next by an edge in either
    direction. A node inside a path is a *collider* of that path when both of its edges on the
    path point into it (``u -> v <- w``). Given `z`, the path is *blocked* by

    - a non-collider in `z` (a chain ``u -> v -> w`` or a fork ``u <- v -> w`` through a known node), or
    - a collider that is not in `z` and has no descendant in `z`,

    and *open* otherwise. `x` and `y` are d-separated by `z` exactly when no path is open
    (what :func:`networkx.is_d_separator` and :class:`DSeparation` answer, without listing paths).

    Parameters
    ----------
    graph : networkx.DiGraph
        Acyclic.
    x, y : node
        Two different nodes of `graph`.
    z : collection of nodes, default=()
        The conditioning set; it may not hold `x` or `y`.
    max_paths : int, default=MAX_PATHS
        Refuse graphs with more paths than this between `x` and `y` (their number grows
        exponentially with the graph).

    Returns
    -------
    pandas.DataFrame
        One row per path, shortest first (ties in the order of the nodes' names), with columns
        ``path`` (text such as ``"a1 <- s1 -> s2"``), ``nodes`` (tuple, from `x` to `y`),
        ``colliders`` (tuple, the path's colliders), ``open`` (bool), ``blocked_by`` (tuple of
        the nodes that block it, empty when open) and ``why`` (in words). Empty when `x` and
        `y` are not connected at all.

    Raises
    ------
    ValueError
        For a graph that is not a DAG, `x` or `y` not in it or equal, `z` naming unknown nodes
        or holding `x` or `y`, or more than `max_paths` paths.

    Examples
    --------
    >>> import networkx as nx
    >>> collider = nx.DiGraph([("a", "c"), ("b", "c"), ("c", "d")])
    >>> path_states(collider, "a", "b", set())[["path", "open", "why"]].to_dict("records")
    [{'path': 'a -> c <- b', 'open': False, 'why': 'c is a collider not in Z, with no descendant in Z'}]
    >>> bool(path_states(collider, "a", "b", {"d"}).open.any())  # a descendant of the collider opens it
    True
    """
    if not isinstance(graph, nx.DiGraph):
        raise ValueError(f"graph must be a networkx.DiGraph; got {type(graph).__name__}.")
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("graph has a directed cycle; d-separation needs a DAG.")
    for name, node in (("x", x), ("y", y)):
        try:
            known = node in graph
        except TypeError:  # unhashable, such as a set of nodes
            known = False
        if not known:
            raise ValueError(f"{name}={node!r} is not a node of the graph; give one node of it.")
    if x == y:
        raise ValueError(f"x and y must be two different nodes; both are {x!r}.")
    z = _node_set(z, "z", graph)
    if x in z or y in z:
        raise ValueError(f"z may not hold x or y; it holds {sorted(map(str, z & {x, y}))}.")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        raise ValueError(f"max_paths must be an integer >= 1; got {max_paths!r}.")

    paths = []
    for path in nx.all_simple_paths(graph.to_undirected(as_view=True), x, y):
        paths.append(tuple(path))
        if len(paths) > max_paths:
            raise ValueError(f"there are more than max_paths={max_paths} paths between x={x!r} and y={y!r}; "
                             "ask about a smaller graph or raise max_paths.")
    paths.sort(key=lambda path: (len(path), [str(node) for node in path]))

    descendants = {}
    rows = []
    for path in paths:
        colliders, blocked_by, why, opened = [], [], [], []
        for u, v, w in zip(path, path[1:], path[2:]):
            if graph.has_edge(u, v) and graph.has_edge(w, v):
                colliders.append(v)
                if v in z:
                    opened.append(f"collider {v} is in Z")
                    continue
                if v not in descendants:
                    descendants[v] = nx.descendants(graph, v)
                known = descendants[v] & z
                if known:
                    opened.append(f"collider {v} has a descendant in Z ({', '.join(sorted(map(str, known)))})")
                else:
                    blocked_by.append(v)
                    why.append(f"{v} is a collider not in Z, with no descendant in Z")
            elif v in z:
                blocked_by.append(v)
                why.append(f"{v} is a non-collider in Z")
        if not blocked_by:
            why = ["open: " + ("; ".join(opened) if opened else "no node on it is in Z, and it has no collider")]
        rows.append({"path": _arrow_text(graph, path), "nodes": path, "colliders": tuple(colliders),
                     "open": not blocked_by, "blocked_by": tuple(blocked_by), "why": "; ".join(why)})
    return pd.DataFrame(rows, columns=["path", "nodes", "colliders", "open", "blocked_by", "why"])
