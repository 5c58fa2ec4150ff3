"""Explorers: sliders that redraw a chapter's key figure, on Colab and in Jupyter.

Three chapters offer one each:

- :func:`collider_world_explorer` (chapter 1, the collider world): explaining away between two
  actions that feed the same task, for the task's noise, the number of segments serving it, the
  chance that a step is cut from its past, and the sample size `n`;
- :func:`theorem1_explorer` (chapter 2, Theorem 1): the band test of every pair of segments on
  samples, for the segment length `L`, the sample size `n` and the level `alpha`;
- :func:`sparsity_explorer` (chapter 7, the sparsity tightening): the mask and the supports of the
  VAEs a chapter trained for its sweep of l1 weights, for the weight `sparsity` and the mask threshold
  (no model is trained on a slider move).

Each returns an :class:`Explorer`. A notebook cell ending in it shows its sliders and the figure;
moving a slider recomputes and redraws the figure. ``explorer.update(**values)`` does the same from
code and returns the :class:`matplotlib.figure.Figure`, which is what a static page (the executed book)
shows in place of the sliders. The widgets are built only when the explorer is first displayed (or
its `widget` or `controls` read), so a chapter executed by papermill creates none and stores no
widget state; ipywidgets (which Colab ships) is imported only then.
"""
from __future__ import annotations

import numbers

import numpy as np

from .validation import check_int, check_real, check_seed

__all__ = ["Explorer", "collider_world_explorer", "theorem1_explorer", "sparsity_explorer", "SAMPLE_SIZES"]

#: The sample sizes the `n` sliders offer (any other size in range can be set with ``update(n=...)``).
SAMPLE_SIZES = (100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
#: Largest sample an explorer draws: an update stays within about a second.
MAX_SAMPLES = 100_000
#: Levels the `alpha` slider of :func:`theorem1_explorer` offers.
ALPHAS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.2)


def _ipywidgets():
    """The ipywidgets module, or an ImportError that says how to get it."""
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - ipywidgets is installed with specbook[run]
        raise ImportError(
            "The explorers' sliders need ipywidgets (Colab ships it): `pip install 'ipywidgets>=8'`, or install "
            "specbook with its `run` extra. `explorer.update()` draws the figure without it."
        ) from exc
    return ipywidgets


def _figure(width, height):
    """A new matplotlib Figure, shown only where it is displayed or returned.

    pyplot makes it, so that a notebook's backend (and with it the formatter that shows a returned
    figure as an image) is loaded, and forgets it at once, so that the backend does not show it
    again at the end of the cell, nor keep it in memory.
    """
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width, height), layout="constrained")
    plt.close(figure)
    return figure


def _set_control(control, value):
    """Put `value` on `control`, widening a slider's range or options so that it is not clipped."""
    if hasattr(control, "options"):
        values = [option[1] if isinstance(option, tuple) else option for option in control.options]
        if value not in values:
            values = sorted({*values, value})
            control.options = [(f"{v:g}" if isinstance(v, float) else f"{v:,}", v) for v in values]
    elif hasattr(control, "base"):  # a FloatLogSlider: min and max are exponents
        exponent = float(np.log(value) / np.log(control.base))
        control.max, control.min = max(control.max, exponent), min(control.min, exponent)
    elif hasattr(control, "max"):
        control.max, control.min = max(control.max, value), min(control.min, value)
    control.value = value


