"""Baselines on the paper's synthetic structure-recovery setting: a table, not a timed test.

Linear-Gaussian ColliderWorld, n = 10,000, T = 20, M = 4, L = 2, default parameters, one world
per seed (world seed ``s``, sampling seed ``s + 1``, as in :mod:`specbook.benchmark`), seeds 0..9.
For each method: accuracy (share of the N x M segment-task matrix right), Matthews correlation
(scikit-learn's ``matthews_corrcoef`` over the flattened matrix; 0 when a matrix is constant),
false positives and negatives per run (mean), and seconds per run (median; BLAS limited to one
thread). Algorithm 1 (Fisher z, alpha = 0.05, the paper's uncorrected rule, and the
Benjamini-Hochberg rule) is included when ``specbook.discovery`` imports. The last row is an
ablation: SelTask's significant pairs labelled directly, to show what the factorisation adds.

    python benchmarks/baselines.py            # 10 seeds
    python benchmarks/baselines.py --quick    # 3 seeds

The table is printed and written to ``benchmarks/results/baselines.md``.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import matthews_corrcoef  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from specbook import ColliderWorld  # noqa: E402
from specbook.baselines import BASELINES, group_lasso_tasks  # noqa: E402


def methods():
    out = {}
    note = None
    try:
        from specbook.discovery import discover_tasks
    except ImportError as error:  # specbook.citests not there yet
        note = f"Algorithm 1 left out: specbook.discovery does not import ({error})."
    else:
        out["Algorithm 1 (Fisher z, paper's rule)"] = lambda s, g, L, seed: discover_tasks(
            s, g, L=L, test="fisherz", alpha=0.05)
        out["Algorithm 1 (Fisher z, BH)"] = lambda s, g, L, seed: discover_tasks(
            s, g, L=L, test="fisherz", alpha=0.05, correction="bh")
    out["CCA"] = lambda s, g, L, seed: BASELINES["cca"](s, g, L=L, alpha=0.05, seed=seed)
    out["Group Lasso (BIC)"] = lambda s, g, L, seed: BASELINES["group-lasso"](s, g, L=L, seed=seed)
    out["SelTask"] = lambda s, g, L, seed: BASELINES["seltask"](s, g, L=L, alpha=0.05, seed=seed)
    out["SelTask, phase 1 only (pair rule, no NMF)"] = lambda s, g, L, seed: _pair_rule(
        BASELINES["seltask"](s, g, L=L, alpha=0.05, seed=seed))
    return out, note


class _Labels:
    def __init__(self, segment_tasks):
        self.segment_tasks = segment_tasks


def _pair_rule(result):
    """Label both segments of every significant selection pair (SelTask without the factorisation)."""
    significant = result.info["significant"]  # (M, N, N)
    return _Labels((significant | significant.transpose(0, 2, 1)).any(axis=2).T)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds instead of 10")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10, or 3 with --quick)")
    parser.add_argument("--n", type=int, default=10_000, help="samples per world (default 10,000)")
    parser.add_argument("--T", type=int, default=20)
    parser.add_argument("--M", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "baselines.md")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (3 if args.quick else 10)
    T, M, L, n = args.T, args.M, 2, args.n

    table, note = methods()
    with threadpool_limits(limits=1):
        # skglm compiles its solver with numba on first use in a process: pay it before timing.
        start = time.perf_counter()
        warm = ColliderWorld(T=8, M=1, L=2, seed=0).sample(500, seed=0)
        group_lasso_tasks(warm.states, warm.tasks, L=2)
        compile_seconds = time.perf_counter() - start

        rows = {name: [] for name in table}
        for seed in range(n_seeds):
            world = ColliderWorld(T=T, M=M, L=L, seed=seed)
            data = world.sample(n=n, seed=seed + 1)
            truth = world.assignment
            for name, method in table.items():
                start = time.perf_counter()
                found = method(data.states, data.tasks, L, 0).segment_tasks
                seconds = time.perf_counter() - start
                rows[name].append((
                    float((found == truth).mean()),
                    float(matthews_corrcoef(truth.ravel(), found.ravel())),
                    int((found & ~truth).sum()), int((~found & truth).sum()), seconds,
                ))

    header = ("| method | accuracy | MCC | false pos. / run | false neg. / run | seconds / run |\n"
              "|---|---|---|---|---|---|")
    lines = [header]
    for name, values in rows.items():
        v = np.array(values)
        lines.append(f"| {name} | {v[:, 0].mean():.3f} ± {v[:, 0].std(ddof=1) if len(v) > 1 else 0:.3f} "
                     f"| {v[:, 1].mean():.3f} ± {v[:, 1].std(ddof=1) if len(v) > 1 else 0:.3f} "
                     f"| {v[:, 2].mean():.1f} | {v[:, 3].mean():.1f} | {np.median(v[:, 4]):.3f} |")
    setting = (f"Linear-Gaussian ColliderWorld, T = {T}, M = {M}, L = {L}, n = {n:,}, default parameters, "
               f"seeds 0..{n_seeds - 1} (world seed s, sampling seed s + 1); N x M = {T // L} x {M} matrix. "
               f"Mean ± sd (ddof 1) over seeds; seconds: median per run, one BLAS thread, "
               f"{os.cpu_count()} CPUs, Python {platform.python_version()}. "
               f"skglm's numba compilation ({compile_seconds:.1f} s, once per process) is excluded.")
    notes = [setting]
    if note:
        notes.append(note)
    text = "\n".join(lines)
    print(text)
    print()
    for line in notes:
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/baselines.py" + (" --quick" if args.quick else "")
    args.out.write_text(
        "# Structure recovery: Algorithm 1 vs the baselines (our readings)\n\n"
        f"Written by `{command}` on {time.strftime('%Y-%m-%d')}.\n\n" + text + "\n\n" + "\n\n".join(notes) + "\n"
    )
    print(f"\nwritten to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
