import numpy as np
import pytest

import specbook as sb
from specbook.worlds.latent import EXAMPLE_SUPPORTS, example_world


@pytest.fixture(scope="module")
def data():
    return sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, seed=0).sample(n=1500, seed=1)


def _fit(data, **options):
    options = {"epochs": 8, "progress": False, "seed": 0, **options}
    return sb.SpecialistVAE(n_latents=8, n_tasks=3, **options).fit(data.obs, data.tasks)


def test_fit_transform_shapes_and_attributes(data):
    model = _fit(data, sparsity=0.05)
    z = model.transform(data.obs)
    assert z.shape == (1500, 8) and np.isfinite(z).all()
    assert model.mask_.shape == (3, 8) and (model.mask_ > 0).all() and (model.mask_ < 1).all()
    assert model.support_.dtype == bool
    assert np.array_equal(model.relevant_latents(1), np.flatnonzero(model.mask_[1] > model.mask_threshold))
    assert model.predict_tasks(data.obs).shape == (1500, 3)
    assert len(model.history_) == 8 and {"loss", "reconstruction", "kl", "task", "l1"} <= set(model.history_[0])


def test_training_is_deterministic_under_a_seed(data):
    first, second = _fit(data, seed=3), _fit(data, seed=3)
    assert np.array_equal(first.transform(data.obs), second.transform(data.obs))
    assert np.array_equal(first.mask_, second.mask_)
    assert not np.array_equal(first.mask_, _fit(data, seed=4).mask_)


def test_loss_goes_down_and_tasks_are_learnt(data):
    model = _fit(data, epochs=30, sparsity=0.0)
    losses = [epoch["loss"] for epoch in model.history_]
    assert losses[-1] < losses[0] - 3
    predicted = model.predict_tasks(data.obs)
    r2 = 1 - ((data.tasks - predicted) ** 2).sum(axis=0) / ((data.tasks - data.tasks.mean(axis=0)) ** 2).sum(axis=0)
    assert r2.min() > 0.3  # a model that learnt nothing scores about 0


def test_l1_closes_mask_entries_the_generalist_keeps_open(data):
    # A large learning rate, so that the mask logits move far in a short test.
    generalist = _fit(data, epochs=30, sparsity=0.0, learning_rate=0.02)
    specialist = _fit(data, epochs=30, sparsity=2.0, learning_rate=0.02)
    assert generalist.support_.sum() == generalist.support_.size
    assert specialist.mask_.sum() < 0.8 * generalist.mask_.sum()
    assert specialist.history_[-1]["l1"] == pytest.approx(2.0 * specialist.mask_.sum(), rel=0.05)


def test_task_r2_is_the_training_fit_and_agrees_with_predict_tasks(data):
    model = _fit(data, epochs=30, sparsity=0.0)
    predicted = model.predict_tasks(data.obs)
    standardised = (data.tasks - data.tasks.mean(axis=0)) / data.tasks.std(axis=0)
    expected = 1 - (((predicted - data.tasks) / data.tasks.std(axis=0)) ** 2).mean(axis=0)
    assert model.task_r2_.shape == (3,) and model.task_r2_ == pytest.approx(expected, abs=1e-4)
    assert standardised.var(axis=0) == pytest.approx(1.0) and model.task_r2_.min() > 0.3


def test_warns_naming_a_task_whose_support_comes_out_empty(data):
    with pytest.warns(UserWarning, match=r"task \d's support came out empty .* lower sparsity \(now 200\)"):
        model = _fit(data, epochs=30, sparsity=200.0, learning_rate=0.1)
    assert not model.support_.any(axis=1).all()


def test_warns_naming_a_task_no_better_than_its_mean(data):
    noise = np.random.default_rng(0).standard_normal(data.tasks.shape)
    tasks = np.column_stack([data.tasks[:, :2], noise[:, 2]])  # task 2 does not depend on the observations
    with pytest.warns(UserWarning, match=r"task 2 is predicted no better than by its mean"):
        model = sb.SpecialistVAE(n_latents=8, n_tasks=3, sparsity=0.0, epochs=15, progress=False,
                                 seed=0).fit(data.obs, tasks)
    assert model.task_r2_[2] <= 0.01 < model.task_r2_[:2].min()