class Explorer:
    """Sliders (ipywidgets) that recompute and redraw one figure.

    Built by :func:`collider_world_explorer`, :func:`theorem1_explorer` and
    :func:`sparsity_explorer`; not meant to be built directly.

    Parameters
    ----------
    title : str
        Shown above the sliders.
    values : dict of str to object
        The controls' first values, by name (the keyword arguments of :meth:`update`).
    check : callable
        Maps a dict of values to the validated dict, raising a ``ValueError`` that names the
        offending value.
    draw : callable
        ``draw(values)`` returns ``(figure, numbers)``: a new matplotlib Figure and a dict of the
        numbers it shows.
    controls : dict of str to callable
        ``controls[name](ipywidgets, value)`` builds the widget of `name` with that value.

    Attributes
    ----------
    values : dict
        The values the figure was last drawn (or will first be drawn) with.
    figure : matplotlib.figure.Figure or None
        The figure of the last :meth:`update`; None before the first.
    numbers : dict
        The numbers the last figure shows (sample statistics, counts), for tests and readers.
    redraws : int
        How many times the figure has been drawn.
    """

    def __init__(self, title, values, check, draw, controls):
        self.title = title
        self._check = check
        self._draw = draw
        self._factories = dict(controls)
        self.values = check(dict(values))
        self.figure = None
        self.numbers = {}
        self.redraws = 0
        self._controls = None
        self._output = None
        self._widget = None
        self._syncing = False

    def __repr__(self):
        shown = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        return f"Explorer({self.title!r}: {shown})"

    # -- the widgets, built on first use ------------------------------------------------------
    def _build(self):
        if self._widget is not None:
            return
        widgets = _ipywidgets()
        controls = {name: factory(widgets, self.values[name]) for name, factory in self._factories.items()}
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self._controls, self._output = controls, widgets.Output()
        self._widget = widgets.VBox([widgets.HTML(f"<b>{self.title}</b>"), *controls.values(), self._output])
        if self.figure is not None:
            self._show()

    @property
    def controls(self):
        """dict of str to ipywidgets widget: the sliders, by the name :meth:`update` takes."""
        self._build()
        return dict(self._controls)

    @property
    def output(self):
        """ipywidgets.Output: where the figure is drawn under the sliders."""
        self._build()
        return self._output

    @property
    def widget(self):
        """ipywidgets.VBox: the title, the sliders and the figure."""
        self._build()
        return self._widget

    def _ipython_display_(self):
        from IPython.display import display

        if self.figure is None:
            self.update()
        display(self.widget)

    def _show(self):
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is None:  # no notebook to show it in (a script, a test): the figure is in `figure`
            return
        self._output.clear_output(wait=True)
        with self._output:
            display(self.figure)

    def _on_change(self, change):
        if self._syncing:
            return
        name = next(name for name, control in self._controls.items() if control is change["owner"])
        try:  # only the moved control: the others keep the values they were drawn with (a log slider rounds)
            self.update(**{name: change["new"]})
        except ValueError as exc:  # a combination the sliders allow but the model refuses: say so under them
            self._output.clear_output(wait=True)
            with self._output:
                print(exc)

    # -- the one way to redraw --------------------------------------------------------------------
    def update(self, **values):
        """Recompute and redraw the figure with some values changed; return it.

        Parameters
        ----------
        **values
            New values of the controls, by name (see the function that built the explorer);
            the others keep theirs.

        Returns
        -------
        matplotlib.figure.Figure
            The new figure (also put under the sliders when they are shown).

        Raises
        ------
        ValueError
            For a name that is not a control of this explorer, or a value out of range, naming it.
        """
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            raise ValueError(f"update got unknown control(s) {', '.join(unknown)}; this explorer's controls are "
                             f"{', '.join(self.values)}.")
        checked = self._check({**self.values, **values})
        figure, numbers = self._draw(checked)
        self.values, self.figure, self.numbers = checked, figure, numbers
        self.redraws += 1
        if self._controls is not None:
            self._syncing = True
            try:
                for name, control in self._controls.items():
                    _set_control(control, checked[name])
            finally:
                self._syncing = False
            self._show()
        return figure


# -- shared controls ----------------------------------------------------------------------------------
def _n_control(widgets, value):
    options = sorted({*SAMPLE_SIZES, value})
    return widgets.SelectionSlider(options=[(f"{v:,}", v) for v in options], value=value, description="n",
                                   continuous_update=False)


def _seed_control(widgets, value):
    return widgets.IntSlider(value=value, min=0, max=max(50, value), description="seed", continuous_update=False)


def _check_n(value):
    return check_int(value, "n", 20, MAX_SAMPLES)


