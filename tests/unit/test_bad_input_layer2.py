"""Issue 16, Layer 2: bad input to the models, metrics and pixels is refused with a message of ours.

Every case names the argument and says what to do; none may be accepted with a meaningless
result or fail inside numpy, torch, scipy or scikit-learn. The models are tiny and trained
for one epoch or step where a fit must run.
"""
import numpy as np
import pandas as pd
import pytest
import torch

from specbook import metrics, plotting, stats
from specbook.experiments import pixels
from specbook.specialists import editing, identifiability
from specbook.harness.cache import CACHE_ENV, cache_path
from specbook.specialists.encoders import FrameVAE, frame_pca
from specbook.specialists.gan import SpecialistGAN
from specbook.specialists.masking import MaskedTaskHeads
from specbook.specialists.vae import SpecialistVAE
from specbook.validation import MEMORY_LIMIT_ENV, check_pixels

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
U = RNG.standard_normal((40, 2))
IMAGES = RNG.random((8, 3, 8, 8)).astype(np.float32)
LABELS = np.tile([[0, 1], [1, 0]], (4, 1))
FRAMES = RNG.random((2, 2, 3, 16, 16)).astype(np.float32)

VAE = dict(n_latents=2, n_tasks=2, hidden=4, task_hidden=4, epochs=1, batch_size=16, progress=False)
GAN = dict(n_latents=2, tasks=("a", "b"), width=2, steps=1, batch_size=2, progress=False)
FRAME_VAE = dict(n_latents=2, n_static=0, width=2, epochs=1, progress=False)

BAD_SEEDS = [-1, 1.5, "0", True, None, 2 ** 40]
BAD_DEVICES = [None, "tpu", "", "cpu:x", 5]


@pytest.fixture(scope="module")
def vae():
    return SpecialistVAE(**VAE).fit(X, U)


@pytest.fixture(scope="module")
def gan():
    return SpecialistGAN(**GAN).fit(IMAGES, LABELS)


def refused(match, call):
    with pytest.raises(ValueError, match=match):
        call()


# --- the cases the issue names ------------------------------------------------------------

@pytest.mark.parametrize("model", [SpecialistVAE, SpecialistGAN, FrameVAE])
@pytest.mark.parametrize("device", BAD_DEVICES)
def test_models_refuse_a_bad_device(model, device):
    refused("device", lambda: model(device=device))


@pytest.mark.parametrize("model", [SpecialistVAE, SpecialistGAN, FrameVAE])
@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_models_refuse_a_bad_seed(model, seed):
    refused("seed", lambda: model(seed=seed))


@pytest.mark.parametrize("model", [SpecialistVAE, SpecialistGAN, FrameVAE, editing.CatFactorPredictor])
@pytest.mark.parametrize("rate", [float("inf"), float("nan"), True, 0, -1e-3, "1e-3", 1j])
def test_models_refuse_a_bad_learning_rate(model, rate):
    refused("learning_rate", lambda: model(learning_rate=rate))


@pytest.mark.parametrize("model", [SpecialistVAE, SpecialistGAN, FrameVAE, editing.CatFactorPredictor])
def test_models_refuse_a_progress_that_is_not_a_bool(model):
    refused("progress", lambda: model(progress="no"))


def test_models_accept_numpy_integer_seeds_and_torch_devices():
    assert SpecialistVAE(seed=np.int64(3), device=torch.device("cpu")).seed == 3
    assert FrameVAE(seed=np.uint32(3)).device == "cpu"
    assert SpecialistGAN(seed=np.int32(3)).seed == 3


def test_specialist_vae_refuses_zero_observed_columns_and_empty_input():
    model = SpecialistVAE(**VAE)
    refused("at least one sample and one column", lambda: model.fit(np.zeros((40, 0)), U))
    refused("at least one sample and one column", lambda: model.fit(np.zeros((0, 3)), np.zeros((0, 2))))
    refused("task_dim >= 1", lambda: model.fit(X, np.zeros((40, 2, 0))))
    refused("obs must hold real numbers", lambda: model.fit(X + 1j, U))
    refused("tasks must hold real numbers", lambda: model.fit(X, U + 1j))


