"""The oracle's verifications (``verify_theorem1``): seconds per world, before and after the two speed-ups.

*networkx, eager*: every d-separation through :func:`networkx.is_d_separator` (which checks
the graph for cycles and finds ancestors on every call) and every world's structural
equations drawn when it is built, as before 2026-12-07. *DSeparation, lazy*: the package
now (:class:`specbook.tasks.dseparation.DSeparation`, equations drawn on first sample).
Both give the same table (checked here with ``DataFrame.equals``). Writes
``results/oracle_speed.md``.

    python benchmarks/oracle_speed.py [--worlds 2000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import platform
import time

import networkx as nx
import numpy as np
from results_table import write_table

from specbook.tasks import discovery
from specbook.tasks.theory import verify_theorem1
from specbook.worlds.collider import ColliderWorld


class NetworkxSeparation:
    """The oracle's test as it was: networkx's function, called afresh for every question."""

    def __init__(self, graph):
        self.graph = graph

    def separated(self, x, y, z):
        return nx.is_d_separator(self.graph, x, y, z)


def eager_init(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._draw_equations()
    return init


def timed(n_worlds, query, repeats, old):
    original_test, original_init = discovery.DSeparation, ColliderWorld.__init__
    if old:
        discovery.DSeparation, ColliderWorld.__init__ = NetworkxSeparation, eager_init(original_init)
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            table = verify_theorem1(n_worlds, L_values=(1, 2, 3, 4, 5), query=query, seed=0, progress=False)
            times.append(time.perf_counter() - start)
    finally:
        discovery.DSeparation, ColliderWorld.__init__ = original_test, original_init
    return float(np.median(times)), table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for query in ("collider", "local"):
        before, old_table = timed(args.worlds, query, args.repeats, old=True)
        after, new_table = timed(args.worlds, query, args.repeats, old=False)
        if not old_table.equals(new_table):
            raise SystemExit(f"the two oracles disagree for query={query!r}")
        rows.append([query, f"{args.worlds:,}", f"{1e3 * before / args.worlds:.2f}", f"{1e3 * after / args.worlds:.2f}",
                     f"{before / after:.1f}x", "identical"])
    header = (f"# The oracle's verifications: networkx per call against DSeparation\n\n"
              f"`python benchmarks/oracle_speed.py --worlds {args.worlds} --repeats {args.repeats}`; "
              f"{platform.processor() or platform.machine()}, networkx {nx.__version__}; median of "
              f"{args.repeats} runs of `verify_theorem1` (L in 1..5), milliseconds per world.\n\n")
    write_table("oracle_speed", header, ["query", "worlds", "networkx, eager (ms)", "DSeparation, lazy (ms)",
                                         "speed-up", "tables"], rows)


if __name__ == "__main__":
    main()
