"""CI tests on a nonlinear band setting: type-I error, power and seconds per test (a table).

The setting mimics one test of Algorithm 1: x and y are the representative states of two
segments, z their band set - four boundary states of dimension d and one task, 4d + 1 dims::

    b1 -> x -> b2 -> b3 -> y -> b4,    g = G(y, b4) + effect * H(x) + noise,    z = (b1, b2, b3, b4, g)

Every arrow is a random one-hidden-layer tanh network (8 units, monotone in each input, input
weights |N(0, 3^2)|, so strongly saturating), plus uniform noise (sd 1 for the root b1, 0.5
elsewhere); a new network is drawn for every draw. With ``effect = 0``, x and y are independent
given z (every path is blocked by b2, b3 or a collider-free chain); with ``effect > 0`` the task
is a collider of x and y and conditioning on it makes them dependent (explaining away), the
signal Theorem 1 detects. Because b2 -> b3 links the two sides, linear residuals of x and y
stay correlated under the null: a linear test is not calibrated here. A linear-Gaussian version
(linear maps, Gaussian noise) shows Fisher's z where its assumptions hold.

BLAS, OpenMP and torch run on one thread; null and power draws run in parallel worker
processes (``--workers``), and seconds per test are timed separately, one test at a time.

    python benchmarks/citests.py                  # full counts (about 16 minutes on 2 cores)
    python benchmarks/citests.py --quick          # smoke check (about a minute)
    python benchmarks/citests.py --only knn-cmi   # one test's rows and notes, the rest kept
    python benchmarks/citests.py --only knn-cmi --dims 4   # only its d = 4 rows (and notes)
    python benchmarks/citests.py --only knn-cmi --dims 1 --null-draws 1000   # more null draws

The table is printed and written to ``benchmarks/results/citests.md``; with ``--only`` the
test's rows and notes in that file are replaced and a line says which rows were re-run, when.
"""
from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from specbook.ci import FisherZ, get_ci_test  # noqa: E402

torch.set_num_threads(1)

SEEDED = {"gcm", "knn-cmi", "neural-cmi"}
TESTS = ("fisherz", "gcm", "knn-cmi", "neural-cmi")
# How each test's notes below the table begin, so that ``--only`` can find and replace them.
NOTE_STARTS = {"fisherz": ("- Batched Fisher z",), "gcm": ("- gcm at",), "knn-cmi": ("- knn-cmi at", "- tigramite"),
               "neural-cmi": ("- neural-cmi at",)}
EFFECT = 1.0          # weight of x in the task g, for power in the nonlinear setting
LINEAR_EFFECT = 0.1   # the same in the linear-Gaussian setting (Fisher z is far more sensitive there)
HIDDEN = 8
INPUT_SCALE = 3.0
NOISE_SD = 0.5


def _monotone_network(rng, d_in, d_out):
    input_signs = rng.choice((-1.0, 1.0), (d_in, 1))
    output_signs = rng.choice((-1.0, 1.0), (1, d_out))
    weights = input_signs * np.abs(rng.normal(0.0, INPUT_SCALE, (d_in, HIDDEN)))
    bias = rng.normal(0.0, 0.5, HIDDEN)
    out = output_signs * rng.uniform(0.5, 1.5, (HIDDEN, d_out)) / np.sqrt(HIDDEN)
    return lambda a: np.tanh(a @ weights + bias) @ out


def _linear_map(rng, d_in, d_out):
    weights = rng.uniform(0.5, 1.5, (d_in, d_out)) * rng.choice((-1.0, 1.0), (d_in, d_out)) / np.sqrt(d_in)
    return lambda a: a @ weights


def band_setting(n, d, effect, seed, mechanism="nonlinear"):
    """One draw of (x, y, z) from the band setting; see the module docstring."""
    rng = np.random.default_rng(seed)
    linear = mechanism == "linear"

    def edge(d_in, d_out):
        return _linear_map(rng, d_in, d_out) if linear else _monotone_network(rng, d_in, d_out)

    def noise(dim, sd):
        if linear:
            return sd * rng.standard_normal((n, dim))
        return sd * rng.uniform(-np.sqrt(3), np.sqrt(3), (n, dim))

    to_x, to_b2, to_b3, to_y, to_b4 = (edge(d, d) for _ in range(5))
    to_g, x_to_g = edge(2 * d, 1), edge(d, 1)
    b1 = noise(d, 1.0)
    x = to_x(b1) + noise(d, NOISE_SD)
    b2 = to_b2(x) + noise(d, NOISE_SD)
    b3 = to_b3(b2) + noise(d, NOISE_SD)
    y = to_y(b3) + noise(d, NOISE_SD)
    b4 = to_b4(y) + noise(d, NOISE_SD)
    g = to_g(np.hstack([y, b4])) + effect * x_to_g(x) + noise(1, NOISE_SD)
    return x, y, np.hstack([b1, b2, b3, b4, g])


