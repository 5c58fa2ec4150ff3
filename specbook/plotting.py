"""Figures shared by the chapters."""
from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.patches import Patch

from .validation import as_real_array, check_bool, check_int, check_real

#: Most panels (images or frames) one figure draws: beyond it matplotlib takes minutes and the
#: images become too small to read.
MAX_PANELS = 400

__all__ = ["draw_world", "draw_paths", "draw_latent_pairs", "task_colors", "show_images", "show_video"]

#: Colour of the open paths in :func:`draw_paths`, and of the blocking nodes' outline.
OPEN_COLOR, BLOCKING_COLOR = "tab:green", "tab:red"


def task_colors(M):
    """One distinct colour per task (seaborn's colour-blind palette, cycled); `M` from 0 to :data:`MAX_PANELS`."""
    import seaborn as sns

    M = check_int(M, "M", 0)
    if M > MAX_PANELS:
        raise ValueError(f"M must be at most {MAX_PANELS} (the palette has 10 colours, cycled); got {M}.")

    return sns.color_palette("colorblind", n_colors=max(M, 1))[:M]


def _layout(world):
    pos = {}
    for t in range(1, world.T + 1):
        pos[f"s{t}"] = (t, 0.0)
        pos[f"a{t}"] = (t, 1.0)
    xs = np.linspace(1, world.T, world.M + 2)[1:-1] if world.M > 1 else [(world.T + 1) / 2]
    for i, x in enumerate(xs, start=1):
        pos[f"g{i}"] = (float(x), 2.6)
    return pos


