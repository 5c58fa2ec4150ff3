"""From pixels to tasks: Algorithm 1 on frames, on learned latents and on the true states.

One *trial* draws videos from an :class:`~specbook.worlds.video.AgentVideoWorld`, builds each
representation of the frames named in :data:`REPRESENTATIONS`, runs Algorithm 1 on every
one with the same CI test, and scores the pair-task dependences by mean average precision
(:func:`specbook.metrics.mean_average_precision`) and the thresholded matrix by accuracy
and MCC. :func:`video_specialists` then closes the hierarchy: the steps Algorithm 1 gave
a task feed a Layer 2 specialist, which should read only the agent the task is about.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import delayed

from .._torch import one_thread
from ..ci import CI_TESTS, get_ci_test
from ..tasks.discovery import discover_tasks
from ..specialists.encoders import FrameVAE, frame_pca
from ..metrics import block_r2, mean_average_precision, mean_corr_coef, structure_scores
from ..parallel import run_parallel
from ..progress import progress_bar
from ..specialists.vae import SpecialistVAE
from ..validation import as_real_array, check_bool, check_int, check_real, check_seed
from ..worlds.video import AgentVideoWorld

__all__ = ["REPRESENTATIONS", "PixelsTrial", "run_trial", "run_trials", "summarise", "noisy_states_curve",
           "video_specialists", "paired_differences"]

#: What Algorithm 1 can be run on, with the label the book uses.
REPRESENTATIONS = {
    "frames": "raw frames o (PCA per frame)",
    "latents": "learned latents s-hat (sequential VAE)",
    "leap": "LEAP-style latents (temporal prior)",
    "states": "true states s (oracle)",
}
_ENCODER_PRIORS = {"latents": "independent", "leap": "temporal"}


@dataclass
class PixelsTrial:
    """What one trial found.

    Attributes
    ----------
    world : AgentVideoWorld
    seed : int
    states, tasks : ndarray
        The true states ``(n, T, 2 n_agents)`` and tasks ``(n, M)`` of the sampled videos.
    features : dict of str to ndarray of shape (n, T, k)
        Each representation Algorithm 1 ran on.
    discoveries : dict of str to TaskDiscovery
    encoders : dict of str to FrameVAE
        The fitted encoders (``"latents"``, ``"leap"``).
    seconds : dict of str to float
        Time to build each representation and to run Algorithm 1 on it.
    other_tests : dict of str to PixelsTrial
        The same features tested with each of `run_trial`'s ``other_tests``.
    feature_quality : dict of str to dict
        ``r2_states`` and ``mcc_states`` of each representation, filled by :meth:`scores` on first
        use and shared with the copies :meth:`with_test` makes (they do not depend on the test).
    """

    world: AgentVideoWorld
    seed: int
    states: np.ndarray
    tasks: np.ndarray
    features: dict = field(default_factory=dict)
    discoveries: dict = field(default_factory=dict)
    encoders: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    other_tests: dict = field(default_factory=dict)
    feature_quality: dict = field(default_factory=dict)

    def with_test(self, test, alpha=0.05, correction=None, **test_options):
        """A copy whose discoveries rerun Algorithm 1 on the same features with another CI test.

        The encoders are not refitted, so two tests are compared on identical representations.
        """
        test_options = _test_options(test, test_options, self.seed)
        discoveries = {name: discover_tasks(features, self.tasks, L=self.world.L, test=test, alpha=alpha,
                                            correction=correction, **test_options)
                       for name, features in self.features.items()}
        return PixelsTrial(world=self.world, seed=self.seed, states=self.states, tasks=self.tasks,
                           features=self.features, discoveries=discoveries, encoders=self.encoders,
                           seconds={name: found.seconds for name, found in discoveries.items()},
                           feature_quality=self.feature_quality)

    def _quality(self, name):
        if name not in self.feature_quality:
            flat_states = self.states.reshape(-1, self.states.shape[2])
            flat = self.features[name].reshape(-1, self.features[name].shape[2])
            self.feature_quality[name] = {
                "r2_states": block_r2(flat_states[:5_000], flat[:5_000], seed=self.seed),
                "mcc_states": (mean_corr_coef(flat_states, flat) if flat.shape[1] >= flat_states.shape[1]
                               else np.nan),
            }
        return self.feature_quality[name]

    def scores(self):
        """One row per representation: ``map``, ``accuracy``, ``mcc`` of the discovery, and how well
        the features determine the true states (``r2_states``: held-out kernel-ridge R^2 of all
        state coordinates; ``mcc_states``: matched mean absolute correlation).
        """
        rows = []
        for name, found in self.discoveries.items():
            structure = structure_scores(self.world.assignment, found.segment_tasks)
            rows.append({
                "representation": name, "seed": self.seed,
                "map": mean_average_precision(self.world.assignment, found.statistics),
                "accuracy": structure["accuracy"], "mcc": structure["mcc"],
                **self._quality(name),
                "seconds": self.seconds[name],
            })
        return pd.DataFrame(rows)


def _test_options(test, test_options, seed):
    """The test's options, with its ``seed`` set to the trial's when it takes one; fails early on bad ones."""
    test_options = dict(test_options or {})
    get_ci_test(test, **test_options)
    if isinstance(test, str) and "seed" in inspect.signature(CI_TESTS[test]).parameters:
        test_options.setdefault("seed", seed)
    return test_options


def _check_trial(trial):
    if not isinstance(trial, PixelsTrial):
        raise ValueError(f"trial must be a PixelsTrial (what run_trial returns); got {type(trial).__name__}.")


def _check_representations(representations):
    if isinstance(representations, str) or not hasattr(representations, "__iter__"):
        raise ValueError(f"representations must be a sequence of names from {list(REPRESENTATIONS)}, e.g. "
                         f"[{representations!r}]; got {representations!r}.")
    names = list(representations)
    unknown = [name for name in names if name not in REPRESENTATIONS]
    if unknown or not names:
        raise ValueError(f"unknown representation(s) {unknown or names}; choose from {list(REPRESENTATIONS)}.")
    return names


def run_trial(world, n, *, seed=0, representations=tuple(REPRESENTATIONS), test="neural-cmi", test_options=None,
              other_tests=None, encoder_options=None, n_train=None, alpha=0.05, correction=None, progress=True):
    """Sample videos, build every representation, and run Algorithm 1 on each with one CI test.

    Parameters
    ----------
    world : AgentVideoWorld
    n : int
        Videos drawn (seed `seed`).
    seed : int, default=0
        Seed of the sample, the encoders, the PCA and the CI tests.
    representations : sequence of str, default all of :data:`REPRESENTATIONS`
    test : str or callable, default="neural-cmi"
        The CI test, the same for every representation.
    test_options : dict, optional
        Options of a named test (``seed`` is set from `seed`).
    other_tests : dict of str to dict, optional
        Further named tests (and their options) to run on the same features, kept in
        :attr:`PixelsTrial.other_tests` (see :meth:`PixelsTrial.with_test`).
    encoder_options : dict, optional
        Options of :class:`~specbook.specialists.encoders.FrameVAE` (``n_latents`` defaults to the
        state dimension, and the PCA of the frames keeps as many components).
    n_train : int, optional
        Videos the encoders are fitted on (the first `n_train`; default all). Every video is encoded.
    alpha, correction
        As in :func:`~specbook.tasks.discovery.discover_tasks`; ``correction=None`` is the paper's rule.
    progress : bool, default=True

    Returns
    -------
    PixelsTrial
    """
    if not isinstance(world, AgentVideoWorld):
        raise ValueError(f"world must be an AgentVideoWorld; got {type(world).__name__}.")
    names = _check_representations(representations)
    seed = check_seed(seed)
    progress = check_bool(progress, "progress")
    n = check_int(n, "n", 2)
    n_train = n if n_train is None else check_int(n_train, "n_train", 2)
    if n_train > n:
        raise ValueError(f"n_train must be at most n = {n}; got {n_train}.")
    state_dim = 2 * world.n_agents
    if encoder_options is not None and not isinstance(encoder_options, dict):
        raise ValueError(f"encoder_options must be a dict of FrameVAE options; got {encoder_options!r}.")
    unknown = set(encoder_options or {}) - (set(inspect.signature(FrameVAE).parameters) - {"prior", "seed", "progress"})
    if unknown:
        raise ValueError(f"encoder_options has options FrameVAE does not take here: {sorted(unknown)} (prior, seed "
                         "and progress are set by run_trial).")
    encoder_options = {"n_latents": state_dim, **(encoder_options or {})}
    test_options = _test_options(test, test_options, seed)  # fails on an unknown test before any training
    if other_tests is not None and not isinstance(other_tests, dict):
        raise ValueError(f"other_tests must be a dict of test name to options; got {other_tests!r}.")
    other_tests = dict(other_tests or {})
    for name, options in other_tests.items():
        _test_options(name, options, seed)

    with one_thread():
        video = world.sample(n, seed=seed)
        trial = PixelsTrial(world=world, seed=seed, states=video.states, tasks=video.tasks)
        for name in progress_bar(names, progress=progress, desc="representations", unit="rep"):
            start = time.perf_counter()
            if name == "states":
                features = video.states
            elif name == "frames":
                features = frame_pca(video.frames, encoder_options["n_latents"], seed=seed)
            else:
                encoder = FrameVAE(prior=_ENCODER_PRIORS[name], seed=seed, progress=progress,
                                   **encoder_options).fit(video.frames[:n_train])
                trial.encoders[name] = encoder
                features = encoder.transform(video.frames)
            trial.features[name] = features
            trial.discoveries[name] = discover_tasks(features, video.tasks, L=world.L, test=test, alpha=alpha,
                                                     correction=correction, **test_options)
            trial.seconds[name] = time.perf_counter() - start
        for name, options in other_tests.items():
            trial.other_tests[name] = trial.with_test(name, alpha=alpha, correction=correction, **options)
        return trial


def _run_one(args):
    world, kwargs = args
    return run_trial(world, **kwargs)


def run_trials(worlds, n, *, seeds, n_jobs=1, **options):
    """:func:`run_trial` for each (world, seed) pair, in `n_jobs` worker processes.

    Parameters
    ----------
    worlds : sequence of AgentVideoWorld
    n : int
    seeds : sequence of int
        One per world.
    n_jobs : int, default=1
        Worker processes, or tasks on the Dask cluster named by
        :data:`specbook.parallel.DASK_SCHEDULER_ENV` (see :func:`specbook.parallel.run_parallel`).
        Every trial runs on one thread (torch and BLAS), here or in a worker, so the
        numbers do not depend on `n_jobs` or on where the trials ran.
    **options
        Passed to :func:`run_trial` (progress bars are turned off in workers).

    Returns
    -------
    list of PixelsTrial
    """
    for name, values in (("worlds", worlds), ("seeds", seeds)):
        if isinstance(values, str) or not hasattr(values, "__iter__"):
            raise ValueError(f"{name} must be a sequence (one entry per trial); got {values!r}.")
    worlds, seeds = list(worlds), [check_seed(seed, "seeds") for seed in seeds]
    if len(worlds) != len(seeds):
        raise ValueError(f"worlds and seeds must have the same length; got {len(worlds)} and {len(seeds)}.")
    n_jobs = check_int(n_jobs, "n_jobs", 1)
    if n_jobs > 1:
        options["progress"] = False
    calls = [(world, {"n": n, "seed": seed, **options}) for world, seed in zip(worlds, seeds)]
    if n_jobs == 1:
        return [_run_one(call) for call in calls]
    return run_parallel([delayed(_run_one)(call) for call in calls], n_jobs)


def summarise(trials):
    """Mean and standard deviation over trials of :meth:`PixelsTrial.scores`, one row per representation."""
    trials = list(trials) if isinstance(trials, (list, tuple)) else []
    if not trials:
        raise ValueError("trials must be a non-empty list of PixelsTrial (what run_trial returns).")
    for trial in trials:
        _check_trial(trial)
    scores = pd.concat([trial.scores() for trial in trials], ignore_index=True)
    order = [name for name in REPRESENTATIONS if name in set(scores["representation"])]
    table = scores.drop(columns="seed").groupby("representation").agg(["mean", "std"]).reindex(order)
    table.insert(0, ("label", ""), [REPRESENTATIONS[name] for name in order])
    return table


def paired_differences(scores, first, second, *, value="map", by="representation", pair="seed"):
    """Per trial, the score of one representation minus that of another.

    Two representations are scored on the same videos of the same trial, so their
    difference is paired: its spread over trials is what says whether one beats the
    other, not the two spreads side by side.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per (trial, representation), e.g. the rows of :meth:`PixelsTrial.scores`
        of several trials for one CI test.
    first, second : str
        The representations compared (values of column `by`).
    value : str, default="map"
        The score compared.
    by : str, default="representation"
        Column naming the representation.
    pair : str, default="seed"
        Column naming the trial: rows with the same value are paired.

    Returns
    -------
    pandas.Series
        ``first - second`` for every trial, indexed by `pair` (sorted).

    Raises
    ------
    ValueError
        When a trial lacks one of the two representations, or has one twice (scores of
        two CI tests mixed in one table).

    Examples
    --------
    >>> table = pd.DataFrame({"seed": [0, 0, 1, 1], "representation": ["a", "b", "a", "b"],
    ...                       "map": [0.5, 0.25, 0.5, 0.75]})
    >>> paired_differences(table, "a", "b").tolist()
    [0.25, -0.25]
    """
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame; got {type(scores).__name__}.")
    missing = [column for column in (value, by, pair) if column not in scores]
    if missing:
        raise ValueError(f"scores has no column(s) {missing}; its columns are {list(scores.columns)}.")
    columns = {}
    for name in (first, second):
        rows = scores[scores[by] == name]
        if rows[pair].duplicated().any():
            raise ValueError(f"{by}={name!r} appears twice in one {pair}: pass the scores of one CI test only.")
        columns[name] = rows.set_index(pair)[value]
    if not len(columns[first]):
        raise ValueError(f"no rows with {by}={first!r}.")
    if set(columns[first].index) != set(columns[second].index):
        raise ValueError(f"{first!r} and {second!r} were not scored in the same trials: "
                         f"{sorted(columns[first].index)} against {sorted(columns[second].index)}.")
    index = sorted(columns[first].index)
    return (columns[first].loc[index] - columns[second].loc[index]).rename(f"{value}: {first} - {second}")


def noisy_states_curve(trial, r2_levels=(1.0, 0.99, 0.97, 0.95, 0.9, 0.8, 0.6), *, test="fisherz", seed=0,
                       **test_options):
    """Algorithm 1 on the true states blurred by independent noise, as if read by an imperfect encoder.

    Each state coordinate gets Gaussian noise of variance ``(1 - r2) / r2`` times its own, so
    that a linear read-out of the states from the noisy copy has population R^2 ``r2``. The
    band tests then condition on noisy neighbours, which no longer block the chain between the
    two tested states: the curve shows how fast that leak erodes the ranking.

    Parameters
    ----------
    trial : PixelsTrial
    r2_levels : sequence of float in (0, 1]
    test : str or callable, default="fisherz"
        Fisher-z is exact here: the world is linear-Gaussian and so is the noise.
    seed : int, default=0
        Seed of the noise.
    **test_options
        Options of a named test.

    Returns
    -------
    pandas.DataFrame
        Columns ``r2``, ``map``, ``accuracy``, ``mcc``.
    """
    _check_trial(trial)
    seed = check_seed(seed)
    levels = as_real_array(r2_levels, "r2_levels")
    if levels.ndim != 1 or not levels.size or not ((levels > 0) & (levels <= 1)).all():
        raise ValueError(f"r2_levels must be numbers in (0, 1]; got {r2_levels!r}.")
    test_options = _test_options(test, test_options, seed)
    rng = np.random.default_rng(seed)
    unit_noise = rng.standard_normal(trial.states.shape) * trial.states.std(axis=0)
    rows = []
    for r2 in levels:
        noisy = trial.states + np.sqrt((1 - r2) / r2) * unit_noise
        found = discover_tasks(noisy, trial.tasks, L=trial.world.L, test=test, **test_options)
        scores = structure_scores(trial.world.assignment, found.segment_tasks)
        rows.append({"r2": r2, "map": mean_average_precision(trial.world.assignment, found.statistics),
                     "accuracy": scores["accuracy"], "mcc": scores["mcc"]})
    return pd.DataFrame(rows)


def video_specialists(trial, representation="latents", *, sparsities=(0.0, 0.05), epochs=100, batch_size=64,
                      step_tasks=None, progress=True):
    """Layer 2 on the video: for each task, a VAE on the features of the steps Layer 1 gave it.

    For task ``g_i`` the observations are the features (of `representation`) at the steps
    that `step_tasks` assigns to it, concatenated; a :class:`~specbook.specialists.vae.SpecialistVAE` with
    one scalar task is fitted for each sparsity. Its task-relevant latents should carry the
    state of the agent whose actions feed ``g_i`` at those steps, and nothing of the other
    agents' (which are independent of the task).

    Parameters
    ----------
    trial : PixelsTrial
    representation : str, default="latents"
        Which features feed the specialist.
    sparsities : sequence of float, default=(0, 0.05)
        ``0`` is the generalist. Chapter 7's lambda for one scalar task (2/3) leaves these
        specialists with no latent at all on a few thousand videos; 0.05 keeps a few (see
        ``benchmarks/results/pixels.md`` and ``benchmarks/results/docstring_figures.md``).
    epochs : int, default=100
    batch_size : int, default=64
        Smaller than the VAE's default so that a few thousand videos still give the mask
        thousands of steps to move.
    step_tasks : ndarray of shape (T, M), bool, optional
        Which steps serve which task; default what Algorithm 1 found on `representation`.
    progress : bool, default=True

    Returns
    -------
    pandas.DataFrame
        One row per (task, sparsity): the steps used, how many latents the task reads, and
        the held-out R^2 of the task's agent's states (``r2_task_agent``) and of the other
        agents' states (``r2_other_agents``) from those latents.
    """
    _check_trial(trial)
    if isinstance(sparsities, str) or not hasattr(sparsities, "__iter__"):
        raise ValueError(f"sparsities must be a sequence of numbers >= 0; got {sparsities!r}.")
    sparsities = [check_real(sparsity, "sparsities", low=0) for sparsity in sparsities]
    epochs, batch_size = check_int(epochs, "epochs", 1), check_int(batch_size, "batch_size", 1)
    progress = check_bool(progress, "progress")
    if not isinstance(representation, str) or representation not in trial.features:
        raise ValueError(f"representation={representation!r} was not run in this trial; it has "
                         f"{list(trial.features)}.")
    world = trial.world
    features = trial.features[representation]
    if step_tasks is None:
        step_tasks = trial.discoveries[representation].step_tasks
    step_tasks = np.asarray(step_tasks)
    if step_tasks.shape != (world.T, world.M) or step_tasks.dtype != bool:
        raise ValueError(f"step_tasks must be a ({world.T}, {world.M}) boolean matrix; got {step_tasks.shape}.")
    n = len(features)
    rows = []
    jobs = [(i, sparsity) for i in range(world.M) for sparsity in sparsities]
    for i, sparsity in progress_bar(jobs, progress=progress, desc="specialists", unit="fit"):
        steps = np.flatnonzero(step_tasks[:, i])
        row = {"task": f"g{i + 1}", "sparsity": sparsity, "steps": (steps + 1).tolist(),
               "agent": int(world.task_agents[i])}
        if steps.size == 0:
            rows.append({**row, "latents_read": 0, "r2_task_agent": np.nan, "r2_other_agents": np.nan})
            continue
        obs = features[:, steps, :].reshape(n, -1)
        model = SpecialistVAE(n_latents=obs.shape[1], n_tasks=1, sparsity=sparsity, epochs=epochs,
                              batch_size=batch_size, seed=trial.seed, progress=False).fit(obs, trial.tasks[:, [i]])
        relevant = model.relevant_latents(0)
        z = model.transform(obs)[:, relevant]
        own = world.agent_columns(row["agent"])
        others = [c for c in range(2 * world.n_agents) if c not in own]
        rows.append({**row, "latents_read": len(relevant),
                     "r2_task_agent": block_r2(trial.states[:, steps][:, :, own].reshape(n, -1), z, seed=trial.seed),
                     "r2_other_agents": (block_r2(trial.states[:, steps][:, :, others].reshape(n, -1), z,
                                                  seed=trial.seed) if others else np.nan)})
    return pd.DataFrame(rows)