def test_per_task_sparsity_presses_only_the_tasks_it_names(data):
    model = _fit(data, epochs=30, sparsity=[0.0, 50.0, 0.0], learning_rate=0.02, mask_learning_rate=0.2)
    assert model.sparsity == (0.0, 50.0, 0.0)
    rows = model.mask_.sum(axis=1)
    assert rows[1] < 0.5 * min(rows[0], rows[2])
    assert model.history_[-1]["l1"] == pytest.approx(50.0 * model.mask_[1].sum(), rel=0.1)
    same = _fit(data, sparsity=[2.0, 2.0, 2.0])
    assert np.allclose(same.mask_, _fit(data, sparsity=2.0).mask_, atol=1e-6)  # one value per task = one value


def test_a_faster_mask_learning_rate_closes_the_mask_sooner(data):
    slow = _fit(data, epochs=10, sparsity=2.0)
    fast = _fit(data, epochs=10, sparsity=2.0, mask_learning_rate=0.03)
    assert fast.mask_.sum() < slow.mask_.sum() - 1
    assert np.array_equal(_fit(data, sparsity=2.0, mask_learning_rate=3e-3).mask_.round(5),
                          _fit(data, sparsity=2.0).mask_.round(5))  # the default rate, given explicitly


def test_task_map_is_differentiable_and_matches_predictions(data):
    model = _fit(data)
    z = model.transform(data.obs[:50])
    support = sb.metrics.jacobian_support(model.task_map, z, tol=0.0)
    assert support.shape == (3, 8)
    import torch

    with torch.no_grad():
        mapped = model.task_map(torch.as_tensor(z, dtype=torch.float32)).numpy()
    in_task_units = (mapped.reshape(50, 3, 1) * model._task_scale + model._task_mean).reshape(50, 3)
    assert np.allclose(in_task_units, model.predict_tasks(data.obs[:50]), atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"sparsity": -0.1}, "sparsity"),
    ({"sparsity": float("nan")}, "sparsity"),
    ({"n_latents": 0}, "n_latents"),
    ({"epochs": 0}, "epochs"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"mask_threshold": 1.0}, "mask_threshold"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"sparsity": [1.0, 2.0]}, r"sparsity must be one number or one per task \(n_tasks = 3\)"),
    ({"sparsity": [1.0, -2.0, 0.0]}, r"sparsity\[1\]"),
    ({"sparsity": [[1.0, 2.0, 3.0]]}, "one per task"),
    ({"mask_learning_rate": 0}, "mask_learning_rate"),
    ({"sparsity": "automatic"}, "'auto'"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sb.SpecialistVAE(**kwargs)


def test_bad_fit_and_transform_input(data):
    model = sb.SpecialistVAE(n_latents=8, n_tasks=3, epochs=1, progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.transform(data.obs)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(data.obs, data.tasks[:10])
    with pytest.raises(ValueError, match="n_tasks = 3 columns"):
        model.fit(data.obs, data.tasks[:, :2])
    bad = data.obs.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, data.tasks)
    with pytest.raises(ValueError, match="2-D"):
        model.fit(data.obs[:, 0], data.tasks)
    with pytest.raises(ValueError, match="real numbers"):
        model.fit(data.obs.astype(str), data.tasks)
    with pytest.raises(ValueError, match="constant columns"):
        model.fit(np.column_stack([data.obs, np.ones(len(data.obs))]), data.tasks)
    model.fit(data.obs, data.tasks)
    with pytest.raises(ValueError, match="20 columns"):
        model.transform(data.obs[:, :5])
    with pytest.raises(ValueError, match=r"k must be an integer in \[0, 2\]; got 3"):
        model.relevant_latents(3)


def test_vector_tasks_keep_their_shape():
    world = sb.latent.example_world(seed=0)
    sample = world.sample(n=800, seed=0)
    model = _fit(sample, epochs=3)
    assert sample.tasks.shape == (800, 3, 3)
    assert model.predict_tasks(sample.obs).shape == (800, 3, 3)
    import torch

    assert model.task_map(torch.zeros(5, 8)).shape == (5, 9)
    with pytest.raises(ValueError, match="ndim"):
        model.fit(sample.obs, sample.tasks[..., None])


@pytest.fixture(scope="module")
def auto_model():
    # chapter 7's world (vector tasks), with enough samples and steps for the path to see the supports (about 8 s)
    data = example_world(seed=0).sample(n=4000, seed=1)
    return _fit(data, sparsity="auto", epochs=40, batch_size=64)


def test_auto_sparsity_reports_its_path_and_the_chosen_weights(auto_model):
    path = auto_model.sparsity_path_
    assert isinstance(auto_model.sparsity_, tuple) and len(auto_model.sparsity_) == 3
    assert {"stage", "level", "task", "sparsity", "support_size", "task_error", "task_error_se",
            "reconstruction_error", "frozen"} <= set(path.columns)
    walked = path[path.stage == "path"]
    assert walked.groupby("level").size().eq(3).all() and walked.level.min() == 0
    assert list(walked[walked.level == 0].sparsity) == [0.0] * 3
    assert set(path.stage) - {"path"} <= {"refit", "refit 2", "refit 3"} and "refit" in set(path.stage)
    final = path[path.stage == path.stage.iloc[-1]]
    assert tuple(final.sparsity) == auto_model.sparsity_
    assert list(final.support_size) == auto_model.support_.sum(axis=1).tolist()
    # every chosen weight is one the path walked, halved once per refit after the first at most
    walked_values = set(walked.sparsity.round(12))
    assert all(any(round(2 ** halvings * value, 12) in walked_values for halvings in range(3))
               for value in auto_model.sparsity_)
    assert auto_model.fit_seconds_ > 0 and len(auto_model.history_) == 40


def test_auto_sparsity_freezes_a_task_at_the_level_before_its_error_rose(auto_model):
    walked = auto_model.sparsity_path_.query("stage == 'path'")
    levels = sorted(walked.level.unique())
    for task, rows in walked.groupby("task"):
        rows = rows.set_index("level")
        frozen_at = rows.index[rows.frozen].min() if rows.frozen.any() else None
        if frozen_at is None:
            assert rows.sparsity.iloc[-1] == sb.specialists.sparsity_path.PATH_SPARSITIES[-1] or len(levels) < 10
            continue
        before = rows.loc[:frozen_at - 1]
        best = before.loc[before.task_error.idxmin()]
        assert rows.loc[frozen_at, "task_error"] > best.task_error + max(3 * best.task_error_se, 0.5 * best.task_error)
        chosen = auto_model.sparsity_path_.query("stage == 'refit' and task == @task").sparsity.item()
        assert chosen == rows.loc[frozen_at - 1, "sparsity"]


def test_auto_sparsity_recovers_the_example_supports(auto_model):
    assert auto_model.support_.sum(axis=1).tolist() == [len(block) for block in EXAMPLE_SUPPORTS]
    assert 0 < min(auto_model.sparsity_) and max(auto_model.sparsity_) < 10  # chosen inside the path


def test_auto_sparsity_is_deterministic_under_a_seed(data):
    small = sb.LatentSample(data.latents[:300], data.obs[:300], data.tasks[:300])
    first, second = (_fit(small, sparsity="auto", epochs=5, seed=2) for _ in range(2))
    assert first.sparsity_ == second.sparsity_ and first.sparsity_path_.equals(second.sparsity_path_)
    assert np.array_equal(first.mask_, second.mask_)


def test_auto_sparsity_refuses_too_few_samples(data):
    with pytest.raises(ValueError, match="at least 50 samples"):
        _fit(sb.LatentSample(data.latents[:40], data.obs[:40], data.tasks[:40]), sparsity="auto")


def test_held_out_split_is_a_seeded_partition():
    from specbook.specialists.sparsity_path import held_out_split

    fit, held_out = held_out_split(100, seed=0)
    assert len(held_out) == 20 and sorted(np.concatenate([fit, held_out]).tolist()) == list(range(100))
    assert np.array_equal(held_out, held_out_split(100, seed=0)[1])
    assert not np.array_equal(held_out, held_out_split(100, seed=1)[1])
