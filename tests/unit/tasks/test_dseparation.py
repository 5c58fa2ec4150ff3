"""DSeparation gives networkx.is_d_separator's answer to every question, and refuses bad ones."""
import itertools

import networkx as nx
import numpy as np
import pytest

from specbook.tasks.dseparation import DSeparation
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
