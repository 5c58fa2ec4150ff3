"""SpecialistGAN: training runs and is deterministic, checkpoints resume exactly, edits move only task latents."""
import numpy as np
import pytest

from specbook.worlds.cats import CatRenderer
from specbook.specialists import gan
from specbook.specialists.gan import SpecialistGAN

SMALL = {"n_latents": 6, "width": 4, "batch_size": 8, "log_every": 2, "progress": False, "l1_warmup_steps": 2}


@pytest.fixture(scope="module")
def cats():
    return CatRenderer(size=8).sample(64, seed=0)


@pytest.fixture(scope="module")
def fitted(cats):
    return SpecialistGAN(sparsity=0.5, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels())


def test_fit_generate_and_attributes(fitted):
    z = fitted.sample_latents(5, seed=0)
    images = fitted.generate(z)
    assert images.shape == (5, 3, 8, 8) and 0 <= images.min() and images.max() <= 1
    assert fitted.mask_.shape == (3, 6) and ((0 < fitted.mask_) & (fitted.mask_ < 1)).all()
    assert fitted.predict_labels(z).shape == (5, 3)
    assert [h["step"] for h in fitted.history_] == [2, 4, 6]
    assert {"d_loss", "g_adversarial", "consistency", "l1", "real_task_accuracy"} <= set(fitted.history_[0])
    assert fitted.history_[0]["l1"] == 0 and fitted.history_[-1]["l1"] > 0  # the penalty starts after the warm-up


def test_same_seed_same_model_other_seed_other_model(cats, fitted):
    again = SpecialistGAN(sparsity=0.5, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels())
    other = SpecialistGAN(sparsity=0.5, steps=6, seed=2, **SMALL).fit(cats.images, cats.labels())
    z = fitted.sample_latents(4, seed=3)
    assert np.array_equal(fitted.generate(z), again.generate(z))
    assert not np.array_equal(fitted.generate(z), other.generate(z))


def test_l1_closes_the_mask_the_generalist_keeps_open(cats):
    options = {**SMALL, "l1_warmup_steps": 0, "head_learning_rate": 0.1}
    generalist = SpecialistGAN(sparsity=0.0, steps=30, seed=0, **options).fit(cats.images, cats.labels())
    specialist = SpecialistGAN(sparsity=2.0, steps=30, seed=0, **options).fit(cats.images, cats.labels())
    assert specialist.mask_.mean() < generalist.mask_.mean() - 0.2


