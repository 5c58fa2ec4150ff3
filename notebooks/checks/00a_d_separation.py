"""Hidden checks of the d-separation primer's exercise (the instructor copy carries them, the student copy does not).

The check calls the student's function and the solution's on graphs the chapter never drew (a
small graph with a collider and its descendant, and collider worlds of other sizes and seeds,
with and without a selection node) and compares the answers; ``WRONG`` holds a plausible wrong
answer, which the tests make sure the check catches.
"""
import networkx as nx

import specbook as sb
from specbook.harness.grading import compare


def check_reblock(student, solution):
    # u -> m <- v, m -> d, plus a chain u -> c -> v and a fork u <- r -> v
    small = nx.DiGraph([("u", "m"), ("v", "m"), ("m", "d"), ("u", "c"), ("c", "v"), ("r", "u"), ("r", "v")])
    cases = [(small, "small graph", "u", "v", z) for z in (set(), {"c"}, {"r"}, {"m"}, {"d", "c"})]
    for seed, (T, M) in ((17, (8, 2)), (29, (10, 3))):
        world = sb.ColliderWorld(T=T, M=M, L=2, seed=seed)
        name = f"ColliderWorld(T={T}, M={M}, L=2, seed={seed}).graph"
        cases += [(world.graph, name, "a2", f"a{T - 2}", z) for z in (set(), {"g1"}, {"s4", "g2"})]
        cases += [(world.graph, name, "s2", f"s{T}", {"s3"})]
        cases += [(world.selection_graph([1]), name.replace(".graph", ".selection_graph([1])"), "a1", f"a{T}", z)
                  for z in ({"S1"}, {"s2", "S1"})]
    for graph, name, x, y, z in cases:
        compare(student.separating_additions(graph, x, y, set(z)), solution.separating_additions(graph, x, y, set(z)),
                f"separating_additions({name}, {x!r}, {y!r}, {sorted(z)})")


CHECKS = {"ex-dsep-reblock": check_reblock}

WRONG = {
    # tests the added node on its own, forgetting the nodes already in z
    "ex-dsep-reblock": '''
def separating_additions(graph, x, y, z):
    candidates = set(graph) - {x, y} - set(z)
    return sorted(w for w in candidates if nx.is_d_separator(graph, {x}, {y}, {w}))
''',
}