def _pvalue(job):
    method, options, n, d, effect, mechanism, seed = job
    x, y, z = band_setting(n, d, effect, seed, mechanism)
    return get_ci_test(method, **options)(x, y, z).pvalue


def seconds_per_test(method, n, d, repeats, seed):
    data = [band_setting(n, d, 0.0, seed + r) for r in range(repeats)]
    test = get_ci_test(method)
    test(*band_setting(400, d, 0.0, seed))  # warm up (imports, first calls)
    start = time.perf_counter()
    for x, y, z in data:
        test(x, y, z)
    return (time.perf_counter() - start) / repeats


def rejection_rate(pool, method, n, d, effect, mechanism, draws, seed):
    # every (setting, draw) gets its own data seed, and a seeded test takes the draw as its seed
    jobs = [(method, {"seed": draw} if method in SEEDED else {}, n, d, effect, mechanism,
             int(np.random.SeedSequence([seed, d, round(effect * 1000), draw]).generate_state(1)[0]))
            for draw in range(draws)]
    pvalues = np.array(pool.map(_pvalue, jobs, chunksize=max(1, draws // 20)))
    return float(np.mean(pvalues < 0.05))


def batched_fisherz_seconds(n_queries, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((10_000, 100)) @ rng.standard_normal((100, 100))
    cov = np.cov(data, rowvar=False)
    queries = []
    for _ in range(n_queries):
        columns = rng.choice(100, size=7, replace=False)
        queries.append(([columns[0]], [columns[1]], list(columns[2:])))
    test = FisherZ()
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        test.pvalues_from_covariance(cov, 10_000, queries)
        best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    for x_idx, y_idx, z_idx in queries[:1000]:
        test.test_from_covariance(cov, 10_000, x_idx, y_idx, z_idx)
    per_query = (time.perf_counter() - start) / 1000
    return best, per_query


def tigramite_seconds(n, seed):
    """One tigramite CMIknn test (100 local permutations) at the same n, when tigramite is installed."""
    try:
        from tigramite.independence_tests.cmiknn import CMIknn
    except ImportError:
        return None
    x, y, z = band_setting(n, 1, 0.0, seed)
    test = CMIknn(knn=10, shuffle_neighbors=5, sig_samples=100, significance="shuffle_test", workers=-1)
    array = np.column_stack([x, y, z]).T
    xyz = np.array([0, 1] + [2] * z.shape[1])
    start = time.perf_counter()
    value = test.get_dependence_measure(array, xyz)
    test.get_shuffle_significance(array, xyz, value)
    return time.perf_counter() - start


def _row_key(row):
    """(test, setting, d) of a table row."""
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    return cells[0], cells[1], cells[3]


def _provenance_dims(line, test):
    """The state dimensions a line "Rows of `test` [at d = ...] re-run ..." covers, or None."""
    start = f"Rows of {test}"
    if not line.startswith(start) or " re-run " not in line:
        return None
    dims = line[len(start):].split(" re-run ")[0]
    return set(dims.removeprefix(" at d = ").split(", ")) if dims else {"1", "4"}


def merge_rerun(text, test, rows, notes, provenance):
    """A previous results file `text` with some of `test`'s rows and its notes replaced by new ones.

    Rows are matched by (test, setting, d) and notes by how they begin (``NOTE_STARTS``), in
    order; a note the run did not produce again (tigramite not installed) is kept. The
    `provenance` line replaces earlier ones of the same test whose rows this run re-ran
    (the same state dimensions or fewer), and goes under the command line.
    """
    new_rows = {_row_key(row): row for row in rows}
    notes = list(notes)
    rerun_dims = _provenance_dims(provenance, test)
    merged, kept_notes = [], []
    for line in text.splitlines():
        if line.startswith(f"| {test} |") and _row_key(line) in new_rows:
            merged.append(new_rows.pop(_row_key(line)))
        elif line.startswith(NOTE_STARTS[test]) and notes:
            merged.append(notes.pop(0))
        elif not (_provenance_dims(line, test) or {None}) <= rerun_dims:
            merged.append(line)
            if line.startswith(NOTE_STARTS[test]):
                kept_notes.append(next(start for start in NOTE_STARTS[test] if line.startswith(start)))
    if new_rows or notes:
        raise ValueError(f"the results file lacks some of the {test} rows or notes this run wrote; re-run "
                         "without --only.")
    command_line = next(i for i, line in enumerate(merged) if line.startswith("`python benchmarks/citests.py"))
    kept = "".join(f" The note beginning '{start[2:]}' is from an earlier run above." for start in kept_notes)
    merged.insert(command_line + 1, provenance + kept)
    return "\n".join(merged) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the null/power draws")
    parser.add_argument("--only", choices=TESTS, default=None,
                        help="re-run one test's rows and notes and replace them in the results file, keeping the rest")
    parser.add_argument("--dims", type=int, nargs="+", choices=(1, 4), default=[1, 4],
                        help="with --only: the state dimensions d whose rows are re-run (default both; "
                             "with one, the test's notes are kept)")
    parser.add_argument("--null-draws", type=int, default=None,
                        help="with --only: null draws per row instead of the plan's "
                             "(the first draws are the plan's own)")
    args = parser.parse_args(argv)
    tests = (args.only,) if args.only else TESTS
    if args.dims != [1, 4] and not args.only:
        parser.error("--dims needs --only")
    if args.null_draws is not None and not args.only:
        parser.error("--null-draws needs --only")

    # method -> (n, {d: (null draws, power draws)}, timing repeats); kNN at d = 4 is slow and
    # powerless, neural-cmi slow: fewer draws there
    if args.quick:
        plan = {"fisherz": (5_000, {1: (40, 20), 4: (40, 20)}, 3), "gcm": (5_000, {1: (20, 10), 4: (20, 10)}, 2),
                "knn-cmi": (1_000, {1: (10, 5), 4: (6, 4)}, 1), "neural-cmi": (1_000, {1: (4, 4), 4: (4, 4)}, 1)}
        linear_draws, batched_queries, knn_timing_n = 100, 9_900, 2_000
    else:
        plan = {"fisherz": (5_000, {1: (1000, 500), 4: (1000, 500)}, 10),
                "gcm": (5_000, {1: (500, 200), 4: (500, 200)}, 5),
                "knn-cmi": (2_000, {1: (500, 100), 4: (200, 50)}, 3),
                "neural-cmi": (1_000, {1: (100, 40), 4: (100, 40)}, 2)}
        linear_draws, batched_queries, knn_timing_n = 1000, 99_000, 5_000

    lines = ["| test | setting | n | d | dim z | null draws | type-I at 0.05 | power draws "
             f"| power (effect {EFFECT:g}) | s / test |", "|---|---|---|---|---|---|---|---|---|---|"]
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers) as pool:
        for d in args.dims if "fisherz" in tests else ():
            rate = rejection_rate(pool, "fisherz", 10_000, d, 0.0, "linear", linear_draws, args.seed)
            power = rejection_rate(pool, "fisherz", 10_000, d, LINEAR_EFFECT, "linear", linear_draws // 2, args.seed)
            seconds = seconds_per_test("fisherz", 10_000, d, 3, args.seed)
            lines.append(f"| fisherz | linear-Gaussian | 10,000 | {d} | {4 * d + 1} | {linear_draws} | {rate:.3f} "
                         f"| {linear_draws // 2} | {power:.3f} (effect {LINEAR_EFFECT:g}) | {seconds:.4f} |")
            print(lines[-1], flush=True)
        for method in tests:
            n, counts, repeats = plan[method]
            for d in args.dims:
                null_draws, power_draws = counts[d]
                null_draws = args.null_draws or null_draws
                rate = rejection_rate(pool, method, n, d, 0.0, "nonlinear", null_draws, args.seed)
                power = rejection_rate(pool, method, n, d, EFFECT, "nonlinear", power_draws, args.seed)
                seconds = seconds_per_test(method, n, d, repeats, args.seed)
                se = np.sqrt(0.05 * 0.95 / null_draws)
                lines.append(f"| {method} | nonlinear | {n:,} | {d} | {4 * d + 1} | {null_draws} | {rate:.3f} "
                             f"(se {se:.3f}) | {power_draws} | {power:.3f} | {seconds:.3f} |")
                print(lines[-1], flush=True)

    extra = []
    if args.dims == [1, 4]:  # the notes are not about one d: --dims keeps them
        if "fisherz" in tests:
            batched, per_query = batched_fisherz_seconds(batched_queries, args.seed)
            extra.append(f"- Batched Fisher z (`FisherZ.pvalues_from_covariance`): {batched_queries:,} queries of size "
                         f"(1, 1, 5) on one 100 x 100 covariance in {batched:.3f} s (best of 3); one query at a time "
                         f"through `test_from_covariance`: {per_query * 1e6:.0f} us per query "
                         f"({per_query * batched_queries:.1f} s for all).")
        if "knn-cmi" in tests:
            knn_seconds = seconds_per_test("knn-cmi", knn_timing_n, 1, 3, args.seed)
            extra.append(f"- knn-cmi at n = {knn_timing_n:,}, |Z| = 5, 100 local permutations: "
                         f"{knn_seconds:.2f} s per test.")
        if "neural-cmi" in tests:
            neural_seconds = seconds_per_test("neural-cmi", 2_000, 1, 2, args.seed)
            extra.append(f"- neural-cmi at n = 2,000, |Z| = 5 (100 epochs, 100 permutations), CPU: "
                         f"{neural_seconds:.2f} s per test.")
        if "gcm" in tests:
            gcm_seconds = seconds_per_test("gcm", 5_000, 4, 3, args.seed)
            extra.append(f"- gcm at n = 5,000, d = 4, |Z| = 17: {gcm_seconds:.3f} s per test, so 180 tests "
                         f"(Algorithm 1 at T = 20, M = 4) take about {180 * gcm_seconds:.0f} s.")
        if "knn-cmi" in tests and not args.quick:
            tigramite = tigramite_seconds(knn_timing_n, args.seed)
            if tigramite is not None:
                extra.append(f"- tigramite CMIknn (knn=10, 100 local permutations, workers=-1) at "
                             f"n = {knn_timing_n:,}, |Z| = 5: {tigramite:.1f} s per test "
                             f"({tigramite / knn_seconds:.0f}x knn-cmi).")

    command = (f"python benchmarks/citests.py{' --quick' if args.quick else ''} --seed {args.seed}"
               f"{f' --workers {args.workers}' if args.workers != 2 else ''}"
               f"{f' --only {args.only}' if args.only else ''}"
               f"{' --dims ' + ' '.join(map(str, args.dims)) if args.dims != [1, 4] else ''}"
               f"{f' --null-draws {args.null_draws}' if args.null_draws else ''}")
    machine = (f"{platform.machine()} ({os.cpu_count()} CPUs), one BLAS/torch thread per process, "
               f"{args.workers} worker process{'es' if args.workers > 1 else ''}; "
               f"{time.perf_counter() - started:.0f} s in all")
    out = ROOT / "benchmarks" / "results" / "citests.md"
    if args.only:
        dims = "" if args.dims == [1, 4] else f" at d = {', '.join(map(str, args.dims))}"
        provenance = (f"Rows of {args.only}{dims} re-run on {time.strftime('%Y-%m-%d')} by `{command}` on {machine}; "
                      "the other rows are from the run above.")
        text = merge_rerun(out.read_text(), args.only, lines[2:], extra, provenance)
    else:
        header = [
            "# CI tests: type-I error, power and speed",
            "",
            f"`{command}` on {machine}.",
            "Setting: see the docstring of `benchmarks/citests.py` (nonlinear band setting, a new random "
            "world per draw). Type-I error and power are rejection rates at alpha = 0.05; power uses "
            f"effect = {EFFECT:g} (the task g depends on x as strongly as on (y, b4)) unless stated. `se` is the "
            "binomial standard error of a rate of 0.05. Fewer draws for the slow tests (knn-cmi at d = 4, "
            "neural-cmi, which also runs at n = 1,000).",
            "",
        ]
        text = "\n".join(header + lines + [""] + extra) + "\n"
    print("\n" + text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
