import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

import specbook as sb
from specbook.specialists.identifiability import (estimated_support, fit_models, latent_alignment, task_block_scores,
                                      task_jacobian)
from specbook.worlds.latent import example_world


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


def test_task_block_scores_r2_is_that_of_the_estimated_block(setting):
    world, _, test, model = setting
    scores = task_block_scores(model, world, test, seed=0)
    assert list(scores["true_size"]) == [2, 3, 2]
    first = scores.iloc[0]
    z = model.transform(test.obs)
    expected = sb.metrics.block_r2(test.latents[:, [0, 1]], z[:, list(first["estimated_support"])], seed=0)
    assert first["r2_relevant"] == pytest.approx(expected)


# ------------------------------------------------------------------ a model built by hand
# The example world's supports are [0, 1], [2, 3, 4], [4, 5] (latents 6 and 7 feed no task).
# The hand-built model encodes exactly the true latents, permuted: its latent PERM[i] is the
# world's latent i. Its task heads read, per task, the latents given below (in the world's
# numbering) and nothing else: mask entries open only there, and the first-layer weights of
# every other latent are zero. So what each task reads is known without the code under test.
PERM = np.array([3, 0, 7, 1, 5, 2, 6, 4])


def hand_built_model(fitted, reads, *, open_but_unread=(), read_but_closed=()):
    """A copy of `fitted` whose encoder is ``s -> s[:, PERM^-1]`` and whose task k reads ``reads[k]``.

    `open_but_unread` and `read_but_closed` hold (task, true latent) pairs whose mask entry is
    open with zero weights, or just closed (0.38, below the 0.5 threshold, so the head still
    feels it) with non-zero weights: neither counts as read.
    """
    model = copy.deepcopy(fitted)
    n = model.n_latents
    encoder = nn.Linear(n, 2 * n)
    heads = model.network_.heads
    with torch.no_grad():
        encoder.weight.zero_()
        encoder.bias.zero_()
        encoder.weight[PERM, np.arange(n)] = 1.0  # z[:, PERM[i]] = s[:, i]; log-variances 0
        heads.mask_logits.fill_(-12.0)
        heads.head_w1.zero_()
        heads.head_b1.zero_()
        heads.head_w2.fill_(1.0 / heads.head_w2.shape[1])
        heads.head_b2.zero_()
        for k, latents in enumerate(reads):
            for i in latents:
                heads.mask_logits[k, PERM[i]] = 12.0
                heads.head_w1[k, PERM[i]] = 0.5
        for k, i in open_but_unread:
            heads.mask_logits[k, PERM[i]] = 12.0
        for k, i in read_but_closed:
            heads.mask_logits[k, PERM[i]] = -0.5
            heads.head_w1[k, PERM[i]] = 0.5
    model.network_.encoder = encoder
    model.obs_dim_, model._obs_mean, model._obs_scale = n, np.zeros(n), np.ones(n)
    return model


TRUE_READS = [(0, 1), (2, 3, 4), (4, 5)]
CASES = {
    # name: (what each task reads, per task (superset, equal), per true latent: same tasks?)
    "exact": (TRUE_READS, [(True, True)] * 3, [True] * 8),
    "superset": ([(0, 1, 6), (2, 3, 4), (4, 5)], [(True, False), (True, True), (True, True)],
                 [True] * 6 + [False, True]),
    "subset": ([(0, 1), (2, 3), (4, 5)], [(True, True), (False, False), (True, True)],
               [True] * 4 + [False] + [True] * 3),
    # same sizes, one wrong latent: the size flags cannot tell, the alignment must
    "wrong latent": ([(0, 1), (2, 3, 4), (5, 7)], [(True, True)] * 3, [True] * 4 + [False, True, True, False]),
}


@pytest.fixture(scope="module")
def oracle_sample(setting):
    """World samples whose 'observations' are the true latents, for the hand-built encoder."""
    _, _, test, _ = setting
    return SimpleNamespace(obs=test.latents, latents=test.latents, tasks=test.tasks)


@pytest.mark.parametrize("case", list(CASES))
def test_scores_and_alignment_of_a_model_whose_supports_are_known(setting, oracle_sample, case):
    world, _, _, fitted = setting
    reads, flags, columns = CASES[case]
    model = hand_built_model(fitted, reads)
    z = model.transform(oracle_sample.obs)
    assert np.allclose(z[:, PERM], oracle_sample.latents, atol=1e-5)  # float32

    expected_support = [tuple(sorted(int(PERM[i]) for i in latents)) for latents in reads]
    scores = task_block_scores(model, world, oracle_sample, regressor="linear", seed=0)
    assert list(scores["true_support"]) == TRUE_READS
    assert list(scores["estimated_support"]) == expected_support
    assert list(scores["estimated_size"]) == [len(latents) for latents in reads]
    assert list(zip(scores["superset"], scores["equal"])) == flags
    # the estimated block holds the true one exactly when the task reads all of its latents
    for (_, row), latents in zip(scores.iterrows(), reads):
        if set(row["true_support"]) <= set(latents):
            assert row["r2_relevant"] > 0.99
        else:
            assert row["r2_relevant"] < 0.9

    alignment = latent_alignment(model, world, oracle_sample)
    assert list(alignment["matching"]) == PERM.tolist() and alignment["mcc"] > 0.99
    assert alignment["columns_agree"].tolist() == columns
    assert alignment["structure_recovered"] is (case == "exact")


def test_a_latent_is_read_only_when_its_mask_is_open_and_the_head_uses_it(setting, oracle_sample):
    _, _, _, fitted = setting
    model = hand_built_model(fitted, TRUE_READS, open_but_unread=[(0, 7)], read_but_closed=[(2, 6)])
    support = estimated_support(model, model.transform(oracle_sample.obs))
    expected = np.zeros((3, 8), dtype=bool)
    for k, latents in enumerate(TRUE_READS):
        expected[k, PERM[list(latents)]] = True
    assert np.array_equal(support, expected)
    assert model.support_[0, PERM[7]] and not model.support_[2, PERM[6]]  # the mask alone would say otherwise


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
