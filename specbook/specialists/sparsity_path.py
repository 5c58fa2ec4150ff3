"""Choosing :class:`~specbook.SpecialistVAE`'s l1 weights from the data (``sparsity="auto"``).

The paper gives no rule for lambda, and no single value serves every world: too small leaves
a superset of the relevant latents open, too large closes relevant ones, and where the window
between lies moves with the world (issue 20; ``benchmarks/results/sparsity_auto.md``). The rule
here (our design) needs no true supports:

1. Hold out a fifth of the samples.
2. Train at ``lambda = 0`` for a fifth of the epochs (the latents form), then walk a geometric
   path of lambdas, :data:`PATH_SPARSITIES`, a tenth of the epochs per level (at least one each:
   with fewer than 10 epochs the path costs more than a fit), warm-started: the mask closes
   gradually while the representation aligns with it, instead of in one jump.
3. After each level, score every task on the held-out samples (its mean squared error, as it is
   trained: closed latents replaced by noise). A task whose error rises past its best so far by
   more than ``max(FREEZE_STANDARD_ERRORS * SE, FREEZE_RELATIVE * best)`` has lost a latent it
   needs: its lambda is frozen at the previous level, and its mask and head go back to their
   state there. The others go on along the path.
4. Refit from scratch with each task's lambda (on the four fifths), and check each task's held-out
   error against its best on the path: a task out of tolerance has its lambda halved (about one level
   down the path) and the model is refitted, at most :data:`MAX_REFITS` times in all. A refit trains
   longer at each lambda than the path did, so its masks close further: the check catches a lambda
   that closes a needed latent only at the end of a full fit.

A task whose error never rises ends on the last (largest) level.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..progress import progress_bar

__all__ = ["FREEZE_RELATIVE", "FREEZE_STANDARD_ERRORS", "HELD_OUT_SHARE", "MASK_LEARNING_RATE_FACTOR", "MAX_REFITS",
           "PATH_SPARSITIES", "fit_auto", "held_out_errors", "held_out_split", "out_of_tolerance", "sparsity_path"]

#: The lambdas walked, smallest first (geometric, ratio about 1.94).
PATH_SPARSITIES = tuple(float(value) for value in np.geomspace(0.05, 10.0, 9))

#: Share of the samples held out to score the tasks along the path.
HELD_OUT_SHARE = 0.2

#: A task is frozen when its held-out error exceeds its best by this many standard errors ...
FREEZE_STANDARD_ERRORS = 3.0

#: ... and by this share of the best (both must be exceeded: the larger margin counts).
FREEZE_RELATIVE = 0.5

#: With ``sparsity="auto"`` and no `mask_learning_rate`, the mask learns this many times faster than
#: the rest: Adam moves a logit by about one learning rate a step, and the path gives each level a
#: tenth of the epochs.
MASK_LEARNING_RATE_FACTOR = 3.0

#: Fits after the path at most: the first with the chosen lambdas, each further one after halving the
#: lambdas of the tasks still out of tolerance.
MAX_REFITS = 3

_WARM_UP_SHARE, _LEVEL_SHARE = 0.2, 0.1   # of `epochs`: at lambda = 0 first, then per level
_NOISE_DRAWS = 4                           # noise draws averaged in a held-out score


def held_out_split(n, seed):
    """Rows ``(fit, held_out)`` of `n` samples: a random :data:`HELD_OUT_SHARE` held out."""
    order = np.random.default_rng(seed).permutation(n)
    n_held_out = int(round(HELD_OUT_SHARE * n))
    return np.sort(order[n_held_out:]), np.sort(order[:n_held_out])


def held_out_errors(model, x, u, seed):
    """Per sample and task, the squared error of the task heads (mean over outputs), noisy gate as in training.

    Returns
    -------
    ndarray of shape (n, n_tasks)
    """
    network = model.network_
    generator = torch.Generator(device=model.device).manual_seed(seed)
    with torch.no_grad():
        mean = network.encoder(x)[:, : model.n_latents]
        errors = 0.0
        for _ in range(_NOISE_DRAWS):
            noise = model._noise((len(x), model.n_tasks, model.n_latents), generator)
            errors = errors + ((u - network.heads(network.heads.gate(mean, noise))) ** 2).mean(dim=2)
    return (errors / _NOISE_DRAWS).cpu().numpy().astype(np.float64)


def _reconstruction_error(model, x):
    with torch.no_grad():
        network = model.network_
        return float(((x - network.decoder(network.encoder(x)[:, : model.n_latents])) ** 2).mean())


def _task_parameters(network):
    """The parameters that belong to one task each (task on axis 0)."""
    heads = network.heads
    return [heads.mask_logits, heads.head_w1, heads.head_b1, heads.head_w2, heads.head_b2, network.task_log_sd]


def out_of_tolerance(errors, best, best_se):
    """Whether each task's held-out error has risen past its best by more than the freezing margin."""
    return errors > best + np.maximum(FREEZE_STANDARD_ERRORS * best_se, FREEZE_RELATIVE * best)