def test_specialist_vae_fitted_methods(vae):
    refused("at least one sample", lambda: vae.predict_tasks(np.zeros((0, 3))))
    refused("torch.Tensor", lambda: vae.task_map(np.zeros((2, 2))))
    refused("shape", lambda: vae.task_map(torch.zeros(2, 5)))
    refused("NaN", lambda: vae.task_map(torch.full((2, 2), float("nan"))))
    assert vae.task_map(torch.zeros(0, 2)).shape == (0, 2)
    assert torch.is_tensor(vae.task_map(torch.zeros(3, 2)))


def test_specialist_vae_refuses_networks_too_large_for_memory(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1")
    refused("GiB", lambda: SpecialistVAE(**{**VAE, "hidden": 100_000}).fit(X, U))


def test_frame_vae_refuses_0_255_pixels_as_the_gan_does():
    refused(r"\[0, 1\].*divide 0-255 pixels by 255", lambda: FrameVAE(**FRAME_VAE).fit(FRAMES * 255))
    refused(r"\[0, 1\]", lambda: SpecialistGAN(**GAN).fit(IMAGES * 255, LABELS))
    refused(r"\[0, 1\]", lambda: FrameVAE(**FRAME_VAE).fit(FRAMES - 0.5))


def test_frame_vae_refuses_empty_and_complex_videos_and_bad_batches():
    model = FrameVAE(**FRAME_VAE)
    refused("at least one video", lambda: model.fit(FRAMES[:0]))
    refused("at least one video of at least one frame", lambda: model.fit(FRAMES[:, :0]))
    refused("real numbers", lambda: model.fit(FRAMES + 1j))
    model.fit(FRAMES)
    for batch_size in (0, -1, 1.5, True, "2"):
        refused("batch_size", lambda: model.transform(FRAMES, batch_size=batch_size))
    refused(r"\[0, 1\]", lambda: model.transform(FRAMES * 255))
    refused("at least one video", lambda: model.reconstruct(FRAMES[:0]))


def test_frame_vae_refuses_a_width_too_large_for_memory(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1")
    refused("GiB", lambda: FrameVAE(**{**FRAME_VAE, "width": 4096}).fit(FRAMES))


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_frame_pca_refuses_a_bad_seed(seed):
    refused("seed", lambda: frame_pca(FRAMES, 2, seed=seed))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9])
def test_block_r2_needs_enough_samples(n):
    refused("at least 5 samples in each", lambda: metrics.block_r2(X[:n], U[:n], "linear"))


def test_block_r2_works_at_its_minimum():
    assert np.isfinite(metrics.block_r2(X[:10], X[:10], "linear"))


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_block_r2_refuses_a_bad_seed(seed):
    refused("seed", lambda: metrics.block_r2(X, U, "linear", seed=seed))


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.block_r2(X, U, test_fraction="0.5"), "test_fraction"),
    (lambda: metrics.block_r2(X, U, test_fraction=None), "test_fraction"),
    (lambda: metrics.block_r2(X + 1j, U), "true_block must hold real numbers"),
    (lambda: metrics.block_r2(X, U.astype(str)), "est_block must hold real numbers"),
    (lambda: metrics.block_r2(np.ones((40, 1)), U), "constant columns"),
    (lambda: metrics.mean_corr_coef(X[:2], U[:2]), "at least 3 samples"),
    (lambda: metrics.mean_corr_coef(X + 1j, U), "real numbers"),
    (lambda: metrics.mean_corr_coef(X, U, method=5), "method"),
    (lambda: metrics.mean_corr_coef(X, U, return_matching="yes"), "return_matching"),
    (lambda: metrics.jacobian_magnitudes(5, X), "fn must be a callable"),
    (lambda: metrics.jacobian_magnitudes(lambda z: z, X + 1j), "real numbers"),
    (lambda: metrics.jacobian_magnitudes(lambda z: z, np.zeros((3, 0))), "d_in >= 1"),
    (lambda: metrics.jacobian_magnitudes(lambda z: z.detach().numpy(), X), "torch.Tensor"),
    (lambda: metrics.jacobian_support(lambda z: z, X, tol="0.1"), "tol"),
    (lambda: metrics.structure_scores(np.zeros((0, 0), bool), np.zeros((0, 0), bool)), "at least one segment"),
    (lambda: metrics.mean_average_precision(np.ones((3, 1), bool), np.ones((1, 3, 3)) + 1j), "statistics"),
    (lambda: metrics.mean_average_precision(np.ones((3, 1), bool), np.ones((1, 3, 3)), per_task="x"), "per_task"),
])
def test_metrics_refuse_bad_input(call, match):
    refused(match, call)


