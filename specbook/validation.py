"""Input validation shared by the package: scalars, seeds, devices, sizes, column blocks,
and the (states, tasks, L) of Algorithm 1.

Every check raises a ``ValueError`` whose message names the argument, what it got and
what it needs, so that a bad input never reaches numpy, torch or networkx.
"""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = ["as_columns", "check_bool", "check_choice", "check_device", "check_int", "check_memory",
           "check_probability", "check_real", "check_seed", "check_states_tasks", "MEMORY_LIMIT_ENV"]

#: Environment variable that raises (or lowers) the memory an allocation may ask for, in GiB.
MEMORY_LIMIT_ENV = "SPECBOOK_MEMORY_LIMIT_GB"
_DEFAULT_MEMORY_LIMIT_GB = 8.0


def check_int(value, name, minimum, maximum=None):
    """`value` as an int, after checking it is an integer (not a bool) of at least `minimum`.

    Parameters
    ----------
    value : object
        The argument to check; a Python or numpy integer, not a bool (nor a float, even a
        whole one).
    name : str
        The argument's name, for the message.
    minimum : int
        Smallest value allowed (inclusive).
    maximum : int, optional
        Largest value allowed (inclusive); no upper bound when omitted.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Naming `name`, the allowed range and what it got: "k must be an integer >= 1; got 0."
        without `maximum`, "k must be an integer in [1, 5]; got 7." with it.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum \
            or (maximum is not None and value > maximum):
        need = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {need}; got {value!r}.")
    return int(value)


def check_seed(value, name="seed"):
    """`value` as an int seed: an integer (not a bool) in [0, 2**32), as numpy and torch accept."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2 ** 32:
        raise ValueError(f"{name} must be an integer in [0, 2**32); got {value!r}.")
    return int(value)


