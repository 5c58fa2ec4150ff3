"""Group Lasso baseline: celer's solver against skglm's, which the book used before.

:func:`specbook.tasks.baselines.group_lasso_tasks` solves a group-lasso path per task. It
used skglm's ``GroupLasso`` (numba, compiled in every new process: seconds per process);
it now uses celer's ``celer_path`` (Cython, compiled ahead). Both minimise
``||y - X w||^2 / (2 n) + alpha sum_g ||w_g||_2`` with unit group weights, so the same
penalty grid means the same problems; only the stopping rules differ (skglm: largest
KKT violation <= tol; celer: duality gap <= tol ||y||^2 / n).

For each world the function is run twice, with its path solver swapped for each (the
skglm path below is the book's code before the switch), and compared on

* the segment-task labels (``segment_tasks``, i.e. ``scores > 0``): cells that differ;
* the chosen penalties (``info["lambdas"]``): tasks whose index on the grid differs;
* the coefficients along the whole path: the largest absolute difference, and the
  (penalty, group) cells whose support differs;
* the scores (block norms at the chosen penalty): the largest absolute difference.

Worlds: ColliderWorld, T = 20, M = 4, L = 2 (chapter 5's panel (b) and nonlinear
panel), linear and ``mechanism="nonlinear"``, n in {1,000, 2,000, 10,000}, world seeds
0..S-1 with sampling seed s + 1 (as :mod:`specbook.experiments.structure`), default
parameters (BIC, 30 penalties, tol 1e-6). Also compared: a few worlds under
``selection="cv"`` (n = 1,000), a few at other horizons (T = 10 and 40, M = ceil(T / 5),
n = 2,000), and one world (linear, n = 10,000) at tighter tolerances, to see whether the
coefficient differences are the solvers' tolerances. Timings: the first call in a fresh Python process (the solver's
import and any compilation included) and the later calls, one BLAS thread.

    OMP_NUM_THREADS=1 python benchmarks/group_lasso_solvers.py            # 6 seeds: 36 worlds
    OMP_NUM_THREADS=1 python benchmarks/group_lasso_solvers.py --seeds 2  # 12 worlds

The tables are printed and written to ``benchmarks/results/group_lasso_solvers.md``.
skglm is no longer a dependency of the book: install it to run this (``pip install skglm``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from specbook import ColliderWorld  # noqa: E402
from specbook.tasks import baselines  # noqa: E402

T, M, L = 20, 4, 2
SIZES = (1_000, 2_000, 10_000)
OTHER_HORIZONS = (10, 40)  # chapter 5's panel (a) has T = 8..20 with M = ceil(T / 5)
TOLS = (1e-6, 1e-8, 1e-10)
MECHANISMS = ("linear", "nonlinear")


def skglm_path(X, y, alphas, group_size, tol):
    """The book's path before the switch: skglm's GroupLasso refitted along `alphas` with warm starts."""
    from skglm import GroupLasso

    model = GroupLasso(groups=group_size, alpha=alphas[0], tol=tol, fit_intercept=False, warm_start=True)
    coefs = []
    for alpha in alphas:
        model.alpha = alpha
        model.fit(X, y)
        coefs.append(model.coef_.copy())
    return np.array(coefs)


SOLVERS = {"skglm": skglm_path, "celer": baselines._group_lasso_path}


def run(solver, data, **options):
    """group_lasso_tasks with `solver` as its path solver: (result, seconds, every path it computed)."""
    paths = []

    def recording(X, y, alphas, group_size, tol):
        coefs = SOLVERS[solver](X, y, alphas, group_size, tol)
        paths.append(coefs)
        return coefs

    with mock.patch.object(baselines, "_group_lasso_path", recording):
        start = time.perf_counter()
        result = baselines.group_lasso_tasks(data.states, data.tasks, L=L, **options)
        seconds = time.perf_counter() - start
    return result, seconds, paths


def compare(data, **options):
    group_size = L * (data.states.shape[2] if data.states.ndim == 3 else 1)
    (a, ta, pa), (b, tb, pb) = run("skglm", data, **options), run("celer", data, **options)
    ratios = np.logspace(0, np.log10(1e-3), options.get("n_lambdas", 30))
    support_a = np.concatenate([np.abs(p).reshape(len(p), -1, group_size).sum(axis=2) > 0 for p in pa])
    support_b = np.concatenate([np.abs(p).reshape(len(p), -1, group_size).sum(axis=2) > 0 for p in pb])
    index_a = np.rint(np.log(a.info["lambdas"] / a.info["lambda_max"]) / np.log(ratios[1])).astype(int)
    index_b = np.rint(np.log(b.info["lambdas"] / b.info["lambda_max"]) / np.log(ratios[1])).astype(int)
    crit_a = a.info["criteria"]
    near_tie = []
    for i in np.flatnonzero(index_a != index_b):
        near_tie.append(float(abs(crit_a[i, index_a[i]] - crit_a[i, index_b[i]])))
    return {
        "cells": int((a.segment_tasks != b.segment_tasks).sum()),
        "n_cells": int(a.segment_tasks.size),
        "tasks": int(a.segment_tasks.shape[1]),
        "lambdas": int((index_a != index_b).sum()),
        "lambda_rel": float(np.max(np.abs(a.info["lambdas"] - b.info["lambdas"]) / a.info["lambdas"])),
        "coef": float(max(np.max(np.abs(x - y)) for x, y in zip(pa, pb))),
        "support": int((support_a != support_b).sum()),
        "support_cells": int(support_a.size),
        "scores": float(np.max(np.abs(a.scores - b.scores))),
        "bic_gaps": near_tie,
        "seconds": (ta, tb),
    }


FRESH = """
import json, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from specbook import ColliderWorld
from specbook.tasks import baselines
sys.path.insert(0, {bench!r})
import group_lasso_solvers as bench
from threadpoolctl import threadpool_limits
data = ColliderWorld(T={T}, M={M}, L={L}, seed=0).sample(n={n}, seed=1)
imported = time.perf_counter() - t0
seconds = []
with threadpool_limits(limits=1):
    for _ in range(4):
        seconds.append(bench.run({solver!r}, data)[1])
