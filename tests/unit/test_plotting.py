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
