"""The chapters' explorers: each builds, draws its figure, redraws when a slider moves, and refuses bad input."""
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import specbook as sb
from specbook import explorers
from specbook.explorers import collider_world_explorer, sparsity_explorer, theorem1_explorer


def _green_boxes(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] != (0, 0, 0)]


# ------------------------------------------------------------------ chapter 1: the collider world
def test_collider_world_explorer_draws_explaining_away_in_the_chapters_world():
    explorer = collider_world_explorer(n=20_000, task_noise=0.5, seed=0, max_points=300)
    figure = explorer.update()
    assert isinstance(figure, Figure) and figure is explorer.figure and explorer.redraws == 1
    top, left, middle, right, colorbar = figure.axes
    assert colorbar.get_ylabel() == "$g_1$"
    assert len(left.collections[0].get_offsets()) == 300 == len(middle.collections[0].get_offsets())
    numbers = explorer.numbers
    # every step cut: the task is the only path, the actions are independent until it is known
    assert numbers["disconnected"] == (2, 3, 4) and numbers["population_corr"] == pytest.approx(0, abs=1e-12)
    assert numbers["pcorr"] == pytest.approx(numbers["population_pcorr"], abs=0.05)
    assert abs(numbers["population_pcorr"]) > 0.05 and numbers["pvalue"] < 1e-6
    # the chapter's signal figure computes the same population number for this world
    world = sb.ColliderWorld(T=4, M=1, L=2, assignment=[[1], [1]], disconnected=range(2, 5), task_noise=0.5, seed=0)
    assert numbers["population_pcorr"] == pytest.approx(world.partial_correlation("a2", "a4", given=["g1"]))
    # the curve: this world's signal against the task noise, fading, with the current one marked
    curve, marker = right.lines[:2]
    assert np.all(np.diff(curve.get_ydata()) <= 1e-12) and marker.get_xdata()[0] == 0.5


def test_collider_world_explorer_redraws_with_new_values():
    explorer = collider_world_explorer(n=500, seed=1, max_points=100)
    first = explorer.update()
    strong = abs(explorer.numbers["population_pcorr"])
    second = explorer.update(serving=6, task_noise=4.0)
    assert second is not first and explorer.values == {"n": 500, "task_noise": 4.0, "serving": 6,
                                                       "p_disconnect": 1.0, "seed": 1}
    assert "6 serving segments" in second._suptitle.get_text()
    assert abs(explorer.numbers["population_pcorr"]) < strong  # more fan-in and more noise: a weaker signal
    # with cuts at random, a temporal path can join the two actions: dependent before the task is known
    explorer.update(serving=2, p_disconnect=0.0)
    assert explorer.numbers["disconnected"] == () and abs(explorer.numbers["population_corr"]) > 0.01


def test_moving_a_slider_redraws_the_figure():
    explorer = collider_world_explorer(n=200, seed=0, max_points=50)
    explorer.update()
    controls = explorer.controls
    assert set(controls) == {"n", "task_noise", "serving", "p_disconnect", "seed"}
    assert controls["n"].value == 200 and controls["serving"].value == 2
    before = explorer.figure
    controls["n"].value = 500
    assert explorer.redraws == 2 and explorer.values["n"] == 500 and explorer.figure is not before
    controls["seed"].value = 3
    assert explorer.redraws == 3 and explorer.values["seed"] == 3
    # update() moves the sliders without redrawing twice, widening a range it would clip
    explorer.update(n=777, task_noise=50.0)
    assert explorer.redraws == 4 and controls["n"].value == 777
    assert controls["task_noise"].value == pytest.approx(50.0) and controls["task_noise"].max > 5
    controls["serving"].value = 3  # the other controls keep the values they were drawn with
    assert explorer.values == {"n": 777, "task_noise": 50.0, "serving": 3, "p_disconnect": 1.0, "seed": 3}


def test_a_value_the_model_refuses_is_shown_under_the_sliders(capsys):
    explorer = collider_world_explorer(n=200, max_points=50)
    explorer.update()
    # what a slider reports on a move; no slider here offers a value the model refuses, but one could
    explorer._on_change({"owner": explorer.controls["serving"], "new": 1})
    assert explorer.redraws == 1 and explorer.values["serving"] == 2
    assert "serving must be an integer in [2, 12]; got 1." in capsys.readouterr().out