def _next_seed(seed, step=1):
    return (seed + step) % 2 ** 32


# -- chapter 1: the collider world ------------------------------------------------------------------------
def _residuals(values, on):
    """`values` minus their least-squares fit on `on` (with an intercept)."""
    design = np.column_stack([np.ones_like(on), on])
    coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
    return values - design @ coefficients


#: The task noises of the signal curve in :func:`collider_world_explorer` (the slider's range).
_TASK_NOISES = tuple(2.0 ** e for e in np.arange(-3, 3.01, 0.5))


def _serving_world(serving, task_noise, p_disconnect, seed):
    """The world of chapter 1's signal figure: `serving` segments of length 2, all serving ``g_1``.

    The cuts are drawn from their own generator (seed `seed`), so that the world's weights are the
    same for every `p_disconnect`; with ``p_disconnect=1`` every step is cut, as in the chapter.
    """
    from .worlds.collider import ColliderWorld

    T = 2 * serving
    draws = np.random.default_rng(seed).random(T - 1)
    cut = [t for t, draw in zip(range(2, T + 1), draws) if draw < p_disconnect or p_disconnect == 1]
    return ColliderWorld(T=T, M=1, L=2, assignment=np.ones((serving, 1), dtype=bool), disconnected=cut,
                         task_noise=task_noise, seed=seed)


