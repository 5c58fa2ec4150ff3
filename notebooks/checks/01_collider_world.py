"""Hidden checks of the collider world's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on worlds the chapter never drew
(other assignments, cuts, sizes and seeds) and compares the answers; ``WRONG`` holds a
plausible wrong answer per exercise, which the tests make sure the checks catch.
"""
import specbook as sb
from specbook.harness.grading import compare

#: Fixed worlds with a cut between steps 4 and 8, where g2 opens a path around it.
FIXED = [
    dict(T=12, M=2, L=2, assignment=[[1, 0], [0, 1], [1, 0], [0, 1], [0, 1], [1, 0]], disconnected=[7], seed=31),
    dict(T=10, M=3, L=2, assignment=[[0, 1, 0], [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]], disconnected=[5, 6],
         seed=47),
]

#: Random worlds (their own assignments and cuts, from the seed).
RANDOM = [dict(T=10, M=2, L=2, p_disconnect=0.3, seed=53), dict(T=12, M=3, L=2, p_disconnect=0.2, seed=61),
          dict(T=12, M=2, L=3, p_disconnect=0.3, seed=67)]


def _name(arguments):
    return "ColliderWorld(" + ", ".join(f"{key}={value!r}" for key, value in arguments.items()) + ")"


def _values(answer):
    """The answer's values in order: the exercise names what to return, not the Series' labels."""
    if isinstance(answer, dict):
        return list(answer.values())
    return answer.tolist() if hasattr(answer, "tolist") else list(answer)


def check_other_task(student, solution):
    # the solution rounds to 4 decimals: an unrounded answer is as good
    for arguments in FIXED + RANDOM:
        world = sb.ColliderWorld(**arguments)
        compare(_values(student.other_task_check(world)), _values(solution.other_task_check(world)),
                f"other_task_check({_name(arguments)}) (d-separated given g2, corr given g2, corr given g1)",
                rtol=1e-4, atol=1e-4)


def check_opened_by_task(student, solution):
    for arguments in FIXED + RANDOM:
        world = sb.ColliderWorld(**arguments)
        for x, task in (("a2", 1), ("a4", 2), (f"a{world.T - 1}", world.M)):
            compare(student.opened_by_task(world, x, task), solution.opened_by_task(world, x, task),
                    f"opened_by_task({_name(arguments)}, {x!r}, {task})")


CHECKS = {"ex-other-task": check_other_task, "ex-opened-by-task": check_opened_by_task}

WRONG = {
    # asks whether a4 and a8 are d-separated with nothing known, forgetting to condition on g2
    "ex-other-task": '''
def other_task_check(world):
    return pd.Series({
        "a4 ⫫ a8 | g2 (d-separated)": nx.is_d_separator(world.graph, {"a4"}, {"a8"}, set()),
        "corr(a4, a8 | g2)": round(world.partial_correlation("a4", "a8", given=["g2"]), 4),
        "corr(a4, a8 | g1)": round(world.partial_correlation("a4", "a8", given=["g1"]), 4),
    })
''',
    # keeps every action d-connected given the task, also those already dependent on x without it
    "ex-opened-by-task": '''
def opened_by_task(world, x, task):
    actions = [f"a{t}" for t in range(1, world.T + 1) if f"a{t}" != x]
    return [a for a in actions if not nx.is_d_separator(world.graph, {x}, {a}, {f"g{task}"})]
''',
}
