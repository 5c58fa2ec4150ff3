import hashlib

import numpy as np
import pytest

from specbook.worlds.video import AgentVideoWorld, check_frames


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def test_sample_shapes_ranges_and_determinism():
    world = AgentVideoWorld(T=6, M=2, L=2, n_agents=2, size=16, seed=0)
    a, b = world.sample(5, seed=1), world.sample(5, seed=1)
    assert a.frames.shape == (5, 6, 3, 16, 16) and a.frames.dtype == np.float32
    assert a.states.shape == a.actions.shape == (5, 6, 4) and a.tasks.shape == (5, 2)
    assert a.backgrounds.shape == (5, 3) and a.agent_colours.shape == (5, 2, 3)
    assert 0.0 <= a.frames.min() and a.frames.max() <= 1.0
    assert digest(a.frames) == digest(b.frames)
    assert digest(world.sample(5, seed=2).frames) != digest(a.frames)
    assert np.array_equal(world.render(a.states, a.backgrounds, a.agent_colours), a.frames)
    assert world.task_agents.tolist() == [0, 1]


def test_agents_move_in_their_own_lanes_and_tasks_read_one_agent():
    world = AgentVideoWorld(T=4, M=2, n_agents=3, size=24, task_agents=[2, 0], seed=1)
    states = np.random.default_rng(0).normal(0.0, 3.0, (50, 4, 6))
    x = world.positions(states)[..., 0]
    for j in range(3):
        assert np.all((j / 3 < x[..., j]) & (x[..., j] < (j + 1) / 3))
    hidden = world.world
    assert np.all(hidden.structural_weights("g1", "a1")[:, :4] == 0)
    assert np.all(hidden.structural_weights("g2", "a1")[:, 2:] == 0)


def test_frames_move_with_the_states():
    world = AgentVideoWorld(T=2, M=1, n_agents=1, size=16, seed=0)
    background, colour = np.zeros((1, 3)), np.ones((1, 1, 3))
    left, right = (world.render(np.array([[[s, 0.0], [s, 0.0]]]), background, colour)[0, 0, 0] for s in (-2.0, 2.0))
    columns = np.arange(16)
    assert (left.sum(axis=0) @ columns) / left.sum() < (right.sum(axis=0) @ columns) / right.sum()


def test_bad_input():
    with pytest.raises(ValueError, match="n_agents must be at most 4"):
        AgentVideoWorld(n_agents=5)
    with pytest.raises(ValueError, match="size must be a multiple of 8"):
        AgentVideoWorld(size=20)
    with pytest.raises(ValueError, match="size must be an integer >= 16"):
        AgentVideoWorld(size=8)
    with pytest.raises(ValueError, match="T must be a multiple of L"):
        AgentVideoWorld(T=7, L=2)
    with pytest.raises(ValueError, match="task_agents must give each of the M=1 tasks an agent in 0..1"):
        AgentVideoWorld(M=1, task_agents=[2])
    world = AgentVideoWorld(T=4, M=1, size=16)
    with pytest.raises(ValueError, match="states must end with 2 \\* n_agents = 4"):
        world.positions(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="backgrounds must be"):
        world.render(np.zeros((2, 4, 4)), np.zeros((3, 3)), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"agent must be an integer in \[0, 1\]; got 2"):
        world.agent_columns(2)


def test_check_frames():
    good = np.zeros((2, 3, 3, 16, 16))
    assert check_frames(good).dtype == np.float32
    with pytest.raises(ValueError, match=r"\(n, T, 3, size, size\)"):
        check_frames(np.zeros((2, 3, 16, 16)))
    with pytest.raises(ValueError, match=r"\(n, T, 3, size, size\)"):
        check_frames(np.zeros((2, 3, 1, 16, 16)))
    with pytest.raises(ValueError, match="multiple of 8 and at least 16"):
        check_frames(np.zeros((2, 3, 3, 12, 12)))
    bad = good.copy()
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        check_frames(bad)
