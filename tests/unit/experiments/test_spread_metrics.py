"""The spread and verdict inputs chapters 6 to 9 record: each checked on a case computed by hand."""
import numpy as np
import pandas as pd
import pytest

from specbook.worlds.cats import ACCESSORIES, FACTORS, CatRenderer
from specbook.specialists.editing import (CatFactorPredictor, EditEvaluator, _group_distance, _group_distances,
                                          score_edits)
from specbook.specialists.identifiability import aligned_support, sample_sd, support_containment
from specbook.worlds.latent import example_world
from specbook.experiments.pixels import paired_differences
from specbook.specialists.vae import SpecialistVAE


# --- sample_sd --------------------------------------------------------------------------------------------

def test_sample_sd_is_ddof_1_and_zero_for_one_value():
    assert sample_sd([1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert sample_sd([2.0, 4.0]) == pytest.approx(np.sqrt(2.0))  # by hand: mean 3, ((1 + 1) / 1) ** 0.5
    assert sample_sd([0.7]) == 0.0
    assert sample_sd(np.array([True, False, True, False])) == pytest.approx(np.std([1, 0, 1, 0], ddof=1))


@pytest.mark.parametrize("values", [[], [1.0, np.nan]])
def test_sample_sd_refuses_what_record_would_refuse(values):
    with pytest.raises(ValueError):
        sample_sd(values)


# --- aligned_support and support_containment --------------------------------------------------------------

def test_aligned_support_maps_estimated_latents_back_through_the_matching():
    matching = [2, 0, 1, -1]  # true 0 -> est 2, true 1 -> est 0, true 2 -> est 1, true 3 unmatched
    assert aligned_support([0, 2], matching) == (0, 1)
    assert aligned_support([1], matching) == (2,)
    assert aligned_support([3], matching) == ()  # estimated 3 is matched to no true latent
    assert aligned_support([], matching) == ()


def test_containment_is_about_which_latents_not_how_many():
    matching = [1, 0, 2, 3]
    true_support = {0, 1}
    # two estimated latents, the right size, but they are the matches of true latents 2 and 3: not a superset
    wrong = aligned_support([2, 3], matching)
    assert len(wrong) >= len(true_support) and not true_support <= set(wrong)
    # the matches of true latents 0 and 1 (estimated 1 and 0): contained
    assert true_support <= set(aligned_support([0, 1], matching))


class FixedVAE(SpecialistVAE):
    """A 'fitted' VAE whose latents are the true ones permuted and whose supports are given."""

    def __init__(self, permutation, supports, n_tasks):
        super().__init__(n_latents=len(permutation), n_tasks=n_tasks)
        self.permutation = np.asarray(permutation)
        self.supports = supports

    def transform(self, obs):
        return self._latents[:, self.permutation]


def _fixed(world, sample, permutation, estimated_supports, monkeypatch):
    import specbook.specialists.identifiability as ident

    model = FixedVAE(permutation, estimated_supports, world.n_tasks)
    model._latents = sample.latents
    support = np.zeros((world.n_tasks, len(permutation)), dtype=bool)
    for k, latents in enumerate(estimated_supports):
        support[k, list(latents)] = True
    monkeypatch.setattr(ident, "estimated_support", lambda model, z, tol=0.05: support)
    return model


def test_support_containment_on_a_model_with_known_latents(monkeypatch):
    world = example_world(seed=0)  # supports (0, 1), (2, 3, 4), (4, 5); latents 6, 7 feed no task
    sample = world.sample(n=500, seed=1)
    permutation = [3, 0, 1, 2, 7, 6, 5, 4]  # estimated latent j is true latent permutation[j]
    # task 0 reads estimated 1 and 2 = true 0 and 1 (contained); task 1 reads estimated 0, 3 = true 3, 2
    # (misses 4); task 2 reads everything (contained, trivially)
    model = _fixed(world, sample, permutation, [(1, 2), (0, 3), tuple(range(8))], monkeypatch)
    table = support_containment(model, world, sample)
    assert table["aligned_support"].tolist() == [(0, 1), (2, 3), tuple(range(8))]
    assert table["contains_true"].tolist() == [True, False, True]
    assert table["reads_all"].tolist() == [False, False, True]


def test_support_containment_refuses_a_model_with_fewer_latents():
    world = example_world(seed=0)
    with pytest.raises(ValueError, match="at least"):
        support_containment(SpecialistVAE(n_latents=4, n_tasks=3), world, world.sample(n=50, seed=0))


# --- paired_differences -----------------------------------------------------------------------------------

def test_paired_differences_pair_by_trial():
    table = pd.DataFrame({"seed": [1, 1, 0, 0, 2, 2], "representation": ["latents", "frames"] * 3,
                          "map": [0.5, 0.25, 0.25, 0.5, 0.75, 0.75]})
    differences = paired_differences(table, "latents", "frames")
    assert differences.index.tolist() == [0, 1, 2]
    assert differences.tolist() == [-0.25, 0.25, 0.0]
    assert differences.mean() == pytest.approx(0.0)
    assert sample_sd(differences) == pytest.approx(0.25)  # by hand: sqrt((0.0625 + 0.0625 + 0) / 2)


def test_paired_differences_refuse_unpaired_or_mixed_tables():
    table = pd.DataFrame({"seed": [0, 0, 1], "representation": ["latents", "frames", "latents"], "map": [1, 2, 3]})
    with pytest.raises(ValueError, match="same trials"):
        paired_differences(table, "latents", "frames")
    mixed = pd.DataFrame({"seed": [0, 0], "representation": ["latents", "latents"], "map": [1, 2]})
    with pytest.raises(ValueError, match="twice"):
        paired_differences(mixed, "latents", "latents")


# --- per-edit scores --------------------------------------------------------------------------------------

def test_group_distances_average_to_group_distance():
    rng = np.random.default_rng(0)
    from specbook.specialists.editing import NUISANCE_FACTORS

    a, b = rng.normal(size=(2, 40, len(NUISANCE_FACTORS)))
    each, mean = _group_distances(a, b), _group_distance(a, b)
    assert set(each) == set(mean)
    for group in mean:
        assert each[group].shape == (40,) and each[group].mean() == pytest.approx(mean[group])


class RendererEditor:
    """An exact editor: latents are factor vectors, an edit toggles the accessory."""

    tasks = ACCESSORIES

    def __init__(self, renderer):
        self.renderer = renderer

    def task_index(self, task):
        return self.tasks.index(task)

    def sample_latents(self, n, seed=0):
        return self.renderer.sample_factors(n, seed=seed)

    def relevant_latents(self, task):
        return np.array([FACTORS.index(task), FACTORS.index(task + "_hue")])

    def generate(self, z):
        return self.renderer.render(z).images

    def edit(self, z, task, present=True, method="gradient"):
        return self.renderer.toggle(z, task, present)


def test_per_edit_scores_average_to_the_table_and_leave_it_unchanged():
    renderer = CatRenderer(size=32)
    predictor = CatFactorPredictor(epochs=1, batch_size=64, progress=False, seed=0).fit(renderer.sample(600, seed=0))
    evaluator = EditEvaluator(predictor, renderer, n_reference=60, seed=1)
    models = {("exact", 0): RendererEditor(renderer)}
    plain = score_edits(models, evaluator, methods=("gradient",), n_edits=30, n_quality=20, seed=3)
    table, edits = score_edits(models, evaluator, methods=("gradient",), n_edits=30, n_quality=20, seed=3,
                               per_edit=True)
    pd.testing.assert_frame_equal(plain, table)
    assert len(edits) == 30 * len(ACCESSORIES)
    assert edits["model"].tolist()[0] == ("exact", 0)
    assert set(edits["success"].unique()) <= {0.0, 1.0}
    means = edits.groupby("task", sort=False).mean(numeric_only=True)
    for row in table.itertuples():
        assert means.loc[row.task, "success"] == pytest.approx(row.success)
        assert means.loc[row.task, "drift: fur colour"] == pytest.approx(table.loc[row.Index, "drift: fur colour"])


def test_one_based_counts_tasks_and_latents_from_one():
    from specbook.specialists.identifiability import one_based

    table = pd.DataFrame({"task": [0, 2], "true_support": [(0, 1), (4, 5)], "estimated_size": [2, 8]})
    shown = one_based(table)
    assert shown["task"].tolist() == [1, 3]
    assert shown["true_support"].tolist() == [(1, 2), (5, 6)]
    assert shown["estimated_size"].tolist() == [2, 8]  # a size is not a latent number
    assert table["task"].tolist() == [0, 2]  # the original is untouched


def test_compare_means_states_the_direction_only_beyond_noise():
    from specbook.specialists.editing import compare_means

    more = compare_means([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    # by hand: difference 2, standard error sqrt(1 / 3 + 0) = 0.577, 2 > 2 * 0.577
    assert more["difference"] == pytest.approx(2.0)
    assert more["standard_error"] == pytest.approx(np.sqrt(1 / 3))
    assert more["direction"] == "more than"
    assert compare_means([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])["direction"] == "less than"
    # difference 0.5, standard error sqrt(1 / 3 + 1 / 3) = 0.816: within noise
    assert compare_means([1.5, 2.5, 3.5], [1.0, 2.0, 3.0])["direction"] == "about as much as"
    assert compare_means([0.2], [0.2])["direction"] == "about as much as"
    with pytest.raises(ValueError):
        compare_means([], [1.0])
