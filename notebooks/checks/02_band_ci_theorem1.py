"""Hidden checks of the band-set chapter's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on seeds and worlds the chapter
never used (other assignments, cuts, segment lengths and seeds) and compares the answers;
``WRONG`` holds a plausible wrong answer per exercise, which the tests make sure the checks catch.
"""
import specbook as sb
from specbook.harness.grading import compare

#: Worlds for the band's two parts: a fixed one, and random ones with their own assignments and cuts.
WORLDS = [
    dict(T=12, M=2, L=2, assignment=[[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], disconnected=[5, 9], seed=23),
    dict(T=10, M=2, L=2, p_disconnect=0.3, seed=41),
    dict(T=12, M=3, L=3, p_disconnect=0.2, seed=59),
]


def _name(arguments):
    return "ColliderWorld(" + ", ".join(f"{key}={value!r}" for key, value in arguments.items()) + ")"


def check_band_L1(student, solution):
    for seed in (3, 77):
        compare(student.dependent_pairs_L1(seed), solution.dependent_pairs_L1(seed), f"dependent_pairs_L1({seed})")


def check_band_roles(student, solution):
    for arguments in WORLDS:
        world = sb.ColliderWorld(**arguments)
        for task in range(1, world.M + 1):
            for states, with_task in ((True, True), (True, False), (False, True)):
                compare(student.dependent_pairs(world, task, states=states, with_task=with_task),
                        solution.dependent_pairs(world, task, states=states, with_task=with_task),
                        f"dependent_pairs({_name(arguments)}, {task}, states={states}, with_task={with_task})")


CHECKS = {"ex-band-L1": check_band_L1, "ex-band-roles": check_band_roles}

WRONG = {
    # marks the serving segments 1 and 4 with 1-based indices in the 0-based assignment array
    "ex-band-L1": '''
def dependent_pairs_L1(seed):
    A = np.zeros((6, 2), dtype=bool)
    A[[1, 4], 0] = True
    A[2, 1] = True
    world_L1 = sb.ColliderWorld(T=6, M=2, L=1, assignment=A, disconnected=[], seed=seed)
    oracle = sb.oracle_tasks(world_L1.graph, T=6, M=2, L=1)
    return [(int(k) + 1, int(v) + 1) for k, v in zip(*np.nonzero(oracle.pair_dependent[0]))]
''',
    # ignores `with_task`: adds the task to the band's states whatever the flag says
    "ex-band-roles": '''
def dependent_pairs(world, task, states=True, with_task=True):
    pairs = []
    for k in range(1, world.N + 1):
        for v in range(k + 1, world.N + 1):
            given = {f"s{t}" for t in sb.band_set(k, v, T=world.T, L=world.L)} if states else set()
            given.add(f"g{task}")
            if not nx.is_d_separator(world.graph, {f"s{k * world.L}"}, {f"s{v * world.L}"}, given):
                pairs.append((k, v))
    return pairs
''',
}
