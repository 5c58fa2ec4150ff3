"""Baselines on the paper's synthetic structure-recovery setting: a table, not a timed test.

Linear-Gaussian ColliderWorld, n = 10,000, T = 20, M = 4, L = 2, default parameters, one world
per seed (world seed ``s``, sampling seed ``s + 1``, as in :mod:`specbook.experiments.structure`), seeds 0..9.
For each method: accuracy (share of the N x M segment-task matrix right), Matthews correlation
(scikit-learn's ``matthews_corrcoef`` over the flattened matrix; 0 when a matrix is constant),
false positives and negatives per run (mean), and seconds per run (median; BLAS limited to one
thread). Like for like: Algorithm 1 (Fisher z, alpha = 0.05; the paper's collider test and the
book's intersection-union query), SelTask and CCA each run their tests once per world and are
decided under every rule of ``specbook.experiments.structure.RULES`` (uncorrected, the paper's rule;
Bonferroni; Holm; Benjamini-Hochberg) from the same p-values; Group Lasso (BIC, no test) has one
row. The last row is an ablation: SelTask's significant pairs (its default rule, BH) labelled
directly, to show what the factorisation adds. Seconds per run: the one run of the tests plus
the re-decision under that rule.

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
from specbook.tasks.baselines import BASELINES, group_lasso_tasks  # noqa: E402


def methods():
    """Name to ``f(states, tasks, L, seed)`` returning a dict of row name to result."""
    from specbook.experiments.structure import RULES, recorrect
    from specbook.tasks.discovery import discover_tasks

    def under_rules(name, run):
        def rows(s, g, L, seed):
            found = run(s, g, L, seed)
            return {f"{name}, {rule}": recorrect(found, correction) for rule, correction in RULES.items()}
        return rows

    def seltask_phase1(s, g, L, seed):
        return {"SelTask, phase 1 only (pair rule, no NMF)": _pair_rule(
            BASELINES["seltask"](s, g, L=L, alpha=0.05, seed=seed))}

    return [
        under_rules("Algorithm 1 (Fisher z, collider test)", lambda s, g, L, seed: discover_tasks(
            s, g, L=L, test="fisherz", alpha=0.05)),
        under_rules("Algorithm 1 (Fisher z, intersection-union; ours)", lambda s, g, L, seed: discover_tasks(
            s, g, L=L, test="fisherz", alpha=0.05, query="intersection-union")),
        under_rules("SelTask", lambda s, g, L, seed: BASELINES["seltask"](s, g, L=L, alpha=0.05, seed=seed)),
        under_rules("CCA", lambda s, g, L, seed: BASELINES["cca"](s, g, L=L, alpha=0.05, seed=seed)),
        lambda s, g, L, seed: {"Group Lasso (BIC)": BASELINES["group-lasso"](s, g, L=L, seed=seed)},
        seltask_phase1,
    ]


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

    table = methods()
    with threadpool_limits(limits=1):
        # the first call in a process pays for importing the solver: keep it out of the timings
        start = time.perf_counter()
        warm = ColliderWorld(T=8, M=1, L=2, seed=0).sample(500, seed=0)
        group_lasso_tasks(warm.states, warm.tasks, L=2)
        first_call_seconds = time.perf_counter() - start

        rows = {}
        for seed in range(n_seeds):
            world = ColliderWorld(T=T, M=M, L=L, seed=seed)
            data = world.sample(n=n, seed=seed + 1)
            truth = world.assignment
            for method in table:
                start = time.perf_counter()
                results = method(data.states, data.tasks, L, 0)
                run_seconds = time.perf_counter() - start
                for name, result in results.items():
                    found = result.segment_tasks
                    seconds = getattr(result, "seconds", run_seconds)
                    rows.setdefault(name, []).append((
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
               f"The first Group Lasso call ({first_call_seconds:.1f} s, importing its solver) is excluded.")
    notes = [setting]
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