print(json.dumps({{"import": imported, "seconds": seconds}}))
"""


def fresh_process(solver, n):
    """First and later call times of group_lasso_tasks in a new Python process."""
    code = FRESH.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), T=T, M=M, L=L, n=n, solver=solver)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="world seeds per (mechanism, n) (default 6: 36 worlds)")
    parser.add_argument("--cv", type=int, default=2,
                        help="world seeds per mechanism at n = 1,000 also compared under selection='cv' (default 2)")
    parser.add_argument("--other", type=int, default=2,
                        help=f"world seeds per mechanism at T in {OTHER_HORIZONS}, n = 2,000 (default 2)")
    parser.add_argument("--fresh", type=int, default=3, help="fresh processes per solver for the first-call time")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "group_lasso_solvers.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    fresh = {solver: [fresh_process(solver, 1_000) for _ in range(args.fresh)] for solver in SOLVERS}

    rows, cv_rows, other_rows, tol_rows = [], [], [], []
    with threadpool_limits(limits=1):
        warm = ColliderWorld(T=8, M=1, L=L, seed=0).sample(500, seed=0)
        for solver in SOLVERS:  # skglm's numba compilation, paid before timing
            run(solver, warm)
        for mechanism in MECHANISMS:
            for n in SIZES:
                for seed in range(args.seeds):
                    world = ColliderWorld(T=T, M=M, L=L, seed=seed, mechanism=mechanism)
                    data = world.sample(n=n, seed=seed + 1)
                    rows.append((mechanism, f"n = {n:,}", seed, compare(data)))
                    print(mechanism, n, seed, {k: v for k, v in rows[-1][3].items() if k != "bic_gaps"}, flush=True)
            for T_other in OTHER_HORIZONS:
                for seed in range(args.other):
                    world = ColliderWorld(T=T_other, M=-(-T_other // 5), L=L, seed=seed, mechanism=mechanism)
                    data = world.sample(n=2_000, seed=seed + 1)
                    other_rows.append((mechanism, f"T = {T_other}, M = {world.M}", seed, compare(data)))
                    print(mechanism, T_other, seed, {k: v for k, v in other_rows[-1][3].items() if k != "bic_gaps"},
                          flush=True)
            for seed in range(args.cv):
                world = ColliderWorld(T=T, M=M, L=L, seed=seed, mechanism=mechanism)
                data = world.sample(n=1_000, seed=seed + 1)
                cv_rows.append((mechanism, "n = 1,000", seed, compare(data, selection="cv", n_lambdas=10)))
                print("cv", mechanism, seed, {k: v for k, v in cv_rows[-1][3].items() if k != "bic_gaps"},
                      flush=True)
        # Tolerance: the coefficient gap between the solvers should shrink with a tighter tol.
        data = ColliderWorld(T=T, M=M, L=L, seed=0).sample(n=10_000, seed=1)
        for tol in TOLS:
            tol_rows.append(("linear", f"tol = {tol:g}", 0, compare(data, tol=tol)))
            print("tol", tol, {k: v for k, v in tol_rows[-1][3].items() if k != "bic_gaps"}, flush=True)

    def table(entries, title, total=True):
        lines = [f"| {title} | worlds | label cells differing (of) | tasks with another lambda (of) | "
                 "max rel. lambda diff. | path support cells differing (of) | max coef. diff. on path | "
                 "max score diff. | skglm s / call (median) | celer s / call (median) |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        groups = {}
        for mechanism, label, _, r in entries:
            groups.setdefault((mechanism, label), []).append(r)
        if total:
            groups[("all", "")] = [r for *_, r in entries]
        for (mechanism, label), rs in groups.items():
            lines.append(
                f"| {mechanism}{', ' + label if label else ''} | {len(rs)} "
                f"| {sum(r['cells'] for r in rs)} ({sum(r['n_cells'] for r in rs)}) "
                f"| {sum(r['lambdas'] for r in rs)} ({sum(r['tasks'] for r in rs)}) "
                f"| {max(r['lambda_rel'] for r in rs):.2g} "
                f"| {sum(r['support'] for r in rs)} ({sum(r['support_cells'] for r in rs)}) "
                f"| {max(r['coef'] for r in rs):.2g} | {max(r['scores'] for r in rs):.2g} "
                f"| {np.median([r['seconds'][0] for r in rs]):.3f} | {np.median([r['seconds'][1] for r in rs]):.3f} |")
        return lines


    lines = table(rows, "worlds (BIC, defaults)")
    other_lines = table(other_rows, "other horizons (BIC, n = 2,000)") if other_rows else []
    tol_lines = table(tol_rows, "tolerance (BIC, n = 10,000, seed 0)", total=False)
    cv_lines = table(cv_rows, "worlds (CV, 5 folds, 10 penalties, n = 1,000)") if cv_rows else []
    gaps = [g for *_, r in rows + cv_rows + other_rows + tol_rows for g in r["bic_gaps"]]

    first = ["| solver | imports (s) | first call (s) | later calls (s, median) | processes |", "|---|---|---|---|---|"]
    for solver, runs in fresh.items():
        first.append(f"| {solver} | {np.median([r['import'] for r in runs]):.2f} "
                     f"| {np.median([r['seconds'][0] for r in runs]):.2f} "
                     f"| {np.median([s for r in runs for s in r['seconds'][1:]]):.3f} | {len(runs)} |")

    import celer
    import skglm
    notes = [
        f"ColliderWorld, T = {T}, M = {M}, L = {L}, world seeds 0..{args.seeds - 1} per (mechanism, n), sampling "
        f"seed s + 1; group_lasso_tasks with default parameters (BIC over 30 penalties, lambda_min_ratio 1e-3, "
        f"tol 1e-6), the path solver swapped. 'Path support cells': (penalty, group) pairs over every task's "
        f"path whose block is zero under one solver only. Seconds: wall time per call, one BLAS thread, "
        f"{os.cpu_count()} CPUs shared with other work, Python {platform.python_version()}, numpy "
        f"{np.__version__}, skglm {skglm.__version__}, celer {celer.__version__}.",
        f"Other horizons: T in {OTHER_HORIZONS}, M = ceil(T / 5) (chapter 5's panel (a) rule), n = 2,000, world seeds "
        f"0..{args.other - 1}. CV: selection='cv', 5 folds, 10 penalties, n = 1,000, world seeds 0..{args.cv - 1}; its "
        "paths include every fold's. Tolerance: one world, both solvers at the tol shown (skglm stops on the largest "
        "KKT violation, celer on the duality gap; the standardised task has ||y||^2 / n = 1).",
        "Where a task's chosen lambda differs, the BIC values of the two choices differ by "
        + (", ".join(f"{g:.3g}" for g in sorted(gaps)) if gaps else "(no such task)") + ".",
        f"First call: group_lasso_tasks on one world (linear, n = 1,000, seed 0) in a new Python process, "
        f"after importing specbook (the 'imports' column: specbook, the world's sampling, this script); the "
        f"first call includes the solver's import and, for skglm, its numba compilation. Median of "
        f"{args.fresh} processes per solver; 'later calls': the next 3 calls in each. This run took "
        f"{time.perf_counter() - started:.0f} s.",
        "Not measured by this script (checked by hand on 2026-12-07, T = 8, M = 2, n = 300): at absurd settings "
        "the stopping rules part. With lambda_min_ratio below about 1e-14 celer cannot certify the smallest "
        "penalties' duality gaps in double precision and runs to its iteration limit (ConvergenceWarning; 1e-15: "
        "10 s, 1e-30: 115 s, 1e-300: 217 s per call; skglm: instant); with tol = 1e-300 celer took 45 s and "
        "skglm over 400 s. Up to 1e-11 (n = 10,000) celer takes about 1 s and warns nothing.",
    ]
    text = "\n".join(["## Agreement", "", *lines, "", *(cv_lines + [""] if cv_lines else []),
                      *(other_lines + [""] if other_lines else []), *tol_lines, "",
                      "## First call in a fresh process", "", *first, "", *notes])
    print()
    print(text)
    command = "OMP_NUM_THREADS=1 python benchmarks/group_lasso_solvers.py" + "".join(
        f" --{name} {value}" for name, value, default in
        (("seeds", args.seeds, 6), ("cv", args.cv, 2), ("other", args.other, 2), ("fresh", args.fresh, 3))
        if value != default)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Group Lasso baseline: celer against skglm\n\n"
                        f"Written by `{command}` on {time.strftime('%Y-%m-%d')}.\n\n" + text + "\n")
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
