"""Task-latent worlds: one step of Layer 2, where tasks read a few latents through a mixing.

A world draws independent latents ``s`` (standard normal, so a block of them says nothing
about the rest), mixes them into observations ``o = f(s) + noise`` by an invertible
network, and makes task ``k`` a nonlinear function of the latents in its *support*
``I_k`` only::

    s ~ N(0, I_n)        o = f(s) + obs_noise * e        u_k = h_k(s[I_k]) + task_noise * e_k

In the paper's words (section 5), ``I_k`` is the support of row ``k`` of the Jacobian
``J_u`` of the task map. Proposition 2 says a model that fits ``(o, u)`` without a
sparsity constraint has task supports at least this large; Theorem 2 says that with the
constraint they match, and the estimated latents of task ``k`` are an invertible function
of ``s[I_k]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..validation import (as_real_array, check_bool, check_choice, check_int, check_memory, check_probability,
                          check_real, check_seed)

__all__ = ["TaskLatentWorld", "LatentSample", "EXAMPLE_SUPPORTS", "example_world", "random_task_latent_worlds",
           "ACTIVATIONS"]

#: The supports of the book's example world: tasks share latent 4; latents 6 and 7 feed no task.
EXAMPLE_SUPPORTS = ((0, 1), (2, 3, 4), (4, 5))

_MIXINGS = ("mlp", "linear")
#: Activations of the ``"mlp"`` mixing: each is strictly increasing, so every layer stays injective.
ACTIVATIONS = ("leaky-relu", "tanh", "elu")
_TASK_MAPS = ("mlp", "linear")
_TASK_HIDDEN = 16       # hidden units of each task's random network
_TASK_INPUT_SCALE = 1.5  # sd of its input weights: large enough that tanh bends within the data
_PILOT_SAMPLES = 20_000  # draws used to standardise each task
#: Largest `obs_dim`: every mixing layer is a dense obs_dim x obs_dim map applied to the
#: 20,000 pilot draws (the pilot costs seconds at this size; see
#: ``benchmarks/results/docstring_figures.md``).
MAX_OBS_DIM = 1_000
#: Largest ``n_tasks * task_dim``: each task is a network of its own, run on the pilot draws
#: one after the other (seconds at this size; see ``benchmarks/results/docstring_figures.md``).
MAX_TASK_OUTPUTS = 256
#: Largest `mixing_layers` (each layer costs as much as the first; the book uses 3).
MAX_MIXING_LAYERS = 64


@dataclass(frozen=True)
class LatentSample:
    """Samples drawn from a :class:`TaskLatentWorld`.

    Attributes
    ----------
    latents : ndarray of shape (n, n_latents)
        The true latents ``s``.
    obs : ndarray of shape (n, obs_dim)
        Observations ``o = f(s) + noise``.
    tasks : ndarray of shape (n, n_tasks), or (n, n_tasks, task_dim) when ``task_dim > 1``
        Task variables; ``tasks[:, k]`` depends on ``latents[:, supports[k]]`` only.
    """

    latents: np.ndarray
    obs: np.ndarray
    tasks: np.ndarray


def _check_supports(supports, n_latents, n_tasks):
    if isinstance(supports, (str, bytes)) or not hasattr(supports, "__len__"):
        raise ValueError(f"supports must be a list of n_tasks lists of latent indices; got {supports!r}.")
    if len(supports) != n_tasks:
        raise ValueError(f"supports must have one entry per task (n_tasks = {n_tasks}); got {len(supports)}.")
    checked = []
    for k, support in enumerate(supports):
        indices = np.asarray(support)
        if indices.ndim != 1 or indices.size == 0:
            raise ValueError(
                f"supports[{k}] must be a non-empty list of latent indices (every task depends on at "
                f"least one latent); got {support!r}."
            )
        if not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"supports[{k}] must hold integer latent indices; got {support!r}.")
        if indices.min() < 0 or indices.max() >= n_latents:
            raise ValueError(
                f"supports[{k}] = {indices.tolist()} has indices outside 0..n_latents - 1 = 0..{n_latents - 1}."
            )
        if len(set(indices.tolist())) != indices.size:
            raise ValueError(f"supports[{k}] = {indices.tolist()} repeats an index.")
        checked.append(tuple(sorted(int(i) for i in indices)))
    return tuple(checked)


def _check_support_size(support_size, n_latents):
    """An int, or an inclusive (low, high) range, of latents per task: each in 1..n_latents."""
    if isinstance(support_size, (tuple, list)):
        if len(support_size) != 2:
            raise ValueError(f"support_size must be an int or a (low, high) pair; got {support_size!r}.")
        low, high = (check_int(v, f"support_size[{i}]", 1, n_latents) for i, v in enumerate(support_size))
        if low > high:
            raise ValueError(f"support_size = {tuple(support_size)} must have low <= high.")
        return (low, high)
    size = check_int(support_size, "support_size", 1)
    if size > n_latents:
        raise ValueError(f"support_size = {size} > n_latents = {n_latents}: a task cannot read more latents than "
                         "there are.")
    return size


def _orthogonal(rng, rows, columns):
    """A ``rows x columns`` matrix with orthonormal columns (``rows >= columns``)."""
    q, r = np.linalg.qr(rng.standard_normal((rows, columns)))
    return q * np.sign(np.diag(r))


class TaskLatentWorld:
    """Independent latents, an invertible mixing into observations, and tasks on latent supports.

    Parameters
    ----------
    n_latents : int, default=8
        Number of latents ``n``.
    n_tasks : int, default=3
        Number of tasks.
    supports : list of lists of int, optional
        ``supports[k]`` lists the (0-based) latents task ``k`` depends on. Drawn at random when
        omitted: each task reads `support_size` distinct latents.
    obs_dim : int, default=20
        Dimension of the observations; must be ``>= n_latents`` so the mixing is invertible.
    mixing : {"mlp", "linear"}, default="mlp"
        ``"mlp"``: `mixing_layers` layers, each an orthogonal linear map followed by the
        `activation` (the first maps ``n_latents`` to ``obs_dim`` with orthonormal columns),
        then a last orthogonal map. Every layer is injective, so ``f`` is. ``"linear"``: one
        map with orthonormal columns.
    task_map : {"mlp", "linear"}, default="mlp"
        For scalar tasks (``task_dim = 1``): ``"mlp"`` makes ``h_k`` a random
        one-hidden-layer tanh network of ``s[I_k]``; ``"linear"`` a random linear form, which
        is *not* sufficiently nonlinear (its gradient never changes direction; see
        :meth:`nonlinearity_check`). For vector tasks: ``"mlp"`` is an injective leaky-ReLU
        network like the mixing (two layers), ``"linear"`` a map with orthonormal columns.
    task_dim : int, default=1
        Outputs per task. ``1`` gives scalar tasks, ``tasks`` of shape (n, n_tasks). With
        ``task_dim`` at least every support size, each task is an *injective* function of
        its block, so the task signal carries the whole block (chapter 7 shows why scalar
        tasks do not pin blocks down); ``tasks`` then has shape (n, n_tasks, task_dim).
    obs_noise : float, default=0.05
        Standard deviation of the observation noise; every noiseless observed dimension has
        unit standard deviation (the mixing ends with a fixed per-dimension scaling).
    task_noise : float, default=0.1
        Standard deviation of each task's noise (tasks are standardised first).
    mixing_layers : int, default=3
        Leaky-ReLU layers of the ``"mlp"`` mixing.
    leaky_slope : float, default=0.2
        Negative slope of the leaky ReLUs, in (0, 1).
    support_size : int or (int, int), default=2
        Latents per task when `supports` is drawn at random: a number, or the inclusive range
        ``(low, high)`` each task's size is drawn from.
    activation : {"leaky-relu", "tanh", "elu"}, default="leaky-relu"
        Activation of the ``"mlp"`` mixing's layers (each strictly increasing, so injective).
    disjoint_supports : bool, default=False
        When `supports` is drawn at random: no two tasks share a latent (the sizes must then
        add up to at most `n_latents`). Otherwise supports are drawn independently and may overlap.
    seed : int, default=0
        Seed of everything random about the world (supports, weights), in [0, 2**32);
        sampling has its own seed.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range, naming it; for ``obs_dim`` above
        :data:`MAX_OBS_DIM` (1,000), ``n_tasks * task_dim`` above :data:`MAX_TASK_OUTPUTS`
        (256) or `mixing_layers` above :data:`MAX_MIXING_LAYERS` (64), which would take
        minutes to build.

    Attributes
    ----------
    supports : tuple of tuples of int
        The task supports ``I_k``.
    support_matrix : ndarray of shape (n_tasks, n_latents), bool
        ``support_matrix[k, j]`` is True when task ``k`` reads latent ``j``.
    """

    def __init__(self, n_latents=8, n_tasks=3, supports=None, obs_dim=20, mixing="mlp", *, task_map="mlp",
                 task_dim=1, obs_noise=0.05, task_noise=0.1, mixing_layers=3, leaky_slope=0.2, support_size=2,
                 activation="leaky-relu", disjoint_supports=False, seed=0):
        self.n_latents = check_int(n_latents, "n_latents", 1)
        self.n_tasks = check_int(n_tasks, "n_tasks", 1)
        self.obs_dim = check_int(obs_dim, "obs_dim", 1)
        check_choice(mixing, "mixing", _MIXINGS)
        check_choice(task_map, "task_map", _TASK_MAPS)
        if self.obs_dim < self.n_latents:
            raise ValueError(
                f"obs_dim = {self.obs_dim} < n_latents = {self.n_latents}: the mixing must be invertible, "
                f"so it needs obs_dim >= n_latents. Raise obs_dim or lower n_latents."
            )
        self.mixing = mixing
        self.task_dim = check_int(task_dim, "task_dim", 1)
        if self.obs_dim > MAX_OBS_DIM:
            raise ValueError(f"obs_dim = {self.obs_dim:,} is above the limit of {MAX_OBS_DIM:,}: every mixing layer "
                             "is a dense obs_dim x obs_dim map, and building the world would take minutes. Use a "
                             "smaller obs_dim (and n_latents).")
        if self.n_tasks * self.task_dim > MAX_TASK_OUTPUTS:
            raise ValueError(f"n_tasks * task_dim = {self.n_tasks * self.task_dim:,} task outputs is above the "
                             f"limit of {MAX_TASK_OUTPUTS}: each task is a network of its own, built and standardised "
                             "one after the other. Use fewer tasks or a smaller task_dim.")
        self.task_map = task_map
        self.obs_noise = check_real(obs_noise, "obs_noise", low=0)
        self.task_noise = check_real(task_noise, "task_noise", low=0)
        self.mixing_layers = check_int(mixing_layers, "mixing_layers", 1)
        if self.mixing_layers > MAX_MIXING_LAYERS:
            raise ValueError(f"mixing_layers = {self.mixing_layers:,} is above the limit of {MAX_MIXING_LAYERS}; "
                             "each layer is a dense map run on 20,000 pilot draws: use fewer layers.")
        self.leaky_slope = check_probability(leaky_slope, "leaky_slope")
        self.support_size = _check_support_size(support_size, self.n_latents)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.disjoint_supports = check_bool(disjoint_supports, "disjoint_supports")
        self.seed = check_seed(seed)
        rng = np.random.default_rng(self.seed)
        if supports is None:
            supports = self._draw_supports(rng)
        self.supports = _check_supports(supports, self.n_latents, self.n_tasks)
        self.support_matrix = np.zeros((self.n_tasks, self.n_latents), dtype=bool)
        for k, support in enumerate(self.supports):
            self.support_matrix[k, list(support)] = True
        self._mixing_weights = self._draw_mixing(rng)
        self._obs_scale = np.ones(self.obs_dim)
        self._obs_scale = self.mix(rng.standard_normal((_PILOT_SAMPLES, self.n_latents))).std(axis=0)
        if 1 < self.task_dim < max(map(len, self.supports)):
            raise ValueError(
                f"task_dim = {self.task_dim} is smaller than the largest support "
                f"({max(map(len, self.supports))} latents), so a vector task could not be injective in its "
                f"block; use task_dim = 1 (scalar tasks) or task_dim >= every support size."
            )
        self._task_weights = [self._draw_task(rng, len(support)) for support in self.supports]
        self._task_location, self._task_scale = self._standardisation(rng)

    # ------------------------------------------------------------------ construction
    def _draw_supports(self, rng):
        if isinstance(self.support_size, int):
            sizes = [self.support_size] * self.n_tasks
        else:
            sizes = [int(rng.integers(self.support_size[0], self.support_size[1] + 1)) for _ in range(self.n_tasks)]
        if not self.disjoint_supports:
            return _independent(rng, sizes, self.n_latents)
        if sum(sizes) > self.n_latents:
            raise ValueError(f"disjoint supports of sizes {sizes} need {sum(sizes)} latents, more than n_latents = "
                             f"{self.n_latents}: raise n_latents, draw smaller supports or allow overlaps.")
        return _disjoint(rng, sizes, self.n_latents)

    def _draw_mixing(self, rng):
        if self.mixing == "linear":
            return [_orthogonal(rng, self.obs_dim, self.n_latents)]
        weights = [_orthogonal(rng, self.obs_dim, self.n_latents)]
        weights += [_orthogonal(rng, self.obs_dim, self.obs_dim) for _ in range(self.mixing_layers)]
        return weights

    def _draw_task(self, rng, size):
        if self.task_dim > 1:
            first = _orthogonal(rng, self.task_dim, size)
            return {"layers": [first] if self.task_map == "linear" else
                    [first, _orthogonal(rng, self.task_dim, self.task_dim),
                     _orthogonal(rng, self.task_dim, self.task_dim)]}
        if self.task_map == "linear":
            return {"w": rng.choice((-1.0, 1.0), size) * rng.uniform(0.5, 1.5, size)}
        return {
            "w1": rng.normal(0.0, _TASK_INPUT_SCALE, (size, _TASK_HIDDEN)),
            "b1": rng.normal(0.0, 0.5, _TASK_HIDDEN),
            "w2": rng.normal(0.0, 1.0, _TASK_HIDDEN),
        }

    def _standardisation(self, rng):
        pilot = torch.as_tensor(rng.standard_normal((_PILOT_SAMPLES, self.n_latents)))
        raw = self._raw_tasks(pilot).numpy()
        return raw.mean(axis=0), raw.std(axis=0)

    # ------------------------------------------------------------------ the maps
    def mix(self, latents):
        """The noiseless mixing ``f``: latents (n, n_latents) to observations (n, obs_dim).

        Accepts a numpy array or a torch tensor (then differentiable, for Jacobians) and
        returns the same kind.
        """
        return self._apply(self._mix_tensor, latents)

    def task_function(self, latents):
        """The noiseless task map ``u = (h_1(s[I_1]), ..., h_K(s[I_K]))``, standardised.

        Accepts a numpy array or a torch tensor (then differentiable) of shape
        (n, n_latents) and returns the same kind, of shape (n, n_tasks) or
        (n, n_tasks, task_dim).
        """
        return self._apply(self._task_tensor, latents)

    def _apply(self, function, latents):
        if isinstance(latents, torch.Tensor):
            return function(latents)
        latents = as_real_array(latents, "latents")
        if latents.ndim != 2 or latents.shape[1] != self.n_latents:
            raise ValueError(f"latents must have shape (n, n_latents = {self.n_latents}); got {latents.shape}.")
        if not np.isfinite(latents).all():
            raise ValueError("latents contains NaN or inf; the maps are defined on finite latents only.")
        return function(torch.as_tensor(latents)).numpy()

    def _mix_tensor(self, s):
        h = s
        for i, weight in enumerate(self._mixing_weights):
            h = h @ torch.as_tensor(weight, dtype=s.dtype).T
            if i < len(self._mixing_weights) - 1:
                h = self._activate(h)
        return h / torch.as_tensor(self._obs_scale, dtype=s.dtype)

    def _activate(self, h):
        if self.activation == "tanh":
            return torch.tanh(h)
        if self.activation == "elu":
            return torch.nn.functional.elu(h)
        return torch.nn.functional.leaky_relu(h, self.leaky_slope)

    def _raw_tasks(self, s):
        columns = []
        for support, weights in zip(self.supports, self._task_weights):
            block = s[:, list(support)]
            if self.task_dim > 1:
                h = block
                for i, weight in enumerate(weights["layers"]):
                    h = h @ torch.as_tensor(weight, dtype=s.dtype).T
                    if i < len(weights["layers"]) - 1:
                        h = torch.nn.functional.leaky_relu(h, self.leaky_slope)
                columns.append(h)
            elif self.task_map == "linear":
                columns.append(block @ torch.as_tensor(weights["w"], dtype=s.dtype))
            else:
                hidden = torch.tanh(block @ torch.as_tensor(weights["w1"], dtype=s.dtype)
                                    + torch.as_tensor(weights["b1"], dtype=s.dtype))
                columns.append(hidden @ torch.as_tensor(weights["w2"], dtype=s.dtype))
        return torch.stack(columns, dim=1)  # (n, n_tasks) or (n, n_tasks, task_dim)

    def _task_tensor(self, s):
        location = torch.as_tensor(self._task_location, dtype=s.dtype)
        scale = torch.as_tensor(self._task_scale, dtype=s.dtype)
        return (self._raw_tasks(s) - location) / scale

    # ------------------------------------------------------------------ sampling and checks
    def sample(self, n=10_000, seed=0):
        """Draw `n` independent samples.

        Parameters
        ----------
        n : int, default=10_000
        seed : int, default=0

        Returns
        -------
        LatentSample
        """
        n = check_int(n, "n", 1)
        self._check_sample_memory(n, f"sample(n={n:,})")
        rng = np.random.default_rng(check_seed(seed))
        latents = rng.standard_normal((n, self.n_latents))
        obs = self.mix(latents) + self.obs_noise * rng.standard_normal((n, self.obs_dim))
        noiseless = self.task_function(latents)
        tasks = noiseless + self.task_noise * rng.standard_normal(noiseless.shape)
        return LatentSample(latents=latents, obs=obs, tasks=tasks)

    def _check_sample_memory(self, n, what):
        # latents, noise and a few intermediate copies of the observations and of every task's network
        per_sample = 2 * self.n_latents + 3 * self.obs_dim + self.n_tasks * (3 * self.task_dim + _TASK_HIDDEN)
        check_memory(n * per_sample * 8, f"{what} of a world with obs_dim={self.obs_dim} and "
                     f"{self.n_tasks} tasks", fix="draw fewer samples at a time")

    def nonlinearity_check(self, n=2_000, seed=0, rtol=1e-6):
        """How many directions the gradient of each task takes: the "sufficient nonlinearity" check.

        The support of a task can only be told apart from a rotated, smaller one if the
        gradient ``grad_s u_k(s)`` points in enough directions as ``s`` varies: if it spans
        only ``r < |I_k|`` dimensions, a model can read task ``k`` off ``r`` mixed latents.
        This stacks the gradients (of every output of a vector task) at `n` random latents
        and returns the numerical rank of that matrix restricted to the support columns
        (singular values above `rtol` times the largest).

        Returns
        -------
        list of dict
            Per task: ``task``, ``support_size``, ``gradient_rank``, ``sufficient``
            (rank equals support size) and ``singular_values`` (normalised to a maximum of 1).
        """
        n = check_int(n, "n", 1)
        rtol = check_real(rtol, "rtol", low=0, high=1, open_low=True, open_high=True)
        self._check_sample_memory(n, f"nonlinearity_check(n={n:,})")
        rng = np.random.default_rng(check_seed(seed))
        s = torch.as_tensor(rng.standard_normal((n, self.n_latents)), dtype=torch.float64)
        s.requires_grad_(True)
        u = self.task_function(s).reshape(len(s), self.n_tasks, self.task_dim)
        report = []
        for k, support in enumerate(self.supports):
            gradients = [torch.autograd.grad(u[:, k, a].sum(), s, retain_graph=True)[0][:, list(support)]
                         for a in range(self.task_dim)]
            values = np.linalg.svd(torch.cat(gradients).numpy(), compute_uv=False)
            values = values / values[0]
            rank = int((values > rtol).sum())
            report.append({"task": k, "support_size": len(support), "gradient_rank": rank,
                           "sufficient": rank == len(support), "singular_values": values})
        return report

    def __repr__(self):
        return (f"TaskLatentWorld(n_latents={self.n_latents}, n_tasks={self.n_tasks}, "
                f"supports={[list(s) for s in self.supports]}, obs_dim={self.obs_dim}, mixing={self.mixing!r}, "
                f"task_map={self.task_map!r}, task_dim={self.task_dim}, activation={self.activation!r}, "
                f"seed={self.seed})")


#: Most worlds one call of :func:`random_task_latent_worlds` draws.
MAX_FAMILY_WORLDS = 10_000


def random_task_latent_worlds(n_worlds, *, tasks="vector", seed=0):
    """Yield `n_worlds` task-latent worlds of varied shape: worlds the book did not tune on.

    Each world draws, from one generator seeded with `seed`: 4 to 8 latents; 1 to 3 tasks;
    each task's support size from 1 to 4 (at most ``n_latents - 1``, so that some latent may
    feed no task), the supports disjoint or drawn independently (and then possibly
    overlapping) with even odds; ``obs_dim`` from ``n_latents`` to ``3 n_latents``; an
    ``"mlp"`` mixing of 1 to 4 layers with an activation from :data:`ACTIVATIONS` (leaky
    slope 0.1 to 0.5); observation noise 0.01 to 0.1 and task noise 0.05 to 0.2. Tasks are
    ``"mlp"`` maps: vector tasks with ``task_dim`` at least every support size and at least 2
    (each task injective in its block, as Theorem 2 asks), or scalar ones.

    Parameters
    ----------
    n_worlds : int
        Number of worlds (0 to :data:`MAX_FAMILY_WORLDS`).
    tasks : {"vector", "scalar"}, default="vector"
        Vector tasks (injective in their blocks) or one number per task.
    seed : int, default=0
        The same seed gives the same worlds.

    Yields
    ------
    TaskLatentWorld

    Raises
    ------
    ValueError
        At the call (not at the first world) for a bad argument, naming it.
    """
    n_worlds = check_int(n_worlds, "n_worlds", 0, MAX_FAMILY_WORLDS)
    check_choice(tasks, "tasks", ("vector", "scalar"))
    return _random_task_latent_worlds(n_worlds, tasks, check_seed(seed))


def _random_task_latent_worlds(n_worlds, tasks, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n_worlds):
        n_latents = int(rng.integers(4, 9))
        n_tasks = int(rng.integers(1, 4))
        sizes = rng.integers(1, min(4, n_latents - 1) + 1, size=n_tasks)
        disjoint = bool(rng.random() < 0.5) and sizes.sum() <= n_latents
        supports = (_disjoint if disjoint else _independent)(rng, sizes, n_latents)
        yield TaskLatentWorld(
            n_latents=n_latents, n_tasks=n_tasks, supports=supports,
            obs_dim=int(rng.integers(n_latents, 3 * n_latents + 1)), mixing="mlp",
            mixing_layers=int(rng.integers(1, 5)), activation=str(rng.choice(ACTIVATIONS)),
            leaky_slope=float(rng.uniform(0.1, 0.5)), obs_noise=float(rng.uniform(0.01, 0.1)),
            task_noise=float(rng.uniform(0.05, 0.2)),
            task_dim=1 if tasks == "scalar" else max(2, int(sizes.max()) + int(rng.integers(0, 2))),
            seed=int(rng.integers(2**32)),
        )


def _independent(rng, sizes, n_latents):
    """Supports of the given sizes, each drawn on its own (so they may overlap)."""
    return [sorted(rng.choice(n_latents, int(size), replace=False)) for size in sizes]


def _disjoint(rng, sizes, n_latents):
    order, ends = rng.permutation(n_latents), np.cumsum(sizes)
    return [sorted(int(i) for i in order[end - size:end]) for size, end in zip(sizes, ends)]


def example_world(seed=0, **overrides):
    """The world of chapters 6 and 7 (our choice; the paper does not describe its generator).

    Eight latents, three tasks with supports ``[0, 1], [2, 3, 4], [4, 5]`` (task 1 and 2
    share latent 4; latents 6 and 7 feed no task), 20 observed dimensions, a three-layer
    leaky-ReLU mixing with slope 0.5, and vector tasks (``task_dim = 3``) injective in
    their blocks. Any :class:`TaskLatentWorld` argument can be overridden.
    """
    options = {"n_latents": 8, "n_tasks": 3, "supports": EXAMPLE_SUPPORTS, "obs_dim": 20, "mixing": "mlp",
               "task_dim": 3, "leaky_slope": 0.5, **overrides}
    return TaskLatentWorld(seed=seed, **options)
