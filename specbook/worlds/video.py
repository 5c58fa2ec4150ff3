"""Rendered multi-agent video whose hidden states follow a Layer 1 collider world.

An :class:`AgentVideoWorld` is a :class:`~specbook.worlds.collider.ColliderWorld` whose state
``s_t`` holds the ``(x, y)`` positions of a few agents (two coordinates per agent, the
agents' coordinates never interacting), and in which each task reads the actions of one
agent over the segments that serve it. Tasks therefore interleave across agents and
time, with the collider structure and the disconnections of Layer 1 unchanged. What a
model sees is the frame ``o_t = render(s_t)``: each agent a sprite of its own shape,
drawn over a background, with colours that change from sequence to sequence (nuisance
that no task is about).
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from .collider import ColliderWorld, check_world_size
from ..validation import as_real_array, check_int, check_memory, check_pixels, check_seed

__all__ = ["AgentVideoWorld", "VideoSample", "SHAPES", "check_frames"]

#: Sprite shape of each agent, in order (agent ``j`` is drawn as ``SHAPES[j]``).
SHAPES = ("disc", "square", "diamond", "cross")
_MARGIN = 0.18        # share of the frame between its top/bottom edge and the farthest sprite centre
_LANE_MARGIN = 0.15   # the same, across an agent's lane
_RADIUS = 0.16        # sprite half-width, as a share of the frame
_SQUASH = 1.5         # states are divided by this before the tanh that maps them into the frame
_CHUNK = 4_096        # frames rendered at once (bounds the memory of the coverage masks)


@dataclass(frozen=True)
class VideoSample:
    """Sequences drawn from an :class:`AgentVideoWorld`.

    Attributes
    ----------
    frames : ndarray of shape (n, T, 3, size, size), float32 in [0, 1]
        ``frames[:, t - 1]`` is the frame ``o_t``.
    states : ndarray of shape (n, T, 2 * n_agents)
        The hidden states ``s_t``: agent ``j``'s coordinates are columns ``2j`` and ``2j + 1``.
    actions : ndarray of shape (n, T, 2 * n_agents)
    tasks : ndarray of shape (n, M)
    backgrounds : ndarray of shape (n, 3)
        Background colour of each sequence (nuisance).
    agent_colours : ndarray of shape (n, n_agents, 3)
        Colour of each agent in each sequence (nuisance).
    """

    frames: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    tasks: np.ndarray
    backgrounds: np.ndarray
    agent_colours: np.ndarray


#: Largest frame side: sprites on a 512 x 512 frame are already 16 times the book's 32 x 32 pixels a side.
MAX_SIZE = 512


def check_frames(frames, name="frames"):
    """Validate a batch of videos ``(n, T, 3, size, size)`` and return it as float32.

    The encoders halve the frame three times, so `size` must be a multiple of 8 and at least 16.
    """
    frames = np.asarray(frames)
    if frames.dtype == object or not np.issubdtype(frames.dtype, np.number) or np.iscomplexobj(frames):
        raise ValueError(f"{name} must be a real numeric array; got dtype {frames.dtype}.")
    if frames.ndim != 5 or frames.shape[2] != 3 or frames.shape[3] != frames.shape[4]:
        raise ValueError(f"{name} must have shape (n, T, 3, size, size) (RGB square frames, channels first); "
                         f"got {frames.shape}.")
    size = frames.shape[3]
    if size < 16 or size % 8:
        raise ValueError(f"frames of size {size} x {size} cannot go through the encoders, which halve them three "
                         "times: use a size that is a multiple of 8 and at least 16 (e.g. 32).")
    if frames.shape[0] == 0 or frames.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one video of at least one frame; got shape {frames.shape}.")
    check_pixels(frames, name)
    return frames.astype(np.float32, copy=False)


class AgentVideoWorld:
    """Agents on a screen whose positions are the states of a collider world.

    Parameters
    ----------
    T : int, default=12
        Number of frames (time steps); a multiple of `L`.
    M : int, default=2
        Number of tasks.
    L : int, default=2
        Segment length (Theorem 1 needs ``L >= 2``).
    n_agents : int, default=2
        Number of agents, 1 to 4; the state has ``2 * n_agents`` coordinates.
    size : int, default=32
        Frame side in pixels (a multiple of 8, from 16 to ``MAX_SIZE`` = 512).
    task_agents : sequence of int of length M, optional
        The agent whose actions feed each task; by default task ``i`` (1-based) is agent
        ``(i - 1) % n_agents``'s, so the tasks alternate between agents.
    assignment, disconnected, p_disconnect, task_density
        As in :class:`~specbook.worlds.collider.ColliderWorld` (the world is linear-Gaussian).
    task_noise, action_noise : float, default=0.2
        As in :class:`~specbook.worlds.collider.ColliderWorld`, but smaller than its defaults (1 and
        0.5): tests on a few thousand videos need a stronger collider signal than Fisher-z on
        10,000 sequences.
    seed : int, default=0
        Seed of the world, in [0, 2**32); sampling has its own seed.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range, naming it (the hidden world's
        arguments and limits are those of :class:`~specbook.worlds.collider.ColliderWorld`).

    Attributes
    ----------
    world : ColliderWorld
        The hidden world (its ``coordinate_groups`` are the agents).
    assignment : ndarray of shape (N, M), bool
    step_tasks : ndarray of shape (T, M), bool
    task_agents : ndarray of shape (M,)

    Notes
    -----
    Each agent moves in a lane of its own (a vertical strip of the frame, like players on
    their side of a net), so sprites never hide each other and the frame determines the
    state. A coordinate ``s`` is drawn at ``margin + (1 - 2 margin) (1 + tanh(s / 2)) / 2``
    across its range (the states have unit variance): smooth, invertible, not linear.

    Examples
    --------
    >>> video = AgentVideoWorld(T=4, M=1, seed=0).sample(n=3, seed=1)
    >>> video.frames.shape, video.states.shape
    ((3, 4, 3, 32, 32), (3, 4, 4))
    """

    def __init__(self, T=12, M=2, L=2, n_agents=2, size=32, *, task_agents=None, assignment=None,
                 disconnected=None, p_disconnect=0.2, task_density=0.1, task_noise=0.2, action_noise=0.2, seed=0):
        self.seed = check_seed(seed)
        self.n_agents = check_int(n_agents, "n_agents", 1)
        if self.n_agents > len(SHAPES):
            raise ValueError(f"n_agents must be at most {len(SHAPES)} (one sprite shape each: {SHAPES}); "
                             f"got {n_agents}.")
        self.size = check_int(size, "size", 16)
        if self.size % 8 or self.size > MAX_SIZE:
            raise ValueError(f"size must be a multiple of 8 (the encoders halve frames three times) and at most "
                             f"{MAX_SIZE}; got {size}.")
        M = check_int(M, "M", 1)
        check_world_size(check_int(T, "T", 2), 2 * self.n_agents, M)  # before a list of M task agents
        if task_agents is None:
            task_agents = [i % self.n_agents for i in range(M)]
        task_agents = np.asarray(task_agents)
        if task_agents.shape != (M,) or not np.isin(task_agents, np.arange(self.n_agents)).all():
            raise ValueError(f"task_agents must give each of the M={M} tasks an agent in 0..{self.n_agents - 1}; "
                             f"got {task_agents.tolist()}.")
        self.world = ColliderWorld(T, M, L, state_dim=2 * self.n_agents, mechanism="linear",
                                   coordinate_groups=np.repeat(np.arange(self.n_agents), 2), task_groups=task_agents,
                                   assignment=assignment, disconnected=disconnected, p_disconnect=p_disconnect,
                                   task_density=task_density, task_noise=task_noise, action_noise=action_noise,
                                   seed=self.seed)

    def __repr__(self):
        return (f"AgentVideoWorld(T={self.T}, M={self.M}, L={self.L}, n_agents={self.n_agents}, size={self.size}, "
                f"task_agents={self.task_agents.tolist()}, disconnected={list(self.disconnected)}, seed={self.seed!r})")

    T = property(lambda self: self.world.T)
    M = property(lambda self: self.world.M)
    L = property(lambda self: self.world.L)
    N = property(lambda self: self.world.N)
    assignment = property(lambda self: self.world.assignment)
    step_tasks = property(lambda self: self.world.step_tasks)
    disconnected = property(lambda self: self.world.disconnected)
    graph = property(lambda self: self.world.graph)
    task_agents = property(lambda self: self.world.task_groups)

    def agent_columns(self, agent):
        """State columns ``[2 agent, 2 agent + 1]`` of an agent (0-based)."""
        agent = check_int(agent, "agent", 0, self.n_agents - 1)
        return [2 * agent, 2 * agent + 1]

    def sample(self, n, seed=0):
        """Draw `n` videos: hidden sequences from the world, then their frames.

        Parameters
        ----------
        n, seed
            As for :meth:`specbook.ColliderWorld.sample` (one video per sequence); the seed also
            draws the colours.

        Returns
        -------
        VideoSample

        Raises
        ------
        ValueError
            For a bad `n` or `seed`, or when the frames would need more memory than
            :func:`~specbook.validation.check_memory` allows (8 GiB by default).
        """
        n, seed = check_int(n, "n", 1), check_seed(seed)
        self._check_frame_memory(n, self.T, f"sample(n={n:,})")
        hidden = self.world.sample(n, seed=seed)
        rng = np.random.default_rng([seed, 1])  # nuisance colours: a stream of their own
        backgrounds, colours = self._nuisance(len(hidden.states), rng)
        frames = self.render(hidden.states, backgrounds, colours)
        return VideoSample(frames=frames, states=hidden.states, actions=hidden.actions, tasks=hidden.tasks,
                           backgrounds=backgrounds, agent_colours=colours)

    def _nuisance(self, n, rng):
        background = np.array([colorsys.hsv_to_rgb(h, s, v) for h, s, v in
                               zip(rng.random(n), rng.uniform(0.0, 0.5, n), rng.uniform(0.05, 0.45, n))])
        colours = np.empty((n, self.n_agents, 3))
        for j in range(self.n_agents):
            hues = (j / self.n_agents + rng.uniform(-0.08, 0.08, n)) % 1.0
            colours[:, j] = [colorsys.hsv_to_rgb(h, s, v) for h, s, v in
                             zip(hues, rng.uniform(0.6, 1.0, n), rng.uniform(0.75, 1.0, n))]
        return background, colours

    def _check_frame_memory(self, n, T, what):
        # the float32 frames, plus the float64 coverage of one chunk while it is drawn
        n_bytes = n * T * 3 * self.size ** 2 * 4 + min(n * T, _CHUNK) * 4 * self.size ** 2 * 8
        check_memory(n_bytes, f"{what}: {n:,} videos of {T} frames of {self.size} x {self.size}",
                     fix="draw fewer videos at a time (or smaller frames)")

    def positions(self, states):
        """Frame coordinates in [0, 1] of every agent: ``(..., n_agents, 2)`` from ``(..., 2 n_agents)``."""
        states = as_real_array(states, "states")
        if states.ndim == 0 or states.shape[-1] != 2 * self.n_agents:
            raise ValueError(f"states must end with 2 * n_agents = {2 * self.n_agents} coordinates; "
                             f"got shape {states.shape}.")
        if not np.isfinite(states).all():
            raise ValueError("states contains NaN or inf, which has no place on the screen; draw finite states.")
        unit = (0.5 * (1.0 + np.tanh(states / _SQUASH))).reshape(*states.shape[:-1], self.n_agents, 2)
        lane = np.arange(self.n_agents)
        x = (lane + _LANE_MARGIN + (1 - 2 * _LANE_MARGIN) * unit[..., 0]) / self.n_agents
        y = _MARGIN + (1 - 2 * _MARGIN) * unit[..., 1]
        return np.stack([x, y], axis=-1)

    def render(self, states, backgrounds, agent_colours):
        """Frames of shape ``(n, T, 3, size, size)`` for states ``(n, T, 2 n_agents)``.

        `backgrounds` is ``(n, 3)`` and `agent_colours` ``(n, n_agents, 3)``, RGB in [0, 1].

        Raises
        ------
        ValueError
            For arrays of the wrong shape, NaN or inf states, colours outside [0, 1], or
            frames that would need more memory than
            :func:`~specbook.validation.check_memory` allows (8 GiB by default).
        """
        states = as_real_array(states, "states")
        if states.ndim != 3:
            raise ValueError(f"states must have shape (n, T, 2 * n_agents); got {states.shape}.")
        n, T = states.shape[:2]
        backgrounds = as_real_array(backgrounds, "backgrounds")
        agent_colours = as_real_array(agent_colours, "agent_colours")
        if backgrounds.shape != (n, 3) or agent_colours.shape != (n, self.n_agents, 3):
            raise ValueError(f"backgrounds must be (n, 3) = ({n}, 3) and agent_colours (n, n_agents, 3) = "
                             f"({n}, {self.n_agents}, 3); got {backgrounds.shape} and {agent_colours.shape}.")
        self._check_frame_memory(n, T, "render")
        for name, colours in (("backgrounds", backgrounds), ("agent_colours", agent_colours)):
            if not ((colours >= 0) & (colours <= 1)).all():  # False for NaN too
                raise ValueError(f"{name} must be RGB values in [0, 1]; got values outside it (or NaN).")
        centres = self.positions(states).reshape(n * T, self.n_agents, 2) * self.size
        grid = np.arange(self.size) + 0.5
        out = np.empty((n * T, 3, self.size, self.size), dtype=np.float32)
        radius = _RADIUS * self.size
        for start in range(0, n * T, _CHUNK):
            rows = slice(start, min(start + _CHUNK, n * T))
            sequence = np.arange(rows.start, rows.stop) // T
            image = np.broadcast_to(backgrounds[sequence][:, :, None, None],
                                    (len(sequence), 3, self.size, self.size)).copy()
            for j in range(self.n_agents):
                dx = grid[None, None, :] - centres[rows, j, 0][:, None, None]
                dy = grid[None, :, None] - centres[rows, j, 1][:, None, None]
                coverage = np.clip(radius - _distance(SHAPES[j], dx, dy) + 0.5, 0.0, 1.0)[:, None]
                image += coverage * (agent_colours[sequence, j][:, :, None, None] - image)
            out[rows] = image
        return out.reshape(n, T, 3, self.size, self.size)


def _distance(shape, dx, dy):
    """A distance whose ball of radius r is the agent's sprite (pixels)."""
    if shape == "disc":
        return np.hypot(dx, dy)
    if shape == "square":
        return np.maximum(np.abs(dx), np.abs(dy)) * 1.15
    if shape == "diamond":
        return (np.abs(dx) + np.abs(dy)) * 0.8
    # a plus sign: short along one axis, long along the other
    return np.minimum(np.maximum(np.abs(dx) * 2.5, np.abs(dy)), np.maximum(np.abs(dx), np.abs(dy) * 2.5))
