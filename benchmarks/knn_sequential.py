"""Sequential (Besag-Clifford) p-values of :class:`KnnCMI` on chapter 5's kNN panel: seconds and decisions.

Algorithm 1 with the kNN CMI test and the paper's rule (alpha = 0.05, no correction) on the
panel's nonlinear worlds, drawn as ``structure_trials`` draws them (T = 20, M = 4, L = 2,
n = 2,000 sequences, seeds 0 and 1), once with
``stop_after=10`` (the default: permutations are drawn until ten estimates reach the
statistic) and once drawing all 100 permutations. Prints, per world, the seconds of each, how
many of the tests' p-values differ and whether any differs below 0.1 (none can), and whether the
segment-task matrices are the same.

    OMP_NUM_THREADS=1 python benchmarks/knn_sequential.py            # the panel's two worlds
    OMP_NUM_THREADS=1 python benchmarks/knn_sequential.py --seeds 0 1 2 3

Figures: ``benchmarks/results/knn_sequential.md``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import specbook as sb  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(f"{'seed':>4} {'tests':>5} {'s (stop 10)':>11} {'s (all 100)':>11} {'speed-up':>8} "
          f"{'p differ':>8} {'differ < 0.1':>12} {'same matrix':>11}")
    totals = np.zeros(2)
    for seed in args.seeds:
        world = sb.ColliderWorld(T=20, M=4, L=2, seed=seed, mechanism="nonlinear")
        data = world.sample(n=args.n, seed=seed + 1)  # as structure_trials samples
        found, wall = {}, {}
        for stop_after in (10, None):
            start = time.perf_counter()
            found[stop_after] = sb.discover_tasks(data.states, data.tasks, L=2, test="knn-cmi", correction=None,
                                                  seed=seed, stop_after=stop_after)
            wall[stop_after] = time.perf_counter() - start
        tested = np.isfinite(found[None].pvalues)
        sequential, every = found[10].pvalues[tested], found[None].pvalues[tested]
        differ = sequential != every
        below = differ & (np.minimum(sequential, every) < 0.1)
        same = np.array_equal(found[10].segment_tasks, found[None].segment_tasks)
        totals += wall[10], wall[None]
        print(f"{seed:>4} {sequential.size:>5} {wall[10]:>11.1f} {wall[None]:>11.1f} "
              f"{wall[None] / wall[10]:>7.2f}x {int(differ.sum()):>8} {int(below.sum()):>12} {str(same):>11}")
    print(f"all: {totals[0]:.1f} s against {totals[1]:.1f} s ({totals[1] / totals[0]:.2f}x)")


if __name__ == "__main__":
    main()
