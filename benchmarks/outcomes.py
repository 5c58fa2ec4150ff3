"""Tasks recorded as outcomes (success / failure): are the CI tests still calibrated, and what does each query keep?

For every query of :data:`specbook.tasks.discovery.QUERIES` and the tests Fisher z and GCM, on
linear collider worlds (T = 12, M = 3, L = 2) whose tasks are recorded as ``g_i > 0``
(:func:`specbook.task_outcomes`), prints:

- the rejection rate at alpha = 0.05 over the queries whose truth is independence (the
  calibration: a valid test keeps it near 0.05; the issue asks for [0.03, 0.07]), with the
  standard error over worlds (queries of one world share its data);
- the segment-task accuracy with Holm, with the task values and with the outcomes.

    python benchmarks/outcomes.py [--quick]

The table is printed and written to ``benchmarks/results/outcomes.md``.
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402

import specbook as sb  # noqa: E402
from specbook.metrics import query_truth, structure_scores  # noqa: E402
from specbook.tasks.discovery import QUERIES  # noqa: E402
from results_table import write_table  # noqa: E402

T, M, L = 12, 3, 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer worlds")
    args = parser.parse_args()
    settings = {"fisherz": (200, 2_000), "gcm": (30, 1_000)}
    if args.quick:
        settings = {"fisherz": (20, 2_000), "gcm": (3, 1_000)}
    rows = []
    for test, (n_worlds, n) in settings.items():
        options = {"seed": 0} if test == "gcm" else {}
        for query in QUERIES:
            rates, accuracy = [], {"values": [], "outcomes": []}
            for seed in range(n_worlds):
                world = sb.ColliderWorld(T=T, M=M, L=L, seed=seed)
                data = world.sample(n=n, seed=seed + 1)
                outcomes = sb.task_outcomes(data.tasks)
                found = sb.discover_tasks(data.states, outcomes, L=L, test=test, query=query, **options)
                truth, tested = query_truth(world.assignment, query)
                null = tested & ~truth
                rates.append(float((found.pvalues[null] < 0.05).mean()) if null.any() else np.nan)
                for name, tasks in (("values", data.tasks), ("outcomes", outcomes)):
                    holm = sb.discover_tasks(data.states, tasks, L=L, test=test, query=query, correction="holm",
                                             **options)
                    accuracy[name].append(structure_scores(world.assignment, holm.segment_tasks)["accuracy"])
            rates = np.array(rates)[~np.isnan(rates)]
            rate, se = rates.mean(), rates.std(ddof=1) / np.sqrt(len(rates))
            verdict = "within [0.03, 0.07]" if 0.03 <= rate <= 0.07 else "outside [0.03, 0.07]"
            rows.append((f"{test}, {query}, outcomes, n={n:,}, {n_worlds} worlds", f"{rate:.3f} +/- {se:.3f}",
                         verdict, f"{np.mean(accuracy['values']):.3f} / {np.mean(accuracy['outcomes']):.3f}"))
    header = ("# Tasks recorded as outcomes: calibration and accuracy\n\n"
              f"`python benchmarks/outcomes.py{' --quick' if args.quick else ''}` on {platform.machine()} "
              f"({os.cpu_count()} CPUs), Python {platform.python_version()}, BLAS on one thread. Linear worlds "
              f"T = {T}, M = {M}, L = {L}, world seed s, sample seed s + 1; outcome = 1 when g_i > 0.\n\n")
    columns = ("test, query", "rejection rate of true nulls at 0.05 (+/- se over worlds)", "calibration",
               "accuracy with Holm: task values / outcomes")
    write_table("outcomes", header, columns, rows)

if __name__ == "__main__":
    main()
