"""Hidden checks of the quickstart's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on worlds the chapter never drew
and compares the answers; ``WRONG`` holds a plausible wrong answer per exercise, which the
tests make sure the checks catch.
"""
import specbook as sb
from specbook.harness.grading import compare


def check_serving(student, solution):
    for seed, (T, M, L) in zip((101, 202, 303), ((8, 2, 2), (12, 3, 3), (10, 4, 2))):
        world = sb.ColliderWorld(T=T, M=M, L=L, seed=seed)
        for task in range(1, M + 1):
            compare(student.serving_segments(world, task), solution.serving_segments(world, task),
                    f"serving_segments(ColliderWorld(T={T}, M={M}, L={L}, seed={seed}), {task})")
        compare(student.agrees_with_assignment(world), solution.agrees_with_assignment(world),
                f"agrees_with_assignment(ColliderWorld(T={T}, M={M}, L={L}, seed={seed}))")


def check_z_scale(student, solution):
    world = sb.ColliderWorld(T=6, M=2, L=2, seed=404)
    for n, seeds in ((300, (5, 6)), (2_000, (7,))):
        compare(student.error_scale(world, n, seeds), solution.error_scale(world, n, seeds),
                f"error_scale(ColliderWorld(T=6, M=2, L=2, seed=404), {n}, seeds={seeds})")


CHECKS = {"ex-quickstart-serving": check_serving, "ex-quickstart-z-scale": check_z_scale}

WRONG = {
    # counts segments from 0, not 1
    "ex-quickstart-serving": '''
def serving_segments(world, task):
    actions = [node for node in world.graph.predecessors(f"g{task}") if node.startswith("a")]
    return sorted({(int(node[1:]) - 1) // world.L for node in actions})


def agrees_with_assignment(world):
    return all(serving_segments(world, i) == (np.flatnonzero(world.assignment[:, i - 1]) + 1).tolist()
               for i in range(1, world.M + 1))
''',
    # the largest error over seeds instead of the mean
    "ex-quickstart-z-scale": '''
def error_scale(world, n, seeds=range(3)):
    nodes = [f"s{t}" for t in range(1, world.T + 1)] + [f"g{i}" for i in range(1, world.M + 1)]
    population = world.covariance(nodes)
    errors, largest_z = [], []
    for seed in seeds:
        draw = world.sample(n=n, seed=seed)
        values = np.concatenate([draw.states[:, :, 0], draw.tasks], axis=1)
        errors.append(np.abs(np.cov(values, rowvar=False) - population).max())
        largest_z.append(np.abs(covariance_z_scores(values, population)).max())
    return {"largest |error|": np.max(errors), "largest |z|": np.max(largest_z)}
''',
}