def test_the_widget_is_a_vbox_of_the_sliders_and_the_figure_and_displays_itself(monkeypatch):
    import ipywidgets
    import IPython.display

    explorer = theorem1_explorer(n=200)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects: shown.extend(objects))
    explorer._ipython_display_()  # what a cell ending in `explorer` does
    assert explorer.redraws == 1  # drawn on first display
    assert isinstance(explorer.widget, ipywidgets.VBox) and shown == [explorer.widget]
    children = explorer.widget.children
    assert explorer.output in children and all(control in children for control in explorer.controls.values())
    assert "Explorer('Theorem 1" in repr(explorer)


def test_update_needs_no_ipywidgets_and_builds_no_widget(monkeypatch):
    # papermill stores the state of every widget a chapter creates; the executed book shows the figure only
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    explorer = collider_world_explorer(n=200, max_points=50)
    assert isinstance(explorer.update(), Figure)
    assert explorer._widget is None
    with pytest.raises(ImportError, match="pip install 'ipywidgets>=8'"):
        explorer.widget


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 5}, "n must be an integer in"),
    ({"n": 10 ** 7}, "n must be an integer in"),
    ({"task_noise": 0.0}, "task_noise must be"),
    ({"task_noise": float("nan")}, "task_noise must be"),
    ({"serving": 1}, "serving must be an integer in"),
    ({"serving": 2.0}, "serving must be an integer in"),
    ({"p_disconnect": 1.5}, "p_disconnect must be"),
    ({"seed": -1}, "seed must be"),
    ({"max_points": 0}, "max_points must be"),
])
def test_collider_world_explorer_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        collider_world_explorer(**kwargs)


def test_update_refuses_unknown_controls_and_bad_values_and_keeps_the_old_ones():
    explorer = collider_world_explorer(n=200, max_points=50)
    with pytest.raises(ValueError, match="unknown control.*L; this explorer's controls are n, task_noise"):
        explorer.update(L=3)
    with pytest.raises(ValueError, match="task_noise must be"):
        explorer.update(task_noise=-1.0)
    assert explorer.values["task_noise"] == 1.0 and explorer.redraws == 0


