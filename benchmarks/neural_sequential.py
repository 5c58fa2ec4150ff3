"""Sequential (Besag-Clifford) p-values of :class:`NeuralCMI` on chapter 9's neural CMI panel.

Algorithm 1 with the neural CMI test (the book profile's 20 critic epochs) and the paper's rule
(alpha = 0.05, no correction) on chapter 9's video worlds (2,000 videos, seeds 0 and 1), on the
true states and on the principal components of the frames (the learned encoders are left out:
the test's cost does not depend on where the features came from). Each is run once with
``stop_after=10`` (the default) and once drawing all 100 permutations. Prints the seconds of
each, how many p-values differ, whether any differs below 0.1 (none can), whether the
statistics and the segment-task matrices are the same, and chapter 9's score (the mAP of the
ranking by statistic), which cannot change.

    OMP_NUM_THREADS=1 python benchmarks/neural_sequential.py

Figures: ``benchmarks/results/neural_sequential.md``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import specbook as sb  # noqa: E402
from specbook.experiments.pixels import frame_pca  # noqa: E402
from specbook.metrics import mean_average_precision  # noqa: E402
from specbook.worlds.video import AgentVideoWorld  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"{'seed':>4} {'features':>8} {'tests':>5} {'s (stop 10)':>11} {'s (all 100)':>11} {'speed-up':>8} "
          f"{'p differ':>8} {'differ < 0.1':>12} {'same stats':>10} {'same matrix':>11} {'mAP':>5}")
    totals = np.zeros(2)
    for seed in args.seeds:
        world = AgentVideoWorld(seed=seed)
        video = world.sample(args.n, seed=seed)
        for name, features in (("states", video.states), ("frames", frame_pca(video.frames, 4, seed=seed))):
            found, wall = {}, {}
            for stop_after in (10, None):
                start = time.perf_counter()
                found[stop_after] = sb.discover_tasks(features, video.tasks, L=world.L, test="neural-cmi",
                                                      correction=None, seed=seed, epochs=args.epochs,
                                                      stop_after=stop_after)
                wall[stop_after] = time.perf_counter() - start
            tested = np.isfinite(found[None].pvalues)
            sequential, every = found[10].pvalues[tested], found[None].pvalues[tested]
            differ = sequential != every
            below = differ & (np.minimum(sequential, every) < 0.1)
            same_statistics = np.array_equal(found[10].statistics, found[None].statistics, equal_nan=True)
            same_matrix = np.array_equal(found[10].segment_tasks, found[None].segment_tasks)
            scores = [mean_average_precision(world.assignment, found[key].statistics) for key in (10, None)]
            assert scores[0] == scores[1]
            totals += wall[10], wall[None]
            print(f"{seed:>4} {name:>8} {sequential.size:>5} {wall[10]:>11.1f} {wall[None]:>11.1f} "
                  f"{wall[None] / wall[10]:>7.2f}x {int(differ.sum()):>8} {int(below.sum()):>12} "
                  f"{str(same_statistics):>10} {str(same_matrix):>11} {scores[0]:>5.2f}")
    print(f"all: {totals[0]:.1f} s against {totals[1]:.1f} s ({totals[1] / totals[0]:.2f}x)")


if __name__ == "__main__":
    main()
