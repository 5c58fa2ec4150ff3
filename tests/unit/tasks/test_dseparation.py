"""DSeparation and path_states give networkx.is_d_separator's answer to every question, and refuse bad ones."""
import itertools

import networkx as nx
import numpy as np
import pytest

from specbook.tasks.dseparation import DSeparation, path_states
from specbook.tasks.theory import random_worlds


def random_dag(rng, n_nodes, edge_probability):
    order = rng.permutation(n_nodes)
    return nx.DiGraph([(int(order[i]), int(order[j])) for i, j in itertools.combinations(range(n_nodes), 2)
                       if rng.uniform() < edge_probability]) if n_nodes else nx.DiGraph()


def test_agrees_with_networkx_on_random_dags():
    rng = np.random.default_rng(0)
    asked = separated = 0
    for _ in range(300):
        n = int(rng.integers(3, 12))
        graph = random_dag(rng, n, rng.uniform(0.1, 0.6))
        graph.add_nodes_from(range(n))
        oracle = DSeparation(graph)
        for _ in range(20):
            nodes = rng.permutation(n)
            sizes = rng.multinomial(n, [0.2, 0.2, 0.3, 0.3])[:3]
            x, y, z = (set(map(int, part)) for part in np.split(nodes, np.cumsum(sizes))[:3])
            if not x or not y:
                continue
            expected = nx.is_d_separator(graph, x, y, z)
            assert oracle.separated(x, y, z) is expected, (sorted(graph.edges), x, y, z)
            asked += 1
            separated += expected
    assert asked > 3_000 and 0.2 < separated / asked < 0.8  # both answers are well represented


def test_agrees_with_networkx_on_the_books_worlds():
    for world in random_worlds(40, L_values=(1, 2, 3), seed=3):
        graph, oracle = world.graph, DSeparation(world.graph)
        states = [f"s{t}" for t in range(1, world.T + 1)]
        for i, (x, y) in enumerate(itertools.combinations(states, 2)):
            z = set(states[states.index(x) + 1: states.index(y)]) | {f"g{1 + i % world.M}"}
            assert oracle.separated({x}, {y}, z) is nx.is_d_separator(graph, {x}, {y}, z)


def test_explaining_away_and_a_descendant_of_the_collider():
    oracle = DSeparation(nx.DiGraph([("a", "c"), ("b", "c"), ("c", "d"), ("a", "e"), ("e", "f")]))
    assert oracle.separated({"a"}, {"b"}, set())
    assert not oracle.separated({"a"}, {"b"}, {"c"})
    assert not oracle.separated({"a"}, {"b"}, {"d"})  # conditioning on the collider's descendant opens it
    assert oracle.separated({"f"}, {"d"}, {"e"}) and not oracle.separated({"f"}, {"d"}, set())


def test_refuses_cycles_overlaps_unknown_nodes_and_other_graphs():
    with pytest.raises(ValueError, match="directed cycle"):
        DSeparation(nx.DiGraph([("a", "b"), ("b", "a")]))
    with pytest.raises(ValueError, match="networkx.DiGraph"):
        DSeparation(nx.Graph([("a", "b")]))
    oracle = DSeparation(nx.DiGraph([("a", "b"), ("b", "c")]))
    with pytest.raises(ValueError, match="disjoint.*'a'"):
        oracle.separated({"a"}, {"c"}, {"a", "b"})
    with pytest.raises(ValueError, match=r"not in the graph"):
        oracle.separated({"a"}, {"q"}, set())


def test_reads_the_graph_once():
    graph = nx.DiGraph([("a", "b"), ("b", "c")])
    oracle = DSeparation(graph)
    graph.add_edge("a", "c")
    assert oracle.separated({"a"}, {"c"}, {"b"})


# A slice of a collider world: a fork at s1, a collider at s2 (s1 -> s2 <- a1), a chain s2 -> s3 -> a3,
# the task g1 a collider of a1 and a3, and the selection S1 below it.
SLICE = nx.DiGraph([("s1", "a1"), ("s1", "s2"), ("a1", "s2"), ("s2", "s3"), ("s3", "a3"),
                    ("a1", "g1"), ("a3", "g1"), ("g1", "S1")])


