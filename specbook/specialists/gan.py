"""A GAN whose tasks read its latents through sparse masks: the editing experiment of the paper.

The generator maps independent latents ``z ~ N(0, I)`` to an image. Each task ``k`` (wear
glasses, a hat, a tie) gets a head that predicts, from the latents its mask row lets
through, whether the generated image shows the accessory (and its colour). The
discriminator has two heads: real against generated, and a *task head* trained on the
real images' labels. The generator and the latent heads are trained so that the two
task predictions agree::

    D:  GAN(real, generated) + task_loss(task_head(real), labels)
    G:  GAN(G(z)) + consistency(task_head(G(z)), latent_heads(M * z)) + lambda * ||M||_1

So the task variables of generated images are functions of the masked latents, the GAN
counterpart of the task map of Theorem 2 (our construction; the paper describes its GAN
only as "task-specific latent masks"). With ``sparsity = 0`` the heads may read every
latent: the generalist. An *edit* of task ``k`` moves only the latents of task ``k``
(open mask entries) until the latent head predicts the wanted label, and regenerates.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from torch.optim.swa_utils import AveragedModel

from ..worlds.cats import ACCESSORIES
from .masking import MaskedTaskHeads
from .._torch import adam, one_thread
from ..progress import progress_bar
from ..validation import (as_real_array, check_bool, check_choice, check_device, check_int, check_memory,
                         check_pixels, check_real, check_seed)

__all__ = ["SpecialistGAN"]

_HEAD_HIDDEN = 32


def _training_code_digest():
    """SHA-256 of the sources that define training (this module, the masked heads, Adam's set-up).

    Part of a checkpoint's key: after any change to them, a checkpoint of the old training is not
    resumed (training starts afresh and overwrites it), with no version number to remember to raise.
    """
    from .. import _torch
    from . import masking

    digest = hashlib.sha256()
    for module_file in (__file__, masking.__file__, _torch.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


def _check_checkpoint(checkpoint):
    """`checkpoint` as a Path (or None), refusing what cannot be a checkpoint file before training starts."""
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, (str, os.PathLike)) or not str(checkpoint):
        raise ValueError(f"checkpoint must be a file path (str or Path) or None; got {checkpoint!r}.")
    path = Path(checkpoint)
    if path.is_dir():
        raise ValueError(f"checkpoint {str(path)!r} is a folder; pass a file path inside it, e.g. "
                         f"{str(path / 'gan.pt')!r}.")
    blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise ValueError(f"checkpoint {str(path)!r} cannot be created: {str(blocking)!r} is a file, not a folder.")
    return path


class _Generator(nn.Module):
    """DCGAN generator: latents -> (3, size, size) in [0, 1]; width doubles at every halving."""

    def __init__(self, n_latents, size, width):
        super().__init__()
        levels = int(np.log2(size // 4))
        channels = [width * 2 ** (levels - 1 - i) for i in range(levels)]  # e.g. 64, 32, 16 for width 16 at 32 x 32
        self.project = nn.Sequential(nn.Linear(n_latents, channels[0] * 16), nn.Unflatten(1, (channels[0], 4, 4)),
                                     nn.BatchNorm2d(channels[0]), nn.ReLU())
        layers = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1), nn.Sigmoid()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, z):
        return self.upsample(self.project(z))


class _Discriminator(nn.Module):
    """Convolutional critic with two heads: real against generated, and one logit per task.

    Strided convolutions halve the image to 4 x 4. ``norm="batch"`` is the DCGAN
    discriminator (batch norm after every convolution but the first); ``norm="spectral"``
    puts spectral normalisation on every layer of the critic instead. The task head (a
    linear map of the same features, as in an auxiliary-classifier GAN) is trained on the
    real images' labels only.
    """

    def __init__(self, size, width, n_tasks, task_dim, norm):
        super().__init__()
        self.n_tasks, self.task_dim = n_tasks, task_dim
        levels = int(np.log2(size // 4))
        channels = [3] + [width * 2 ** i for i in range(levels)]
        layers = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            conv = nn.Conv2d(c_in, c_out, 4, 2, 1)
            if norm == "spectral":
                layers += [spectral_norm(conv), nn.LeakyReLU(0.2)]
            else:
                layers += [conv] + ([nn.BatchNorm2d(c_out)] if i else []) + [nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers, nn.Flatten())
        critic = nn.Linear(channels[-1] * 16, 1)
        self.critic = spectral_norm(critic) if norm == "spectral" else critic
        self.tasks = nn.Linear(channels[-1] * 16, n_tasks * task_dim)

    def forward(self, images):
        """Critic scores (n,) and task outputs (n, n_tasks, task_dim) of images in [0, 1].

        Output 0 of a task is the logit of its label; the others predict its attributes.
        """
        h = self.features(images * 2 - 1)
        return self.critic(h)[:, 0], self.tasks(h).reshape(len(h), self.n_tasks, self.task_dim)


def _weighted_mse(predicted, target, weight):
    """Squared error of attributes (n, n_tasks, d), summed over d, weighted by (n, n_tasks), averaged."""
    if predicted.shape[2] == 0:
        return predicted.new_zeros(())
    return (((predicted - target) ** 2).sum(dim=2) * weight).mean()


class SpecialistGAN:
    """A GAN with a task head per task behind a task-latent mask, and latent edits per task.

    Architecture and training (our choices; the paper gives none): a DCGAN generator
    (transposed convolutions, batch norm, `width` channels at the last layer, doubling
    towards the 4 x 4 start); a DCGAN discriminator of the mirror shape (batch norm, or
    spectral normalisation with ``discriminator_norm="spectral"``) whose task head, as
    in an auxiliary-classifier GAN, predicts each task's label and attributes and is
    trained on the real images only; the non-saturating GAN loss; Adam
    (``betas = (0.5, 0.999)``) with `learning_rate` for both networks and
    `head_learning_rate` for the latent heads and their mask.

    Each step draws a batch of real images (with labels and attributes) and a batch of
    latents. The *consistency* term asks the two task predictions to agree: the
    discriminator's task head on the generated image, and the latent head on the masked
    latents. Each side learns from the other's detached prediction (binary cross-entropy
    of the label logits against the other side's probability; squared error of the
    attributes, weighted by the other side's probability that the task is present). So
    the generated image must show what its task latents say, and the task latents must
    say what the image shows. The l1 penalty ``lambda * sum(M)`` is off for
    `l1_warmup_steps`, then ``lambda`` rises linearly to `sparsity` over `l1_ramp_steps`:
    closing every entry at once, before the generator has gathered a task into a few
    latents, closes them all (seen in trial runs; chapter 8's reproduction note).

    Parameters
    ----------
    n_latents : int, default=16
    tasks : sequence of str, default=("glasses", "hat", "tie")
        Names of the tasks, one per label column (the renderer's accessories).
    sparsity : float, default=0.05
        The final weight ``lambda`` of the l1 penalty on the mask; 0 gives the generalist.
    width : int, default=24
        Channels of the generator's last (and the discriminator's first) convolution.
    discriminator_norm : {"batch", "spectral"}, default="batch"
    steps : int, default=5000
        Training steps (one discriminator and one generator update each).
    batch_size : int, default=32
    learning_rate : float, default=2e-4
        Adam's rate for the generator, and for the discriminator unless
        `discriminator_learning_rate` is given.
    discriminator_learning_rate : float, optional
        Adam's rate for the discriminator (two time-scale training, Heusel et al. 2017).
    head_learning_rate : float, default=3e-3
    consistency_weight : float, default=1.0
    l1_warmup_steps : int, default=1000
    l1_ramp_steps : int, default=3000
    mask_threshold : float, default=0.5
        A mask entry above this counts as a latent of the task (:meth:`relevant_latents`).
    r1_weight : float, default=0.0
        Weight ``gamma`` of the R1 penalty ``gamma / 2 * E ||grad_x D(x)||^2`` on the critic's
        gradient at real images (Mescheder et al. 2018); 0 for none (the default: see
        ``benchmarks/results/gan.md``).
    generator_average : float, default=0.0
        Decay of an exponential moving average of the generator's weights (and batch-norm
        statistics), which then makes the images (:meth:`generate`); 0 uses the trained
        generator itself. The decay after ``t`` updates is ``min(generator_average,
        (1 + t) / (10 + t))``, so that a short run averages over its own steps, not its
        initialisation. A common practice for GAN sampling (e.g. Karras et al. 2018); the
        paper names none. Off by default: it did not help here (``benchmarks/results/gan.md``).
    log_every : int, default=50
        Steps averaged into one entry of :attr:`history_`.
    device : str, default="cpu"
    progress : bool, default=True
        Show a progress bar with the losses while fitting.
    seed : int, default=0
        Seeds the initialisation, the batches and the latents; deterministic on CPU,
        where fitting runs on one thread.

    Attributes
    ----------
    mask_ : ndarray of shape (n_tasks, n_latents)
    history_ : list of dict
        Every `log_every` steps: ``step``, the discriminator's ``d_loss`` (with its task
        head), the generator's ``g_adversarial``, ``consistency``, ``l1``, and the task
        head's accuracy on the real batch ``real_task_accuracy``.
    fit_seconds_ : float
        Seconds spent training (summed over resumed runs).
    resumed_from_step_ : int
        Set when `fit` picked up a checkpoint: the step it resumed from.
    """

    def __init__(self, n_latents=16, tasks=ACCESSORIES, sparsity=0.05, *, width=24, discriminator_norm="batch",
                 steps=5000, batch_size=32, learning_rate=2e-4, discriminator_learning_rate=None,
                 head_learning_rate=3e-3, consistency_weight=1.0, l1_warmup_steps=1000, l1_ramp_steps=3000,
                 mask_threshold=0.5, r1_weight=0.0, generator_average=0.0, log_every=50, device="cpu", progress=True,
                 seed=0):
        self.n_latents = check_int(n_latents, "n_latents", 1)
        # a set has no order, and the label columns follow the order of the tasks
        if not isinstance(tasks, (list, tuple)) or len(tasks) == 0 \
                or not all(isinstance(t, str) for t in tasks) or len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must be a non-empty list or tuple of distinct task names; got {tasks!r}.")
        self.tasks = tuple(tasks)
        self.sparsity = check_real(sparsity, "sparsity", low=0)
        self.width = check_int(width, "width", 1)
        self.discriminator_norm = check_choice(discriminator_norm, "discriminator_norm", ("batch", "spectral"))
        self.steps = check_int(steps, "steps", 1)
        self.batch_size = check_int(batch_size, "batch_size", 2)
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0, open_low=True)
        self.discriminator_learning_rate = None if discriminator_learning_rate is None else check_real(
            discriminator_learning_rate, "discriminator_learning_rate", low=0, open_low=True)
        self.head_learning_rate = check_real(head_learning_rate, "head_learning_rate", low=0, open_low=True)
        self.consistency_weight = check_real(consistency_weight, "consistency_weight", low=0)
        self.l1_warmup_steps = check_int(l1_warmup_steps, "l1_warmup_steps", 0)
        self.l1_ramp_steps = check_int(l1_ramp_steps, "l1_ramp_steps", 0)
        # mask entries lie in (0, 1)
        self.mask_threshold = check_real(mask_threshold, "mask_threshold", low=0, high=1, open_high=True)
        self.r1_weight = check_real(r1_weight, "r1_weight", low=0)
        self.generator_average = check_real(generator_average, "generator_average", low=0, high=1, open_high=True)
        self.log_every = check_int(log_every, "log_every", 1)
        self.device = str(check_device(device))
        self.progress = check_bool(progress, "progress")
        self.seed = check_seed(seed)

    @property
    def n_tasks(self):
        return len(self.tasks)

    def get_params(self):
        """The constructor arguments (what a checkpoint must match)."""
        return {"n_latents": self.n_latents, "tasks": list(self.tasks), "sparsity": self.sparsity,
                "width": self.width, "discriminator_norm": self.discriminator_norm, "steps": self.steps,
                "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "discriminator_learning_rate": self.discriminator_learning_rate,
                "head_learning_rate": self.head_learning_rate,
                "consistency_weight": self.consistency_weight, "l1_warmup_steps": self.l1_warmup_steps,
                "l1_ramp_steps": self.l1_ramp_steps,
                "mask_threshold": self.mask_threshold, "r1_weight": self.r1_weight,
                "generator_average": self.generator_average,
                "log_every": self.log_every, "seed": self.seed}

    # ------------------------------------------------------------------ input checks
    def _check_images(self, images, name="images"):
        array = as_real_array(images, name)
        if array.ndim != 4 or array.shape[0] == 0 or array.shape[1] != 3 or array.shape[2] != array.shape[3]:
            raise ValueError(f"{name} must have shape (n, 3, size, size) with n >= 1, channels first; "
                             f"got {array.shape}.")
        size = array.shape[2]
        if size < 8 or size & (size - 1):
            raise ValueError(
                f"{name} are {size} x {size}; the networks halve the image down to 4 x 4, so size must be a power "
                f"of two >= 8 (render with CatRenderer(size=32), for example)."
            )
        if hasattr(self, "size_") and size != self.size_:
            raise ValueError(f"{name} are {size} x {size} but the model was trained on {self.size_} x {self.size_}.")
        return check_pixels(array, name).astype(np.float32)

    def _check_labels(self, labels, n):
        array = as_real_array(labels, "labels")
        if array.ndim != 2 or array.shape[1] != self.n_tasks:
            raise ValueError(f"labels must have shape (n, n_tasks = {self.n_tasks}), one column per task; "
                             f"got {array.shape}.")
        if len(array) != n:
            raise ValueError(f"images and labels must have the same number of samples; got {n} and {len(array)}.")
        if not np.isin(array, (0.0, 1.0)).all():
            raise ValueError("labels must be 0 or 1 (whether the image shows the task's attribute).")
        for k, task in enumerate(self.tasks):
            if array[:, k].min() == array[:, k].max():
                raise ValueError(f"labels of task {task!r} are all {array[0, k]:.0f}: "
                                 "both values are needed to learn it.")
        return array.astype(np.float32)

    def _check_attributes(self, attributes, n):
        if attributes is None:
            return np.zeros((n, self.n_tasks, 0), dtype=np.float32)
        array = as_real_array(attributes, "attributes")
        if array.ndim != 3 or array.shape[:2] != (n, self.n_tasks):
            raise ValueError(f"attributes must have shape (n = {n}, n_tasks = {self.n_tasks}, n_attributes); "
                             f"got {array.shape}.")
        if not np.isfinite(array).all():
            raise ValueError("attributes contain NaN or inf (an absent task's attributes may be any finite number).")
        return array.astype(np.float32)

    def task_index(self, task):
        """Position of `task` (a name or an index) among the model's tasks."""
        if isinstance(task, str):
            if task not in self.tasks:
                raise ValueError(f"unknown task {task!r}; this model's tasks are {list(self.tasks)}.")
            return self.tasks.index(task)
        if isinstance(task, bool) or not isinstance(task, numbers.Integral) or not 0 <= task < self.n_tasks:
            raise ValueError(f"task must be a name in {list(self.tasks)} or an index in 0..{self.n_tasks - 1}; "
                             f"got {task!r}.")
        return int(task)

    # ------------------------------------------------------------------ fitting
    def fit(self, images, labels, attributes=None, *, checkpoint=None, checkpoint_every=500):
        """Train on images, their task labels and (optionally) the tasks' continuous attributes.

        Parameters
        ----------
        images : array-like of shape (n, 3, size, size)
            Values in [0, 1]; size a power of two >= 8.
        labels : array-like of shape (n, n_tasks)
            0 or 1 per task.
        attributes : array-like of shape (n, n_tasks, n_attributes), optional
            Continuous attributes of each task where its label is 1 (ignored where it is 0),
            such as the colour of the accessory a cat wears. The task variable is then the
            label *and* its attributes, and the task's latents must carry both: a binary
            label alone leaves a continuous latent room to carry something else as well.
        checkpoint : str or Path, optional
            A file to save the training state to every `checkpoint_every` steps and at the
            end. If it already holds a state of the same model (same arguments, same data),
            training resumes from it, and a finished state is loaded without training.

        Returns
        -------
        self
        """
        images = self._check_images(images)
        labels = self._check_labels(labels, len(images))
        attributes = self._check_attributes(attributes, len(images))
        checkpoint = _check_checkpoint(checkpoint)
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", 1)
        self.size_ = images.shape[2]
        self.task_dim_ = 1 + attributes.shape[2]
        self._check_size()
        key = self._state_key(images, labels, attributes)
        with one_thread(self.device):
            self._build()
            step = self._resume(checkpoint, key)
            self._train(images, labels, attributes, step, checkpoint, checkpoint_every, key)
        self._image_generator().eval()
        self.generator_.eval()
        return self

    def _check_size(self):
        """Refuse up front networks or batches too large for memory (float32; Adam keeps two moments)."""
        widest = self.width * self.size_ // 8  # channels at the 4 x 4 end
        parameters = 2 * 16 * widest * (self.n_latents + 2 * widest)  # both networks, dominated by the widest layers
        activations = 3 * self.batch_size * self.width * self.size_ ** 2  # about three passes kept for backward
        check_memory(4 * (4 * parameters + 4 * activations), "SpecialistGAN's networks and batches",
                     fix="use a smaller width or batch_size")

    def _build_networks(self):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.generator_ = _Generator(self.n_latents, self.size_, self.width).to(self.device)
            self.discriminator_ = _Discriminator(self.size_, self.width, self.n_tasks, self.task_dim_,
                                                 self.discriminator_norm).to(self.device)
            self.heads_ = MaskedTaskHeads(self.n_latents, self.n_tasks, self.task_dim_, _HEAD_HIDDEN).to(self.device)
        if str(self.device).startswith("cpu"):
            # channels-last lets oneDNN run the transposed convolutions too (benchmarks/results/gan.md)
            self.generator_ = self.generator_.to(memory_format=torch.channels_last)
            self.discriminator_ = self.discriminator_.to(memory_format=torch.channels_last)
        if self.generator_average:
            self.average_generator_ = AveragedModel(self.generator_, avg_fn=self._average, use_buffers=True)

    def _average(self, averaged, current, updates):
        """One step of the moving average, its decay warmed up over the first updates."""
        decay = min(self.generator_average, (1 + float(updates)) / (10 + float(updates)))
        return decay * averaged + (1 - decay) * current

    def _build(self):
        self._build_networks()
        betas = (0.5, 0.999)
        discriminator_rate = self.discriminator_learning_rate or self.learning_rate
        self._optimisers = {
            "generator": adam(self.generator_.parameters(), lr=self.learning_rate, betas=betas),
            "discriminator": adam(self.discriminator_.parameters(), lr=discriminator_rate, betas=betas),
            "heads": adam(self.heads_.parameters(), lr=self.head_learning_rate, betas=betas),
        }
        self._generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self.history_, self.fit_seconds_ = [], 0.0

    def _state_key(self, images, labels, attributes):
        digest = hashlib.sha256()
        params = {name: value for name, value in self.get_params().items() if name != "steps"}  # a longer run resumes
        digest.update(json.dumps(params, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(images).tobytes())
        digest.update(np.ascontiguousarray(labels).tobytes())
        digest.update(np.ascontiguousarray(attributes).tobytes())
        digest.update(_training_code_digest().encode())
        return digest.hexdigest()

    def _modules(self):
        modules = {"generator": self.generator_, "discriminator": self.discriminator_, "heads": self.heads_}
        if self.generator_average:
            modules["average_generator"] = self.average_generator_
        return modules

    def _image_generator(self):
        """The network that makes the images: the moving average of the generator, when there is one."""
        return self.average_generator_.module if self.generator_average else self.generator_

    def _resume(self, checkpoint, key):
        if checkpoint is None or not checkpoint.exists():
            return 0
        try:
            state = torch.load(checkpoint, map_location=self.device, weights_only=False)
        except Exception as error:  # torch raises many types for a truncated or foreign file
            raise ValueError(f"checkpoint {str(checkpoint)!r} cannot be read ({type(error).__name__}: {error}); it is "
                             "corrupt or not a SpecialistGAN checkpoint: delete it (training starts afresh) or "
                             "pass another path.") from None
        if not isinstance(state, dict) or not {"key", "step"} <= state.keys():
            raise ValueError(f"checkpoint {str(checkpoint)!r} is not a SpecialistGAN checkpoint: delete it (training "
                             "starts afresh) or pass another path.")
        if state["key"] != key or state["step"] > self.steps:
            return 0  # another model, other data, or a longer run: start afresh (and overwrite it)
        for name, module in self._modules().items():
            module.load_state_dict(state["modules"][name])
        for name, optimiser in self._optimisers.items():
            optimiser.load_state_dict(state["optimisers"][name])
        self._generator.set_state(state["rng"])
        self.history_, self.fit_seconds_ = state["history"], state["fit_seconds"]
        self.resumed_from_step_ = state["step"]
        return state["step"]

    def _save(self, checkpoint, key, step):
        state = {"key": key, "step": step, "history": self.history_, "fit_seconds": self.fit_seconds_,
                 "modules": {name: module.state_dict() for name, module in self._modules().items()},
                 "optimisers": {name: opt.state_dict() for name, opt in self._optimisers.items()},
                 "rng": self._generator.get_state()}
        path = checkpoint
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        torch.save(state, partial)
        partial.replace(path)  # a run killed mid-save leaves the previous checkpoint intact

    def _train(self, images, labels, attributes, first_step, checkpoint, checkpoint_every, key):
        real_images = torch.as_tensor(images, device=self.device)
        real_labels = torch.as_tensor(labels, device=self.device)
        real_attributes = torch.as_tensor(attributes, device=self.device)
        G, D, heads = self.generator_, self.discriminator_, self.heads_
        opt = self._optimisers
        bce = nn.functional.binary_cross_entropy_with_logits
        n, rng = len(real_images), self._generator
        start = time.perf_counter()
        names = ("d_loss", "g_adversarial", "consistency", "l1", "real_task_accuracy")
        sums, count = np.zeros(len(names)), 0
        bar = progress_bar(range(first_step, self.steps), progress=self.progress, desc="SpecialistGAN", unit="step",
                           initial=first_step, total=self.steps)
        for step in bar:
            rows = torch.randint(n, (self.batch_size,), generator=rng, device=self.device)
            x, y, a = real_images[rows], real_labels[rows], real_attributes[rows]
            z = torch.randn(self.batch_size, self.n_latents, generator=rng, device=self.device)
            noise = torch.randn(self.batch_size, self.n_tasks, self.n_latents, generator=rng, device=self.device)
            ones, zeros = (torch.ones(self.batch_size, device=self.device),
                           torch.zeros(self.batch_size, device=self.device))

            # discriminator: real against generated, and its task head on the real labels; the
            # generated batch is made once and serves the generator's step below as well
            fake = G(z)
            if self.r1_weight:
                x = x.detach().requires_grad_(True)
            real_score, real_tasks = D(x)
            fake_score, _ = D(fake.detach())
            d_loss = (bce(real_score, ones) + bce(fake_score, zeros) + bce(real_tasks[:, :, 0], y)
                      + _weighted_mse(real_tasks[:, :, 1:], a, y))
            if self.r1_weight:
                (gradient,) = torch.autograd.grad(real_score.sum(), x, create_graph=True)
                d_loss = d_loss + self.r1_weight / 2 * gradient.pow(2).sum(dim=(1, 2, 3)).mean()
            opt["discriminator"].zero_grad()
            d_loss.backward()
            opt["discriminator"].step()

            # generator and latent heads: fool the critic, agree with the task head; the critic's
            # weights are held fixed for this pass, so no gradient is computed for them
            D.requires_grad_(False)
            fake_score, image_tasks = D(fake)
            g_adversarial = bce(fake_score, ones)
            latent_tasks = heads(heads.gate(z, noise))
            image_logits, latent_logits = image_tasks[:, :, 0], latent_tasks[:, :, 0]
            image_present, latent_present = torch.sigmoid(image_logits).detach(), torch.sigmoid(latent_logits).detach()
            # each side learns the other's prediction; attributes count where the other side sees the task
            consistency = (bce(image_logits, latent_present) + bce(latent_logits, image_present)
                           + _weighted_mse(image_tasks[:, :, 1:], latent_tasks[:, :, 1:].detach(), latent_present)
                           + _weighted_mse(latent_tasks[:, :, 1:], image_tasks[:, :, 1:].detach(), image_present))
            l1 = self._l1_weight(step) * heads.mask().sum()
            g_loss = g_adversarial + self.consistency_weight * consistency + l1
            for name in ("generator", "heads"):
                opt[name].zero_grad()
            g_loss.backward()
            for name in ("generator", "heads"):
                opt[name].step()
            D.requires_grad_(True)
            if self.generator_average:
                self.average_generator_.update_parameters(G)

            accuracy = ((real_tasks[:, :, 0] > 0) == (y > 0.5)).float().mean()
            sums += np.array([d_loss.item(), g_adversarial.item(), consistency.item(), l1.item(), accuracy.item()])
            count += 1
            if (step + 1) % self.log_every == 0 or step + 1 == self.steps:
                entry = dict(zip(names, sums / count))
                self.history_.append({"step": step + 1, **entry})
                sums, count = np.zeros(len(names)), 0
                bar.set_postfix(d=f"{entry['d_loss']:.2f}", g=f"{entry['g_adversarial']:.2f}",
                                cons=f"{entry['consistency']:.2f}", l1=f"{entry['l1']:.2f}")
            if checkpoint is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == self.steps):
                self.fit_seconds_ += time.perf_counter() - start
                start = time.perf_counter()
                self._save(checkpoint, key, step + 1)
        self.fit_seconds_ += time.perf_counter() - start

    def _l1_weight(self, step):
        """lambda at `step`: 0 during the warm-up, then rising linearly over the ramp to `sparsity`."""
        if step < self.l1_warmup_steps:
            return 0.0
        if self.l1_ramp_steps == 0:
            return self.sparsity
        return self.sparsity * min(1.0, (step - self.l1_warmup_steps + 1) / self.l1_ramp_steps)

    # ------------------------------------------------------------------ the fitted model
    def _check_fitted(self):
        if not hasattr(self, "generator_"):
            raise RuntimeError("This SpecialistGAN is not trained yet; call fit(images, labels) first.")

    def _latents(self, z):
        self._check_fitted()
        array = as_real_array(z, "z").astype(np.float32)
        if array.ndim != 2 or array.shape[1] != self.n_latents:
            raise ValueError(f"z must have shape (n, n_latents = {self.n_latents}); got {array.shape}.")
        if not np.isfinite(array).all():
            raise ValueError("z contains NaN or inf.")
        return torch.as_tensor(array, device=self.device)

    def sample_latents(self, n, seed=0):
        """`n` latents drawn from the prior ``N(0, I)``, shape (n, n_latents)."""
        rng = np.random.default_rng(check_seed(seed))
        n = check_int(n, "n", 1)
        check_memory(12 * n * self.n_latents, f"sample_latents(n={n})", fix="draw fewer latents at a time")
        return rng.standard_normal((n, self.n_latents)).astype(np.float32)

    def generate(self, z, batch_size=1024):
        """Images generated from latents `z` (n, n_latents): (n, 3, size, size) in [0, 1]."""
        batch_size = check_int(batch_size, "batch_size", 1)
        z = self._latents(z)
        check_memory(4 * len(z) * 3 * self.size_ ** 2, f"generating {len(z):,} images of {self.size_} x {self.size_}",
                     fix="generate fewer images at a time")
        if len(z) == 0:
            return np.zeros((0, 3, self.size_, self.size_), dtype=np.float32)
        with torch.no_grad():
            generator = self._image_generator()
            return np.concatenate([generator(chunk).cpu().numpy() for chunk in z.split(batch_size)])

    def predict_labels(self, z):
        """Probability of each task's label that the latent heads give, (n, n_tasks); ``eps = 0``."""
        z = self._latents(z)
        with torch.no_grad():
            return torch.sigmoid(self.heads_(self.heads_.gate(z))[:, :, 0]).cpu().numpy().astype(np.float64)

    def predict_attributes(self, z):
        """The tasks' attributes that the latent heads give, (n, n_tasks, n_attributes); ``eps = 0``."""
        z = self._latents(z)
        with torch.no_grad():
            return self.heads_(self.heads_.gate(z))[:, :, 1:].cpu().numpy().astype(np.float64)

    @property
    def mask_(self):
        self._check_fitted()
        return self.heads_.mask().detach().cpu().numpy().astype(np.float64)

    @property
    def support_(self):
        return self.mask_ > self.mask_threshold

    def relevant_latents(self, task):
        """Indices of the latents of `task` (name or index): open mask entries."""
        return np.flatnonzero(self.support_[self.task_index(task)])

    def edit(self, z, task, present=True, *, method="gradient", step_size=0.25, max_steps=40, confidence=0.95,
             seed=0):
        """Edit latents so that the image shows (or stops showing) the attribute of `task`.

        Only the latents of the task (:meth:`relevant_latents`) change; the generalist's
        tasks read every latent, so its edits may change every latent. Two rules:

        ``"gradient"``
            Normalised gradient steps of length `step_size` on the latent head's
            log-probability of the wanted label, until the head gives it probability
            `confidence` or `max_steps` steps were taken: the smallest move that flips the
            label, as the head sees it.
        ``"swap"``
            The task's latents are copied from a *donor*. Donors are the `n` of ``20 n``
            latent vectors drawn from the prior (seeded by `seed`) whose task latents give
            the wanted label the highest probability; every other latent keeps its value.

        Parameters
        ----------
        z : array-like of shape (n, n_latents)
        task : str or int
        present : bool, default=True
            Put the attribute on (True) or take it off (False).
        method : {"gradient", "swap"}, default="gradient"
        seed : int, default=0
            Seed of the donors (``"swap"``).

        Returns
        -------
        ndarray of shape (n, n_latents)
            The edited latents (with ``"gradient"``, rows that already had the wanted label are
            unchanged).
        """
        k = self.task_index(task)
        z = self._latents(z).clone()
        present = check_bool(present, "present")
        method = check_choice(method, "method", ("gradient", "swap"))
        step_size = check_real(step_size, "step_size", low=0, open_low=True)
        max_steps = check_int(max_steps, "max_steps", 0)
        confidence = check_real(confidence, "confidence", low=0.5, high=1, open_high=True)
        seed = check_seed(seed)
        editable = torch.as_tensor(self.support_[k], device=self.device, dtype=z.dtype)
        sign = 1.0 if present else -1.0
        if method == "swap":
            donors = self._donors(k, sign, len(z), seed)
            return (z * (1 - editable) + donors * editable).cpu().numpy()
        for _ in range(max_steps):
            z.requires_grad_(True)
            logit = self.heads_(self.heads_.gate(z))[:, k, 0]
            active = (torch.sigmoid(sign * logit) < confidence).detach()
            if not active.any():
                break
            (gradient,) = torch.autograd.grad(nn.functional.logsigmoid(sign * logit).sum(), z)
            direction = gradient * editable
            norm = direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
            with torch.no_grad():
                z = z + step_size * active[:, None] * direction / norm
        return z.detach().cpu().numpy()

    def _donors(self, k, sign, n, seed, pool=20):
        """The `n` of ``pool * n`` prior draws whose task-`k` latents give the wanted label the highest probability."""
        check_memory(12 * pool * n * self.n_latents, f"{pool * n:,} donor latents for {n:,} swap edits",
                     fix="edit fewer latents at a time")
        rng = np.random.default_rng(seed)
        candidates = torch.as_tensor(rng.standard_normal((pool * n, self.n_latents)), dtype=torch.float32,
                                     device=self.device)
        with torch.no_grad():
            logit = self.heads_(self.heads_.gate(candidates))[:, k, 0]
        return candidates[torch.argsort(sign * logit, descending=True, stable=True)[:n]]

    def __getstate__(self):
        # spectral norm is a parametrisation, which torch pickles only as a state dict; the
        # optimisers and the batch generator serve training only (a checkpoint keeps them)
        state = self.__dict__.copy()
        if hasattr(self, "generator_"):
            state["_network_states"] = {name: module.state_dict() for name, module in self._modules().items()}
            for name in ("generator_", "discriminator_", "heads_", "average_generator_", "_optimisers", "_generator"):
                state.pop(name, None)
        return state

    def __setstate__(self, state):
        networks = state.pop("_network_states", None)
        self.__dict__.update(state)
        if networks is not None:
            self._build_networks()
            for name, module in self._modules().items():
                module.load_state_dict(networks[name])
                module.eval()

    def __repr__(self):
        return (f"SpecialistGAN(n_latents={self.n_latents}, tasks={self.tasks}, sparsity={self.sparsity}, "
                f"steps={self.steps}, seed={self.seed})")
