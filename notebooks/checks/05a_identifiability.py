"""Hidden checks of the identifiability primer's exercise (the instructor copy carries them, the student copy does not).

The check calls the student's function and the solution's on latents and estimates the chapter
never built (other seeds, sizes, permutations, transformations and thresholds) and compares the
answers; ``WRONG`` holds a plausible wrong answer, which the tests make sure the check catches.
"""
import numpy as np

from specbook.harness.grading import compare


def _estimates():
    """(name, z_true, z_est) triples: permuted estimates, some coordinates recovered, some not."""
    rng = np.random.default_rng(505)
    z = rng.normal(size=(700, 4))
    # sinh(z3), z1 squared (lost its sign), a noisy -z4 (R^2 about 0.6), exp(z2)
    first = np.column_stack([np.sinh(z[:, 2]), z[:, 0] ** 2, -z[:, 3] + 0.8 * rng.normal(size=700),
                             np.exp(z[:, 1])])
    yield "four latents, permuted, one squared, one noisy", z, first
    rng = np.random.default_rng(606)
    z = rng.normal(size=(600, 3))
    # a mixture of z2 and z3, z1 cubed, |z2| bent by z3
    second = np.column_stack([np.tanh(z[:, 1] + z[:, 2]), z[:, 0] ** 3, np.abs(z[:, 1]) + 0.1 * z[:, 2]])
    yield "three latents, two mixed", z, second
    z = rng.uniform(-2, 2, size=(650, 3))
    # a noisy z3, cube root of z1, cos(z2) (not invertible)
    third = np.column_stack([z[:, 2] + 0.3 * rng.normal(size=650), np.cbrt(z[:, 0]), np.cos(z[:, 1])])
    yield "three uniform latents, permuted", z, third
    rng = np.random.default_rng(707)
    z = rng.normal(size=(640, 3))
    # a mixture leaning on z1, exp(2.5 z1) (monotone, but only weakly correlated with z1), arctan(z3): Spearman's
    # matching pairs z1 with exp(2.5 z1), Pearson's with the mixture
    fourth = np.column_stack([0.9 * z[:, 0] + 0.45 * z[:, 1], np.exp(2.5 * z[:, 0]), np.arctan(z[:, 2])])
    yield "Spearman and Pearson match differently", z, fourth


def check_square(student, solution):
    cases = {"four latents, permuted, one squared, one noisy": ((0.9, 11), (0.5, 12)),
             "three latents, two mixed": ((0.9, 7),),
             "three uniform latents, permuted": ((0.95, 3), (0.8, 3)),
             "Spearman and Pearson match differently": ((0.8, 4),)}
    for name, z_true, z_est in _estimates():
        for threshold, seed in cases[name]:
            compare(student.recovered_latents(z_true, z_est, threshold, seed=seed),
                    solution.recovered_latents(z_true, z_est, threshold, seed=seed),
                    f"recovered_latents(<{name}>, threshold={threshold}, seed={seed})")


CHECKS = {"ex-identifiability-square": check_square}

WRONG = {
    # ignores the matching: compares true latent i with estimated coordinate i, as if nothing were permuted
    "ex-identifiability-square": '''
def recovered_latents(z_true, z_est, threshold=0.9, seed=0):
    return [i + 1 for i in range(z_true.shape[1]) if block_r2(z_true[:, i], z_est[:, i], seed=seed) > threshold]
''',
}
