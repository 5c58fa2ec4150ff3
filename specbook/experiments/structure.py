"""Structure-recovery trials: run discovery methods on sampled worlds and score them."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
from joblib import delayed

from ..tasks import baselines
from ..worlds.collider import ColliderWorld
from ..tasks.discovery import TaskDiscovery, _check_conditioning, _check_query, discover_tasks, query_cells
from ..metrics import structure_scores
from ..ci import get_ci_test
from ..tasks.multitest import check_alpha, check_correction, reject
from ..parallel import run_parallel
from ..progress import progress_bar
from ..validation import check_bool, check_int, check_seed

__all__ = ["RULES", "SUMMARY_COLUMNS", "algorithm1", "recorrect", "under_rules", "structure_trials", "like_for_like",
           "head_to_head"]

#: The multiple-testing rules compared like for like: the key used in metric names, and the
#: :data:`~specbook.tasks.multitest.CORRECTIONS` entry (``None``: the paper's uncorrected rule).
RULES = {"uncorrected": None, "bonferroni": "bonferroni", "holm": "holm", "bh": "bh"}


def algorithm1(test="fisherz", alpha=0.05, correction=None, *, query="collider", conditioning="band",
               **test_options):
    """Algorithm 1 as a method for :func:`structure_trials` (a callable ``(states, tasks, L)``).

    `query` and `conditioning` are :func:`~specbook.discover_tasks`'s; the other keyword
    arguments are the CI test's options. `alpha`, `correction`, `query`, `conditioning` and a
    test named by a string are checked here, not at the first world.
    """
    check_alpha(alpha)
    check_correction(correction)
    _check_conditioning(conditioning, _check_query(query))
    get_ci_test(test, **test_options)

    def method(states, tasks, L):
        return discover_tasks(states, tasks, L=L, test=test, alpha=alpha, correction=correction, query=query,
                              conditioning=conditioning, **test_options)
    return method


def recorrect(found, correction):
    """The same run of Algorithm 1 or of a test-based baseline, decided under another rule.

    The p-values of one run are kept and :func:`~specbook.tasks.multitest.reject` is applied to
    them again, so the labels equal those of running the method again with
    ``correction=correction`` (the tests are handed to ``reject`` in the order the method
    runs them, so even ties among p-values are broken alike).

    Parameters
    ----------
    found : TaskDiscovery or BaselineResult
        A result of :func:`~specbook.discover_tasks`, :func:`~specbook.tasks.baselines.cca_tasks`
        or :func:`~specbook.tasks.baselines.seltask_tasks`.
    correction : {None, "bonferroni", "holm", "bh", "by"}

    Returns
    -------
    TaskDiscovery or BaselineResult
        Of the same kind as `found`, with the new labels; ``seconds`` adds the time of the
        re-decision to the original run's.

    Examples
    --------
    >>> import specbook as sb
    >>> data = sb.ColliderWorld(T=8, M=2, L=2, seed=0).sample(n=2_000, seed=1)
    >>> found = sb.discover_tasks(data.states, data.tasks, L=2)
    >>> holm = recorrect(found, "holm")
    >>> bool((holm.segment_tasks
    ...       == sb.discover_tasks(data.states, data.tasks, L=2, correction="holm").segment_tasks).all())
    True
    """
    if not isinstance(found, TaskDiscovery):
        return baselines.recorrect(found, correction)  # which refuses anything but a BaselineResult
    start = time.perf_counter()
    correction = check_correction(correction)
    M, N, _ = found.pvalues.shape
    k, v = query_cells(found.query, N)
    decisions = reject(found.pvalues[:, k, v].ravel(), found.alpha, correction)  # task-major, as discover_tasks
    D = np.zeros((M, N, N), dtype=bool)
    D[:, k, v] = decisions.reshape(M, k.size)
    segment_tasks = (D | D.transpose(0, 2, 1)).any(axis=2).T
    return dataclasses.replace(found, segment_tasks=segment_tasks,
                               step_tasks=np.repeat(segment_tasks, found.L, axis=0), pair_dependent=D,
                               correction=correction, seconds=found.seconds + time.perf_counter() - start)


def under_rules(method, rules=None):
    """One method run once per world and decided under several multiple-testing rules.

    Parameters
    ----------
    method : callable
        ``method(states, tasks, L)`` returning a result that :func:`recorrect` accepts
        (Algorithm 1, CCA or SelTask); whichever rule it used itself does not matter.
    rules : dict of str to str or None, optional
        Rule name to :data:`~specbook.tasks.multitest.CORRECTIONS` entry; :data:`RULES` by default.

    Returns
    -------
    callable
        ``(states, tasks, L)`` to a dict of rule name to result, which
        :func:`structure_trials` scores as one row per rule (column ``rule``).
    """
    if not callable(method):
        raise ValueError(f"method must be a callable method(states, tasks, L); got {method!r}.")
    if rules is not None and not isinstance(rules, Mapping):
        raise ValueError(f"rules must be a dict of rule name to correction (see RULES); got {rules!r}.")
    rules = dict(RULES if rules is None else rules)
    for correction in rules.values():
        check_correction(correction)

    def method_under_rules(states, tasks, L):
        found = method(states, tasks, L)
        return {name: recorrect(found, correction) for name, correction in rules.items()}
    return method_under_rules


def structure_trials(methods, *, T, M, L=2, n_samples, seeds, world_options=None, n_jobs=1, progress=True):
    """Score each method on one sampled world per seed.

    Parameters
    ----------
    methods : dict of str to callable
        ``method(states, tasks, L)`` returning an object with ``segment_tasks`` (N, M) bool,
        or a dict of rule name to such objects (see :func:`under_rules`), scored as one row
        per rule with the rule in the column ``rule``.
    T, M, L : int
        World shape (see :class:`~specbook.ColliderWorld`).
    n_samples : int
        Sequences sampled per world.
    seeds : iterable of int
        One world per seed (world seed ``seed``, sampling seed ``seed + 1``).
    world_options : dict, optional
        Further :class:`~specbook.ColliderWorld` arguments (``mechanism``, ``task_noise``, ...).
    n_jobs : int, default=1
        Worlds scored at once, in worker processes or on a Dask cluster (see
        :func:`~specbook.parallel.run_parallel`). The scores do not depend on it; the
        ``seconds`` do, a little, when the workers share the cores.
    progress : bool, default=True
        A bar over the worlds (updated as each one is scored when ``n_jobs == 1``).

    Returns
    -------
    pandas.DataFrame
        One row per seed and method (and rule): the setting, ``seconds`` (for a method
        under several rules, the one run plus its re-decision), ``base_rate`` (the share
        of segment-task entries that are true in the world) and the scores of
        :func:`~specbook.metrics.structure_scores`.
    """
    if not isinstance(methods, Mapping) or not methods or not all(callable(m) for m in methods.values()):
        raise ValueError(f"methods must be a non-empty dict of name to callable method(states, tasks, L); "
                         f"got {methods!r}.")
    if world_options is not None and not isinstance(world_options, Mapping):
        raise ValueError(f"world_options must be a dict of ColliderWorld arguments; got {world_options!r}.")
    world_options = dict(world_options or {})
    clash = sorted(set(world_options) & {"T", "M", "L", "seed"})
    if clash:
        raise ValueError(f"world_options must not set {clash}: T, M and L are arguments of structure_trials, and "
                         "each world's seed comes from seeds.")
    n_samples = check_int(n_samples, "n_samples", 1)
    n_jobs = check_int(n_jobs, "n_jobs", 1)
    progress = check_bool(progress, "progress")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"seeds must be a list of integer seeds; got {seeds!r}.")
    seeds = [check_seed(seed, "seeds[...]") for seed in seeds]
    if seeds and max(seeds) == 2 ** 32 - 1:
        raise ValueError("seeds must be below 2**32 - 1: each world samples with seed + 1.")
    T, M, L = check_int(T, "T", 2), check_int(M, "M", 1), check_int(L, "L", 1)
    if T % L:
        raise ValueError(f"T must be a multiple of L so that the steps split into equal segments; got T={T}, L={L}.")
    bar = progress_bar(total=len(seeds), desc=f"T={T} M={M} n={n_samples}", progress=progress, leave=False)
    if n_jobs == 1:
        per_world = []
        for seed in seeds:
            per_world.append(_score_world(methods, T, M, L, n_samples, seed, world_options))
            bar.update()
    else:
        per_world = run_parallel([delayed(_score_world)(methods, T, M, L, n_samples, seed, world_options)
                                  for seed in seeds], n_jobs)
        bar.update(len(seeds))
    bar.close()
    return pd.DataFrame([row for rows in per_world for row in rows])


def _score_world(methods, T, M, L, n_samples, seed, world_options):
    """The rows of :func:`structure_trials` for the world of one seed."""
    world = ColliderWorld(T=T, M=M, L=L, seed=seed, **world_options)
    data = world.sample(n=n_samples, seed=seed + 1)
    rows = []
    base_rate = float(np.mean(world.assignment))
    for name, method in methods.items():
        start = time.perf_counter()
        found = method(data.states, data.tasks, L)
        seconds = time.perf_counter() - start
        by_rule = found.items() if isinstance(found, Mapping) else [(None, found)]
        for rule, result in by_rule:
            rows.append({"method": name, **({} if rule is None else {"rule": rule}), "seed": seed, "T": T,
                         "M": M, "L": L, "n": n_samples, **world_options, "seconds": seconds,
                         "base_rate": base_rate, **structure_scores(world.assignment, result.segment_tasks)})
    return rows


#: The columns of :func:`like_for_like`, after ``seeds``.
SUMMARY_COLUMNS = ("accuracy_at_T", "accuracy_at_T_sd", "accuracy_all_T", "accuracy_all_T_sd",
                   "mcc_mean", "mcc_mean_sd", "mcc_slope", "mcc_slope_sd")


def _keyed(trials, needed):
    """`trials` with a ``rule`` column ("" for methods without one), checked for one row per setting."""
    missing = set(needed) - set(trials.columns)
    if missing:
        raise ValueError(f"the trials lack the columns {sorted(missing)}.")
    trials = trials.copy()
    trials["rule"] = trials["rule"].fillna("").astype(str) if "rule" in trials else ""
    setting = [c for c in ("method", "rule", "seed", "T", "M") if c in trials]
    if trials.duplicated(setting).any():
        raise ValueError(f"the trials have more than one row per {setting}: score one world per seed and setting.")
    return trials


def _slope(x, y):
    """Least-squares slope of y on x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.unique(x).size < 2:
        raise ValueError("a slope needs at least two different values of M per seed.")
    dx = x - x.mean()
    return float(dx @ (y - y.mean()) / (dx @ dx))


