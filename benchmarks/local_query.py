"""The local query (the book's proposition): accuracy, single-segment tasks, speed, and speed under load.

Prints a table (and writes ``benchmarks/results/local_query.md``):

- segment-task accuracy of every query of :data:`specbook.tasks.discovery.QUERIES` with Holm,
  Fisher z, T = 20, M = 4, the default world, 10 worlds at n = 1,000 and n = 10,000;
- recall on tasks that a single segment serves (``min_segments_per_task=1``), at n = 10,000;
- the time of ``discover_tasks`` with Fisher z (T = 20, M = 4 and T = 200, M = 20, n = 10,000) and
  with GCM on a nonlinear world (T = 20, M = 4, n = 5,000), local query;
- Fisher z at T = 20, M = 4, n = 10,000 for each query and for causal-learn's ``fisherz`` called
  once per test (the paper's query), on a quiet machine and while two other processes keep
  both cores busy, each timed in a fresh process with the BLAS's default thread count.

    python benchmarks/local_query.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time

import numpy as np

import specbook as sb
from specbook.metrics import structure_scores
from specbook.tasks.discovery import QUERIES
from results_table import median_seconds, write_table

TIMING = r'''
import json, sys, time
import numpy as np
import specbook as sb
query, repeats = sys.argv[1], int(sys.argv[2])
world = sb.ColliderWorld(T=20, M=4, L=2, seed=0)
data = world.sample(n=10_000, seed=1)

def once():
    if query != "causal-learn":
        sb.discover_tasks(data.states, data.tasks, L=2, query=query)
        return
    from causallearn.utils.cit import CIT
    values = np.column_stack([data.states[:, :, 0], data.tasks])
    test = CIT(values, "fisherz")
    for i in range(4):
        for k in range(1, 10):
            for v in range(k + 1, 11):
                test(2 * k - 1, 2 * v - 1, [t - 1 for t in sb.band_set(k, v, 20, 2)] + [20 + i])

once()
times = []
for _ in range(repeats):
    start = time.perf_counter()
    once()
    times.append(time.perf_counter() - start)
print(json.dumps(float(np.median(times))))
'''


def _busy(seconds):
    end = time.perf_counter() + seconds
    x = 0.0
    while time.perf_counter() < end:
        x += 1.0


def timed_in_fresh_process(query, repeats):
    environment = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                                    "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", TIMING, query, str(repeats)], capture_output=True, text=True,
                         env=environment, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer worlds and repeats")
    args = parser.parse_args()
    n_worlds, n_single, repeats = (3, 10, 5) if args.quick else (10, 40, 30)
    rows = []

    for n in (1_000, 10_000):
        for query in QUERIES:
            accuracy = []
            for seed in range(n_worlds):
                world = sb.ColliderWorld(T=20, M=4, L=2, seed=seed)
                data = world.sample(n=n, seed=seed + 1)
                found = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query=query)
                accuracy.append(structure_scores(world.assignment, found.segment_tasks)["accuracy"])
            target = {"local": ">= 0.99" if n == 10_000 else ">= 0.95"}.get(query, "")
            rows.append((f"accuracy, {query}, Holm, Fisher z, T=20, M=4, n={n:,}, {n_worlds} worlds",
                         f"{np.mean(accuracy):.3f} +/- {np.std(accuracy, ddof=1):.3f}", target))

    found_single = {query: 0 for query in QUERIES}
    total = 0
    for seed in range(n_single):
        world = sb.ColliderWorld(T=20, M=4, L=2, min_segments_per_task=1, seed=seed)
        single = world.assignment.sum(axis=0) == 1
        if not single.any():
            continue
        data = world.sample(n=10_000, seed=seed + 1)
        total += int(single.sum())
        for query in QUERIES:
            labels = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query=query).segment_tasks
            found_single[query] += int((labels[:, single] & world.assignment[:, single]).sum())
    for query in QUERIES:
        rows.append((f"recall on single-segment tasks, {query}, Holm, n=10,000 ({total} tasks in {n_single} worlds)",
                     f"{found_single[query] / total:.3f}", ">= 0.95" if query == "local" else "0 (cannot see them)"))

    big = sb.ColliderWorld(T=200, M=20, L=2, seed=0)
    big_data = big.sample(n=10_000, seed=1)
    seconds = median_seconds(lambda: sb.discover_tasks(big_data.states, big_data.tasks, L=2, query="local"),
                             max(3, repeats // 5))
    rows.append(("discover_tasks, local, Fisher z, T=200, M=20, n=10,000 (2,000 tests)", f"{seconds:.3f} s",
                 "<= 0.1 s"))
    nonlinear = sb.ColliderWorld(T=20, M=4, L=2, mechanism="nonlinear", seed=0)
    nl_data = nonlinear.sample(n=5_000, seed=1)
    start = time.perf_counter()
    found = sb.discover_tasks(nl_data.states, nl_data.tasks, L=2, test="gcm", correction="holm", seed=0, query="local")
    rows.append(("discover_tasks, local, GCM, nonlinear T=20, M=4, n=5,000 (40 tests)",
                 f"{time.perf_counter() - start:.1f} s",
                 f"<= 10 s; accuracy {structure_scores(nonlinear.assignment, found.segment_tasks)['accuracy']:.3f}"))

    try:
        import causallearn  # noqa: F401
        contenders = [*QUERIES, "causal-learn"]
    except ImportError:
        contenders = list(QUERIES)
    quiet = {name: timed_in_fresh_process(name, repeats) for name in contenders}
    busy = [multiprocessing.Process(target=_busy, args=(3_600,)) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = {name: timed_in_fresh_process(name, repeats) for name in contenders}
    finally:
        for process in busy:
            process.terminate()
    for name in contenders:
        what = ("causal-learn fisherz, one call per test (collider query, 180 tests)" if name == "causal-learn"
                else f"discover_tasks, {name}, Fisher z")
        note = ""
        if name != "causal-learn" and "causal-learn" in quiet:
            note = (f"{quiet['causal-learn'] / quiet[name]:.0f}x the causal-learn loop quiet, "
                    f"{loaded['causal-learn'] / loaded[name]:.0f}x under load")
        rows.append((f"{what}, T=20, M=4, n=10,000: quiet / two busy processes",
                     f"{1e3 * quiet[name]:.1f} ms / {1e3 * loaded[name]:.1f} ms", note))

    header = ("# The local query: accuracy, single-segment tasks, speed\n\n"
              f"`python benchmarks/local_query.py{' --quick' if args.quick else ''}` on {platform.machine()} "
              f"({os.cpu_count()} CPUs), Python {platform.python_version()}; timings are medians of {repeats} "
              "calls, the quiet and loaded ones each in a fresh process with the BLAS's default threads.\n\n")
    write_table("local_query", header, ("measurement", "value", "target / note"), rows)

if __name__ == "__main__":
    main()
