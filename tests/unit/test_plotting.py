"""Figure helpers: image grids."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from specbook.plotting import show_images  # noqa: E402


def test_show_images_lays_out_a_grid_with_column_titles():
    fig = show_images(np.random.default_rng(0).random((10, 3, 8, 8)), columns=4, titles=["a", "b", "c", "d"])
    axes = fig.axes
    assert len(axes) == 12  # 3 rows of 4, the last two empty
    assert [ax.get_title() for ax in axes[:4]] == ["a", "b", "c", "d"]
    assert sum(bool(ax.images) for ax in axes) == 10


def test_show_images_wants_channels_first_rgb():
    with pytest.raises(ValueError, match=r"shape \(n, 3, h, w\)"):
        show_images(np.zeros((2, 8, 8, 3)))


def test_show_video_draws_frames_and_the_timeline():
    import matplotlib.pyplot as plt

    from specbook.plotting import show_video
    from specbook.worlds.video import AgentVideoWorld

    world = AgentVideoWorld(T=4, M=2, size=16, seed=0)
    video = world.sample(1, seed=0)
    fig = show_video(video.frames[0], world.step_tasks, L=2)
    assert len(fig.axes) == 5
    plt.close(fig)
    with pytest.raises(ValueError, match="step_tasks must have shape"):
        show_video(video.frames[0], world.step_tasks[:3])


def test_draw_paths_highlights_the_open_paths_and_marks_the_blockers():
    import matplotlib.pyplot as plt
    import networkx as nx

    from specbook.plotting import BLOCKING_COLOR, OPEN_COLOR, draw_paths
    from specbook.tasks.dseparation import path_states

    graph = nx.DiGraph([("s1", "a1"), ("s1", "s2"), ("s2", "s3"), ("s3", "a3"), ("a1", "g1"), ("a3", "g1")])
    states = path_states(graph, "a1", "a3", {"s2"})  # the fork-and-chain path blocked at s2, the collider at g1
    ax = draw_paths(graph, states, conditioned={"s2"}, title="given s2")
    assert ax.get_title() == "given s2" and ax.get_legend() is not None
    nodes = ax.collections[-1]  # the nodes, drawn last
    outlines = {node: tuple(color) for node, color in zip(graph, nodes.get_edgecolors())}
    red = matplotlib.colors.to_rgba(BLOCKING_COLOR)
    assert outlines["s2"] == red and outlines["g1"] == red and outlines["s1"] != red
    plt.close("all")
    opened = path_states(graph, "a1", "a3", {"s2", "g1"})  # only the collider path is open
    ax = draw_paths(graph, opened, conditioned={"s2", "g1"}, legend=False)
    green = matplotlib.colors.to_rgba(OPEN_COLOR, 0.55)
    thick = [patch for patch in ax.patches if patch.get_linewidth() == 5]
    assert len(thick) == 2 and all(tuple(patch.get_edgecolor()) == green for patch in thick)  # a1 -> g1 <- a3
    assert ax.get_legend() is None
    plt.close("all")


@pytest.mark.parametrize("kwargs, match", [
    ({"graph": "not a graph"}, "graph must be a networkx.DiGraph"),
    ({"paths": [("a", "b")]}, "paths must be the table path_states returns"),
    ({"conditioned": "b"}, "conditioned must be a collection of nodes"),
    ({"conditioned": {"q"}}, r"not in the graph: \['q'\]"),
    ({"pos": {"a": (0, 0)}}, r"pos must map every node.*missing \['b'\]"),
])
def test_draw_paths_refuses_bad_input(kwargs, match):
    import networkx as nx

    from specbook.plotting import draw_paths
    from specbook.tasks.dseparation import path_states

    graph = nx.DiGraph([("a", "b")])
    arguments = {"graph": graph, "paths": path_states(graph, "a", "b"), **kwargs}
    with pytest.raises(ValueError, match=match):
        draw_paths(arguments.pop("graph"), arguments.pop("paths"), **arguments)


def test_draw_latent_pairs_frames_the_matched_panels():
    import matplotlib.pyplot as plt

    from specbook.plotting import draw_latent_pairs

    z = np.random.default_rng(0).normal(size=(500, 3))
    axes = draw_latent_pairs(z, z[:, [2, 0, 1]] ** 3, matching=[1, 2, 0], max_points=100)
    assert axes.shape == (3, 3)
    framed = {(i, j) for i in range(3) for j in range(3) if axes[i, j].spines["left"].get_linewidth() > 2}
    assert framed == {(0, 1), (1, 2), (2, 0)}
    assert all(len(ax.collections[0].get_offsets()) == 100 for ax in axes.flat)
    assert axes[0, 0].get_ylabel() == "true $z_{1}$" and axes[0, 2].get_title() == "estimate $\\hat z_{3}$"
    plt.close("all")
    with pytest.raises(ValueError, match="matching must hold one estimated latent"):
        draw_latent_pairs(z, z, matching=[0, 1, 3])
    with pytest.raises(ValueError, match="same number of samples"):
        draw_latent_pairs(z, z[:10])
    with pytest.raises(ValueError, match=r"axes must be a \(3, 2\) array"):
        draw_latent_pairs(z, z[:, :2], axes=np.empty((2, 2), dtype=object))
