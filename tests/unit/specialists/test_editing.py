"""The factor predictor and the edit scores, checked on editors whose answers are known."""
import numpy as np
import pytest

from specbook.worlds.cats import ACCESSORIES, FACTOR_RANGES, CatRenderer, factor_index
from specbook.worlds.cats import FACTORS
from specbook.specialists.editing import (NUISANCE_FACTORS, CatFactorPredictor, EditEvaluator, frechet_distance,
                                          readable_groups, task_latent_entanglement)


class RendererEditor:
    """An editor whose latents are factor vectors: it draws with the renderer and toggles exactly."""

    tasks = ACCESSORIES

    def __init__(self, renderer, also_change=None):
        self.renderer, self.also_change = renderer, also_change

    def task_index(self, task):
        return self.tasks.index(task)

    def sample_latents(self, n, seed=0):
        return self.renderer.sample_factors(n, seed=seed)

    def relevant_latents(self, task):
        """The accessory's own columns, or (for the sloppy editor) the fur colour's as well."""
        names = [task, task + "_hue", *(self.also_change or ())]
        return np.array([FACTORS.index(name) for name in names])

    def generate(self, z):
        return self.renderer.render(z).images

    def edit(self, z, task, present=True, method="gradient"):
        edited = self.renderer.toggle(z, task, present)
        if self.also_change:  # a sloppy editor: the fur colour moves to the far end of its range
            for name in self.also_change:
                low, high = FACTOR_RANGES[name]
                column = edited[:, factor_index(name)]
                edited[:, factor_index(name)] = np.where(column > (low + high) / 2, low, high)
        return edited


@pytest.fixture(scope="module")
def renderer():
    return CatRenderer(size=32)


@pytest.fixture(scope="module")
def predictor(renderer):
    return CatFactorPredictor(epochs=6, batch_size=32, progress=False, seed=0).fit(renderer.sample(3_000, seed=0))


@pytest.fixture(scope="module")
def evaluator(predictor, renderer):
    return EditEvaluator(predictor, renderer, n_reference=300, seed=1)


def test_predictor_reads_accessories_and_nuisances(predictor, renderer):
    scores = predictor.score(renderer.sample(500, seed=9))
    assert all(scores[f"accuracy: {a}"] > 0.9 for a in ACCESSORIES), scores
    for name in ("fur_r", "background_g", "x"):
        assert scores[f"R^2: {name}"] > 0.7, scores
    assert predictor.predict_nuisances(renderer.sample(3).images).shape == (3, len(NUISANCE_FACTORS))


def test_exact_edits_score_as_exact_and_sloppy_edits_as_sloppy(evaluator, renderer):
    z = renderer.sample_factors(200, seed=5)
    exact = evaluator.score(RendererEditor(renderer), z, "hat")
    sloppy = evaluator.score(RendererEditor(renderer, also_change=("fur_r", "fur_g", "fur_b")), z, "hat")
    assert exact["success"] > 0.85 and exact["preserved"] > 0.85
    assert abs(exact["drift: fur colour"]) < 0.25 and abs(exact["drift: pose"]) < 0.25
    assert sloppy["drift: fur colour"] > 0.6
    assert exact["pixels outside"] < 0.3 < sloppy["pixels outside"]
    assert exact["change outside"] < 0.2 * exact["change inside"]
    assert exact["edits"] == 200


def test_entanglement_is_zero_for_an_accessory_and_high_when_its_latents_hold_the_fur(predictor, renderer):
    clean = task_latent_entanglement(RendererEditor(renderer), predictor, n=600, seed=0)
    mixed = task_latent_entanglement(RendererEditor(renderer, also_change=("fur_r", "fur_g", "fur_b")), predictor,
                                     n=600, seed=0)
    assert list(clean.task) == list(ACCESSORIES) and (clean.latents == 2).all()
    assert clean["R^2: fur colour"].abs().max() < 0.1 and clean["R^2: pose"].abs().max() < 0.1
    assert mixed["R^2: fur colour"].min() > 0.7


def test_frechet_distance_tells_real_from_scrambled(predictor, renderer):
    real, other = renderer.sample(400, seed=11).images, renderer.sample(400, seed=12).images
    scrambled = np.random.default_rng(0).permutation(other.reshape(-1)).reshape(other.shape)
    assert frechet_distance(predictor, real, other) < 0.1 * frechet_distance(predictor, real, scrambled)


def test_readable_groups_keep_only_groups_read_well_in_every_factor():
    scores = {f"R^2: {name}": 0.95 for name in NUISANCE_FACTORS}
    assert readable_groups(scores) == ["fur colour", "background colour", "pose", "ears"]
    scores["R^2: ear"], scores["R^2: y"] = 0.4, 0.79
    assert readable_groups(scores) == ["fur colour", "background colour"]
    assert readable_groups(scores, min_r2=0.3) == ["fur colour", "background colour", "pose", "ears"]


def test_bad_input(predictor, renderer, evaluator):
    with pytest.raises(RuntimeError, match="not trained yet"):
        CatFactorPredictor().predict_accessories(renderer.sample(2).images)
    with pytest.raises(ValueError, match="trained on 32 x 32"):
        predictor.predict_accessories(CatRenderer(size=16).sample(2).images)
    with pytest.raises(ValueError, match="CatImages"):
        CatFactorPredictor().fit(np.zeros((2, 3, 32, 32)))
    with pytest.raises(ValueError, match="predictor's image size"):
        EditEvaluator(predictor, CatRenderer(size=16))
    with pytest.raises(ValueError, match="unknown task 'scarf'"):
        evaluator.score(RendererEditor(renderer), renderer.sample_factors(2), "scarf")
