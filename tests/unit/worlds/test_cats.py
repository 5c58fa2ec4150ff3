"""The cat renderer: shapes, determinism, exact counterfactuals, masks, and clear errors."""
import hashlib

import numpy as np
import pytest

from specbook.worlds.cats import ACCESSORIES, FACTOR_RANGES, FACTORS, CatRenderer, factor_index


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_shapes_ranges_and_factor_columns():
    cats = CatRenderer(size=32).sample(40, seed=0)
    assert cats.images.shape == (40, 3, 32, 32) and cats.images.dtype == np.float32
    assert cats.masks.shape == cats.regions.shape == (40, len(ACCESSORIES), 32, 32)
    assert cats.factors.shape == (40, len(FACTORS))
    assert 0 <= cats.images.min() and cats.images.max() <= 1
    for j, (low, high) in enumerate(FACTOR_RANGES.values()):
        assert low <= cats.factors[:, j].min() and cats.factors[:, j].max() <= high
    assert set(np.unique(cats.labels())) == {0.0, 1.0}
    assert cats.numpy_images().shape == (40, 32, 32, 3)


def test_same_seed_same_images_other_seed_other_images():
    renderer = CatRenderer(size=32)
    assert digest(renderer.sample(16, seed=3).images) == digest(renderer.sample(16, seed=3).images)
    assert digest(renderer.sample(16, seed=3).images) != digest(renderer.sample(16, seed=4).images)
    # rendering is a pure function of the factors, whatever the batching
    factors = renderer.sample_factors(10, seed=1)
    assert np.array_equal(renderer.render(factors).images, renderer.render(factors, batch_size=3).images)


@pytest.mark.parametrize("task", ACCESSORIES)
def test_counterfactual_pairs_change_only_the_accessory_pixels(task):
    renderer = CatRenderer(size=32)
    without, with_ = renderer.counterfactual_pairs(30, task, seed=2)
    column = factor_index(task)
    assert (without.factors[:, column] == 0).all() and (with_.factors[:, column] == 1).all()
    others = [j for j in range(len(FACTORS)) if j != column]
    assert np.array_equal(without.factors[:, others], with_.factors[:, others])
    change = np.abs(with_.images - without.images).sum(axis=1)
    region = with_.regions[:, ACCESSORIES.index(task)]
    assert change[region == 0].max() == 0  # nothing moves outside the accessory
    assert change.sum(axis=(1, 2)).min() > 1  # and every accessory shows
    assert without.masks[:, ACCESSORIES.index(task)].max() == 0


def test_masks_are_regions_of_worn_accessories_and_regions_sit_where_the_cat_is():
    renderer = CatRenderer(size=32)
    cats = renderer.sample(50, seed=5)
    worn = cats.labels()
    assert np.allclose(cats.masks, cats.regions * worn[:, :, None, None])
    assert (cats.regions.sum(axis=(2, 3)) > 2).all()  # every accessory covers a few pixels
    moved = cats.factors.copy()
    moved[:, factor_index("x")] = FACTOR_RANGES["x"][1]
    right = renderer.render(moved).regions.sum(axis=(0, 1, 2))
    moved[:, factor_index("x")] = FACTOR_RANGES["x"][0]
    left = renderer.render(moved).regions.sum(axis=(0, 1, 2))
    columns = np.arange(32)
    assert (right * columns).sum() / right.sum() > (left * columns).sum() / left.sum() + 3


def test_supersampling_changes_little():
    factors = CatRenderer().sample_factors(50, seed=0)
    coarse, fine = CatRenderer(supersample=1).render(factors).images, CatRenderer(supersample=4).render(factors).images
    assert np.abs(coarse - fine).mean() < 0.01


def test_toggle():
    renderer = CatRenderer()
    factors = renderer.sample_factors(20, seed=0)
    flipped = renderer.toggle(factors, "hat")
    assert np.array_equal(flipped[:, factor_index("hat")], 1 - factors[:, factor_index("hat")])
    assert (renderer.toggle(factors, "tie", present=True)[:, factor_index("tie")] == 1).all()


@pytest.mark.parametrize("change, match", [
    (lambda f: f[:, :5], r"shape \(n, 17\)"),
    (lambda f: np.where(np.arange(17) == factor_index("scale"), 3.0, f), r"'scale' must lie in \[0.85, 1.15\]"),
    (lambda f: np.where(np.arange(17) == factor_index("hat"), 0.5, f), "'hat' says whether"),
    (lambda f: np.where(np.arange(17) == 0, np.nan, f), "NaN"),
])
def test_bad_factors(change, match):
    renderer = CatRenderer()
    with pytest.raises(ValueError, match=match):
        renderer.render(change(renderer.sample_factors(4, seed=0)))


def test_bad_arguments():
    renderer = CatRenderer()
    with pytest.raises(ValueError, match="unknown task 'scarf'"):
        renderer.counterfactual_pairs(3, "scarf")
    with pytest.raises(ValueError, match="unknown task"):
        renderer.toggle(renderer.sample_factors(2), "bowtie")
    with pytest.raises(ValueError, match="size must be an integer >= 8"):
        CatRenderer(size=4)
    with pytest.raises(ValueError, match="p_accessory"):
        renderer.sample(3, p_accessory=1.5)
    with pytest.raises(ValueError, match="n must be"):
        renderer.sample(0)