def test_checkpoint_resumes_to_the_same_model(cats, tmp_path):
    straight = SpecialistGAN(sparsity=0.5, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels())
    path = tmp_path / "gan.pt"
    SpecialistGAN(sparsity=0.5, steps=4, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    resumed = SpecialistGAN(sparsity=0.5, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    assert resumed.resumed_from_step_ == 4
    z = straight.sample_latents(4, seed=0)
    assert np.array_equal(straight.generate(z), resumed.generate(z))
    assert [h["step"] for h in resumed.history_] == [2, 4, 6]
    loaded = SpecialistGAN(sparsity=0.5, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    assert loaded.resumed_from_step_ == 6 and np.array_equal(loaded.generate(z), straight.generate(z))
    # another model, or other data, does not pick the checkpoint up
    other = SpecialistGAN(sparsity=0.1, steps=6, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    assert not hasattr(other, "resumed_from_step_")


def test_a_checkpoint_of_other_training_code_is_not_resumed(cats, tmp_path, monkeypatch):
    # the key covers the sources of training: after an edit to them the old checkpoint is retrained, not resumed
    path = tmp_path / "gan.pt"
    SpecialistGAN(sparsity=0.5, steps=4, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    same = SpecialistGAN(sparsity=0.5, steps=4, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    assert same.resumed_from_step_ == 4
    monkeypatch.setattr(gan, "_training_code_digest", lambda: "the training code after an edit")
    edited = SpecialistGAN(sparsity=0.5, steps=4, seed=1, **SMALL).fit(cats.images, cats.labels(), checkpoint=path)
    assert not hasattr(edited, "resumed_from_step_")


@pytest.mark.parametrize("norm", ["batch", "spectral"])
def test_a_fitted_model_pickles_as_workers_return_it(cats, norm):
    import pickle

    model = SpecialistGAN(discriminator_norm=norm, sparsity=0.5, steps=3, seed=1,
                          **SMALL).fit(cats.images, cats.labels())
    copy = pickle.loads(pickle.dumps(model))
    z = model.sample_latents(3, seed=0)
    assert np.array_equal(copy.generate(z), model.generate(z))
    assert np.array_equal(copy.mask_, model.mask_) and copy.history_ == model.history_


def test_r1_and_the_discriminator_rate_change_training_only_when_asked(cats, fitted):
    z = fitted.sample_latents(4, seed=0)
    same = SpecialistGAN(sparsity=0.5, steps=6, seed=1, r1_weight=0.0, discriminator_learning_rate=None,
                         **SMALL).fit(cats.images, cats.labels())
    assert np.array_equal(same.generate(z), fitted.generate(z))
    r1 = SpecialistGAN(sparsity=0.5, steps=6, seed=1, r1_weight=10.0, **SMALL).fit(cats.images, cats.labels())
    assert not np.array_equal(r1.generate(z), fitted.generate(z))
    assert r1.history_[0]["d_loss"] > fitted.history_[0]["d_loss"]  # the penalty is part of the critic's loss
    rates = SpecialistGAN(sparsity=0.5, steps=2, seed=1, discriminator_learning_rate=1e-3, **SMALL).fit(
        cats.images, cats.labels())
    assert rates._optimisers["discriminator"].param_groups[0]["lr"] == 1e-3
    assert rates._optimisers["generator"].param_groups[0]["lr"] == 2e-4


def test_the_generator_average_makes_the_images_and_leaves_training_alone(cats, fitted):
    import torch

    averaged = SpecialistGAN(sparsity=0.5, steps=6, seed=1, generator_average=0.9, **SMALL).fit(
        cats.images, cats.labels())
    z = fitted.sample_latents(4, seed=0)
    # training is the same: the trained generator equals the plain model's
    with torch.no_grad():
        assert np.array_equal(averaged.generator_(torch.as_tensor(z)).numpy(), fitted.generate(z))
    assert not np.array_equal(averaged.generate(z), fitted.generate(z))  # the images come from the average
    assert averaged.history_ == fitted.history_


def test_the_generator_average_follows_its_warmed_up_decay(cats):
    snapshots = []
    original = SpecialistGAN._train

    class Recording(SpecialistGAN):  # the generator's first weight after each step
        def _train(self, *args):
            update = self.average_generator_.update_parameters

            def recorded(model):
                snapshots.append(float(next(model.parameters()).detach().reshape(-1)[0]))
                update(model)
            self.average_generator_.update_parameters = recorded
            original(self, *args)

    model = Recording(sparsity=0.5, steps=5, seed=1, generator_average=0.6, **SMALL).fit(cats.images, cats.labels())
    expected = snapshots[0]  # the first update copies the weights
    for t, value in enumerate(snapshots[1:], start=1):
        decay = min(0.6, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * value
    got = float(next(model.average_generator_.module.parameters()).detach().reshape(-1)[0])
    assert got == pytest.approx(expected, rel=1e-5)
    assert got != float(next(model.generator_.parameters()).detach().reshape(-1)[0])


def test_the_generator_average_resumes_and_pickles(cats, tmp_path):
    import pickle

    options = {"sparsity": 0.5, "seed": 1, "generator_average": 0.9, **SMALL}
    straight = SpecialistGAN(steps=6, **options).fit(cats.images, cats.labels())
    path = tmp_path / "gan.pt"
    SpecialistGAN(steps=4, **options).fit(cats.images, cats.labels(), checkpoint=path)
    resumed = SpecialistGAN(steps=6, **options).fit(cats.images, cats.labels(), checkpoint=path)
    z = straight.sample_latents(4, seed=0)
    assert resumed.resumed_from_step_ == 4 and np.array_equal(resumed.generate(z), straight.generate(z))
    assert np.array_equal(pickle.loads(pickle.dumps(straight)).generate(z), straight.generate(z))
    plain = SpecialistGAN(steps=6, **{**options, "generator_average": 0.0}).fit(cats.images, cats.labels(),
                                                                              checkpoint=path)
    assert not hasattr(plain, "resumed_from_step_")  # another model: the average is part of the key


@pytest.fixture(scope="module")
def sparse(fitted):
    """The fitted model with mask entries 0-2 of every task closed, as a specialist's would be."""
    import pickle

    import torch

    model = pickle.loads(pickle.dumps(fitted))
    with torch.no_grad():
        model.heads_.mask_logits[:, :3] = -12.0
    return model


#: Per task, the latents a hand-set mask leaves open (every other entry closed): one task reads
#: three latents, one two, one none. A trained mask opens every entry (sigmoid(3) = 0.95 at
#: the start), so it would freeze nothing and the check would be vacuous.
OPEN = ([3, 4, 5], [0, 1], [])


@pytest.fixture(scope="module")
def masked(fitted):
    import pickle

    import torch

    model = pickle.loads(pickle.dumps(fitted))
    with torch.no_grad():
        model.heads_.mask_logits.fill_(-12.0)
        for k, latents in enumerate(OPEN):
            model.heads_.mask_logits[k, latents] = 12.0
    return model


def test_edits_move_exactly_the_open_latents_and_reach_the_label(masked):
    z = masked.sample_latents(20, seed=4)
    assert [masked.relevant_latents(task).tolist() for task in masked.tasks] == list(OPEN)
    for task, latents in zip(masked.tasks, OPEN):
        edited = masked.edit(z, task, present=True, max_steps=200, step_size=0.5)
        moved = np.flatnonzero((edited != z).any(axis=0))
        assert moved.tolist() == latents, task  # the closed ones not by a single bit, the open ones do
        probability = masked.predict_labels(edited)[:, masked.task_index(task)]
        if latents:
            assert (probability >= 0.95).mean() > 0.5, task
        else:
            assert np.array_equal(edited, z)


def test_swap_edits_copy_the_task_latents_from_donors_with_the_label(sparse):
    fitted = sparse
    z = fitted.sample_latents(30, seed=6)
    for task in fitted.tasks:
        relevant = fitted.relevant_latents(task)
        assert relevant.tolist() == [3, 4, 5]
        k = fitted.task_index(task)
        prior = np.quantile(fitted.predict_labels(fitted.sample_latents(2000, seed=0))[:, k], 0.9)
        edited = fitted.edit(z, task, present=True, method="swap", seed=2)
        frozen = np.setdiff1d(np.arange(fitted.n_latents), relevant)
        assert np.array_equal(edited[:, frozen], z[:, frozen])
        # donors are the most confident twentieth of the prior: above its 90th percentile
        assert (fitted.predict_labels(edited)[:, k] >= prior - 1e-3).all()
        assert np.array_equal(edited, fitted.edit(z, task, present=True, method="swap", seed=2))
        removed = fitted.edit(z, task, present=False, method="swap", seed=2)
        assert fitted.predict_labels(removed)[:, k].max() < fitted.predict_labels(edited)[:, k].min()


def test_bad_input(cats, fitted):
    model = SpecialistGAN(steps=2, **SMALL)
    with pytest.raises(RuntimeError, match="not trained yet"):
        model.generate(np.zeros((1, 6)))
    with pytest.raises(RuntimeError, match="not trained yet"):
        model.edit(np.zeros((1, 6)), "hat")
    with pytest.raises(ValueError, match="power of two"):
        model.fit(CatRenderer(size=12).sample(8).images, cats.labels()[:8])
    with pytest.raises(ValueError, match=r"shape \(n, 3, size, size\)"):
        model.fit(cats.images[:, 0], cats.labels())
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(cats.images, cats.labels()[:10])
    with pytest.raises(ValueError, match="must be 0 or 1"):
        model.fit(cats.images, cats.labels() * 0.5)
    with pytest.raises(ValueError, match="values in"):
        model.fit(cats.images * 2, cats.labels())
    with pytest.raises(ValueError, match="all 1"):
        model.fit(cats.images, np.ones_like(cats.labels()))
    with pytest.raises(ValueError, match="unknown task 'scarf'"):
        fitted.edit(np.zeros((1, 6)), "scarf")
    with pytest.raises(ValueError, match="method must be one of 'gradient', 'swap'"):
        fitted.edit(np.zeros((1, 6)), "hat", method="resample")
    with pytest.raises(ValueError, match=r"attributes must have shape \(n = 64, n_tasks = 3, n_attributes\)"):
        model.fit(cats.images, cats.labels(), cats.attributes()[:, 0])
    with pytest.raises(ValueError, match=r"z must have shape \(n, n_latents = 6\)"):
        fitted.generate(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="trained on 8 x 8"):
        fitted.fit.__self__._check_images(CatRenderer(size=16).sample(2).images)
    with pytest.raises(ValueError, match="sparsity"):
        SpecialistGAN(sparsity=-1)
    with pytest.raises(ValueError, match="discriminator_norm"):
        SpecialistGAN(discriminator_norm="layer")
    with pytest.raises(ValueError, match="generator_average"):
        SpecialistGAN(generator_average=1.0)
    with pytest.raises(ValueError, match="r1_weight"):
        SpecialistGAN(r1_weight=-1.0)
    with pytest.raises(ValueError, match="discriminator_learning_rate"):
        SpecialistGAN(discriminator_learning_rate=0.0)
    with pytest.raises(ValueError, match="distinct task names"):
        SpecialistGAN(tasks=("hat", "hat"))
