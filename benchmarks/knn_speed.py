"""Seconds per :class:`KnnCMI` test (default options) at the sizes of chapter 5.

One test of Algorithm 1 in miniature: x and y one column each, z three columns, x and y
depending nonlinearly on z and not on each other. Each figure is the median over `--repeats`
draws (each its own data and seed), after one warm-up test. BLAS runs on one thread; the
neighbour searches (cKDTree, ``workers=-1``) may use every core, so the CPU seconds (all
threads) are printed beside the wall-clock ones.

    OMP_NUM_THREADS=1 python benchmarks/knn_speed.py              # n = 400 and 2,000
    OMP_NUM_THREADS=1 python benchmarks/knn_speed.py --repeats 9

The figures before and after the stacked counting are in ``benchmarks/results/knn_speed.md``.
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from specbook.ci import KnnCMI

DZ = 3


def draw(n, seed):
    """x and y depend on a shared z (|z| = 3), not on each other."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, (n, DZ))
    x = np.sin(1.5 * z[:, :1]) + 0.5 * z[:, 1:2] ** 2 + 0.5 * rng.standard_normal((n, 1))
    y = np.cos(1.5 * z[:, :1]) * z[:, 2:] + 0.4 * z[:, 1:2] ** 2 + 0.5 * rng.standard_normal((n, 1))
    return x, y, z


def seconds_per_test(n, repeats):
    """Median wall-clock and CPU seconds (all threads: the neighbour searches use every core)."""
    KnnCMI(seed=0)(*draw(n, 0))  # warm up (imports, first calls)
    wall, cpu = [], []
    for r in range(repeats):
        x, y, z = draw(n, 1 + r)
        start, start_cpu = time.perf_counter(), time.process_time()
        KnnCMI(seed=r)(x, y, z)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return float(np.median(wall)), float(np.median(cpu))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"| n | wall-clock seconds per test | CPU seconds per test |   (median of {args.repeats}, |z| = {DZ})")
    print("|---|---|---|")
    for n in args.sizes:
        wall, cpu = seconds_per_test(n, args.repeats)
        print(f"| {n:,} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