def draw_world(world, ax=None, *, highlight=None, title=None):
    """Draw a collider world as three layers: states, actions, tasks.

    Segments are shaded and labelled ``S_k``; a disconnected step has a dashed
    red cut before it; each task and its incoming edges share a colour, so the
    colliders stand out.

    Parameters
    ----------
    world : ColliderWorld
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    highlight : collection of str, optional
        Node names drawn with a thick black outline (e.g. a conditioning set).
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not all(hasattr(world, name) for name in ("graph", "T", "M", "N", "disconnected", "segment_steps")):
        raise ValueError(f"world must be a ColliderWorld; got {type(world).__name__}.")
    G = world.graph
    if highlight is not None:
        if isinstance(highlight, str) or not hasattr(highlight, "__iter__"):
            raise ValueError(f"highlight must be a collection of node names such as ['s1', 'g1']; got {highlight!r}.")
        unknown = [v for v in highlight if v not in G]
        if unknown:
            raise ValueError(f"highlight names nodes that are not in the world: {unknown}; its nodes are s1.., a1.. "
                             "and g1...")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.55 * world.T + 2), 3.8))
    pos = _layout(world)
    colors = task_colors(world.M)

    for k in range(1, world.N + 1):
        steps = world.segment_steps(k)
        ax.axvspan(steps[0] - 0.45, steps[-1] + 0.45, color="0.93" if k % 2 else "0.86", zorder=0)
        ax.text((steps[0] + steps[-1]) / 2, -0.55, f"$S_{{{k}}}$", ha="center", va="top", fontsize=9)
    for t in world.disconnected:
        ax.plot([t - 0.5, t - 0.5], [-0.35, 1.35], ls="--", color="tab:red", lw=1.2, zorder=1)

    temporal = [(u, v) for u, v in G.edges if G.nodes[v]["kind"] != "task"]
    nx.draw_networkx_edges(G, pos, edgelist=temporal, ax=ax, edge_color="0.45", width=1.0,
                           arrowsize=8, node_size=260)
    for i in range(1, world.M + 1):
        into = list(G.in_edges(f"g{i}"))
        nx.draw_networkx_edges(G, pos, edgelist=into, ax=ax, edge_color=[colors[i - 1]], width=1.3,
                               alpha=0.8, arrowsize=9, node_size=420, connectionstyle="arc3,rad=0.05")

    states = [v for v in G if G.nodes[v]["kind"] == "state"]
    actions = [v for v in G if G.nodes[v]["kind"] == "action"]
    tasks = [f"g{i}" for i in range(1, world.M + 1)]
    nx.draw_networkx_nodes(G, pos, nodelist=states, ax=ax, node_color="white", edgecolors="0.2", node_size=260)
    nx.draw_networkx_nodes(G, pos, nodelist=actions, ax=ax, node_color="0.75", edgecolors="0.2", node_size=260)
    nx.draw_networkx_nodes(G, pos, nodelist=tasks, ax=ax, node_color=colors, edgecolors="black",
                           node_shape="D", node_size=420)
    if highlight:
        nx.draw_networkx_nodes(G, pos, nodelist=list(highlight), ax=ax, node_color="none",
                               edgecolors="black", linewidths=2.5, node_size=420)
    labels = {v: f"${v[0]}_{{{v[1:]}}}$" for v in G}
    nx.draw_networkx_labels(G, pos, labels=labels, ax=ax, font_size=7)

    handles = [Patch(color="white", ec="0.2", label="state $s_t$"), Patch(color="0.75", ec="0.2", label="action $a_t$")]
    handles += [Patch(color=c, label=f"task $g_{{{i}}}$ (collider)") for i, c in enumerate(colors, start=1)]
    if world.disconnected:
        handles.append(plt.Line2D([], [], ls="--", color="tab:red", label="disconnected step"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_xlim(0.4, world.T + 0.6)
    ax.set_ylim(-0.9, 3.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def draw_paths(graph, paths, *, conditioned=(), pos=None, ax=None, title=None, legend=True):
    """Draw a DAG with the open paths of a d-separation question highlighted.

    The edges of every open path are drawn thick and green; the nodes of the conditioning set
    are filled grey (known), and the nodes that block a path have a red outline.

    Parameters
    ----------
    graph : networkx.DiGraph
        Acyclic.
    paths : pandas.DataFrame
        The paths and their states, as :func:`specbook.tasks.dseparation.path_states` returns
        them (columns ``nodes``, ``open`` and ``blocked_by`` are read).
    conditioned : collection of nodes, default=()
        The conditioning set the paths were judged under.
    pos : dict, optional
        Node -> (x, y). Default: networkx's Kamada-Kawai layout (the same every time).
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    title : str, optional
    legend : bool, default=True
        Explain the colours beside the graph.

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(graph, nx.DiGraph):
        raise ValueError(f"graph must be a networkx.DiGraph; got {type(graph).__name__}.")
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("graph has a directed cycle; d-separation needs a DAG.")
    missing = [column for column in ("nodes", "open", "blocked_by") if column not in getattr(paths, "columns", ())]
    if missing:
        raise ValueError(f"paths must be the table path_states returns, with columns nodes, open and blocked_by; "
                         f"missing {missing}.")
    if isinstance(conditioned, str) or not hasattr(conditioned, "__iter__"):
        raise ValueError(f"conditioned must be a collection of nodes such as {{'s2'}}; got {conditioned!r}.")
    unknown = [node for node in conditioned if node not in graph]
    unknown += [node for nodes in paths["nodes"] for node in nodes if node not in graph]
    if unknown:
        raise ValueError(f"conditioned and paths name nodes that are not in the graph: "
                         f"{sorted(set(map(str, unknown)))}.")
    legend = check_bool(legend, "legend")
    if pos is None:
        pos = nx.kamada_kawai_layout(graph) if len(graph) > 1 else {node: (0.0, 0.0) for node in graph}
    elif not isinstance(pos, dict) or any(node not in pos for node in graph):
        raise ValueError("pos must map every node of the graph to (x, y); "
                         f"missing {sorted(map(str, set(graph) - set(pos if isinstance(pos, dict) else ())))}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.0))
    conditioned = set(conditioned)
    open_edges = {(u, v) if graph.has_edge(u, v) else (v, u)
                  for nodes, is_open in zip(paths["nodes"], paths["open"]) if is_open for u, v in zip(nodes, nodes[1:])}
    blocking = {node for nodes in paths["blocked_by"] for node in nodes}
    size = 650
    if open_edges:
        nx.draw_networkx_edges(graph, pos, edgelist=sorted(open_edges, key=str), ax=ax, edge_color=OPEN_COLOR,
                               width=5, alpha=0.55, arrows=True, arrowsize=1, node_size=size)
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="0.3", width=1.2, arrowsize=12, node_size=size)
    nodes = list(graph)
    nx.draw_networkx_nodes(graph, pos, nodelist=nodes, ax=ax, node_size=size,
                           node_color=["0.72" if node in conditioned else "white" for node in nodes],
                           edgecolors=[BLOCKING_COLOR if node in blocking else "0.2" for node in nodes],
                           linewidths=[2.8 if node in blocking else 1.0 for node in nodes])
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=9)
    handles = [plt.Line2D([], [], color=OPEN_COLOR, lw=5, alpha=0.55, label="open path"),
               Patch(facecolor="0.72", edgecolor="0.2", label="conditioned on (in Z)"),
               Patch(facecolor="white", edgecolor=BLOCKING_COLOR, lw=2.5, label="blocks a path")]
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.margins(0.12)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def draw_latent_pairs(z_true, z_est, *, matching=None, axes=None, max_points=1000, seed=0):
    """Scatter every true latent against every estimated one, the matched pairs framed.

    Row ``i``, column ``j`` plots estimated latent ``j`` against true latent ``i``. Recovery up to
    permutation and element-wise transformation shows as one thin monotone curve per row (in
    the matched column) and shapeless clouds elsewhere; a mixed estimate shows a band in several
    columns of a row.

    Parameters
    ----------
    z_true : array-like of shape (n, d_true)
    z_est : array-like of shape (n, d_est)
    matching : array-like of int of length d_true, optional
        ``matching[i]`` is the estimated latent matched to true latent ``i`` (-1: none), as
        :func:`specbook.metrics.mean_corr_coef` returns it with ``return_matching=True``;
        those panels get a thick frame.
    axes : 2-D array of matplotlib Axes of shape (d_true, d_est), optional
        Drawn into a new figure when omitted.
    max_points : int, default=1000
        At most this many samples are drawn (a random subset, fixed by `seed`).
    seed : int, default=0

    Returns
    -------
    2-D array of matplotlib Axes
    """
    z_true = as_real_array(z_true, "z_true")
    z_est = as_real_array(z_est, "z_est")
    for name, array in (("z_true", z_true), ("z_est", z_est)):
        if array.ndim != 2 or 0 in array.shape or not np.isfinite(array).all():
            raise ValueError(f"{name} must be a finite (n, d) array with n, d >= 1; got shape {array.shape}.")
    if len(z_true) != len(z_est):
        raise ValueError(f"z_true and z_est must have the same number of samples; got {len(z_true)} and {len(z_est)}.")
    d_true, d_est = z_true.shape[1], z_est.shape[1]
    if d_true * d_est > MAX_PANELS:
        raise ValueError(f"draw_latent_pairs draws at most {MAX_PANELS} panels; d_true * d_est = {d_true * d_est}.")
    if matching is not None:
        matching = as_real_array(matching, "matching")
        if (matching.shape != (d_true,) or (matching != np.round(matching)).any() or (matching < -1).any()
                or (matching >= d_est).any()):
            raise ValueError(f"matching must hold one estimated latent (0..{d_est - 1}, or -1) per true latent "
                             f"({d_true}); got {matching.tolist()}.")
        matching = matching.astype(int)
    max_points = check_int(max_points, "max_points", 1)
    shown = np.random.default_rng(check_int(seed, "seed", 0)).permutation(len(z_true))[:max_points]
    if axes is None:
        _, axes = plt.subplots(d_true, d_est, figsize=(1.9 * d_est + 0.6, 1.7 * d_true + 0.4), squeeze=False)
    axes = np.asarray(axes)
    if axes.shape != (d_true, d_est):
        raise ValueError(f"axes must be a ({d_true}, {d_est}) array of Axes; got shape {axes.shape}.")
    for i in range(d_true):
        for j in range(d_est):
            ax = axes[i, j]
            matched = matching is not None and matching[i] == j
            ax.scatter(z_true[shown, i], z_est[shown, j], s=2, alpha=0.35, color="tab:blue" if matched else "0.45",
                       rasterized=True)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_linewidth(2.5 if matched else 0.6)
                spine.set_color("tab:blue" if matched else "0.5")
            if j == 0:
                ax.set_ylabel(f"true $z_{{{i + 1}}}$", fontsize=9)
            if i == 0:
                ax.set_title(f"estimate $\\hat z_{{{j + 1}}}$", fontsize=9)
    return axes