def _mean_sd(per_seed, keys):
    grouped = per_seed.groupby(level=keys, sort=False)
    return grouped.mean(), grouped.std(ddof=1)


def like_for_like(horizon_trials, task_trials, *, T=None, chance=True):
    """Every method under every rule on the same worlds: accuracy over the horizon, MCC over M.

    The table behind chapter 5's comparison. Each statistic is first computed per seed
    (one world per seed and setting, the same worlds for every method), then summarised
    over the seeds as a mean and a standard deviation (``ddof=1``).

    Parameters
    ----------
    horizon_trials : pandas.DataFrame
        Rows of :func:`structure_trials` over several horizons (panel (a)): columns
        ``method``, ``seed``, ``T``, ``accuracy``, ``base_rate`` and, for methods run
        :func:`under_rules`, ``rule``.
    task_trials : pandas.DataFrame
        Rows of :func:`structure_trials` over several task counts at one horizon
        (panel (b)): columns ``method``, ``seed``, ``M``, ``mcc`` (and ``rule``).
    T : int, optional
        Horizon of ``accuracy_at_T``; the largest in `horizon_trials` by default.
    chance : bool, default=True
        Add the row ``("chance", "")``: the accuracy of the best constant labelling of each
        world (all false or all true, ``max(p, 1 - p)`` with ``p`` the world's share of true
        segment-task entries). A constant labelling has MCC 0 on every world, so its MCC
        columns are 0.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(method, rule)``, ``rule`` being ``""`` for a method without one, in
        the order the methods first appear; columns ``seeds`` (number of seeds at `T`) and
        :data:`SUMMARY_COLUMNS`: ``accuracy_at_T`` (accuracy at `T`), ``accuracy_all_T``
        (per seed, the mean accuracy over the horizons), ``mcc_mean`` (per seed, the mean
        MCC over M), ``mcc_slope`` (per seed, the least-squares slope of MCC against M),
        each followed by its ``_sd`` over seeds (NaN with one seed).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"method": "m", "seed": [0, 0, 1, 1], "T": [8, 20, 8, 20],
    ...                   "accuracy": [1.0, 0.8, 0.9, 0.7], "base_rate": 0.25})
    >>> b = pd.DataFrame({"method": "m", "seed": [0, 0, 1, 1], "M": [2, 4, 2, 4], "mcc": [0.9, 0.7, 0.8, 0.8]})
    >>> like_for_like(a, b).loc[("m", ""), ["accuracy_at_T", "accuracy_all_T", "mcc_slope"]].round(3).tolist()
    [0.75, 0.85, -0.05]
    """
    for name, trials in (("horizon_trials", horizon_trials), ("task_trials", task_trials)):
        if not isinstance(trials, pd.DataFrame):
            raise ValueError(f"{name} must be a pandas DataFrame of structure_trials rows; "
                             f"got {type(trials).__name__}.")
    chance = check_bool(chance, "chance")
    a = _keyed(horizon_trials, ("method", "seed", "T", "accuracy", "base_rate"))
    b = _keyed(task_trials, ("method", "seed", "M", "mcc"))
    T = int(a["T"].max()) if T is None else check_int(T, "T", 2)
    if not (a["T"] == T).any():
        raise ValueError(f"the horizon trials have no rows at T = {T}.")
    keys = ["method", "rule"]
    by_seed = keys + ["seed"]
    per_seed = {
        "accuracy_at_T": a[a["T"] == T].groupby(by_seed, sort=False).accuracy.mean(),
        "accuracy_all_T": a.groupby(by_seed, sort=False).accuracy.mean(),
        "mcc_mean": b.groupby(by_seed, sort=False).mcc.mean(),
        "mcc_slope": b.groupby(by_seed, sort=False)[["M", "mcc"]].apply(lambda g: _slope(g.M, g.mcc)),
    }
    table = pd.DataFrame({"seeds": per_seed["accuracy_at_T"].groupby(level=keys, sort=False).size()})
    for name, values in per_seed.items():
        table[name], table[f"{name}_sd"] = _mean_sd(values, keys)
    if chance:
        worlds = a.drop_duplicates(["seed", "T"]).assign(accuracy=lambda w: np.maximum(w.base_rate, 1 - w.base_rate))
        worlds = worlds.assign(method="chance", rule="").set_index(by_seed)
        best = {"accuracy_at_T": worlds[worlds["T"] == T].accuracy,
                "accuracy_all_T": worlds.accuracy.groupby(level=by_seed).mean()}
        row = {"seeds": best["accuracy_at_T"].size}
        for name, values in best.items():
            mean, sd = _mean_sd(values, keys)
            row[name], row[f"{name}_sd"] = float(mean.iloc[0]), float(sd.iloc[0])
        row.update(dict.fromkeys(("mcc_mean", "mcc_mean_sd", "mcc_slope", "mcc_slope_sd"), 0.0))
        table.loc[("chance", ""), list(row)] = list(row.values())
    table["seeds"] = table["seeds"].astype(int)
    return table[["seeds", *SUMMARY_COLUMNS]]