def _scores(model, stage, level, sparsity, frozen, x_held_out, u_held_out):
    """Each task's held-out error and its standard error, and a row of the path per task."""
    errors = held_out_errors(model, x_held_out, u_held_out, seed=model.seed + 1)
    means, standard_errors = errors.mean(axis=0), errors.std(axis=0) / np.sqrt(len(errors))
    sizes, reconstruction = model.support_.sum(axis=1), _reconstruction_error(model, x_held_out)
    rows = [{"stage": stage, "level": level, "task": k, "sparsity": float(sparsity[k]),
             "support_size": int(sizes[k]), "task_error": float(means[k]), "task_error_se": float(standard_errors[k]),
             "reconstruction_error": reconstruction, "frozen": bool(frozen[k])} for k in range(model.n_tasks)]
    return means, standard_errors, rows


def sparsity_path(model, x, u, x_held_out, u_held_out):
    """Walk :data:`PATH_SPARSITIES` on a new network of `model`; each task's lambda and the path's rows.

    `model` is a :class:`~specbook.SpecialistVAE` (its `epochs`, `learning_rate`, seed and
    loss); `x`, `u` the standardised training tensors, and the held-out ones. Each row of the
    path is one (level, task): ``stage`` ("path"), ``level`` (0: the warm-up at lambda = 0),
    ``sparsity``, ``support_size``, ``task_error`` and ``task_error_se`` (held-out),
    ``reconstruction_error`` (held-out, the decoder on the posterior means), ``frozen``.

    Returns
    -------
    sparsity : tuple of float
        Per task: the level before the one at which it was frozen, or the last level.
    rows : list of dict
    best, best_se : ndarray of shape (n_tasks,)
        Each task's best held-out error along the path and its standard error.
    """
    n_tasks = model.n_tasks
    model._build_network(u.shape[2])
    optimiser = model._optimiser()
    generator = torch.Generator(device=model.device).manual_seed(model.seed)
    warm_up = max(1, round(_WARM_UP_SHARE * model.epochs))
    per_level = max(1, round(_LEVEL_SHARE * model.epochs))
    bar = progress_bar(total=warm_up + per_level * len(PATH_SPARSITIES), progress=model.progress,
                       desc="SpecialistVAE sparsity path", unit="epoch")

    def train(epochs, sparsity):
        model._l1_weight = torch.tensor(sparsity, dtype=torch.float32, device=model.device)[:, None]
        for _ in range(epochs):
            for batch in torch.randperm(len(x), generator=generator, device=model.device).split(model.batch_size):
                loss = model._loss_terms(x[batch], u[batch], generator)[0]
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            bar.update()

    chosen, frozen = np.zeros(n_tasks), np.zeros(n_tasks, dtype=bool)
    train(warm_up, chosen)
    best, best_se, rows = _scores(model, "path", 0, chosen, frozen, x_held_out, u_held_out)
    previous = (chosen.copy(), [parameter.detach().clone() for parameter in _task_parameters(model.network_)])
    for level, value in enumerate(PATH_SPARSITIES, start=1):
        sparsity = np.where(frozen, chosen, value)
        train(per_level, sparsity)
        errors, standard_errors, level_rows = _scores(model, "path", level, sparsity, frozen, x_held_out, u_held_out)
        newly_frozen = ~frozen & out_of_tolerance(errors, best, best_se)
        with torch.no_grad():
            for parameter, kept in zip(_task_parameters(model.network_), previous[1]):
                parameter[newly_frozen] = kept[newly_frozen]
        chosen[newly_frozen] = previous[0][newly_frozen]
        frozen |= newly_frozen
        improved = ~frozen & (errors < best)
        best[improved], best_se[improved] = errors[improved], standard_errors[improved]
        rows += [{**row, "frozen": bool(frozen[row["task"]])} for row in level_rows]
        if frozen.all():
            break
        previous = (sparsity, [parameter.detach().clone() for parameter in _task_parameters(model.network_)])
    bar.close()
    chosen[~frozen] = PATH_SPARSITIES[-1]
    return tuple(float(value) for value in chosen), rows, best, best_se


def fit_auto(model, x, u):
    """``sparsity="auto"``: choose `model`'s weights on a held-out fifth, then refit on the rest.

    Sets ``model.sparsity_`` and ``model.sparsity_path_``; returns the rows fitted on, ``(x, u)``.
    """
    fit_rows, held_out_rows = (torch.as_tensor(rows, device=model.device) for rows in held_out_split(len(x),
                                                                                                     model.seed))
    (x, u), held_out = (x[fit_rows], u[fit_rows]), (x[held_out_rows], u[held_out_rows])
    sparsity, rows, best, best_se = sparsity_path(model, x, u, *held_out)
    for refit in range(MAX_REFITS):
        model.sparsity_ = sparsity
        model._train(x, u)
        stage = "refit" if refit == 0 else f"refit {refit + 1}"
        errors, _, refit_rows = _scores(model, stage, None, sparsity, np.ones(model.n_tasks, dtype=bool), *held_out)
        rows += refit_rows
        failed = out_of_tolerance(errors, best, best_se)
        if not failed.any():
            break
        sparsity = tuple(value / 2 if bad else value for value, bad in zip(sparsity, failed))
    model.sparsity_path_ = pd.DataFrame(rows).astype({"level": "Int64"})
    return x, u