def collider_world_explorer(*, n=2_000, task_noise=1.0, serving=2, p_disconnect=1.0, seed=0, max_points=2_000):
    """Explaining away at a task, with sliders for the task's noise, its fan-in, the cuts and `n`.

    The world is the one of chapter 1's signal figure: ``serving`` segments of length 2
    (``T = 2 serving`` steps), every one serving the one task ``g_1``, with the task noise
    `task_noise` and world seed `seed`; each step is cut from its past with probability
    `p_disconnect` (1, the chapter's choice, cuts them all, so that the task is the only path between
    two actions). Two of the actions feeding ``g_1``, ``a_2`` and ``a_4`` (the last ones of ``S_1``
    and ``S_2``), are sampled `n` times (seed ``seed + 1``). Four panels: the world, with ``a_2``,
    ``a_4`` and ``g_1`` outlined; ``a_2`` against ``a_4`` coloured by ``g_1`` (their correlation,
    sample and population); the same after the linear effect of ``g_1`` is removed from both (their
    partial correlation given ``g_1``, sample and population, and the Fisher z p-value); and the
    population ``|corr(a_2, a_4 | g_1)|`` of this world against the task noise, the current one
    marked. The population numbers come from the world's exact covariance.

    Parameters
    ----------
    n : int, default=2000
        Samples drawn, 20 to :data:`MAX_SAMPLES`.
    task_noise : float, default=1.0
        Standard deviation of the task's own noise, in (0, 100]: the larger, the weaker the signal.
    serving : int, default=2
        Segments serving ``g_1`` (its fan-in is ``2 serving`` actions), 2 to 12.
    p_disconnect : float, default=1.0
        Probability that a step is cut from its past, in [0, 1].
    seed : int, default=0
        Seed of the world (weights and cuts); the sample uses ``seed + 1``.
    max_points : int, default=2000
        Most points drawn in each scatter (a seeded random subset); the statistics use every sample.

    Returns
    -------
    Explorer
        Controls ``n``, ``task_noise``, ``serving``, ``p_disconnect``, ``seed``; ``numbers`` holds
        ``corr``, ``population_corr``, ``pcorr``, ``population_pcorr``, ``pvalue`` and ``disconnected``
        (the cut steps).

    Raises
    ------
    ValueError
        For an argument out of range, naming it.

    Examples
    --------
    >>> explorer = collider_world_explorer(n=500, seed=1)
    >>> figure = explorer.update(task_noise=0.5)
    >>> len(figure.axes)
    5
    """
    max_points = check_int(max_points, "max_points", 10)

    def check(values):
        return {"n": _check_n(values["n"]),
                "task_noise": check_real(values["task_noise"], "task_noise", low=0, open_low=True, high=100),
                "serving": check_int(values["serving"], "serving", 2, 12),
                "p_disconnect": check_real(values["p_disconnect"], "p_disconnect", low=0, high=1),
                "seed": check_seed(values["seed"])}

    def draw(values):
        from .ci import ci_test
        from .plotting import draw_world

        n, task_noise, serving, p_disconnect, seed = (values[name] for name in
                                                      ("n", "task_noise", "serving", "p_disconnect", "seed"))
        world = _serving_world(serving, task_noise, p_disconnect, seed)
        data = world.sample(n=n, seed=_next_seed(seed))
        x, y, g = data.actions[:, 1, 0], data.actions[:, 3, 0], data.tasks[:, 0]
        rx, ry = _residuals(x, g), _residuals(y, g)
        numbers = {"corr": float(np.corrcoef(x, y)[0, 1]),
                   "population_corr": float(world.partial_correlation("a2", "a4")),
                   "pcorr": float(np.corrcoef(rx, ry)[0, 1]),
                   "population_pcorr": float(world.partial_correlation("a2", "a4", given=["g1"])),
                   "pvalue": float(ci_test(x, y, g, test="fisherz").pvalue),
                   "disconnected": world.disconnected}
        curve = [abs(_serving_world(serving, noise, p_disconnect, seed).partial_correlation("a2", "a4", given=["g1"]))
                 for noise in _TASK_NOISES]

        shown = np.random.default_rng(seed).permutation(n)[:max_points]
        figure = _figure(min(18.0, max(13.0, 0.55 * world.T + 3)), 7.6)
        grid = figure.add_gridspec(2, 3, height_ratios=[0.9, 1.0])
        draw_world(world, figure.add_subplot(grid[0, :]), highlight=["a2", "a4", "g1"],
                   title=f"{serving} segments ({2 * serving} actions) feed $g_1$; $a_2$, $a_4$ and $g_1$ outlined")
        left, middle, right = (figure.add_subplot(grid[1, column]) for column in range(3))
        points = left.scatter(x[shown], y[shown], c=g[shown], cmap="coolwarm", vmin=-2.5, vmax=2.5, s=6)
        figure.colorbar(points, ax=left, label="$g_1$")
        left.set(xlabel="$a_2$", ylabel="$a_4$")
        left.set_title(f"corr {numbers['corr']:.3f} (population {numbers['population_corr']:.3f})", fontsize=10)
        middle.scatter(rx[shown], ry[shown], s=6, color="0.35")
        middle.set(xlabel="$a_2$ minus its fit on $g_1$", ylabel="$a_4$ minus its fit on $g_1$")
        middle.set_title(f"given $g_1$: {numbers['pcorr']:.3f} (population {numbers['population_pcorr']:.3f}), "
                         f"p = {numbers['pvalue']:.2g}", fontsize=10)
        right.plot(_TASK_NOISES, curve, "o-", ms=3, color="tab:blue")
        right.plot([task_noise], [abs(numbers["population_pcorr"])], "o", ms=9, color="tab:red",
                   label=f"task_noise = {task_noise:g}")
        right.set(xscale="log", xlabel="task_noise", ylabel="population |corr($a_2$, $a_4$ | $g_1$)|",
                  ylim=(0, max(0.05, 1.1 * max(curve))))
        right.set_xscale("log", base=2)
        right.set_title("this world's signal against the task noise", fontsize=10)
        right.legend(fontsize=8)
        figure.suptitle(f"Explaining away: n = {n:,}, task_noise = {task_noise:g}, {serving} serving segments, "
                        f"p_disconnect = {p_disconnect:g}, world seed {seed}", fontsize=11)
        return figure, numbers

    controls = {
        "n": _n_control,
        "task_noise": lambda w, value: w.FloatLogSlider(value=value, base=2, min=-3, max=3, step=0.25,
                                                        description="task_noise", continuous_update=False),
        "serving": lambda w, value: w.IntSlider(value=value, min=2, max=12, description="serving",
                                                continuous_update=False),
        "p_disconnect": lambda w, value: w.FloatSlider(value=value, min=0, max=1, step=0.05,
                                                       description="p_disconnect", continuous_update=False),
        "seed": _seed_control,
    }
    return Explorer("The collider world: explaining away at a task",
                    {"n": n, "task_noise": task_noise, "serving": serving, "p_disconnect": p_disconnect,
                     "seed": seed}, check, draw, controls)