def draw_supports(panels, *, axes=None, annotate=True):
    """Task-latent matrices side by side, one heatmap per panel.

    Parameters
    ----------
    panels : dict of str to array-like of shape (n_tasks, n_latents)
        Title to matrix: booleans (a support) or non-negative magnitudes (a mask, a
        Jacobian), shown on a 0-1 scale after dividing each row by its maximum.
    axes : sequence of matplotlib Axes, optional
    annotate : bool, default=True
        Write each cell's value.

    Returns
    -------
    list of matplotlib Axes
    """
    import seaborn as sns

    if not isinstance(panels, dict) or not panels:
        raise ValueError(f"panels must be a non-empty dict of title to (n_tasks, n_latents) matrix; "
                         f"got {panels!r:.80}.")
    matrices = {}
    for title, matrix in panels.items():
        matrix = as_real_array(matrix, f"panels[{title!r}]")
        if matrix.ndim != 2 or 0 in matrix.shape or not np.isfinite(matrix).all() or (matrix < 0).any():
            raise ValueError(f"panels[{title!r}] must be a non-empty (n_tasks, n_latents) matrix "
                             "of finite values >= 0; "
                             f"got shape {matrix.shape}.")
        matrices[title] = matrix
    annotate = check_bool(annotate, "annotate")
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 2.2), squeeze=False)
        axes = axes[0]
    elif len(axes) < len(panels):
        raise ValueError(f"axes must hold one Axes per panel ({len(panels)}); got {len(axes)}.")
    for ax, (title, matrix) in zip(axes, matrices.items()):
        scale = matrix.max(axis=1, keepdims=True)
        shown = np.divide(matrix, scale, out=np.zeros_like(matrix), where=scale > 0)
        sns.heatmap(shown, ax=ax, vmin=0, vmax=1, cmap="Blues", cbar=False, annot=annotate, fmt=".2f",
                    annot_kws={"fontsize": 7}, linewidths=0.5, linecolor="white")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("latent")
        ax.set_ylabel("task")
    return list(axes)


