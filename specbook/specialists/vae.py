"""A VAE with task heads behind a task-latent mask: the generalist and the specialist (Layer 2).

The model encodes an observation into latents ``z``, decodes ``z`` back, and predicts
each task ``k`` from the latents its mask row ``m_k`` lets through. With ``sparsity = 0``
it is the *generalist* of Proposition 2 (reconstruction + task fit); with
``sparsity = lambda > 0`` the loss adds ``lambda * ||M||_1``, the paper's l1 surrogate for
the support size in Theorem 2.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch
from torch import nn

from .masking import MaskedTaskHeads
from .sparsity_path import MASK_LEARNING_RATE_FACTOR, fit_auto
from .._torch import adam, one_thread
from ..progress import progress_bar
from ..validation import as_real_array, check_bool, check_device, check_int, check_memory, check_real, check_seed

__all__ = ["SpecialistVAE"]

#: A task whose training R^2 is at most this is reported as predicted no better than by its mean.
NO_BETTER_THAN_THE_MEAN = 0.01
_MIN_AUTO_SAMPLES = 50        # sparsity="auto" holds out a fifth: at least 10 samples to score the tasks on
_MIN_LOG_SD = math.log(1e-2)  # floor of the learned noise levels, so the likelihood stays bounded


def _check_matrix(values, name, columns=None):
    """`values` as a float (n, d) array with n >= 1 and d >= 1 real, finite entries."""
    array = as_real_array(values, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n_samples, n_features); got ndim = {array.ndim}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sample and one column; got shape {array.shape}.")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} must have {columns} columns; got shape {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf; remove or impute those samples first.")
    return array


def _check_tasks(tasks, n_tasks):
    array = as_real_array(tasks, "tasks")
    if array.ndim not in (2, 3):
        raise ValueError(
            f"tasks must have shape (n, n_tasks) or (n, n_tasks, task_dim); got ndim = {array.ndim}."
        )
    if array.shape[1] != n_tasks:
        raise ValueError(f"tasks must have n_tasks = {n_tasks} columns (axis 1); got shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"tasks must have at least one sample; got shape {array.shape}.")
    if array.ndim == 3 and array.shape[2] == 0:
        raise ValueError(f"tasks must have task_dim >= 1 outputs per task (axis 2); got shape {array.shape}.")
    return _check_matrix(array.reshape(len(array), -1), "tasks").reshape(array.shape)


def _check_sparsity(sparsity, n_tasks):
    """A float >= 0, a tuple of `n_tasks` of them (one per task), or ``"auto"``."""
    if isinstance(sparsity, str):
        if sparsity != "auto":
            raise ValueError(f"sparsity must be a number >= 0, one per task, or 'auto'; got {sparsity!r}.")
        return sparsity
    if isinstance(sparsity, (list, tuple, np.ndarray)):
        values = tuple(check_real(value, f"sparsity[{k}]", low=0) for k, value in enumerate(np.ravel(sparsity)))
        if np.ndim(sparsity) != 1 or len(values) != n_tasks:
            raise ValueError(f"sparsity must be one number or one per task (n_tasks = {n_tasks}); got "
                             f"{np.shape(sparsity)} values.")
        return values
    return check_real(sparsity, "sparsity", low=0)


def _mlp(n_in, hidden, n_out):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                         nn.Linear(hidden, n_out))


class _Network(nn.Module):
    def __init__(self, obs_dim, n_latents, n_tasks, task_dim, hidden, task_hidden):
        super().__init__()
        self.encoder = _mlp(obs_dim, hidden, 2 * n_latents)
        self.decoder = _mlp(n_latents, hidden, obs_dim)
        self.obs_log_sd = nn.Parameter(torch.zeros(obs_dim))
        self.heads = MaskedTaskHeads(n_latents, n_tasks, task_dim, task_hidden)
        self.task_log_sd = nn.Parameter(torch.zeros(n_tasks, task_dim))


class SpecialistVAE:
    """Variational autoencoder whose task heads read the latents through a sparse mask.

    Architecture (our choice; the paper gives none): encoder and decoder are MLPs with two
    hidden layers of `hidden` SiLU units; the encoder outputs a diagonal Gaussian posterior,
    the decoder a Gaussian with a learned noise level per observed dimension. Task ``k`` is
    predicted by its own MLP (`task_hidden` SiLU units) from the *gated* latents

        ``m_k * z + (1 - m_k) * eps``,  ``eps ~ N(0, I)`` fresh for every sample,

    where ``m_k = sigmoid(mask logits)`` is row ``k`` of the mask ``M`` in (0, 1). A closed
    entry replaces its latent by noise rather than scaling it down: with a plain product
    ``m_k * z`` the head could undo any small ``m`` by larger weights and the l1 penalty
    would shrink nothing. At prediction time ``eps = 0``.

    The loss per sample is the Gaussian negative log-likelihood of the observation,
    ``beta`` times the KL divergence to ``N(0, I)``, `task_weight` times the Gaussian
    negative log-likelihood of the tasks (learned noise level per task output), plus
    ``sparsity * sum(M)`` (after `l1_warmup_epochs`). Observations and tasks are standardised inside the model.

    Parameters
    ----------
    n_latents : int, default=8
    n_tasks : int, default=3
    sparsity : float, sequence of float, or "auto", default=2.0
        Weight ``lambda`` of the l1 penalty on the mask; 0 gives the generalist. Its scale
        is set by the task likelihood, which is summed over a task's outputs: 2.0 recovers
        the supports of :func:`specbook.worlds.latent.example_world` (three outputs per task); with
        scalar tasks the same pressure is about a third of it. A sequence of `n_tasks` values
        gives each task its own weight (the penalty is ``sum_k lambda_k * sum(m_k)``).
        ``"auto"`` chooses one weight per task from the data, without the true supports: a
        fifth of the samples is held out, a warm-started path of weights is walked while each
        task's held-out error is watched, each task keeps the last weight before its error
        rose, and the model is refitted on the other four fifths with those weights, halving
        the weight of a task whose held-out error is then out of tolerance
        (:mod:`specbook.specialists.sparsity_path` gives the rule; it costs about 2 to 4 fits).
    hidden : int, default=64
        Width of the encoder's and decoder's hidden layers.
    task_hidden : int, default=32
        Width of each task head's hidden layer.
    beta : float, default=1.0
        Weight of the KL term.
    task_weight : float, default=1.0
        Weight of the task likelihood.
    epochs : int, default=100
    batch_size : int, default=256
    learning_rate : float, default=3e-3
        Adam's initial learning rate (cosine decay to 0 over the epochs).
    mask_learning_rate : float, optional
        Adam's initial learning rate for the mask logits alone (same decay); default
        `learning_rate`, or 3 times it with ``sparsity="auto"``. Adam moves a logit by about
        one learning rate per step whatever the penalty, so this sets how fast a mask entry
        can close within the epochs.
    mask_threshold : float, default=0.5
        A mask entry above this counts as an open (relevant) latent in :attr:`support_`.
    device : str, default="cpu"
        Torch device; ``"cuda"`` needs a visible GPU.
    progress : bool, default=True
        Show a progress bar with the loss while fitting.
    l1_warmup_epochs : int, default=1
        Epochs trained without the l1 penalty first, so that latents form before the mask
        starts closing; ``benchmarks/specialist.py`` compares 0 and 1.
    seed : int, default=0
        Seeds the initialisation, the mini-batches and every noise draw; results are
        deterministic on CPU, where fitting runs on one thread (the networks are small:
        one thread is faster, and the numbers do not depend on the machine's core count).

    Attributes
    ----------
    mask_ : ndarray of shape (n_tasks, n_latents)
        The fitted mask ``M``, entries in (0, 1).
    support_ : ndarray of shape (n_tasks, n_latents), bool
        ``mask_ > mask_threshold``.
    sparsity_ : float or tuple of float
        The l1 weight the model was fitted with: `sparsity`, or the chosen one per task.
    sparsity_path_ : pandas.DataFrame
        With ``sparsity="auto"`` only: one row per (level, task) of the path - ``stage``
        ``"path"``, ``level`` (0 is the warm-up at 0), ``sparsity``, ``support_size``, the
        held-out ``task_error`` (mean squared error of the standardised outputs) and
        ``task_error_se``, the held-out ``reconstruction_error``, and whether the task is
        ``frozen`` - then a row per task for each refit (``stage`` ``"refit"``, then
        ``"refit 2"`` and ``"refit 3"`` when a task's error was out of tolerance after the
        previous one and its weight was halved; ``level`` missing).
    history_ : list of dict
        Per epoch: mean ``loss``, ``reconstruction``, ``kl``, ``task`` and ``l1`` terms.
    task_r2_ : ndarray of shape (n_tasks,)
        Each task's R^2 on the training data (predicted from the posterior means, averaged over
        its outputs): 0 is no better than predicting the mean. With ``sparsity="auto"``, on
        the four fifths the final model was fitted on.
    fit_seconds_ : float
        With ``sparsity="auto"``, the path and every refit together.

    Warns
    -----
    UserWarning
        After fitting, for each task whose support came out empty or whose R^2 is at most
        :data:`NO_BETTER_THAN_THE_MEAN` (the mask let too little through, or the task is not
        predictable from the observations), naming the task and what to try.
    """

    def __init__(self, n_latents=8, n_tasks=3, sparsity=2.0, *, hidden=64, task_hidden=32, beta=1.0,
                 task_weight=1.0, epochs=100, batch_size=256, learning_rate=3e-3, mask_threshold=0.5,
                 device="cpu", progress=True, seed=0, l1_warmup_epochs=1, mask_learning_rate=None):
        self.n_latents = check_int(n_latents, "n_latents", 1)
        self.n_tasks = check_int(n_tasks, "n_tasks", 1)
        self.sparsity = _check_sparsity(sparsity, self.n_tasks)
        self.hidden = check_int(hidden, "hidden", 1)
        self.task_hidden = check_int(task_hidden, "task_hidden", 1)
        self.beta = check_real(beta, "beta", low=0)
        self.task_weight = check_real(task_weight, "task_weight", low=0)
        self.epochs = check_int(epochs, "epochs", 1)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0, open_low=True)
        self.mask_learning_rate = (None if mask_learning_rate is None else
                                   check_real(mask_learning_rate, "mask_learning_rate", low=0, open_low=True))
        self.mask_threshold = check_real(mask_threshold, "mask_threshold", low=0, high=1, open_high=True)
        self.device = str(check_device(device))
        self.progress = check_bool(progress, "progress")
        self.seed = check_seed(seed)
        self.l1_warmup_epochs = check_int(l1_warmup_epochs, "l1_warmup_epochs", 0)

    # ------------------------------------------------------------------ fitting
    def fit(self, obs, tasks):
        """Fit the model to observations and task variables.

        Parameters
        ----------
        obs : array-like of shape (n, obs_dim)
        tasks : array-like of shape (n, n_tasks) or (n, n_tasks, task_dim)
            Scalar tasks, or a vector of `task_dim` outputs per task.

        Returns
        -------
        self
        """
        obs = _check_matrix(obs, "obs")
        tasks = _check_tasks(tasks, self.n_tasks)
        self.task_shape_ = tasks.shape[1:]
        tasks = tasks.reshape(len(tasks), self.n_tasks, -1)
        if len(obs) != len(tasks):
            raise ValueError(f"obs and tasks must have the same number of samples; got {len(obs)} and {len(tasks)}.")
        if len(obs) < 2:
            raise ValueError(f"fitting needs at least 2 samples; got {len(obs)}.")
        for name, array in (("obs", obs), ("tasks", tasks.reshape(len(tasks), -1))):
            constant = np.flatnonzero(array.std(axis=0) == 0)
            if constant.size:
                raise ValueError(f"{name} has constant columns {constant.tolist()}; drop them before fitting.")
        self._check_size(obs.shape[1], tasks.shape[2])
        self.obs_dim_ = obs.shape[1]
        self._obs_mean, self._obs_scale = obs.mean(axis=0), obs.std(axis=0)
        self._task_mean, self._task_scale = tasks.mean(axis=0), tasks.std(axis=0)
        x = self._tensor((obs - self._obs_mean) / self._obs_scale)
        u = self._tensor((tasks - self._task_mean) / self._task_scale)

        with one_thread(self.device):
            if self.sparsity == "auto":
                x, u = self._fit_auto(x, u)
            else:
                self.sparsity_ = self.sparsity
                self._train(x, u)
            self.network_.eval()
            self.task_r2_ = self._task_r2(x, u)
        self._warn_about_tasks()
        return self

    def _fit_auto(self, x, u):
        """Choose each task's weight on a held-out fifth, refit on the rest; return the rest (x, u)."""
        if len(x) < _MIN_AUTO_SAMPLES:
            raise ValueError(f'sparsity="auto" holds out a fifth of the samples to choose the weights and needs at '
                             f"least {_MIN_AUTO_SAMPLES} samples; got {len(x)}. Give more samples or a number.")
        start = time.perf_counter()
        x, u = fit_auto(self, x, u)
        self.fit_seconds_ = time.perf_counter() - start
        return x, u

    def _task_r2(self, x, u):
        """Per task, 1 - mean squared error / variance of the standardised outputs (variance 1)."""
        with torch.no_grad():
            mean = self.network_.encoder(x)[:, : self.n_latents]
            predicted = self.network_.heads(self.network_.heads.gate(mean))
            error = ((u - predicted) ** 2).mean(dim=(0, 2))
        return 1.0 - error.cpu().numpy().astype(np.float64)

    def _warn_about_tasks(self):
        empty = ~self.support_.any(axis=1)
        weight = [self.sparsity_] * self.n_tasks if isinstance(self.sparsity_, float) else self.sparsity_
        for k in range(self.n_tasks):
            if empty[k]:
                warnings.warn(f"SpecialistVAE: task {k}'s support came out empty (every mask entry at or below "
                              f"mask_threshold = {self.mask_threshold}), so it is predicted by its mean (R^2 "
                              f"{self.task_r2_[k]:.2f}): lower sparsity (now {weight[k]:g}) or train longer.",
                              UserWarning, stacklevel=3)
            elif self.task_r2_[k] <= NO_BETTER_THAN_THE_MEAN:
                warnings.warn(f"SpecialistVAE: task {k} is predicted no better than by its mean (R^2 "
                              f"{self.task_r2_[k]:.2f} on the training data, {int(self.support_[k].sum())} open "
                              f"latents): lower sparsity (now {weight[k]:g}), train longer, or check that the task "
                              "depends on the observations.", UserWarning, stacklevel=3)

    def _check_size(self, obs_dim, task_dim):
        """Refuse up front networks too large for memory (parameters, gradients and Adam's two moments)."""
        h, j, k = self.hidden, self.n_latents, self.n_tasks
        parameters = (2 * obs_dim * h + 3 * j * h + 2 * h * h + k * j + k * self.task_hidden * (j + task_dim + 1)
                      + self.batch_size * k * (j + self.task_hidden))  # the last: a batch's gated latents
        check_memory(4 * 4 * parameters, "SpecialistVAE's networks",
                     fix="use fewer hidden units, latents or tasks, or a smaller batch_size")

    def _build_network(self, task_dim):
        """A new network, initialised from the seed alone."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.network_ = _Network(self.obs_dim_, self.n_latents, self.n_tasks, task_dim, self.hidden,
                                     self.task_hidden).to(self.device)

    def _optimiser(self):
        mask_learning_rate = self.mask_learning_rate
        if mask_learning_rate is None and self.sparsity == "auto":
            mask_learning_rate = MASK_LEARNING_RATE_FACTOR * self.learning_rate
        if mask_learning_rate is None:
            return adam(self.network_.parameters(), lr=self.learning_rate)
        mask = self.network_.heads.mask_logits
        rest = [parameter for parameter in self.network_.parameters() if parameter is not mask]
        return adam([{"params": rest}, {"params": [mask], "lr": mask_learning_rate}], lr=self.learning_rate)

    def _train(self, x, u):
        """Fit a new network with the weights `sparsity_`."""
        self._build_network(u.shape[2])
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        optimiser = self._optimiser()
        weights = None if isinstance(self.sparsity_, float) else torch.tensor(self.sparsity_, device=self.device)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=self.epochs)
        n = len(x)
        self.history_ = []
        start = time.perf_counter()
        bar = progress_bar(range(self.epochs), progress=self.progress, desc="SpecialistVAE", unit="epoch")
        for epoch_index in bar:
            self._l1_weight = 0.0 if epoch_index < self.l1_warmup_epochs else (
                self.sparsity_ if weights is None else weights[:, None])
            totals = np.zeros(5)
            order = torch.randperm(n, generator=generator, device=self.device)
            for batch in order.split(self.batch_size):
                terms = self._loss_terms(x[batch], u[batch], generator)
                loss = terms[0]
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                totals += np.array([t.item() for t in terms]) * len(batch)
            epoch = dict(zip(("loss", "reconstruction", "kl", "task", "l1"), totals / n))
            schedule.step()
            self.history_.append(epoch)
            bar.set_postfix(loss=f"{epoch['loss']:.3f}", l1=f"{epoch['l1']:.2f}")
        self.fit_seconds_ = time.perf_counter() - start

    def _tensor(self, array):
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _noise(self, shape, generator):
        return torch.randn(shape, generator=generator, device=self.device)

    def _loss_terms(self, x, u, generator):
        net = self.network_
        mean, log_var = net.encoder(x).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * log_var) * self._noise(mean.shape, generator)
        obs_log_sd = net.obs_log_sd.clamp(min=_MIN_LOG_SD)
        reconstruction = (0.5 * ((x - net.decoder(z)) / obs_log_sd.exp()) ** 2 + obs_log_sd).sum(dim=1).mean()
        kl = 0.5 * (mean ** 2 + log_var.exp() - 1 - log_var).sum(dim=1).mean()
        gated = net.heads.gate(z, self._noise((len(z), self.n_tasks, self.n_latents), generator))
        task_log_sd = net.task_log_sd.clamp(min=_MIN_LOG_SD)
        task = (0.5 * ((u - net.heads(gated)) / task_log_sd.exp()) ** 2 + task_log_sd).sum(dim=(1, 2)).mean()
        l1 = (self._l1_weight * net.heads.mask()).sum() if isinstance(self._l1_weight, torch.Tensor) else (
            self._l1_weight * net.heads.mask().sum())
        loss = reconstruction + self.beta * kl + self.task_weight * task + l1
        return loss, reconstruction, kl, task, l1

    # ------------------------------------------------------------------ fitted model
    def _check_fitted(self):
        if not hasattr(self, "network_"):
            raise RuntimeError("This SpecialistVAE is not fitted yet; call fit(obs, tasks) first.")

    def transform(self, obs):
        """Posterior means of the latents, shape (n, n_latents)."""
        self._check_fitted()
        obs = _check_matrix(obs, "obs", columns=self.obs_dim_)
        with torch.no_grad():
            encoded = self.network_.encoder(self._tensor((obs - self._obs_mean) / self._obs_scale))
        return encoded[:, : self.n_latents].cpu().numpy().astype(np.float64)

    def task_map(self, z):
        """The fitted task map ``z -> u_hat`` (standardised task units) as a torch function.

        Parameters
        ----------
        z : torch.Tensor of shape (n, n_latents)

        Returns
        -------
        torch.Tensor of shape (n, n_tasks * task_dim)
            Task ``k``'s outputs are columns ``k * task_dim`` to ``(k + 1) * task_dim - 1``
            (one column per task for scalar tasks). Differentiable in `z`, so
            :func:`specbook.metrics.jacobian_support` can take its Jacobian; closed mask
            entries pass nothing (``eps = 0``).
        """
        self._check_fitted()
        if not isinstance(z, torch.Tensor):
            raise ValueError(f"z must be a torch.Tensor of shape (n, n_latents = {self.n_latents}); got "
                             f"{type(z).__name__} (wrap an array in torch.as_tensor).")
        if z.ndim != 2 or z.shape[1] != self.n_latents or z.is_complex():
            raise ValueError(f"z must be a real tensor of shape (n, n_latents = {self.n_latents}); got shape "
                             f"{tuple(z.shape)} and dtype {z.dtype}.")
        if not torch.isfinite(z).all():
            raise ValueError("z contains NaN or inf.")
        z = z.to(device=self.device, dtype=torch.float32)
        outputs = self.network_.heads(self.network_.heads.gate(z))
        return outputs.reshape(len(z), outputs.shape[1] * outputs.shape[2])  # explicit: n may be 0

    def predict_tasks(self, obs):
        """Predicted task variables in the units and shape of the training tasks."""
        self._check_fitted()
        z = self._tensor(self.transform(obs))
        with torch.no_grad():
            predicted = self.task_map(z).cpu().numpy().astype(np.float64).reshape(len(z), self.n_tasks, -1)
        return (predicted * self._task_scale + self._task_mean).reshape(len(z), *self.task_shape_)

    @property
    def mask_(self):
        self._check_fitted()
        return self.network_.heads.mask().detach().cpu().numpy().astype(np.float64)

    @property
    def support_(self):
        return self.mask_ > self.mask_threshold

    def relevant_latents(self, k):
        """Indices of the latents feeding task `k` (open mask entries, ``mask_[k] > mask_threshold``)."""
        self._check_fitted()
        k = check_int(k, "k", 0, self.n_tasks - 1)
        return np.flatnonzero(self.support_[k])

    def __repr__(self):
        return (f"SpecialistVAE(n_latents={self.n_latents}, n_tasks={self.n_tasks}, sparsity={self.sparsity}, "
                f"epochs={self.epochs}, seed={self.seed})")