# -- chapter 2: Theorem 1 on samples ---------------------------------------------------------------------
def theorem1_explorer(*, L=2, n=1_000, alpha=0.05, seed=0, N=5, M=2):
    """The band test of Theorem 1 on samples, with sliders for `L`, `n`, `alpha` and the world's seed.

    Draws ``sb.ColliderWorld(T=N * L, M, L, seed=seed)`` (a random assignment, disconnections and
    weights), samples `n` draws (seed ``seed + 1``) and runs Algorithm 1 with Fisher's z test at
    level `alpha` (:func:`specbook.discover_tasks`, no correction: the paper's rule): for every task
    ``g_i`` and pair of segments ``k < v``, ``s_{kL}`` against ``s_{vL}`` given ``Z_band(k, v, i)``.
    The figure shows the world with the band of the first pair serving ``g_1`` outlined, and per task
    the pairs' p-values, the pairs that both serve the task (Theorem 1: dependent) outlined.

    Parameters
    ----------
    L : int, default=2
        Segment length, 2 to 6 (Theorem 1 needs ``L >= 2``).
    n : int, default=1000
        Samples drawn, 20 to :data:`MAX_SAMPLES`.
    alpha : float, default=0.05
        Level of each test, in (0, 1).
    seed : int, default=0
        Seed of the world; the sample uses ``seed + 1``.
    N : int, default=5
        Segments, 2 to 8 (not a slider).
    M : int, default=2
        Tasks, 1 to 4 (not a slider).

    Returns
    -------
    Explorer
        Controls ``L``, ``n``, ``alpha``, ``seed``; ``numbers`` holds ``tests``, ``true_pairs``,
        ``found`` (true pairs declared dependent), ``missed`` and ``false_dependent``.

    Raises
    ------
    ValueError
        For an argument out of range, naming it.

    Examples
    --------
    >>> explorer = theorem1_explorer(n=500)
    >>> figure = explorer.update(L=3)
    >>> explorer.numbers["tests"]
    20
    """
    N = check_int(N, "N", 2, 8)
    M = check_int(M, "M", 1, 4)

    def check(values):
        return {"L": check_int(values["L"], "L", 2, 6), "n": _check_n(values["n"]),
                "alpha": check_real(values["alpha"], "alpha", low=0, high=1, open_low=True, open_high=True),
                "seed": check_seed(values["seed"])}

    def draw(values):
        from matplotlib.patches import Rectangle

        from .plotting import draw_world
        from .tasks.discovery import band_set, discover_tasks
        from .worlds.collider import ColliderWorld

        L, n, alpha, seed = values["L"], values["n"], values["alpha"], values["seed"]
        T = N * L
        world = ColliderWorld(T=T, M=M, L=L, seed=seed)
        data = world.sample(n=n, seed=_next_seed(seed))
        found = discover_tasks(data.states, data.tasks, L=L, test="fisherz", alpha=alpha)
        upper = np.triu(np.ones((N, N), dtype=bool), k=1)
        truth = world.assignment.T[:, :, None] & world.assignment.T[:, None, :] & upper  # (M, N, N)
        decided = found.pair_dependent & upper
        numbers = {"tests": int(upper.sum() * M), "true_pairs": int(truth.sum()),
                   "found": int((decided & truth).sum()), "missed": int((~decided & truth).sum()),
                   "false_dependent": int((decided & ~truth).sum())}

        serving = np.flatnonzero(world.assignment[:, 0]) + 1
        k, v = int(serving[0]), int(serving[1])
        band = [f"s{t}" for t in band_set(k, v, T=T, L=L)] + ["g1"]
        figure = _figure(max(9.0, 0.3 * T + 4, 3.2 * M + 1.5), 7.6)
        grid = figure.add_gridspec(2, M, height_ratios=[1.0, 1.0])
        draw_world(world, figure.add_subplot(grid[0, :]), highlight=band,
                   title=f"$Z_{{band}}({k}, {v}, 1)$ outlined; representatives $s_{{{k * L}}}$ and $s_{{{v * L}}}$")
        ceiling = max(3.0, -np.log10(alpha) + 1)
        axes = [figure.add_subplot(grid[1, i]) for i in range(M)]
        for i, ax in enumerate(axes):
            shown = np.where(upper, -np.log10(np.clip(found.pvalues[i], 1e-300, 1)), np.nan)
            image = ax.imshow(shown, cmap="Reds", vmin=0, vmax=ceiling)
            for a, b in zip(*np.nonzero(upper)):
                p = found.pvalues[i, a, b]
                ax.text(b, a, f"{p:.1g}" if p >= 1e-3 else "<.001", ha="center", va="center", fontsize=7,
                        fontweight="bold" if decided[i, a, b] else "normal")
                if truth[i, a, b]:
                    ax.add_patch(Rectangle((b - 0.47, a - 0.47), 0.94, 0.94, fill=False, ec="tab:green", lw=2.2))
            labels = [f"$S_{{{s}}}$" for s in range(1, N + 1)]
            ax.set_xticks(range(N), labels, fontsize=8)
            ax.set_yticks(range(N), labels, fontsize=8)
            hits, pairs = int((decided[i] & truth[i]).sum()), int(truth[i].sum())
            false = int((decided[i] & ~truth[i]).sum())
            ax.set_title(f"$g_{{{i + 1}}}$: {hits} of {pairs} serving pairs found, {false} false", fontsize=9)
        figure.colorbar(image, ax=axes, label="$-\\log_{10} p$", shrink=0.9)
        figure.suptitle(f"Fisher z band tests, n = {n:,}, alpha = {alpha:g}, L = {L}, world seed {seed} "
                        "(green: both segments serve the task; bold: p < alpha)", fontsize=10)
        return figure, numbers

    controls = {
        "L": lambda w, value: w.IntSlider(value=value, min=2, max=6, description="L", continuous_update=False),
        "n": _n_control,
        "alpha": lambda w, value: w.SelectionSlider(options=[(f"{a:g}", a) for a in sorted({*ALPHAS, value})],
                                                    value=value, description="alpha", continuous_update=False),
        "seed": _seed_control,
    }
    return Explorer("Theorem 1 on samples: the band test of every pair",
                    {"L": L, "n": n, "alpha": alpha, "seed": seed}, check, draw, controls)