def test_jacobian_of_an_integer_tensor_is_taken_in_floats():
    assert metrics.jacobian_magnitudes(lambda z: 2 * z, torch.ones(3, 2, dtype=torch.int64)).tolist() == \
        [[2.0, 0.0], [0.0, 2.0]]


# --- GAN checkpoints, sizes and edits ---------------------------------------------------------

def test_gan_refuses_a_checkpoint_folder(tmp_path):
    refused("is a folder", lambda: SpecialistGAN(**GAN).fit(IMAGES, LABELS, checkpoint=tmp_path))


def test_gan_refuses_a_checkpoint_below_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    refused("is a file, not a folder", lambda: SpecialistGAN(**GAN).fit(IMAGES, LABELS,
                                                                        checkpoint=tmp_path / "file" / "gan.pt"))


@pytest.mark.parametrize("content", [b"\x00\x01 not what you think {", None])
def test_gan_says_to_delete_a_corrupt_or_foreign_checkpoint(tmp_path, content):
    path = tmp_path / "gan.pt"
    if content is None:
        torch.save([1, 2], path)  # a torch file, but not our checkpoint
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="delete it") as error:
        SpecialistGAN(**GAN).fit(IMAGES, LABELS, checkpoint=path)
    assert str(path) in str(error.value)


def test_gan_refuses_a_checkpoint_that_is_not_a_path():
    refused("checkpoint must be a file path", lambda: SpecialistGAN(**GAN).fit(IMAGES, LABELS, checkpoint=5))


@pytest.mark.parametrize("call, match", [
    (lambda: SpecialistGAN(**GAN).fit(IMAGES[:0], LABELS[:0]), "n >= 1"),
    (lambda: SpecialistGAN(**GAN).fit(IMAGES + 1j, LABELS), "real numbers"),
    (lambda: SpecialistGAN(**GAN).fit(IMAGES, LABELS + 0j), "labels must hold real numbers"),
    (lambda: SpecialistGAN(**GAN).fit(IMAGES, LABELS.astype(str)), "labels must hold real numbers"),
    (lambda: SpecialistGAN(**{**GAN, "tasks": {"a", "b"}}), "list or tuple"),
    (lambda: SpecialistGAN(discriminator_norm=5), "discriminator_norm"),
])
def test_gan_refuses_bad_training_input(call, match):
    refused(match, call)


def test_gan_fitted_methods(gan, monkeypatch):
    z = np.zeros((2, 2))
    for batch_size in (0, -1, 1.5, True, "2"):
        refused("batch_size", lambda: gan.generate(z, batch_size=batch_size))
    assert gan.generate(z[:0]).shape == (0, 3, 8, 8)
    refused("z must hold real numbers", lambda: gan.generate(np.array([["a", "b"]])))
    refused("z must hold real numbers", lambda: gan.generate(z + 1j))
    refused("present", lambda: gan.edit(z, "a", present="no"))
    refused("method", lambda: gan.edit(z, "a", method=5))
    for seed in BAD_SEEDS:
        refused("seed", lambda: gan.sample_latents(3, seed=seed))
        refused("seed", lambda: gan.edit(z, "a", method="swap", seed=seed))
    refused("GiB", lambda: gan.sample_latents(10 ** 11))
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.001")
    refused("GiB", lambda: gan.generate(np.zeros((20_000, 2))))
    refused("GiB", lambda: gan.edit(np.zeros((20_000, 2)), "a", method="swap"))