def check_real(value, name, *, low=None, high=None, open_low=False, open_high=False):
    """`value` as a finite float (not a bool, not complex) within the optional bounds.

    `low`/`high` are inclusive unless `open_low`/`open_high`.
    """
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if open_low else '>='} {low}")
    if high is not None:
        bounds.append(f"{'<' if open_high else '<='} {high}")
    need = "a finite real number" + (" " + " and ".join(bounds) if bounds else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be {need}; got {value!r}.")
    if (low is not None and (value < low or (open_low and value == low))) or \
            (high is not None and (value > high or (open_high and value == high))):
        raise ValueError(f"{name} must be {need}; got {value!r}.")
    return float(value)


def check_probability(value, name):
    """`value` as a float strictly between 0 and 1 (a significance level, a fraction)."""
    return check_real(value, name, low=0, high=1, open_low=True, open_high=True)


def check_choice(value, name, choices):
    """`value` after checking it is one of `choices` (compared with ``==``, strings included)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_device(device, name="device"):
    """A ``torch.device`` from `device` ('cpu', 'cuda', 'cuda:0', 'mps' or a torch.device), available here."""
    import torch  # only the models need torch; the rest of the package validates without it

    if not isinstance(device, (str, torch.device)):
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda'; got {device!r}.")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda'; got {device!r}.") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={device!r} was requested but CUDA is not available here; use device='cpu'.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name}={device!r} was requested but MPS is not available here; use device='cpu'.")
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'mps'; got {device!r}.")
    return resolved


def check_memory(n_bytes, what, *, fix):
    """Refuse up front an allocation of about `n_bytes` above the memory limit.

    The limit is 8 GiB unless the environment variable ``SPECBOOK_MEMORY_LIMIT_GB`` says
    otherwise; `what` names the allocation and `fix` says how to make it smaller.
    """
    raw = os.environ.get(MEMORY_LIMIT_ENV)
    try:
        limit_gb = _DEFAULT_MEMORY_LIMIT_GB if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"{MEMORY_LIMIT_ENV} must be a number of GiB; got {raw!r}.") from None
    if n_bytes > limit_gb * 2 ** 30:
        raise ValueError(f"{what} would need about {n_bytes / 2 ** 30:,.1f} GiB, above the limit of {limit_gb:g} GiB; "
                         f"{fix} (or raise the limit with the environment variable {MEMORY_LIMIT_ENV}).")


def check_bool(value, name):
    """`value` after checking it is a bool (``True``/``False``, numpy's included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def as_columns(values, name, *, allow_empty=False):
    """A finite float array of shape (n, d) from `values` of shape (n,) or (n, d).

    Raises a ``ValueError`` naming `name` for another number of dimensions, for no columns
    (unless `allow_empty`), and for NaN or inf (giving the first offending entry).
    """
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D (n,) or 2-D (n, d); got an array of shape {array.shape}.")
    if array.shape[1] == 0 and not allow_empty:
        raise ValueError(f"{name} has no columns; it must have shape (n, d) with d >= 1.")
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(f"{name} contains NaN or inf (first at row {row}, column {column}); "
                         "drop or impute those samples first.")
    return array


def _constant_columns(a):
    """Columns whose spread is zero up to rounding (relative to their magnitude)."""
    return np.flatnonzero(a.std(axis=0) <= 1e-12 * (1 + np.abs(a).max(axis=0)))


def check_states_tasks(states, tasks, L, *, min_n=1, pairwise=False, reject_constant=False, caller="this method"):
    """Validate sampled states and tasks for segment length `L`; return them as float arrays (not copied
    when they already are).

    Parameters
    ----------
    states : array-like of shape (n, T, d) or (n, T)
        Sampled state sequences; a 2-D array is read as ``d = 1``.
    tasks : array-like of shape (n, M)
        The task variables.
    L : int
        Segment length, already validated by the caller (whose rules for it differ).
    min_n : int, default=1
        Fewest samples `caller` can work with.
    pairwise : bool, default=False
        `caller` compares pairs of segments, so it needs ``N = T // L >= 2``.
    reject_constant : bool, default=False
        Refuse constant columns of states or tasks (for methods that use every column;
        a CI test checks the columns it is given itself).
    caller : str, default="this method"
        Name used in the messages about `min_n` and `pairwise`.

    Returns
    -------
    states : ndarray of shape (n, T, d), float
    tasks : ndarray of shape (n, M), float

    Raises
    ------
    ValueError
        With a message that names the offending argument and what to do about it.
    """
    states, tasks = np.asarray(states), np.asarray(tasks)
    if states.ndim == 2:
        states = states[:, :, None]
    if states.ndim != 3:
        raise ValueError(f"states must have shape (n, T, d) (or (n, T) for d = 1); got shape {states.shape}.")
    if tasks.ndim != 2:
        hint = " For a single task pass tasks[:, None]." if tasks.ndim == 1 else ""
        raise ValueError(f"tasks must have shape (n, M); got shape {tasks.shape}.{hint}")
    for name, array in (("states", states), ("tasks", tasks)):
        if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise ValueError(f"{name} must hold real numbers (int or float); got dtype {array.dtype}.")
    n, T, d = states.shape
    if tasks.shape[0] != n:
        raise ValueError(f"states and tasks must hold the same samples (the same number of samples n, row i of "
                         f"both from sequence i); got n = {n} for states and n = {tasks.shape[0]} for tasks.")
    if T == 0 or d == 0 or tasks.shape[1] == 0:
        raise ValueError(f"states needs T >= 1 steps and d >= 1 dims, tasks M >= 1 columns; "
                         f"got shapes {states.shape} and {tasks.shape}.")
    states, tasks = states.astype(float, copy=False), tasks.astype(float, copy=False)
    for name, array in (("states", states), ("tasks", tasks)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or inf; remove or impute those samples first.")
    if T % L:
        raise ValueError(f"T must be a multiple of L so that the steps split into equal segments; got T = {T}, "
                         f"L = {L}: trim the sequences to {T - T % L} steps or choose another L.")
    if pairwise and T // L < 2:
        raise ValueError(f"{caller} compares pairs of segments, so it needs at least two segments (T >= 2 L); "
                         f"got T = {T}, L = {L}: choose a smaller L.")
    if n < min_n:
        raise ValueError(f"{caller} needs at least n = {min_n} samples with these settings; got n = {n}.")
    if reject_constant:
        constant = _constant_columns(states.reshape(n, T * d))
        if constant.size:
            steps = sorted({int(c) // d + 1 for c in constant})
            raise ValueError(f"states has constant columns (1-based steps {steps[:10]}); nothing can be learned "
                             "from them: drop those steps or add the missing variation.")
        constant = _constant_columns(tasks)
        if constant.size:
            raise ValueError(f"tasks has constant columns (1-based tasks {[int(c) + 1 for c in constant]}); "
                             "drop those tasks.")
    return states, tasks


def as_real_array(values, name):
    """`values` as a float ndarray, after checking it holds real numbers (bools count as 0/1).

    Refuses, naming `name`, what numpy would reject or misread: ragged nesting, strings,
    complex numbers, None and other objects.
    """
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers; got a ragged or unreadable {type(values).__name__}."
                         ) from None
    if array.dtype != bool and (not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array)):
        raise ValueError(f"{name} must hold real numbers (int or float); got dtype {array.dtype}.")
    return array.astype(float, copy=False)


__all__ += ["as_real_array"]


def check_selected(selected, M, name="selected"):
    """1-based tasks a selection keeps (one task or a sequence of them), as a sorted tuple of distinct
    tasks in 1..M."""
    if isinstance(selected, (numbers.Integral, np.integer)) and not isinstance(selected, (bool, np.bool_)):
        selected = [selected]
    if isinstance(selected, (str, bytes)) or not hasattr(selected, "__iter__"):
        raise ValueError(f"{name} must be a 1-based task or a list of them, in 1..M = 1..{M}; got {selected!r}.")
    tasks = [check_int(i, name, 1, M) for i in selected]
    if not tasks or len(set(tasks)) != len(tasks):
        raise ValueError(f"{name} must name at least one task, each once (1-based, in 1..{M}); got {selected!r}.")
    return tuple(sorted(tasks))


def check_pixels(array, name):
    """`array` after checking its values are finite pixel intensities in [0, 1].

    The models read images as intensities in [0, 1] (a sigmoid draws them, a Bernoulli
    likelihood scores them); 0-255 pixels would be read as saturated, so they are refused
    with the fix.
    """
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf.")
    if array.size and (array.min() < 0 or array.max() > 1):
        hint = ": divide 0-255 pixels by 255" if array.max() > 1 else ""
        raise ValueError(f"{name} must have values in [0, 1]; got [{array.min():.3g}, {array.max():.3g}]{hint}.")
    return array


__all__ += ["check_pixels", "check_selected"]