# -- chapter 7: the sparsity tightening ------------------------------------------------------------------
def _label_from_one(ax, n_rows, columns):
    """Tick labels counted from 1 on a seaborn heatmap (cell centres at i + 0.5)."""
    ax.set_xticks(np.arange(len(columns)) + 0.5, [str(j + 1) for j in columns])
    ax.set_yticks(np.arange(n_rows) + 0.5, [str(i + 1) for i in range(n_rows)])


def sparsity_explorer(models, world, sample, *, sparsity=None, threshold=None, tol=0.05, max_points=2_000):
    """The specialists of a sweep of l1 weights, with sliders for the weight and the mask threshold.

    Trains nothing: `models` are the VAEs a chapter already fitted, one per weight. For the chosen
    weight the figure shows the truth's mean ``|J_u|``, the model's mask ``M`` (entries above the
    threshold outlined) and the support it reads (:func:`~specbook.specialists.identifiability.estimated_support`
    with the mask threshold of the slider: an entry is read when the mask lets it through and the
    task map's mean |derivative| in it is at least `tol` times its row's largest), the latents in the
    order of the matching of true and estimated latents (largest summed |Spearman correlation|); and,
    for every weight, the latents read by all tasks, against the true total. Each model's posterior
    means, task Jacobian and matching are computed once, on the first `max_points` samples.

    Parameters
    ----------
    models : dict of float to SpecialistVAE
        Fitted models by their l1 weight ``sparsity`` (>= 0), with the world's numbers of latents and
        tasks.
    world : TaskLatentWorld
        The world that made their training data.
    sample : LatentSample
        Held-out samples of `world`.
    sparsity : float, optional
        The weight shown first; a key of `models`. Default: the smallest.
    threshold : float, optional
        Mask threshold shown first, in (0, 1). Default: the first model's ``mask_threshold``.
    tol : float, default=0.05
        Relative Jacobian tolerance, in [0, 1).
    max_points : int, default=2000
        Samples used (the first ones), at least 10.

    Returns
    -------
    Explorer
        Controls ``sparsity``, ``threshold``; ``numbers`` holds ``support_sizes`` (one per task),
        ``true_sizes``, ``equal`` (every support of the true size) and ``total_by_sparsity``.

    Raises
    ------
    ValueError
        For an argument of the wrong type or out of range, naming it.
    """
    from .metrics import mean_corr_coef
    from .specialists.identifiability import task_jacobian
    from .specialists.vae import SpecialistVAE

    if not all(hasattr(world, name) for name in ("n_latents", "n_tasks", "supports", "support_matrix",
                                                 "task_function")):
        raise ValueError(f"world must be the TaskLatentWorld that made the data; got {type(world).__name__}.")
    if not all(hasattr(sample, name) for name in ("obs", "latents")):
        raise ValueError(f"sample must be a LatentSample of the world (world.sample(n)); got {type(sample).__name__}.")
    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a non-empty dict of l1 weight to fitted SpecialistVAE; got {models!r:.80}.")
    checked_models = {}
    for weight, model in models.items():
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise ValueError(f"models must be keyed by l1 weights (real numbers >= 0); got the key {weight!r}.")
        weight = check_real(weight, f"models key {weight!r}", low=0)
        if not isinstance(model, SpecialistVAE) or not hasattr(model, "mask_"):
            raise ValueError(f"models[{weight:g}] must be a fitted SpecialistVAE; got {type(model).__name__}.")
        if model.n_latents != world.n_latents or model.n_tasks != world.n_tasks:
            raise ValueError(f"models[{weight:g}] has {model.n_latents} latents and {model.n_tasks} tasks; the world "
                             f"has {world.n_latents} and {world.n_tasks}.")
        if weight in checked_models:
            raise ValueError(f"models has the weight {weight:g} twice.")
        checked_models[weight] = model
    weights = sorted(checked_models)
    tol = check_real(tol, "tol", low=0, high=1, open_high=True)
    max_points = check_int(max_points, "max_points", 10)
    obs, latents = np.asarray(sample.obs)[:max_points], np.asarray(sample.latents)[:max_points]
    if len(obs) != len(latents) or len(obs) < 10:
        raise ValueError(f"sample must hold at least 10 draws with as many observations as latents; got {len(obs)} "
                         f"observations and {len(latents)} latents.")
    n_tasks, n_latents = world.n_tasks, world.n_latents
    true_jacobian = task_jacobian(world.task_function, latents, n_tasks)
    true_total = int(np.asarray(world.support_matrix).sum())
    cache = {}

    def fitted(weight):
        """Posterior means' task Jacobian, mask and matching of the model of `weight`, computed once."""
        if weight not in cache:
            model = checked_models[weight]
            z = model.transform(obs)
            _, matching = mean_corr_coef(latents, z, method="spearman", return_matching=True)
            cache[weight] = (task_jacobian(model.task_map, z, n_tasks), np.asarray(model.mask_), matching)
        return cache[weight]

    def support(weight, threshold_):
        jacobian, mask, _ = fitted(weight)
        return (mask > threshold_) & (jacobian >= tol * jacobian.max(axis=1, keepdims=True))

    def check(values):
        weight = values["sparsity"]
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or float(weight) not in checked_models:
            raise ValueError(f"sparsity must be one of the models' weights {', '.join(f'{w:g}' for w in weights)}; "
                             f"got {weight!r}.")
        return {"sparsity": float(weight),
                "threshold": check_real(values["threshold"], "threshold", low=0, high=1, open_low=True,
                                        open_high=True)}

    def draw(values):
        import seaborn as sns

        from .plotting import draw_supports

        weight, threshold_ = values["sparsity"], values["threshold"]
        _, mask, order = fitted(weight)
        read = support(weight, threshold_)
        totals = {w: int(support(w, threshold_).sum()) for w in weights}
        sizes = read.sum(axis=1)
        true_sizes = np.array([len(s) for s in world.supports])
        numbers_ = {"support_sizes": sizes.tolist(), "true_sizes": true_sizes.tolist(),
                    "equal": bool((sizes == true_sizes).all()), "total_by_sparsity": totals}

        figure = _figure(15.5, 2.9)
        axes = figure.subplots(1, 4, width_ratios=[1, 1, 1, 0.9])
        draw_supports({"truth: mean $|J_u|$": true_jacobian}, axes=axes[:1])
        _label_from_one(axes[0], n_tasks, range(n_latents))
        sns.heatmap(mask[:, order], ax=axes[1], vmin=0, vmax=1, cmap="Blues", cbar=False, annot=True, fmt=".2f",
                    annot_kws={"fontsize": 7}, linewidths=0.5, linecolor="white")
        for task, column in zip(*np.nonzero(mask[:, order] > threshold_)):
            axes[1].add_patch(_rectangle(column, task))
        axes[1].set(title=f"mask $M$ (outlined: > {threshold_:g})", xlabel="estimated latent (matched order)",
                    ylabel="task")
        axes[1].title.set_fontsize(10)
        draw_supports({"support read (matched order)": read[:, order].astype(float)}, axes=axes[2:3], annotate=False)
        for ax in axes[1:3]:
            _label_from_one(ax, n_tasks, order)
            ax.set_xlabel("estimated latent (matched order)")
        axes[2].set_title(f"support read: sizes {sizes.tolist()} (truth {true_sizes.tolist()})", fontsize=10)
        right = axes[3]
        right.plot(weights, [totals[w] for w in weights], "o-", color="tab:blue")
        right.plot([weight], [totals[weight]], "o", color="tab:red", ms=10, label=f"lambda = {weight:g}")
        right.axhline(true_total, color="grey", ls="--", label="true total support")
        right.set(xscale="symlog", xlabel="lambda", ylabel="latents read (all tasks)",
                  ylim=(-0.5, n_tasks * n_latents + 0.5))
        right.set_xticks(weights, [f"{w:g}" for w in weights])
        right.minorticks_off()
        right.set_title("support size at each lambda", fontsize=10)
        right.legend(fontsize=7, loc="upper right")
        verdict = "every support of the true size" if numbers_["equal"] else "supports not all of the true size"
        figure.suptitle(f"The specialist at lambda = {weight:g}, mask threshold {threshold_:g}: {verdict}", fontsize=11)
        return figure, numbers_

    first = checked_models[weights[0]]
    values = {"sparsity": weights[0] if sparsity is None else sparsity,
              "threshold": first.mask_threshold if threshold is None else threshold}
    controls = {
        "sparsity": lambda w, value: w.SelectionSlider(options=[(f"{v:g}", v) for v in weights], value=value,
                                                       description="lambda", continuous_update=False),
        "threshold": lambda w, value: w.FloatSlider(value=value, min=0.05, max=0.95, step=0.05,
                                                    description="threshold", continuous_update=False),
    }
    return Explorer("The sparsity tightening: the specialist at each l1 weight", values, check, draw, controls)


def _rectangle(column, row):
    from matplotlib.patches import Rectangle

    return Rectangle((column + 0.04, row + 0.04), 0.92, 0.92, fill=False, ec="black", lw=1.8)