def head_to_head(table, first, second, column="accuracy_at_T"):
    """Two methods of a :func:`like_for_like` table compared under each rule they share.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`like_for_like`.
    first, second : str
        Method names (the ``method`` level of the index).
    column : str, default="accuracy_at_T"
        A statistic of :data:`SUMMARY_COLUMNS` without ``_sd`` (higher is better, except
        that for ``mcc_slope`` a flatter, i.e. larger, slope is better too).

    Returns
    -------
    pandas.DataFrame
        Indexed by rule: the two means, their sds, ``difference`` (first minus second) and
        ``first_ahead`` (True where the first method's mean is higher).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"accuracy_at_T": [0.9, 0.8], "accuracy_at_T_sd": [0.01, 0.02]},
    ...                  index=pd.MultiIndex.from_tuples([("a", "holm"), ("b", "holm")], names=["method", "rule"]))
    >>> head_to_head(t, "a", "b").first_ahead.tolist()
    [True]
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a like_for_like DataFrame; got {type(table).__name__}.")
    if not isinstance(column, str) or column.endswith("_sd") or column not in table:
        raise ValueError(f"column must be one of {[c for c in SUMMARY_COLUMNS if not c.endswith('_sd')]}; "
                         f"got {column!r}.")
    methods = table.index.get_level_values("method") if "method" in (table.index.names or []) else []
    missing = [m for m in (first, second) if m not in set(methods)]
    if missing:
        raise ValueError(f"table has no method {missing[0]!r}; its methods are {sorted(set(map(str, methods)))}.")
    one, two = table.xs(first, level="method"), table.xs(second, level="method")
    rules = [rule for rule in one.index if rule in two.index]
    if not rules:
        raise ValueError(f"{first!r} and {second!r} share no rule.")
    out = pd.DataFrame({first: one.loc[rules, column], f"{first} sd": one.loc[rules, f"{column}_sd"],
                        second: two.loc[rules, column], f"{second} sd": two.loc[rules, f"{column}_sd"]})
    out["difference"] = out[first] - out[second]
    out["first_ahead"] = out["difference"] > 0
    out.index.name = "rule"
    return out