def test_gan_refuses_a_width_too_large_for_memory(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1")
    refused("GiB", lambda: SpecialistGAN(**{**GAN, "width": 10_000}).fit(IMAGES, LABELS))


# --- identifiability, stats, masking, editing, pixels, plotting, cache ----------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: identifiability.task_jacobian(lambda z: z, X, True), "n_tasks"),
    (lambda: identifiability.task_jacobian(lambda z: z, X, 2), "do not split"),
    (lambda: identifiability.estimated_support(None, X), "fitted SpecialistVAE"),
    (lambda: identifiability.sample_sd([1j, 2]), "real numbers"),
    (lambda: identifiability.aligned_support([0], ["a"]), "matching"),
    (lambda: identifiability.aligned_support([0], [0.5, 1.2]), "integer latent indices"),
    (lambda: identifiability.aligned_support(None, [0]), "estimated"),
    (lambda: identifiability.one_based([1, 2]), "DataFrame"),
    (lambda: identifiability.fit_models(5), "list of dicts"),
    (lambda: identifiability.fit_models([5], X, U), "list of dicts"),
    (lambda: identifiability.fit_models([{}], X, U, n_jobs=0), "n_jobs"),
    (lambda: stats.partial_correlation(np.eye(3), 1.5, 0), r"x must be an integer in \[0, 2\]; got 1.5"),
    (lambda: stats.partial_correlation(np.eye(3), 5, 0), r"x must be an integer in \[0, 2\]; got 5"),
    (lambda: stats.partial_correlation(np.eye(3), -1, 0), r"x must be an integer in \[0, 2\]; got -1"),
    (lambda: stats.partial_correlation(np.eye(3), True, 0), r"x must be an integer in \[0, 2\]; got True"),
    (lambda: stats.partial_correlation(np.eye(3), 1, 0, given=5), "given"),
    (lambda: stats.partial_correlation(np.eye(3) + 0j, 1, 0), "real numbers"),
    (lambda: stats.partial_correlation(-np.eye(3), 1, 0), "positive variances"),
    (lambda: stats.covariance_z_scores(X + 1j, np.eye(3)), "real numbers"),
    (lambda: stats.covariance_z_scores(np.zeros((5, 0)), np.zeros((0, 0))), "D >= 1"),
    (lambda: stats.covariance_z_scores(X, -np.eye(3)), "positive variances"),
    (lambda: MaskedTaskHeads(0, 1, 1, 1), "n_latents"),
    (lambda: MaskedTaskHeads(1, 1, 1, 0), "hidden"),
    (lambda: MaskedTaskHeads(1, 1, 0, 1), "task_dim"),
    (lambda: MaskedTaskHeads(3, 2, 1, 4).gate(np.zeros((2, 3))), "torch.Tensor"),
    (lambda: MaskedTaskHeads(3, 2, 1, 4).gate(torch.zeros(2, 5)), "n_latents = 3"),
    (lambda: editing.compare_means([1, 2], [3, 4], z=float("nan")), "z must be"),
    (lambda: editing.compare_means([1j], [1]), "first must hold real numbers"),
    (lambda: editing.readable_groups({}), "predictor_scores"),
    (lambda: editing.readable_groups({}, min_r2=float("nan")), "min_r2"),
    (lambda: editing.frechet_distance(5, IMAGES, IMAGES), "trained CatFactorPredictor"),
    (lambda: editing.task_latent_entanglement(5, 5), "trained SpecialistGAN"),
    (lambda: editing.score_edits(5, 5), "models"),
    (lambda: editing.CatFactorPredictor().fit(5), "CatImages"),
    (lambda: pixels.summarise([]), "non-empty list"),
    (lambda: pixels.summarise([5]), "PixelsTrial"),
    (lambda: pixels.paired_differences(5, "a", "b"), "DataFrame"),
    (lambda: pixels.paired_differences(pd.DataFrame({"x": [1]}), "a", "b"), "no column"),
    (lambda: pixels.noisy_states_curve(5), "PixelsTrial"),
    (lambda: pixels.video_specialists(5), "PixelsTrial"),
    (lambda: pixels.run_trials(5, 4, seeds=[0]), "worlds"),
    (lambda: pixels.run_trials([], 4, seeds=5), "seeds"),
    (lambda: plotting.task_colors(-1), "M"),
    (lambda: plotting.task_colors(True), "M"),
    (lambda: plotting.task_colors(10 ** 9), "at most"),
    (lambda: plotting.show_images(np.zeros((0, 3, 4, 4))), "n, h, w >= 1"),
    (lambda: plotting.show_images(np.zeros((2, 3, 4, 4)), columns=0), "columns"),
    (lambda: plotting.show_images(np.zeros((2, 3, 4, 4)), scale=float("nan")), "scale"),
    (lambda: plotting.show_images(np.full((2, 3, 4, 4), np.nan)), "NaN"),
    (lambda: plotting.show_images(np.zeros((2, 3, 4, 4)).astype(str)), "real numbers"),
    (lambda: plotting.show_images(np.zeros((10 ** 4, 3, 1, 1))), "at most"),
    (lambda: plotting.show_video(np.zeros((2, 3, 4, 4)), np.zeros((2, 0), bool)), "M >= 1"),
    (lambda: plotting.show_video(np.zeros((2, 3, 4, 4)), None), "step_tasks"),
    (lambda: plotting.show_video(np.zeros((2, 3, 4, 4)), np.ones((2, 1), bool), L=1.5), "L"),
    (lambda: plotting.show_video(np.zeros((2, 3, 4, 4)), np.ones((2, 2), bool), task_labels=["a"]), "task_labels"),
    (lambda: plotting.draw_supports({}), "non-empty dict"),
    (lambda: plotting.draw_supports({"a": [1.0, 2.0]}), "n_tasks, n_latents"),
    (lambda: plotting.draw_world(None), "ColliderWorld"),
])
def test_the_rest_refuses_bad_input(call, match):
    refused(match, call)


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_cat_factor_predictor_refuses_a_bad_seed(seed):
    refused("seed", lambda: editing.CatFactorPredictor(seed=seed))