def test_path_states_agrees_with_networkx_on_random_dags():
    rng = np.random.default_rng(1)
    asked = separated = 0
    for _ in range(150):
        n = int(rng.integers(2, 8))
        graph = random_dag(rng, n, rng.uniform(0.2, 0.7))
        graph.add_nodes_from(range(n))
        for _ in range(6):
            x, y, *rest = (int(node) for node in rng.permutation(n))
            z = {node for node in rest if rng.uniform() < 0.4}
            states = path_states(graph, x, y, z)
            expected = nx.is_d_separator(graph, {x}, {y}, z)
            assert (not states.open.any()) is expected, (sorted(graph.edges), x, y, z)
            assert all(path[0] == x and path[-1] == y and len(set(path)) == len(path) for path in states.nodes)
            assert all(graph.has_edge(u, v) or graph.has_edge(v, u) for path in states.nodes
                       for u, v in zip(path, path[1:]))
            assert (states.open == (states.blocked_by.map(len) == 0)).all()
            asked += 1
            separated += expected
    assert 0.2 < separated / asked < 0.8  # both answers are well represented


def test_path_states_lists_every_path_once():
    rng = np.random.default_rng(2)
    for _ in range(30):
        graph = random_dag(rng, 6, 0.5)
        graph.add_nodes_from(range(6))
        states = path_states(graph, 0, 5, set())
        expected = {tuple(path) for path in nx.all_simple_paths(graph.to_undirected(), 0, 5)}
        assert set(states.nodes) == expected and len(states) == len(expected)


def test_path_states_opens_and_blocks_step_by_step():
    def table(z):
        states = path_states(SLICE, "a1", "a3", z)
        return {row.path: (row.open, row.blocked_by) for row in states.itertuples()}

    collider, direct, fork = "a1 -> g1 <- a3", "a1 -> s2 -> s3 -> a3", "a1 <- s1 -> s2 -> s3 -> a3"
    assert list(table(set())) == [collider, direct, fork]  # shortest first
    assert table(set()) == {collider: (False, ("g1",)), direct: (True, ()), fork: (True, ())}
    assert table({"s2"}) == {collider: (False, ("g1",)), direct: (False, ("s2",)), fork: (False, ("s2",))}
    assert table({"s2", "g1"}) == {collider: (True, ()), direct: (False, ("s2",)), fork: (False, ("s2",))}
    assert table({"s2", "S1"})[collider] == (True, ())  # a descendant of the collider opens it
    assert table({"s1", "s3"})[fork] == (False, ("s1", "s3"))  # every blocking node is named
    states = path_states(SLICE, "s1", "a1", {"s2"})  # s2 is a collider between s1 and a1
    assert states.set_index("path").loc["s1 -> s2 <- a1", "colliders"] == ("s2",)
    assert states.set_index("path").loc["s1 -> s2 <- a1", "why"] == "open: collider s2 is in Z"
    assert "collider g1 has a descendant in Z (S1)" in path_states(SLICE, "a1", "a3", {"S1"}).why[0]
    assert "s2 is a non-collider in Z" in path_states(SLICE, "a1", "a3", {"s2"}).why[1]


def test_path_states_of_unconnected_nodes_is_an_empty_table():
    graph = nx.DiGraph([("a", "b")])
    graph.add_node("c")
    states = path_states(graph, "a", "c")
    assert states.empty and list(states.columns) == ["path", "nodes", "colliders", "open", "blocked_by", "why"]


@pytest.mark.parametrize("graph, x, y, z, kwargs, match", [
    (nx.DiGraph([("a", "b"), ("b", "a")]), "a", "b", (), {}, r"graph has a directed cycle"),
    (nx.Graph([("a", "b")]), "a", "b", (), {}, r"graph must be a networkx.DiGraph; got Graph"),
    (SLICE, "q", "a3", (), {}, r"x='q' is not a node of the graph"),
    (SLICE, "a1", "q", (), {}, r"y='q' is not a node of the graph"),
    (SLICE, {"a1"}, "a3", (), {}, r"x=\{'a1'\} is not a node of the graph"),
    (SLICE, "a1", "a1", (), {}, r"x and y must be two different nodes"),
    (SLICE, "a1", "a3", "s2", {}, r"z must be a collection of nodes.*got 's2'"),
    (SLICE, "a1", "a3", 3, {}, r"z must be a collection of nodes"),
    (SLICE, "a1", "a3", {"q"}, {}, r"z names nodes that are not in the graph: \['q'\]"),
    (SLICE, "a1", "a3", {"a3", "s2"}, {}, r"z may not hold x or y; it holds \['a3'\]"),
    (SLICE, "a1", "a3", (), {"max_paths": 0}, r"max_paths must be an integer >= 1"),
    (SLICE, "a1", "a3", (), {"max_paths": 2}, r"more than max_paths=2 paths between x='a1' and y='a3'"),
])
def test_path_states_refuses_bad_questions(graph, x, y, z, kwargs, match):
    with pytest.raises(ValueError, match=match):
        path_states(graph, x, y, z, **kwargs)
