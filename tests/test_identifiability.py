import numpy as np
import pytest

import specbook as sb
from specbook.identifiability import (estimated_support, fit_models, latent_alignment, task_block_scores,
                                      task_jacobian)
from specbook.latent import example_world


@pytest.fixture(scope="module")
def setting():
    world = example_world(seed=0)
    train = world.sample(n=1200, seed=1)
    test = world.sample(n=800, seed=2)
    model = sb.SpecialistVAE(epochs=3, progress=False, seed=0).fit(train.obs, train.tasks)
    return world, train, test, model


def test_task_jacobian_of_the_world_is_its_support(setting):
    world, _, test, _ = setting
    magnitudes = task_jacobian(world.task_function, test.latents, world.n_tasks)
    assert magnitudes.shape == (3, 8)
    assert np.array_equal(magnitudes > 1e-9, world.support_matrix)


def test_task_block_scores_columns_and_consistency(setting):
    world, _, test, model = setting
    scores = task_block_scores(model, world, test, seed=0)
    assert list(scores["true_size"]) == [2, 3, 2]
    support = estimated_support(model, model.transform(test.obs))
    assert list(scores["estimated_size"]) == support.sum(axis=1).tolist()
    assert (scores["superset"] == (scores["estimated_size"] >= scores["true_size"])).all()
    assert (scores["equal"] == (scores["estimated_size"] == scores["true_size"])).all()
    first = scores.iloc[0]
    z = model.transform(test.obs)
    expected = sb.metrics.block_r2(test.latents[:, [0, 1]], z[:, list(first["estimated_support"])], seed=0)
    assert first["r2_relevant"] == pytest.approx(expected)


def test_alignment_recovers_a_structure_built_to_match(setting):
    """The summary flag agrees with the per-latent check, and the matching is a permutation."""
    world, _, test, model = setting
    alignment = latent_alignment(model, world, test)
    assert sorted(alignment["matching"]) == list(range(8)) and 0 <= alignment["mcc"] <= 1
    assert alignment["structure_recovered"] == bool(alignment["columns_agree"].all())


def test_fit_models_matches_single_fits_and_validates(setting):
    world, train, _, _ = setting
    settings = [{"epochs": 2, "seed": seed, "progress": False} for seed in (0, 1)]
    parallel = fit_models(settings, train.obs, train.tasks, n_jobs=2)
    single = sb.SpecialistVAE(epochs=2, seed=1, progress=False).fit(train.obs, train.tasks)
    assert np.array_equal(parallel[1].mask_, single.mask_)
    assert np.array_equal(parallel[1].transform(train.obs), single.transform(train.obs))
    with pytest.raises(ValueError, match="training data"):
        fit_models([{"epochs": 1}])


def test_bad_pairs(setting):
    world, _, test, model = setting
    with pytest.raises(ValueError, match="do not match"):
        task_block_scores(model, example_world(seed=0, n_tasks=2, supports=[[0], [1]]), test)
    with pytest.raises(ValueError, match="fitted SpecialistVAE"):
        latent_alignment(object(), world, test)
    with pytest.raises(ValueError, match="tol"):
        estimated_support(model, test.latents, tol=1.5)