def test_run_trial_and_noisy_states_curve_check_their_arguments():
    from specbook.worlds.video import AgentVideoWorld

    world = AgentVideoWorld(T=4, M=1, L=2, n_agents=1, size=16, seed=0)
    trial = pixels.run_trial(world, 30, representations=["states"], test="fisherz", progress=False)
    for seed in BAD_SEEDS:
        refused("seed", lambda: pixels.noisy_states_curve(trial, seed=seed))
    refused("encoder_options", lambda: pixels.run_trial(world, 8, representations=["latents"], test="fisherz",
                                                        encoder_options={"nope": 1}, progress=False))
    refused("representations", lambda: pixels.run_trial(world, 8, representations="states", progress=False))
    refused("progress", lambda: pixels.run_trial(world, 8, representations=["states"], progress="no"))


def test_draw_world_refuses_unknown_highlighted_nodes():
    from specbook.worlds.collider import ColliderWorld

    refused("not in the world", lambda: plotting.draw_world(ColliderWorld(6, 2, 2, seed=0), highlight=["zz"]))


def test_cache_path_refuses_a_cache_folder_that_is_a_file(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "file"))
    refused("is a file, not a folder", lambda: cache_path("chapter", "gan.pt"))


def test_check_pixels_names_the_fix():
    refused("divide 0-255 pixels by 255", lambda: check_pixels(np.array([0.0, 255.0]), "images"))
    assert check_pixels(np.array([0.0, 1.0]), "images").tolist() == [0.0, 1.0]