def show_images(images, columns=8, *, scale=1.0, titles=None):
    """Show images in a grid, without axes.

    Parameters
    ----------
    images : array-like of shape (n, 3, h, w)
        RGB values in [0, 1], channels first (as the renderer and the GAN give them).
    columns : int, default=8
    scale : float, default=1.0
        Inches per image.
    titles : list of str, optional
        Titles of the columns, written above the first row.

    Returns
    -------
    matplotlib Figure
    """
    images = _rgb_stack(images, "images", "n")
    columns = check_int(columns, "columns", 1)
    scale = check_real(scale, "scale", low=0, open_low=True)
    rows = -(-len(images) // columns)
    if rows * columns > MAX_PANELS:
        raise ValueError(f"show_images draws at most {MAX_PANELS} panels; {len(images)} images in {columns} columns "
                         f"need {rows * columns}: show fewer images or use fewer columns.")
    fig, axes = plt.subplots(rows, columns, figsize=(scale * columns, scale * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(np.clip(np.transpose(images[i], (1, 2, 0)), 0, 1), interpolation="nearest")
    for ax, title in zip(axes[0], titles or []):
        ax.set_title(title, fontsize=8)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def _rgb_stack(values, name, count):
    """`values` as a finite float array of shape (count, 3, h, w), every size at least 1."""
    array = as_real_array(values, name)
    if array.ndim != 4 or array.shape[1] != 3 or 0 in array.shape:
        raise ValueError(f"{name} must have shape ({count}, 3, h, w) with {count}, h, w >= 1; got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf.")
    return array


def show_video(frames, step_tasks, *, L=None, task_labels=None, scale=0.9):
    """A strip of frames above the timeline of the tasks each step serves.

    Parameters
    ----------
    frames : array-like of shape (T, 3, h, w)
        One video, RGB in [0, 1].
    step_tasks : array-like of shape (T, M), bool
        Which steps serve which task.
    L : int, optional
        Segment length: draws the segment boundaries.
    task_labels : list of str, optional
        One label per task (default ``g1 .. gM``).
    scale : float, default=0.9
        Inches per frame.

    Returns
    -------
    matplotlib Figure
    """
    frames = _rgb_stack(frames, "frames", "T")
    if len(frames) > MAX_PANELS:
        raise ValueError(f"show_video draws at most {MAX_PANELS} frames; got {len(frames)}: show part of the video.")
    step_tasks = as_real_array(step_tasks, "step_tasks").astype(bool)
    T, M = step_tasks.shape if step_tasks.ndim == 2 else (None, None)
    if T != len(frames) or not M:
        raise ValueError(f"step_tasks must have shape (T, M) with T = {len(frames)} frames and M >= 1 tasks; "
                         f"got {step_tasks.shape}.")
    if L is not None and check_int(L, "L", 1) > T:
        raise ValueError(f"L must be a segment length of at most T = {T} steps; got {L}.")
    scale = check_real(scale, "scale", low=0, open_low=True)
    labels = task_labels or [f"g{i + 1}" for i in range(M)]
    if len(labels) != M:
        raise ValueError(f"task_labels must have one label per task (M = {M}); got {len(labels)}.")
    fig = plt.figure(figsize=(scale * T, scale * (1.2 + 0.3 * M)))
    grid = fig.add_gridspec(2, T, height_ratios=[1.0, 0.3 * M], hspace=0.15, wspace=0.05)
    for t in range(T):
        ax = fig.add_subplot(grid[0, t])
        ax.imshow(np.clip(np.transpose(frames[t], (1, 2, 0)), 0, 1), interpolation="nearest")
        ax.set_title(f"t={t + 1}", fontsize=7)
        ax.axis("off")
    timeline = fig.add_subplot(grid[1, :])
    for i, colour in enumerate(task_colors(M)):
        for t in np.flatnonzero(step_tasks[:, i]):
            timeline.add_patch(plt.Rectangle((t, M - 1 - i), 1, 0.8, color=colour))
    if L:
        for boundary in range(0, T + 1, L):
            timeline.axvline(boundary, color="0.6", lw=0.6)
    timeline.set_xlim(0, T)
    timeline.set_ylim(-0.2, M)
    timeline.set_yticks(np.arange(M) + 0.4, labels[::-1], fontsize=8)
    timeline.set_xticks(np.arange(T) + 0.5, [str(t + 1) for t in range(T)], fontsize=7)
    timeline.set_xlabel("step t (grey lines: segment boundaries)", fontsize=8)
    for side in ("top", "right"):
        timeline.spines[side].set_visible(False)
    return fig