# ------------------------------------------------------------------ chapter 2: Theorem 1
def test_theorem1_explorer_tests_every_pair_and_outlines_the_serving_ones():
    explorer = theorem1_explorer(n=10_000, seed=0)
    figure = explorer.update()
    top, *heatmaps, colorbar = figure.axes
    assert len(heatmaps) == 2 and colorbar.get_ylabel() == "$-\\log_{10} p$"
    world = sb.ColliderWorld(T=10, M=2, L=2, seed=0)
    for i, ax in enumerate(heatmaps):
        assert len(ax.images) == 1 and len(ax.texts) == 10  # one p-value per pair of 5 segments
        serving = world.assignment[:, i].sum()
        assert len(_green_boxes(ax)) == serving * (serving - 1) // 2
    numbers = explorer.numbers
    assert numbers["tests"] == 20 and numbers["true_pairs"] == sum(
        a * (a - 1) // 2 for a in world.assignment.sum(axis=0))
    assert numbers["found"] == numbers["true_pairs"] and numbers["missed"] == 0  # n = 10,000 is plenty here


def test_theorem1_explorer_redraws_for_another_L_and_alpha():
    explorer = theorem1_explorer(n=300, seed=2)
    explorer.update()
    figure = explorer.update(L=4, alpha=0.2)
    assert "L = 4" in figure._suptitle.get_text() and explorer.values["alpha"] == 0.2
    assert explorer.numbers["found"] + explorer.numbers["missed"] == explorer.numbers["true_pairs"]
    controls = explorer.controls
    controls["L"].value = 3
    assert explorer.redraws == 3 and explorer.values["L"] == 3
    explorer.update(alpha=0.03)  # a level the slider does not offer joins its options
    assert controls["alpha"].value == 0.03


@pytest.mark.parametrize("kwargs, match", [
    ({"L": 1}, "L must be an integer in \\[2, 6\\]"),
    ({"alpha": 1.0}, "alpha must be"),
    ({"alpha": "0.05"}, "alpha must be"),
    ({"n": 2.5}, "n must be"),
    ({"N": 1}, "N must be"),
    ({"M": 5}, "M must be"),
    ({"seed": 2 ** 32}, "seed must be"),
])
def test_theorem1_explorer_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        theorem1_explorer(**kwargs)


# ------------------------------------------------------------------ chapter 7: the sparsity tightening
@pytest.fixture(scope="module")
def sweep():
    from specbook.worlds.latent import example_world

    world = example_world(seed=0)
    train, test = world.sample(n=300, seed=1), world.sample(n=200, seed=2)
    models = {weight: sb.SpecialistVAE(sparsity=weight, epochs=2, batch_size=64, progress=False, seed=0)
              .fit(train.obs, train.tasks) for weight in (0.0, 5.0)}
    return models, world, test


def test_sparsity_explorer_shows_the_chosen_model_and_the_sweep(sweep):
    models, world, test = sweep
    explorer = sparsity_explorer(models, world, test, sparsity=5.0, max_points=100)
    figure = explorer.update()
    assert len(figure.axes) == 4
    truth, mask, read, sizes = figure.axes
    assert mask.get_xlabel() == "estimated latent (matched order)"
    line = sizes.lines[0]
    assert list(line.get_xdata()) == [0.0, 5.0]
    assert list(line.get_ydata()) == [explorer.numbers["total_by_sparsity"][w] for w in (0.0, 5.0)]
    assert explorer.numbers["true_sizes"] == [2, 3, 2]
    assert explorer.values == {"sparsity": 5.0, "threshold": models[5.0].mask_threshold}
    # the outlined mask entries are those above the threshold
    outlined = sum(isinstance(p, Rectangle) for p in mask.patches)
    assert outlined == int((models[5.0].mask_ > explorer.values["threshold"]).sum())


def test_sparsity_explorer_threshold_closes_entries_and_the_slider_redraws(sweep):
    models, world, test = sweep
    explorer = sparsity_explorer(models, world, test, max_points=100)
    explorer.update()
    assert explorer.values["sparsity"] == 0.0  # the smallest weight first
    explorer.update(threshold=0.9999)  # above every mask entry of a barely trained model
    assert explorer.numbers["support_sizes"] == [0, 0, 0] and not explorer.numbers["equal"]
    assert set(explorer.numbers["total_by_sparsity"].values()) == {0}
    controls = explorer.controls
    assert [option[1] for option in controls["sparsity"].options] == [0.0, 5.0]
    controls["sparsity"].value = 5.0
    assert explorer.values["sparsity"] == 5.0 and explorer.redraws == 3
    controls["threshold"].value = 0.05
    assert explorer.values["threshold"] == 0.05 and explorer.redraws == 4
    assert sum(explorer.numbers["support_sizes"]) == explorer.numbers["total_by_sparsity"][5.0] > 0


def test_sparsity_explorer_refuses_bad_arguments(sweep):
    models, world, test = sweep
    with pytest.raises(ValueError, match="models must be a non-empty dict"):
        sparsity_explorer({}, world, test)
    with pytest.raises(ValueError, match="models must be keyed by l1 weights"):
        sparsity_explorer({"a": models[0.0]}, world, test)
    with pytest.raises(ValueError, match="models key -1"):
        sparsity_explorer({-1.0: models[0.0]}, world, test)
    with pytest.raises(ValueError, match="models\\[1\\] must be a fitted SpecialistVAE"):
        sparsity_explorer({1.0: "model"}, world, test)
    with pytest.raises(ValueError, match="world must be the TaskLatentWorld"):
        sparsity_explorer(models, "world", test)
    with pytest.raises(ValueError, match="sample must be a LatentSample"):
        sparsity_explorer(models, world, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="sparsity must be one of the models' weights 0, 5; got 2"):
        sparsity_explorer(models, world, test, sparsity=2)
    with pytest.raises(ValueError, match="threshold must be"):
        sparsity_explorer(models, world, test, threshold=1.0)
    with pytest.raises(ValueError, match="tol must be"):
        sparsity_explorer(models, world, test, tol=1.0)
    explorer = sparsity_explorer(models, world, test, max_points=50)
    with pytest.raises(ValueError, match="sparsity must be one of"):
        explorer.update(sparsity=0.3)


def test_the_module_exports_what_it_documents():
    assert set(explorers.__all__) >= {"Explorer", "collider_world_explorer", "theorem1_explorer", "sparsity_explorer"}
    assert sb.explorers is explorers
