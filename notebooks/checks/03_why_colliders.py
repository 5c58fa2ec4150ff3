"""Hidden checks of the exercises of "Why tasks are colliders" (the instructor copy carries them, the student
copy does not).

Each check calls the student's functions and the solution's with seeds the chapter never used
and compares the answers; ``WRONG`` holds a plausible wrong answer per exercise, which the
tests make sure the checks catch. The two-task confounder world of ``ex-confounder-two-tasks``
has a fixed assignment and cut, so its d-separations do not depend on the seed: the check
catches a wrong world or conditioning set, not an answer that hard-codes the right two booleans.
"""
from specbook.harness.grading import compare

ROLES = ("collider", "confounder", "mediator")


def check_confounder_two_tasks(student, solution):
    for seed in (5, 23, 99):
        compare(student.confounder_separations(seed), solution.confounder_separations(seed),
                f"confounder_separations({seed})")


def check_roles_grow_shrink(student, solution):
    for seed in (3, 17, 2024):
        for role in ROLES:
            compare(student.dependence_before_after(role, seed), solution.dependence_before_after(role, seed),
                    f"dependence_before_after({role!r}, {seed})")


CHECKS = {"ex-confounder-two-tasks": check_confounder_two_tasks, "ex-roles-grow-shrink": check_roles_grow_shrink}

WRONG = {
    # forgets task_role="confounder": builds the paper's collider world instead
    "ex-confounder-two-tasks": '''
def confounder_separations(seed):
    two = sb.ColliderWorld(T=10, M=2, L=2, assignment=[[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]],
                           disconnected=[6], seed=seed)
    return pd.Series({
        "a4 ⫫ a8 | g1": nx.is_d_separator(two.graph, {"a4"}, {"a8"}, {"g1"}),
        "a4 ⫫ a8 | g1, g2": nx.is_d_separator(two.graph, {"a4"}, {"a8"}, {"g1", "g2"}),
    })
''',
    # signed correlations: forgets the absolute value
    "ex-roles-grow-shrink": '''
def dependence_before_after(role, seed):
    world = sb.ColliderWorld(T=10, M=1, L=2, assignment=[[0], [1], [0], [1], [0]], disconnected=[6],
                             task_role=role, seed=seed)
    return {"|corr(a4, a8)|": world.partial_correlation("a4", "a8"),
            "|corr(a4, a8 | g1)|": world.partial_correlation("a4", "a8", given=["g1"])}
''',
}
