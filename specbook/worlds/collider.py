"""Collider worlds: the paper's generative process across time (Layer 1).

A world has latent states ``s_t``, actions ``a_t`` and task variables ``g_i``.
Steps ``t = 1..T`` are cut into ``N = T / L`` segments of ``L`` steps; a segment
serves a set of tasks, and every action of a serving segment is a parent of the
task variable (tasks are *colliders* across time). The transition into step
``t + 1`` is cut when that step is *disconnected*.

Names follow the paper and are 1-based (``"s1"`` ... ``"sT"``, ``"g1"`` ... ``"gM"``);
arrays are 0-based (``data.states[:, t - 1]`` holds ``s_t``).
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..stats import partial_correlation
from ..validation import check_choice, check_int, check_memory, check_real, check_seed, check_selected

__all__ = ["ColliderWorld", "SelectedSample", "WorldSample", "task_outcomes"]

_MECHANISMS = ("linear", "nonlinear")
_TASK_ROLES = ("collider", "confounder", "mediator")
_HIDDEN = 8          # hidden units of each random edge function in nonlinear worlds
_PILOT_SAMPLES = 20_000  # draws used to standardise nonlinear worlds
#: Most variables (coordinates of states, actions and tasks, ``2 T state_dim + M``) a world may
#: have: building the model costs about their number cubed (seconds at this limit; see
#: ``benchmarks/results/docstring_figures.md``).
MAX_COLUMNS = 4_096


@dataclass(frozen=True)
class WorldSample:
    """Samples drawn from a :class:`ColliderWorld`.

    Attributes
    ----------
    states : ndarray of shape (n, T, d)
        Latent states; ``states[:, t - 1]`` is ``s_t``.
    actions : ndarray of shape (n, T, d)
        Actions; ``actions[:, t - 1]`` is ``a_t``.
    tasks : ndarray of shape (n, M)
        Task variables; ``tasks[:, i - 1]`` is ``g_i``.
    """

    states: np.ndarray
    actions: np.ndarray
    tasks: np.ndarray


@dataclass(frozen=True)
class SelectedSample:
    """Samples of a :class:`ColliderWorld` kept by a selection on tasks (see :meth:`ColliderWorld.sample_selected`).

    The task values are not recorded: all that is known of a selected task is that every
    kept sequence achieved it.

    Attributes
    ----------
    states : ndarray of shape (n, T, d)
    actions : ndarray of shape (n, T, d)
    selected : tuple of int
        1-based tasks the sequences were selected on.
    threshold : float
        A sequence achieved task ``g_i`` when ``g_i > threshold`` (tasks have unit variance).
    acceptance : float
        Share of the drawn sequences that the selection kept.
    """

    states: np.ndarray
    actions: np.ndarray
    selected: tuple
    threshold: float
    acceptance: float


def task_outcomes(tasks, threshold=0.0):
    """Tasks recorded as outcomes: 1.0 where task ``g_i`` was achieved (``g_i > threshold``), else 0.0.

    Parameters
    ----------
    tasks : array-like of shape (n, M)
        Task values, e.g. ``WorldSample.tasks`` (unit variance).
    threshold : float or sequence of float, default=0.0
        One threshold for every task, or one per task.

    Returns
    -------
    ndarray of shape (n, M), float
        Success (1) or failure (0), ready for :func:`~specbook.discover_tasks`.

    Raises
    ------
    ValueError
        For tasks that are not a finite (n, M) array, a threshold of the wrong length or not
        finite, and a threshold that makes an outcome constant (every sample a success, or
        every one a failure), naming the task.
    """
    tasks = np.asarray(tasks, dtype=float)
    if tasks.ndim != 2 or tasks.size == 0 or not np.isfinite(tasks).all():
        raise ValueError(f"tasks must be a finite (n, M) array of task values; got shape {tasks.shape}.")
    M = tasks.shape[1]
    if np.ndim(threshold) == 0:
        thresholds = np.full(M, check_real(threshold, "threshold"))
    else:
        if len(threshold) != M:
            raise ValueError(f"threshold must be one number or one per task (M = {M}); got {len(threshold)} values.")
        thresholds = np.array([check_real(t, f"threshold[{i}]") for i, t in enumerate(threshold)])
    outcomes = (tasks > thresholds).astype(float)
    share = outcomes.mean(axis=0)
    constant = np.flatnonzero((share == 0) | (share == 1))
    if constant.size:
        i = int(constant[0])
        kind = "a success" if share[i] == 1 else "a failure"
        raise ValueError(f"threshold {thresholds[i]:g} makes task {i + 1}'s outcome constant (every sample {kind}), "
                         "which carries no information: choose a threshold inside the task's range "
                         f"[{tasks[:, i].min():.3g}, {tasks[:, i].max():.3g}].")
    return outcomes


def _check_assignment(assignment, N, M):
    A = np.asarray(assignment)
    if A.shape != (N, M):
        raise ValueError(
            f"assignment must have shape (N, M) = ({N}, {M}) (one row per segment, one column "
            f"per task); got shape {A.shape}."
        )
    if A.dtype != bool:
        if not np.issubdtype(A.dtype, np.integer) or not np.isin(A, (0, 1)).all():
            raise ValueError("assignment must be boolean (or integers 0/1): True where segment k serves task i.")
        A = A.astype(bool)
    return A.copy()


def _check_disconnected(disconnected, T):
    # A string or a scalar is not a list of steps ("35" would read as steps 3 and 5).
    if isinstance(disconnected, (str, bytes, numbers.Number)) or not hasattr(disconnected, "__iter__") \
            or np.ndim(disconnected) > 1 or (isinstance(disconnected, np.ndarray) and disconnected.ndim == 0):
        raise ValueError(f"disconnected must be a list of 1-based integer steps in 2..T = 2..{T} (e.g. [3, 5]); "
                         f"got {disconnected!r}.")
    listed = list(disconnected)
    odd = [t for t in listed if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral)]
    if odd:
        raise ValueError(f"disconnected must list integer steps in 2..T = 2..{T}; got {odd[0]!r} in {listed!r}.")
    steps = sorted({int(t) for t in listed})
    bad = [t for t in steps if not 2 <= t <= T]
    if bad:
        raise ValueError(
            f"disconnected lists 1-based steps whose incoming transition is cut, so each must be in "
            f"2..T = 2..{T}; got {bad}."
        )
    return tuple(steps)


def check_world_size(T, state_dim, M):
    """Refuse a world of more than :data:`MAX_COLUMNS` variables (checked integers in, nothing out)."""
    columns = 2 * T * state_dim + M
    if columns > MAX_COLUMNS:
        raise ValueError(
            f"a world with T={T}, state_dim={state_dim} and M={M} has 2 T state_dim + M = {columns:,} variables, "
            f"above the limit of {MAX_COLUMNS:,}: building its model costs about that number cubed. Use a shorter "
            "horizon, fewer tasks or a smaller state_dim."
        )


def _check_weight_range(weight_range):
    message = f"weight_range must be a pair (low, high) of finite numbers with 0 < low <= high; got {weight_range!r}."
    if isinstance(weight_range, (str, bytes)) or not hasattr(weight_range, "__len__") or len(weight_range) != 2:
        raise ValueError(message)
    low, high = weight_range
    for w in (low, high):
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, numbers.Real) or not np.isfinite(w):
            raise ValueError(message)
    if not 0 < low <= high:
        raise ValueError(message)
    return float(low), float(high)


class ColliderWorld:
    """A random (or given) collider world with a linear-Gaussian structural causal model.

    Parameters
    ----------
    T : int
        Number of time steps (>= 2).
    M : int
        Number of task variables (>= 1).
    L : int, default=2
        Segment length; ``T`` must be a multiple of ``L``. Theorem 1 needs ``L >= 2``;
        ``L = 1`` is allowed here so that the book can show what goes wrong.
    state_dim : int, default=1
        Dimension ``d`` of each state and each action.
    p_disconnect : float, default=0.2
        Probability that a step ``t >= 2`` is disconnected from its predecessor.
        Ignored when `disconnected` is given.
    mechanism : {"linear", "nonlinear"}, default="linear"
        ``"linear"``: linear-Gaussian structural equations (the paper's synthetic setting).
        ``"nonlinear"``: each variable is a sum of random one-hidden-layer tanh networks of
        its parents (one per parent, monotone in each input) plus uniform (non-Gaussian)
        noise.
    assignment : array-like of shape (N, M), optional
        Which segment serves which task. Drawn at random when omitted (see Notes).
    disconnected : iterable of int, optional
        1-based steps ``t`` (in ``2..T``) whose incoming transition is cut:
        ``s_t`` is then pure noise.
    task_density : float, default=0.1
        For a random assignment: probability that a segment serves a task, beyond the
        `min_segments_per_task` segments every task is guaranteed.
    min_segments_per_task : int, default=2
        For a random assignment: segments every task is guaranteed (all of them when the
        world has fewer). 2, the default, is what the paper's pair test needs to see a task;
        1 lets a task be served by a single segment, which only the local query finds.
    task_noise : float, default=1.0
        Standard deviation of the task variables' own noise before standardisation.
        The larger it is, the weaker the dependence that conditioning on a task induces.
    action_noise : float, default=0.5
        Standard deviation of the actions' own noise before standardisation (how far the
        policy is from deterministic). The larger it is, the less a state says about the
        action that feeds the task, and the weaker the signal Theorem 1 detects.
    weight_range : (float, float), default=(0.5, 1.5)
        Edge weights are drawn uniformly from this range of magnitudes, with random signs.
    coordinate_groups : sequence of int of length `state_dim`, optional
        A group label per state/action coordinate (for example the agent a coordinate
        belongs to). When given, the state and action coordinates of different groups do
        not interact (transitions and policies are block-diagonal), and each task reads
        only the action coordinates of one group. Linear mechanism only.
    task_groups : sequence of int of length `M`, optional
        The group whose actions feed each task; drawn at random (uniformly among the
        groups) when `coordinate_groups` is given and this is not.
    task_role : {"collider", "confounder", "mediator"}, default="collider"
        How tasks attach to the actions that serve them. ``"collider"`` is the paper's model
        (``a_t -> g_i``). The others exist to show why it is the right one:
        ``"confounder"`` reverses every task edge (``g_i -> a_t``), ``"mediator"`` makes the
        task a relay from the first serving segment's actions to the later ones'.
    seed : int, default=0
        Seed of the world (assignment, disconnections, weights), in [0, 2**32). Sampling has
        its own seed.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range, naming it; and for a world of
        more than :data:`MAX_COLUMNS` (4,096) variables ``2 T state_dim + M``, whose model
        would take minutes to build (its cost grows like the cube of that number).

    Attributes
    ----------
    N : int
        Number of segments, ``T // L``.
    assignment : ndarray of shape (N, M), bool
        ``assignment[k - 1, i - 1]`` is True when segment ``S_k`` serves task ``g_i``.
    disconnected : tuple of int
        Sorted 1-based steps whose incoming transition is cut.
    graph : networkx.DiGraph
        The causal DAG over ``"s1".."sT"``, ``"a1".."aT"`` and ``"g1".."gM"``.
    coordinate_groups : ndarray of shape (state_dim,) or None
    task_groups : ndarray of shape (M,) or None
        ``task_groups[i - 1]`` is the group whose actions feed ``g_i``.

    Notes
    -----
    The paper does not publish its data-generating details. Our choices (a
    reproduction note in the book): each variable is a linear function of its
    parents plus independent Gaussian noise, then rescaled so that every
    coordinate has unit population variance (so long horizons neither explode
    nor vanish). Nonlinear worlds are centred and scaled the same way, with the
    mean and variance estimated once from a pilot sample of 20,000 draws made
    with the world's seed. A random assignment gives every task `min_segments_per_task` (two)
    distinct random segments and each further segment with probability `task_density`,
    because the paper's Algorithm 1 can only see a task through a pair of segments.

    Examples
    --------
    >>> world = ColliderWorld(T=8, M=2, L=2, seed=0)
    >>> data = world.sample(n=100, seed=1)
    >>> data.states.shape, data.tasks.shape
    ((100, 8, 1), (100, 2))
    """

    def __init__(self, T, M, L=2, *, state_dim=1, p_disconnect=0.2, mechanism="linear",
                 assignment=None, disconnected=None, task_density=0.1, task_noise=1.0, action_noise=0.5,
                 weight_range=(0.5, 1.5), coordinate_groups=None, task_groups=None, task_role="collider",
                 min_segments_per_task=2, seed=0):
        self.T = check_int(T, "T", 2)
        self.M = check_int(M, "M", 1)
        self.L = check_int(L, "L", 1)
        if self.T % self.L:
            raise ValueError(
                f"T must be a multiple of L so that the steps split into equal segments; "
                f"got T={T}, L={L} (T % L = {self.T % self.L})."
            )
        self.N = self.T // self.L
        self.state_dim = check_int(state_dim, "state_dim", 1)
        check_world_size(self.T, self.state_dim, self.M)
        self.mechanism = check_choice(mechanism, "mechanism", _MECHANISMS)
        self.task_role = check_choice(task_role, "task_role", _TASK_ROLES)
        self.p_disconnect = check_real(p_disconnect, "p_disconnect", low=0, high=1)
        self.task_density = check_real(task_density, "task_density", low=0, high=1)
        self.task_noise = check_real(task_noise, "task_noise", low=0, open_low=True)
        self.action_noise = check_real(action_noise, "action_noise", low=0, open_low=True)
        self.weight_range = _check_weight_range(weight_range)
        self.min_segments_per_task = check_int(min_segments_per_task, "min_segments_per_task", 1)
        self.seed = check_seed(seed)

        rng = np.random.default_rng(self.seed)
        if assignment is None:
            self.assignment = self._random_assignment(rng)
        else:
            self.assignment = _check_assignment(assignment, self.N, self.M)
        if disconnected is None:
            cut = 2 + np.flatnonzero(rng.random(self.T - 1) < self.p_disconnect)
            self.disconnected = tuple(int(t) for t in cut)
        else:
            self.disconnected = _check_disconnected(disconnected, self.T)
        self.coordinate_groups, self.task_groups = self._check_groups(coordinate_groups, task_groups, rng)
        self.graph = self._build_graph()
        self._columns, self._n_columns = self._node_columns()
        # The structural equations are drawn when first needed (sample, covariance, structural_weights),
        # from the seed's generator as it stands here, so they are the same whenever that is; a world
        # asked only for its graph (the oracle's verifications build thousands) never draws them.
        self._equations_rng = rng

    def _draw_equations(self):
        """Draw the structural equations, once."""
        rng = self.__dict__.pop("_equations_rng", None)
        if rng is None:
            return
        if self.mechanism == "linear":
            self._build_linear_scm(rng, self._n_columns)
        else:
            self._build_nonlinear_scm(rng)

    def __repr__(self):
        return (f"ColliderWorld(T={self.T}, M={self.M}, L={self.L}, state_dim={self.state_dim}, "
                f"mechanism={self.mechanism!r}, disconnected={list(self.disconnected)}, seed={self.seed!r})")

    # ------------------------------------------------------------------ structure
    def _check_groups(self, coordinate_groups, task_groups, rng):
        if coordinate_groups is None:
            if task_groups is not None:
                raise ValueError("task_groups needs coordinate_groups (a group label per state coordinate).")
            return None, None
        if self.mechanism != "linear":
            raise ValueError("coordinate_groups is implemented for mechanism='linear' only.")
        groups = np.asarray(coordinate_groups)
        if groups.shape != (self.state_dim,) or not np.issubdtype(groups.dtype, np.integer):
            raise ValueError(f"coordinate_groups must be {self.state_dim} integer labels (one per state "
                             f"coordinate, state_dim={self.state_dim}); got {coordinate_groups!r}.")
        labels = np.unique(groups)
        if task_groups is None:
            chosen = rng.choice(labels, size=self.M)
        else:
            chosen = np.asarray(task_groups)
            if chosen.shape != (self.M,) or not np.isin(chosen, labels).all():
                raise ValueError(f"task_groups must give each of the M={self.M} tasks one of the groups "
                                 f"{labels.tolist()}; got {task_groups!r}.")
        return groups.copy(), chosen.astype(groups.dtype)

    def _edge_mask(self, child, parent):
        """Which coordinates of `parent` may act on which of `child` (all, without groups)."""
        groups = self.coordinate_groups
        if child[0] == "g" or parent[0] == "g":
            task, other = (child, parent) if child[0] == "g" else (parent, child)
            reads = (groups == self.task_groups[int(task[1:]) - 1]).astype(float)
            return reads[None, :] if child == task else reads[:, None]
        return (groups[:, None] == groups[None, :]).astype(float)

    def _random_assignment(self, rng):
        A = rng.random((self.N, self.M)) < self.task_density
        if self.N >= self.min_segments_per_task:
            for i in range(self.M):
                A[rng.choice(self.N, size=self.min_segments_per_task, replace=False), i] = True
        else:
            A[:] = True
        return A

    def segment_of(self, t):
        """1-based segment ``k`` holding the 1-based step `t`."""
        t = check_int(t, "t", 1, self.T)
        return (t - 1) // self.L + 1

    def segment_steps(self, k):
        """1-based steps of segment ``S_k``: ``(k - 1) L + 1, ..., k L``."""
        k = check_int(k, "k", 1, self.N)
        return list(range((k - 1) * self.L + 1, k * self.L + 1))

    @property
    def step_tasks(self):
        """(T, M) bool: the tasks each step serves (its segment's row of `assignment`)."""
        return np.repeat(self.assignment, self.L, axis=0)

    def _build_graph(self):
        G = nx.DiGraph()
        for t in range(1, self.T + 1):
            k = self.segment_of(t)
            G.add_node(f"s{t}", kind="state", step=t, segment=k)
            G.add_node(f"a{t}", kind="action", step=t, segment=k)
        for i in range(1, self.M + 1):
            G.add_node(f"g{i}", kind="task", task=i)
        cut = set(self.disconnected)
        for t in range(1, self.T + 1):
            G.add_edge(f"s{t}", f"a{t}")
            if t < self.T and (t + 1) not in cut:
                G.add_edge(f"s{t}", f"s{t + 1}")
                G.add_edge(f"a{t}", f"s{t + 1}")
        for i in range(1, self.M + 1):
            serving = [f"a{t}" for t in np.flatnonzero(self.step_tasks[:, i - 1]) + 1]
            task = f"g{i}"
            if self.task_role == "collider":
                G.add_edges_from((a, task) for a in serving)
            elif self.task_role == "confounder":
                G.add_edges_from((task, a) for a in serving)
            else:  # mediator: the first serving segment's actions -> task -> the later ones'
                first = self.segment_of(int(serving[0][1:])) if serving else None
                for a in serving:
                    edge = (a, task) if self.segment_of(int(a[1:])) == first else (task, a)
                    G.add_edge(*edge)
        return G

    def _topological_nodes(self):
        """Nodes in a topological order, ties broken by column (the step order for colliders)."""
        return list(nx.lexicographical_topological_sort(self.graph, key=lambda v: self._columns[v].start))

    # ------------------------------------------------------------------ the SCM
    def _node_columns(self):
        """Column slices of each node in the flat vector, in topological order."""
        d, columns, start = self.state_dim, {}, 0
        for t in range(1, self.T + 1):
            for kind in "sa":
                columns[f"{kind}{t}"] = slice(start, start + d)
                start += d
        for i in range(1, self.M + 1):
            columns[f"g{i}"] = slice(start, start + 1)
            start += 1
        return columns, start

    def _own_noise(self, node):
        """Standard deviation of a node's own noise before standardisation."""
        return {"g": self.task_noise, "a": self.action_noise}.get(node[0], 1.0)

    def _random_weights(self, rng, shape):
        low, high = self.weight_range
        return rng.uniform(low, high, shape) * rng.choice((-1.0, 1.0), shape)

    def _parents(self, child):
        return sorted(self.graph.predecessors(child), key=lambda v: self._columns[v].start)

    def _build_linear_scm(self, rng, D):
        columns = self._columns
        weights = np.zeros((D, D))
        noise_std = np.ones(D)
        for child in columns:
            rows = columns[child]
            for parent in self._parents(child):
                cols = columns[parent]
                weights[rows, cols] = self._random_weights(rng, (rows.stop - rows.start, cols.stop - cols.start))
                if self.coordinate_groups is not None:
                    weights[rows, cols] *= self._edge_mask(child, parent)
            noise_std[rows] = self._own_noise(child)
        # mixing[j] expresses coordinate j in the independent standard-normal noises;
        # each row is rescaled to unit variance as soon as it is built.
        mixing = np.zeros((D, D))
        for node in self._topological_nodes():
            for j in range(columns[node].start, columns[node].stop):
                mixing[j] = weights[j] @ mixing  # parents' rows are final, the others still zero
                mixing[j, j] = noise_std[j]
                scale = np.sqrt(mixing[j] @ mixing[j])
                mixing[j] /= scale
                weights[j] /= scale
                noise_std[j] /= scale
        self._weights = weights
        self._noise_std = noise_std
        self._mixing = mixing

    def _build_nonlinear_scm(self, rng):
        self._edge_functions = {}
        for child in self._topological_nodes():
            rows = self._columns[child]
            d_out = rows.stop - rows.start
            functions = []
            for parent in self._parents(child):
                d_in = self._columns[parent].stop - self._columns[parent].start
                # Monotone in every input: one sign per input coordinate and per output, so that
                # the dependence a collider induces is not cancelled by a non-monotone bump.
                input_signs = rng.choice((-1.0, 1.0), (d_in, 1))
                output_signs = rng.choice((-1.0, 1.0), (1, d_out))
                hidden_weights = input_signs * np.abs(rng.normal(0.0, 1.5, (d_in, _HIDDEN)))
                hidden_bias = rng.normal(0.0, 0.5, _HIDDEN)
                low, high = self.weight_range
                out_weights = output_signs * rng.uniform(low, high, (_HIDDEN, d_out)) / np.sqrt(_HIDDEN)
                functions.append((parent, hidden_weights, hidden_bias, out_weights))
            self._edge_functions[child] = functions
        self._nonlinear_noise_std = {v: self._own_noise(v) for v in self._columns}
        self._offset, self._scale = {}, {}
        self._sample_nonlinear(_PILOT_SAMPLES, rng, standardise_from_this_sample=True)

    def _sample_nonlinear(self, n, rng, standardise_from_this_sample=False):
        values = {}
        for child, functions in self._edge_functions.items():
            d_out = self._columns[child].stop - self._columns[child].start
            # uniform noise with unit variance: non-Gaussian on purpose
            raw = rng.uniform(-np.sqrt(3), np.sqrt(3), (n, d_out)) * self._nonlinear_noise_std[child]
            for parent, hidden_weights, hidden_bias, out_weights in functions:
                raw = raw + np.tanh(values[parent] @ hidden_weights + hidden_bias) @ out_weights
            if standardise_from_this_sample:
                self._offset[child], self._scale[child] = raw.mean(axis=0), raw.std(axis=0)
            values[child] = (raw - self._offset[child]) / self._scale[child]
        return np.concatenate([values[v] for v in self._columns], axis=1)

    def _require_linear(self, what):
        if self.mechanism != "linear":
            raise ValueError(
                f"{what} is exact only for mechanism='linear'; this world is {self.mechanism!r}. "
                "Estimate it from a large sample instead."
            )

    def structural_weights(self, child, parent):
        """Weight matrix of the edge ``parent -> child`` in the standardised SCM.

        Returns an array of shape (dim(child), dim(parent)); zeros where there is no edge.
        """
        self._require_linear("structural_weights")
        self._draw_equations()
        for node in (child, parent):
            if not isinstance(node, str) or node not in self._columns:
                raise ValueError(f"unknown node {node!r}; nodes are named like 's3', 'a3', 'g1'.")
        return self._weights[self._columns[child], self._columns[parent]].copy()

    def covariance(self, nodes=None):
        """Population covariance of the listed nodes' coordinates.

        Parameters
        ----------
        nodes : list of str, optional
            Node names (e.g. ``["s4", "s8", "g1"]``); all nodes in topological order by default.

        Returns
        -------
        ndarray of shape (D, D)
            Coordinates stacked in the order of `nodes`, each node taking ``state_dim``
            columns (one for a task).
        """
        self._require_linear("covariance")
        if nodes is not None and (isinstance(nodes, str) or not isinstance(nodes, Iterable)):
            raise ValueError(f"nodes must be a list of node names such as ['s3', 'g1']; got {nodes!r}.")
        nodes = list(self._columns) if nodes is None else list(nodes)
        if not nodes:
            raise ValueError("nodes is empty; list at least one node, such as ['s3', 'g1'].")
        unknown = [v for v in nodes if not isinstance(v, str) or v not in self._columns]
        if unknown:
            raise ValueError(f"unknown nodes {unknown}; nodes are named like 's3', 'a3', 'g1'.")
        idx = np.concatenate([np.arange(self._columns[v].start, self._columns[v].stop) for v in nodes])
        self._draw_equations()
        rows = self._mixing[idx]
        return rows @ rows.T

    def partial_correlation(self, x, y, given=()):
        """Population partial correlation of two scalar nodes given others.

        Parameters
        ----------
        x, y : str
            Node names (e.g. ``"a4"``, ``"a8"``); the world must have ``state_dim=1``
            unless both are tasks.
        given : iterable of str, default=()
            Conditioning nodes.

        Returns
        -------
        float
            Exactly zero (up to rounding) when `x` and `y` are d-separated given `given`.
        """
        if isinstance(given, str) or not isinstance(given, Iterable):
            raise ValueError(f"given must be a list of node names such as ['s3']; got {given!r}.")
        given = list(given)
        nodes = [x, y, *given]
        cov = self.covariance(nodes)
        if cov.shape[0] != len(nodes):
            raise ValueError(
                f"partial_correlation needs scalar nodes, but state_dim={self.state_dim}; "
                "use covariance(nodes) and a multivariate measure instead."
            )
        return partial_correlation(cov, 0, 1, range(2, len(nodes)))

    def check_selected(self, selected):
        """`selected` (a 1-based task or a sequence of them) as a sorted tuple of distinct tasks in 1..M."""
        return check_selected(selected, self.M)

    def selection_graph(self, selected):
        """:attr:`graph` with a selection node ``"S<i>"``, a child of ``g_i``, for each selected task.

        Keeping only the sequences that achieved ``g_i`` conditions on ``S<i>``.
        """
        selected = self.check_selected(selected)
        graph = self.graph.copy()
        for i in selected:
            graph.add_node(f"S{i}", kind="selection", task=i)
            graph.add_edge(f"g{i}", f"S{i}")
        return graph

    def sample_selected(self, n, selected, *, threshold=0.0, seed=0, max_draws=None):
        """Draw `n` sequences as a selection on tasks sees them: only the achieved ones, tasks unrecorded.

        Sequences are drawn as by :meth:`sample` and kept when every selected task was
        achieved (``g_i > threshold``; tasks have unit variance, so 0 keeps about half per
        task), as when only the demonstrations that achieved a task are recorded. The task
        values are not returned: Algorithm 1 must find the selected tasks' segments without
        them (``discover_tasks(states, None, ...)``).

        Parameters
        ----------
        n : int
            Sequences to keep (>= 1).
        selected : int or sequence of int
            1-based tasks selected on.
        threshold : float, default=0.0
        seed : int, default=0
        max_draws : int, optional
            Most sequences drawn before giving up; default ``1000 n``.

        Returns
        -------
        SelectedSample

        Raises
        ------
        ValueError
            For a bad argument, naming it, and when `max_draws` draws keep fewer than `n`
            sequences (the selection is too strict: lower `threshold` or select fewer tasks).
        """
        n = check_int(n, "n", 1)
        selected = self.check_selected(selected)
        threshold = check_real(threshold, "threshold")
        seed = check_seed(seed)
        max_draws = 1000 * n if max_draws is None else check_int(max_draws, "max_draws", n)
        rng = np.random.default_rng(seed)
        columns = [i - 1 for i in selected]
        states, actions, kept, drawn = [], [], 0, 0
        while kept < n:
            if drawn >= max_draws:
                raise ValueError(f"the selection on tasks {list(selected)} with threshold {threshold} kept {kept:,} of "
                                 f"{drawn:,} draws (max_draws), fewer than n = {n:,}: lower threshold, select fewer "
                                 "tasks or raise max_draws.")
            size = min(max(2 * (n - kept), 1_000), max_draws - drawn)
            draw = self.sample(size, seed=int(rng.integers(2**32)))
            keep = (draw.tasks[:, columns] > threshold).all(axis=1)
            states.append(draw.states[keep])
            actions.append(draw.actions[keep])
            kept, drawn = kept + int(keep.sum()), drawn + size
        return SelectedSample(states=np.concatenate(states)[:n], actions=np.concatenate(actions)[:n],
                              selected=selected, threshold=threshold, acceptance=kept / drawn)

    def sample(self, n, seed=0):
        """Draw `n` independent sequences.

        Parameters
        ----------
        n : int
            Number of sequences (>= 1).
        seed : int, default=0
            Seed of the sampling noise; the same seed gives the same arrays.

        Returns
        -------
        WorldSample

        Raises
        ------
        ValueError
            For a bad `n` or `seed`, or when the samples would need more memory than
            :func:`~specbook.validation.check_memory` allows (8 GiB by default).
        """
        n = check_int(n, "n", 1)
        seed = check_seed(seed)
        D = 2 * self.T * self.state_dim + self.M
        # Two (n, D) float arrays live at once (three while a nonlinear world stacks its nodes).
        copies = 2 if self.mechanism == "linear" else 3
        check_memory(copies * n * D * 8, f"sample(n={n:,}) of a world with {D:,} variables",
                     fix="draw fewer sequences at a time")
        rng = np.random.default_rng(seed)
        self._draw_equations()
        if self.mechanism == "linear":
            flat = rng.standard_normal((n, self._mixing.shape[0])) @ self._mixing.T
        else:
            flat = self._sample_nonlinear(n, rng)
        d = self.state_dim
        per_step = flat[:, : 2 * self.T * d].reshape(n, self.T, 2, d)
        return WorldSample(
            states=np.ascontiguousarray(per_step[:, :, 0, :]),
            actions=np.ascontiguousarray(per_step[:, :, 1, :]),
            tasks=np.ascontiguousarray(flat[:, 2 * self.T * d:]),
        )
