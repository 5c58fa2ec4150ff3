"""Hidden checks of the exercises of "Algorithm 1 on data" (the instructor copy carries them, the student copy
does not).

Each check calls the student's functions and the solution's on worlds, p-values and horizons the
chapter never used and compares the answers; ``WRONG`` holds a plausible wrong answer per
exercise, which the tests make sure the checks catch.

``ex-holm-rule`` is checked on the p-values of small sampled worlds and on made-up p-values
placed near Holm's thresholds, where a rule that does not stop at the first failed test, or
Bonferroni's, labels differently. ``ex-familywise-horizon`` draws random p-values: the number
of tests is compared exactly, the two shares within 0.05 (about four standard errors of the
difference of two estimates from 3,000 draws), so any correct way of drawing them passes,
and so does the exact probability.
"""
import numpy as np

import specbook as sb
from specbook.harness.grading import compare


def _near_thresholds(M, N, alpha, seed):
    """P-values (M, N, N), NaN where k >= v: the smallest ten within 20% of Holm's first ten thresholds at `alpha`."""
    rng = np.random.default_rng(seed)
    tested = np.triu(np.ones((N, N), dtype=bool), k=1)[None].repeat(M, axis=0)
    m = int(tested.sum())
    small = alpha / (m - np.arange(10)) * rng.uniform(0.8, 1.2, size=10)
    pvalues = np.full((M, N, N), np.nan)
    pvalues[tested] = rng.permutation(np.concatenate([small, rng.uniform(0.2, 1, size=m - 10)]))
    return pvalues


def check_holm_rule(student, solution):
    for seed, (T, M, L) in zip((31, 57), ((12, 3, 2), (12, 2, 3))):
        world = sb.ColliderWorld(T=T, M=M, L=L, seed=seed)
        data = world.sample(n=400, seed=seed + 1)
        found = sb.discover_tasks(data.states, data.tasks, L=L)
        where = f"ColliderWorld(T={T}, M={M}, L={L}, seed={seed}), n = 400"
        for alpha in (0.05, 0.2):
            compare(student.holm_segment_tasks(found.pvalues, alpha), solution.holm_segment_tasks(found.pvalues, alpha),
                    f"holm_segment_tasks(p-values of {where}, {alpha})")
            compare(student.agrees_with_library(world, data, alpha), solution.agrees_with_library(world, data, alpha),
                    f"agrees_with_library({where}, {alpha})")
    for seed, (M, N, alpha) in zip(range(70, 76), ((2, 6, 0.05), (3, 5, 0.1), (4, 8, 0.05)) * 2):
        pvalues = _near_thresholds(M, N, alpha, seed)
        compare(student.holm_segment_tasks(pvalues, alpha), solution.holm_segment_tasks(pvalues, alpha),
                f"holm_segment_tasks(p-values (M={M}, N={N}) near Holm's thresholds, seed {seed}, {alpha})")


def check_familywise_horizon(student, solution):
    for T, alpha, seed in ((10, 0.2, 7), (13, 0.05, 8), (25, 0.01, 9), (36, 0.1, 10)):
        compare(student.familywise_error(T, alpha, 3_000, seed), solution.familywise_error(T, alpha, 3_000, seed),
                f"familywise_error({T}, {alpha}, 3000, {seed}) (shares within 0.05)", atol=0.05)


CHECKS = {"ex-holm-rule": check_holm_rule, "ex-familywise-horizon": check_familywise_horizon}

WRONG = {
    # rejects every test below its own Holm threshold, without stopping at the first that fails
    "ex-holm-rule": '''
def holm_segment_tasks(pvalues, alpha=0.05):
    M, N, _ = pvalues.shape
    tested = np.isfinite(pvalues)
    p = pvalues[tested]
    m = p.size
    order = np.argsort(p, kind="stable")
    below = p[order] < alpha / (m - np.arange(m))
    rejected = np.zeros(m, dtype=bool)
    rejected[order[below]] = True
    dependent = np.zeros_like(tested)
    dependent[tested] = rejected
    segment_tasks = np.zeros((N, M), dtype=bool)
    for i, k, v in zip(*np.nonzero(dependent)):
        segment_tasks[[k, v], i] = True
    return segment_tasks


def agrees_with_library(world, data, alpha=0.05):
    library = sb.discover_tasks(data.states, data.tasks, L=world.L, alpha=alpha, correction="holm")
    return bool(np.array_equal(holm_segment_tasks(library.pvalues, alpha), library.segment_tasks))
''',
    # M = T // 5 (rounded down) instead of round(T / 5), so too few tests at T = 13
    "ex-familywise-horizon": '''
def familywise_error(T, alpha=0.05, n_draws=2_000, seed=0):
    M, N = max(1, T // 5), T // 2
    m = M * N * (N - 1) // 2
    smallest = np.random.default_rng(seed).uniform(size=(n_draws, m)).min(axis=1)
    return {"tests": m, "paper (no correction)": float(np.mean(smallest < alpha)),
            "holm": float(np.mean(smallest < alpha / m))}
''',
}
