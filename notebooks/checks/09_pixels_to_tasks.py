"""Hidden checks of the pixels chapter's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on video worlds the chapter never
drew (shorter videos, 16 x 16 frames, a few hundred videos, other seeds) and compares the
answers. A trial is built directly from a world and its sampled videos (no encoder is fitted:
the exercises read only its world, seed, states and tasks). ``WRONG`` holds a plausible wrong
answer per exercise, which the tests make sure the checks catch.
"""
import functools
import warnings

import numpy as np

import specbook as sb
from specbook.experiments.pixels import PixelsTrial
from specbook.harness.grading import compare
from specbook.worlds.video import AgentVideoWorld


@functools.lru_cache(maxsize=None)
def _trial(T, M, n, seed, units=None):
    """A trial of a fresh world: `n` videos of T 16 x 16 frames, M tasks, without encoders.

    `units` rescales each state coordinate (an invertible map of each state, so the same
    structure), which makes an answer that ignores each coordinate's own spread show.
    """
    world = AgentVideoWorld(T=T, M=M, size=16, seed=seed)
    video = world.sample(n, seed=seed + 1)
    states = video.states if units is None else video.states * np.asarray(units)
    return PixelsTrial(world=world, seed=seed + 1, states=states, tasks=video.tasks)


def _name(T, M, n, seed, units=None):
    return (f"trial of AgentVideoWorld(T={T}, M={M}, size=16, seed={seed}) with {n} videos"
            + ("" if units is None else f", states in units {units}"))


def check_encoder(student, solution):
    for world, cases in (((10, 3, 400, 42), ((None, 0.8, 3), (0, 0.6, 3), (1, 0.9, 4))),
                         ((16, 2, 600, 44, (1.0, 8.0, 0.1, 3.0)), ((0, 0.95, 5), (1, 0.8, 6))),
                         ((20, 3, 500, 45), ((0, 0.6, 7),))):
        trial = _trial(*world)
        for agent, r2, seed in cases:
            compare(student.blur_one_agent(trial, agent, r2, seed), solution.blur_one_agent(trial, agent, r2, seed),
                    f"blur_one_agent({_name(*world)}, {agent}, {r2}, {seed})")


def check_pca(student, solution):
    world = (8, 2, 300, 41)
    trial = _trial(*world)
    with warnings.catch_warnings():  # block_r2's kernel has more features than these few samples: harmless
        warnings.filterwarnings("ignore", message="n_components > n_samples")
        compare(student.pca_room(trial, (2, 5), 120, 7), solution.pca_room(trial, (2, 5), 120, 7),
                f"pca_room({_name(*world)}, (2, 5), 120, 7)")


#: Segments x tasks of a world whose third task has one serving segment, so no dependent pair.
ONE_SEGMENT_TASK = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0], [1, 0, 0]], dtype=bool)


def check_chance(student, solution):
    for n_pairs, n_dependent in ((1, 1), (3, 1), (6, 2), (10, 10), (21, 4), (45, 1)):
        compare(student.expected_random_ap(n_pairs, n_dependent), solution.expected_random_ap(n_pairs, n_dependent),
                f"expected_random_ap({n_pairs}, {n_dependent})")
    worlds = {"ColliderWorld(T=12, M=3, L=2, seed=5)": sb.ColliderWorld(T=12, M=3, L=2, seed=5),
              "ColliderWorld(T=15, M=4, L=3, seed=8)": sb.ColliderWorld(T=15, M=4, L=3, seed=8),
              "ColliderWorld(T=10, M=3, L=2, assignment=ONE_SEGMENT_TASK, seed=3)":
                  sb.ColliderWorld(T=10, M=3, L=2, assignment=ONE_SEGMENT_TASK, seed=3)}
    for (name, world), draws, seed in zip(worlds.items(), (40, 25, 30), (6, 9, 4)):
        compare(student.random_ranking_map(world, draws, seed), solution.random_ranking_map(world, draws, seed),
                f"random_ranking_map({name}, {draws}, {seed})")


CHECKS = {"ex-pixels-encoder": check_encoder, "ex-pixels-pca": check_pca, "ex-pixels-chance": check_chance}

WRONG = {
    # takes the variance ratio (1 - r2) / r2 as the noise's standard deviation (no square root)
    "ex-pixels-encoder": '''
def blur_one_agent(trial, agent=None, r2=0.8, seed=0):
    states = trial.states.copy()
    if agent is not None:
        columns = trial.world.agent_columns(agent)
        part = states[:, :, columns]
        noise = np.random.default_rng(seed).standard_normal(part.shape) * part.std(axis=0)
        states[:, :, columns] = part + (1 - r2) / r2 * noise
    found = sb.discover_tasks(states, trial.tasks, L=trial.world.L, test="fisherz")
    mean_ap, per_task = sb.metrics.mean_average_precision(trial.world.assignment, found.statistics, per_task=True)
    return {"mAP": mean_ap,
            **{f"AP g{i + 1} (agent {a})": ap for i, (a, ap) in enumerate(zip(trial.world.task_agents, per_task))}}
''',
    # counts the conditioning set as the four frames' 4 k numbers, forgetting the task each band test also holds
    "ex-pixels-pca": '''
def pca_room(trial, components=(4, 8, 16), n=1_000, seed=0):
    from specbook.specialists.encoders import frame_pca

    video = trial.world.sample(n, seed=trial.seed)
    pcs = frame_pca(video.frames, max(components), seed=seed)
    flat_states = video.states.reshape(-1, video.states.shape[2])[:5_000]
    rows = []
    for k in components:
        features = pcs[:, :, :k]
        found = sb.discover_tasks(features, video.tasks, L=trial.world.L, test="fisherz")
        rows.append({"components": k,
                     "R^2 of the states": sb.metrics.block_r2(flat_states, features.reshape(-1, k)[:5_000], seed=seed),
                     "mAP (Fisher-z)": sb.metrics.mean_average_precision(trial.world.assignment, found.statistics),
                     "conditioning columns": 4 * k, "samples per column": n / (4 * k)})
    return pd.DataFrame(rows).set_index("components")
''',
    # takes a random ranking's expected average precision to be the share of dependent pairs
    "ex-pixels-chance": '''
def expected_random_ap(n_pairs, n_dependent):
    return n_dependent / n_pairs


def random_ranking_map(world, draws=300, seed=0):
    truth = sb.metrics.pair_truth(world.assignment)
    n_pairs = world.N * (world.N - 1) // 2
    dependent = truth.sum(axis=(1, 2))
    rng = np.random.default_rng(seed)
    simulated = [sb.metrics.mean_average_precision(world.assignment, rng.random(truth.shape)) for _ in range(draws)]
    return {"pairs per task": n_pairs, "dependent pairs per task": dependent.tolist(),
            "share of dependent pairs": dependent.sum() / (world.M * n_pairs),
            "expected mAP, exact": np.mean([expected_random_ap(n_pairs, d) for d in dependent if d > 0]),
            "mAP of random rankings": np.mean(simulated),
            "sb.metrics.map_chance_level": sb.metrics.map_chance_level(world.assignment)}
''',
}
