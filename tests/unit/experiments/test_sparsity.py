import numpy as np
import pandas as pd
import pytest

from specbook.experiments.sparsity import OUTCOMES, sparsity_arms, sparsity_trials, support_outcomes
from specbook.worlds.latent import example_world, random_task_latent_worlds


def test_arms_differ_from_auto_in_the_weight_alone():
    arms = sparsity_arms([0.5, 2.0])
    assert list(arms) == ["auto", "default", "fixed 0.5", "fixed 2"]
    assert arms["fixed 0.5"] == {"sparsity": 0.5, "mask_learning_rate": pytest.approx(9e-3)}
    assert arms["default"] == {"sparsity": 2.0}


def test_trials_score_every_task_of_every_world_under_every_arm():
    worlds = list(random_task_latent_worlds(2, seed=3))
    arms = {"auto": {"sparsity": "auto"}, "fixed 1": {"sparsity": 1.0}}
    trials = sparsity_trials(worlds, arms, n=300, n_test=200, epochs=3, batch_size=64)
    assert len(trials) == 2 * sum(world.n_tasks for world in worlds)
    assert set(trials.outcome) <= set(OUTCOMES) and set(trials.arm) == set(arms)
    for row in trials.itertuples():
        assert row.outcome == ("exact" if row.estimated_size == row.true_size else
                               "superset" if row.estimated_size > row.true_size else "short")
    assert (trials[trials.arm == "fixed 1"].sparsity == 1.0).all()
    assert trials.true_size.tolist()[: worlds[0].n_tasks] == [len(s) for s in worlds[0].supports]
    again = sparsity_trials(worlds, arms, n=300, n_test=200, epochs=3, batch_size=64, n_jobs=2)
    pd.testing.assert_frame_equal(trials.drop(columns="fit_seconds"), again.drop(columns="fit_seconds"))


def test_support_outcomes_shares_and_r2_on_exact_pairs_only():
    trials = pd.DataFrame({"arm": ["b", "b", "b", "a"], "outcome": ["exact", "short", "exact", "superset"],
                           "r2_relevant": [0.9, 0.1, 0.7, 0.5], "r2_irrelevant": [0.0, 0.0, 0.2, 0.9],
                           "fit_seconds": [1.0, 1.0, 3.0, 2.0]})
    summary = support_outcomes(trials)
    assert list(summary.index) == ["b", "a"]
    assert summary.loc["b", ["exact", "superset", "short"]].tolist() == pytest.approx([2 / 3, 0, 1 / 3])
    assert summary.loc["b", "r2_relevant"] == pytest.approx(0.8) and summary.loc["b", "r2_irrelevant"] == 0.1
    assert np.isnan(summary.loc["a", "r2_relevant"]) and summary.loc["a", "superset"] == 1.0
    assert summary.loc["b", "pairs"] == 3 and summary.loc["b", "fit_seconds"] == pytest.approx(5 / 3)


@pytest.mark.parametrize("call, match", [
    (lambda: sparsity_trials([], {"a": {}}), "worlds must be a non-empty"),
    (lambda: sparsity_trials([example_world()], {}), "arms must be a non-empty dict"),
    (lambda: sparsity_trials([example_world()], {"a": {}}, n=10), "n must be"),
    (lambda: sparsity_trials([example_world()], {"a": {}}, epochs=0), "epochs"),
    (lambda: support_outcomes(pd.DataFrame({"arm": []})), "missing columns"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
