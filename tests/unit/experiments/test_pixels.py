import numpy as np
import pytest

import specbook as sb
from specbook.experiments.pixels import REPRESENTATIONS, run_trial, run_trials, summarise, video_specialists
from specbook.worlds.video import AgentVideoWorld

TINY_ENCODER = {"width": 4, "epochs": 1, "n_static": 2}


@pytest.fixture(scope="module")
def trial():
    world = AgentVideoWorld(T=4, M=1, n_agents=2, size=16, seed=0)
    return run_trial(world, 60, seed=0, test="fisherz", encoder_options=TINY_ENCODER, progress=False)


def test_trial_runs_algorithm1_on_every_representation(trial):
    assert list(trial.discoveries) == list(REPRESENTATIONS)
    for name, features in trial.features.items():
        assert features.shape == (60, 4, 4), name
        assert trial.discoveries[name].method == "fisherz"
    assert np.array_equal(trial.features["states"], trial.states)
    assert set(trial.encoders) == {"latents", "leap"}
    assert trial.encoders["leap"].prior == "temporal"
    scores = trial.scores()
    assert list(scores["representation"]) == list(REPRESENTATIONS)
    assert scores["map"].between(0, 1).all() and scores.loc[3, "r2_states"] > 0.95
    table = summarise([trial])
    assert list(table.index) == list(REPRESENTATIONS) and ("map", "mean") in table.columns


def test_with_test_reuses_the_features(trial):
    other = trial.with_test("gcm", n_features=16)
    assert other.features is trial.features and other.encoders is trial.encoders
    assert all(found.method == "gcm" for found in other.discoveries.values())


def test_true_states_of_a_strong_world_rank_the_dependent_pairs_first():
    world = AgentVideoWorld(T=8, M=2, size=16, seed=0)
    found = run_trial(world, 3_000, seed=1, representations=["states"], test="fisherz", progress=False)
    assert found.scores().loc[0, "map"] > 0.9


def test_workers_give_the_same_numbers():
    worlds = [AgentVideoWorld(T=4, M=1, size=16, seed=s) for s in (0, 1)]
    options = dict(representations=["frames", "states"], test="fisherz")
    serial = run_trials(worlds, 80, seeds=[0, 1], **options, progress=False)
    parallel = run_trials(worlds, 80, seeds=[0, 1], n_jobs=2, **options)
    for a, b in zip(serial, parallel):
        for name in a.discoveries:
            assert np.array_equal(a.discoveries[name].statistics, b.discoveries[name].statistics, equal_nan=True)


def test_video_specialists_on_the_true_steps(trial):
    table = video_specialists(trial, "states", step_tasks=trial.world.step_tasks, sparsities=(0.0, 1.0), epochs=2,
                              progress=False)
    assert len(table) == 2 and set(table["sparsity"]) == {0.0, 1.0}
    assert table["latents_read"].between(0, 4 * int(trial.world.step_tasks[:, 0].sum())).all()
    with pytest.raises(ValueError, match="was not run in this trial"):
        video_specialists(trial, "pixels")
    with pytest.raises(ValueError, match="boolean matrix"):
        video_specialists(trial, "states", step_tasks=np.ones((3, 1), dtype=bool))


def test_bad_input(trial):
    world = trial.world
    with pytest.raises(ValueError, match="unknown representation"):
        run_trial(world, 20, representations=["pixels"])
    with pytest.raises(ValueError, match="unknown CI test"):
        run_trial(world, 20, test="kendall")
    with pytest.raises(ValueError, match="n_train must be at most n"):
        run_trial(world, 20, n_train=30)
    with pytest.raises(ValueError, match="must be an AgentVideoWorld"):
        run_trial(sb.ColliderWorld(T=4, M=1), 20)
    with pytest.raises(ValueError, match="same length"):
        run_trials([world], 20, seeds=[0, 1])


def test_noisy_states_curve_starts_at_the_true_states(trial):
    curve = sb.pixels.noisy_states_curve(trial, (1.0, 0.5), seed=0)
    assert list(curve["r2"]) == [1.0, 0.5]
    exact = sb.discover_tasks(trial.states, trial.tasks, L=2)
    assert curve.loc[0, "map"] == sb.metrics.mean_average_precision(trial.world.assignment, exact.statistics)
    with pytest.raises(ValueError, match=r"r2_levels must be numbers in \(0, 1\]"):
        sb.pixels.noisy_states_curve(trial, (0.0,))


def test_other_tests_run_on_the_same_features():
    world = AgentVideoWorld(T=4, M=1, size=16, seed=0)
    found = run_trial(world, 60, representations=["frames", "states"], test="fisherz",
                      other_tests={"gcm": {"n_features": 16}}, progress=False)
    other = found.other_tests["gcm"]
    assert other.features is found.features and other.discoveries["states"].method == "gcm"
    with pytest.raises(ValueError, match="unknown CI test"):
        run_trial(world, 60, test="fisherz", other_tests={"kendall": {}})
