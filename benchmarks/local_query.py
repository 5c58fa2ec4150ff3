"""The local query (the book's proposition): accuracy, single-segment tasks, speed, and speed under load.

Prints a table (and writes ``benchmarks/results/local_query.md``):

- segment-task accuracy of every query of :data:`specbook.tasks.discovery.QUERIES` with Holm,
  Fisher z, T = 20, M = 4, the default world, 10 worlds at n = 1,000 and n = 10,000, the local
  query with each conditioning set (its two neighbours, every other state);
- the same for the local query's two conditioning sets on worlds of other shapes (held out: the
  wider set was not chosen on them);
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
conditioning = "all-states" if query == "local-all-states" else "band"
query = "local" if conditioning == "all-states" else query
world = sb.ColliderWorld(T=20, M=4, L=2, seed=0)
data = world.sample(n=10_000, seed=1)

def once():
    if query == "covariance":  # the floor: reading the data once into the covariance every test starts from
        np.cov(np.column_stack([data.states[:, :, 0], data.tasks]), rowvar=False)
        return
    if query != "causal-learn":
        sb.discover_tasks(data.states, data.tasks, L=2, query=query, conditioning=conditioning)
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


#: The queries as rows: every query, and the local one with each conditioning set.
VARIANTS = [(query, "band") for query in QUERIES] + [("local", "all-states")]
#: Worlds of other shapes than the default, for the local query's two conditioning sets.
HELD_OUT = {
    "T=24, M=5, L=3": dict(T=24, M=5, L=3),
    "T=40, M=8, task density 0.3": dict(T=40, M=8, L=2, task_density=0.3),
    "T=20, M=4, task noise 2": dict(T=20, M=4, L=2, task_noise=2.0),
    "T=20, M=4, L=4, 2-dim states": dict(T=20, M=4, L=4, state_dim=2),
    "T=20, M=4, no disconnections": dict(T=20, M=4, L=2, p_disconnect=0.0),
}


def _label(query, conditioning):
    return f"{query}, all states" if conditioning == "all-states" else query


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
    timing_repeats = 5 if args.quick else 300  # a call takes about a millisecond: medians of 30 moved by a third
    rows = []

    def accuracy(world_options, n, query, conditioning, seeds):
        scores = []
        for seed in seeds:
            world = sb.ColliderWorld(**world_options, seed=seed)
            data = world.sample(n=n, seed=seed + 1)
            found = sb.discover_tasks(data.states, data.tasks, L=world.L, correction="holm", query=query,
                                      conditioning=conditioning)
            scores.append(structure_scores(world.assignment, found.segment_tasks)["accuracy"])
        return f"{np.mean(scores):.3f} +/- {np.std(scores, ddof=1):.3f}"

    for n in (1_000, 10_000):
        for query, conditioning in VARIANTS:
            target = ">= 0.99" if n == 10_000 else ">= 0.95"
            rows.append((f"accuracy, {_label(query, conditioning)}, Holm, Fisher z, T=20, M=4, n={n:,}, "
                         f"{n_worlds} worlds", accuracy(dict(T=20, M=4, L=2), n, query, conditioning, range(n_worlds)),
                         target if query == "local" else ""))
    for shape, options in HELD_OUT.items():
        for n in (1_000, 10_000):
            for conditioning in ("band", "all-states"):
                rows.append((f"accuracy, {_label('local', conditioning)}, Holm, Fisher z, {shape}, n={n:,}, "
                             f"{n_worlds} worlds (seeds 100+)",
                             accuracy(options, n, "local", conditioning, range(100, 100 + n_worlds)), "held out"))

    found_single = {variant: 0 for variant in VARIANTS}
    total = 0
    for seed in range(n_single):
        world = sb.ColliderWorld(T=20, M=4, L=2, min_segments_per_task=1, seed=seed)
        single = world.assignment.sum(axis=0) == 1
        if not single.any():
            continue
        data = world.sample(n=10_000, seed=seed + 1)
        total += int(single.sum())
        for query, conditioning in VARIANTS:
            labels = sb.discover_tasks(data.states, data.tasks, L=2, correction="holm", query=query,
                                       conditioning=conditioning).segment_tasks
            found_single[query, conditioning] += int((labels[:, single] & world.assignment[:, single]).sum())
    for (query, conditioning), found in found_single.items():
        rows.append((f"recall on single-segment tasks, {_label(query, conditioning)}, Holm, n=10,000 ({total} tasks "
                     f"in {n_single} worlds)", f"{found / total:.3f}",
                     ">= 0.95" if query == "local" else "0 (cannot see them)"))

    big = sb.ColliderWorld(T=200, M=20, L=2, seed=0)
    big_data = big.sample(n=10_000, seed=1)
    for conditioning in ("band", "all-states"):
        seconds = median_seconds(lambda: sb.discover_tasks(big_data.states, big_data.tasks, L=2, query="local",
                                                           conditioning=conditioning), max(3, repeats // 5))
        rows.append((f"discover_tasks, {_label('local', conditioning)}, Fisher z, T=200, M=20, n=10,000 "
                     "(2,000 tests)", f"{seconds:.3f} s", "<= 0.1 s" if conditioning == "band" else ""))
    for conditioning in ("band", "all-states"):
        accuracies, seconds = [], []
        for seed in range(3):
            nonlinear = sb.ColliderWorld(T=20, M=4, L=2, mechanism="nonlinear", seed=seed)
            nl_data = nonlinear.sample(n=5_000, seed=seed + 1)
            start = time.perf_counter()
            found = sb.discover_tasks(nl_data.states, nl_data.tasks, L=2, test="gcm", correction="holm", seed=0,
                                      query="local", conditioning=conditioning)
            seconds.append(time.perf_counter() - start)
            accuracies.append(structure_scores(nonlinear.assignment, found.segment_tasks)["accuracy"])
        rows.append((f"discover_tasks, {_label('local', conditioning)}, GCM, nonlinear T=20, M=4, n=5,000 "
                     "(40 tests), 3 worlds", f"{np.median(seconds):.1f} s (median)",
                     f"<= 10 s; accuracy {np.mean(accuracies):.3f} +/- {np.std(accuracies, ddof=1):.3f}"))

    try:
        import causallearn  # noqa: F401
        contenders = [*QUERIES, "local-all-states", "covariance", "causal-learn"]
    except ImportError:
        contenders = [*QUERIES, "local-all-states", "covariance"]
    quiet = {name: timed_in_fresh_process(name, timing_repeats) for name in contenders}
    busy = [multiprocessing.Process(target=_busy, args=(3_600,)) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = {name: timed_in_fresh_process(name, timing_repeats) for name in contenders}
    finally:
        for process in busy:
            process.terminate()
    for name in contenders:
        what = {"causal-learn": "causal-learn fisherz, one call per test (collider query, 180 tests)",
                "covariance": "numpy.cov of the 24 state and task columns (the floor: reading the data once)"}.get(
            name, f"discover_tasks, {name.replace('local-all-states', 'local, all states')}, Fisher z")
        note = ""
        if name != "causal-learn" and "causal-learn" in quiet:
            note = (f"{quiet['causal-learn'] / quiet[name]:.0f}x the causal-learn loop quiet, "
                    f"{loaded['causal-learn'] / loaded[name]:.0f}x under load")
        rows.append((f"{what}, T=20, M=4, n=10,000: quiet / two busy processes",
                     f"{1e3 * quiet[name]:.1f} ms / {1e3 * loaded[name]:.1f} ms", note))

    header = ("# The local query: accuracy, single-segment tasks, speed\n\n"
              f"`python benchmarks/local_query.py{' --quick' if args.quick else ''}` on {platform.machine()} "
              f"({os.cpu_count()} CPUs), Python {platform.python_version()}; timings are medians of {timing_repeats} "
              "calls, the quiet and loaded ones each in a fresh process with the BLAS's default threads.\n\n")
    write_table("local_query", header, ("measurement", "value", "target / note"), rows)

if __name__ == "__main__":
    main()
