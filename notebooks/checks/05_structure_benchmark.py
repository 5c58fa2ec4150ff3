"""Hidden checks of the exercises of "The synthetic structure-recovery benchmark" (the instructor copy carries them,
the student copy does not).

Each check calls the student's functions and the solution's on horizons, sample sizes, test
counts and levels the chapter never used and compares the answers; ``WRONG`` holds a
plausible wrong answer per exercise, which the tests make sure the checks catch.

``ex-runtime-horizon`` asks for wall times, which no check can compare. Its check runs small
worlds (a few hundred samples, one or two repeats) and compares what is deterministic: the
keys of the returned dict, ``T``, ``M`` and the number of tests exactly; of the times it
checks only that the seconds are positive and that the time per test is the student's own
seconds over the student's own test count, in microseconds. Whether the timing itself is done
right (the warm-up call, one BLAS thread, the median over ``repeats``) is not checked.
``ex-permutation-floor`` is deterministic and compared exactly under every rule of ``RULES``.
"""
from specbook.experiments.structure import RULES
from specbook.harness.grading import compare

#: The entries of alg1_runtime's answer that do not depend on the machine.
EXACT = ("T", "M", "tests")


def check_runtime_horizon(student, solution):
    for T, n_samples, repeats, seed in ((12, 300, 1, 5), (16, 200, 2, 9), (30, 200, 1, 3)):
        what = f"alg1_runtime({T}, n_samples={n_samples}, repeats={repeats}, seed={seed})"
        got = student.alg1_runtime(T, n_samples, repeats, seed)
        expected = solution.alg1_runtime(T, n_samples, repeats, seed)
        compare(sorted(got) if isinstance(got, dict) else got, sorted(expected), f"keys of {what}")
        compare({key: got[key] for key in EXACT}, {key: expected[key] for key in EXACT}, what)
        compare(bool(got["seconds"] > 0), True, f"{what}['seconds'] > 0")
        compare(got["microseconds per test"], 1e6 * got["seconds"] / got["tests"],
                f"{what}['microseconds per test'] against 1e6 * seconds / tests")


def check_permutation_floor(student, solution):
    for alpha in (0.1, 0.01):
        for n_tests in (45, 300):
            for n_floor in (1, 3, 12):
                for correction in RULES.values():
                    compare(student.fewest_permutations(n_tests, n_floor, correction, alpha),
                            solution.fewest_permutations(n_tests, n_floor, correction, alpha),
                            f"fewest_permutations({n_tests}, {n_floor}, {correction!r}, {alpha})")


CHECKS = {"ex-runtime-horizon": check_runtime_horizon, "ex-permutation-floor": check_permutation_floor}

WRONG = {
    # M = T // 5 (rounded down) instead of math.ceil(T / 5), so too few tasks and tests
    "ex-runtime-horizon": '''
def alg1_runtime(T, n_samples=10_000, repeats=3, seed=0):
    world = sb.ColliderWorld(T=T, M=max(1, T // 5), L=2, seed=seed)
    data = world.sample(n=n_samples, seed=seed + 1)
    with threadpool_limits(1):
        found = sb.discover_tasks(data.states, data.tasks, L=2)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            sb.discover_tasks(data.states, data.tasks, L=2)
            times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    return {"T": T, "M": world.M, "tests": found.n_tests, "seconds": seconds,
            "microseconds per test": 1e6 * seconds / found.n_tests}
''',
    # takes the permutation floor as 1 / B instead of 1 / (B + 1)
    "ex-permutation-floor": '''
def fewest_permutations(n_tests, n_floor, correction, alpha=0.05):
    from specbook.tasks.multitest import reject

    def rejects(B):
        pvalues = np.ones(n_tests)
        pvalues[:n_floor] = 1 / B
        return bool(reject(pvalues, alpha, correction).any())

    high = 1
    while not rejects(high):
        high *= 2
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if rejects(middle) else (middle, high)
    return high
''',
}
