"""From frames to per-frame latent states: PCA of the pixels, and a convolutional VAE.

Algorithm 1 needs one vector per time step. :func:`frame_pca` gives the raw frames a
fixed linear reduction (no learning about what moves); :class:`FrameVAE` learns a
nonlinear encoder, either with an independent standard-normal prior per frame (our
learned latent states) or with a learned temporal transition prior (our reading of LEAP,
Yao et al. 2022: latent components that are independent given the previous latents).
"""
from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from .._torch import adam, one_thread
from ..progress import progress_bar
from ..validation import (as_real_array, check_bool, check_choice, check_device, check_int, check_memory, check_real,
                         check_seed)
from ..worlds.video import check_frames

__all__ = ["FrameVAE", "frame_pca", "PRIORS"]

#: Priors of :class:`FrameVAE`: ``"independent"`` (a VAE per frame) or ``"temporal"`` (LEAP-style).
PRIORS = ("independent", "temporal")


def _check_pixel_frames(frames, name="frames"):
    """Videos (n, T, 3, size, size) with n, T >= 1 and pixels in [0, 1], as float32."""
    if not (isinstance(frames, np.ndarray) and frames.dtype.kind in "biuf"):
        frames = as_real_array(frames, name)  # refuses complex, str and object; real arrays skip its float64 copy
    return check_frames(frames, name)


def frame_pca(frames, n_components, *, seed=0):
    """Project every frame on the first principal components of all frames (pooled over time).

    Parameters
    ----------
    frames : ndarray of shape (n, T, 3, size, size)
        Pixels in [0, 1].
    n_components : int
        Numbers kept per frame.
    seed : int, default=0
        Seed of the randomised SVD.

    Returns
    -------
    ndarray of shape (n, T, n_components)
    """
    frames = _check_pixel_frames(frames)
    n_components = check_int(n_components, "n_components", 1)
    seed = check_seed(seed)
    n, T = frames.shape[:2]
    flat = frames.reshape(n * T, -1)
    if n_components > min(flat.shape):
        raise ValueError(f"n_components must be at most min(n * T, pixels) = {min(flat.shape)}; got {n_components}.")
    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=seed)
    return pca.fit_transform(flat).reshape(n, T, n_components)


class _ConvVAE(nn.Module):
    def __init__(self, size, n_latents, n_static, width, temporal):
        super().__init__()
        cells = 2 * width * (size // 8) ** 2
        self.shape = (2 * width, size // 8, size // 8)
        self.trunk = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1), nn.ELU(), nn.Conv2d(width, 2 * width, 4, 2, 1), nn.ELU(),
            nn.Conv2d(2 * width, 2 * width, 4, 2, 1), nn.ELU(), nn.Flatten(), nn.Linear(cells, 128), nn.ELU())
        self.dynamic = nn.Linear(128, 2 * n_latents)
        # the sequence's static latent reads the frames' features averaged over time
        self.static = nn.Linear(128, 2 * n_static) if n_static else None
        self.decoder_in = nn.Sequential(nn.Linear(n_latents + n_static, 128), nn.ELU(), nn.Linear(128, cells),
                                        nn.ELU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, 2 * width, 4, 2, 1), nn.ELU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ELU(), nn.ConvTranspose2d(width, 3, 4, 2, 1))
        # p(z_t | z_{t-1}): a mean and a log-variance per latent (independent given the past)
        self.transition = (nn.Sequential(nn.Linear(n_latents, 64), nn.ELU(), nn.Linear(64, 2 * n_latents))
                           if temporal else None)

    def decode(self, z):
        return self.decoder(self.decoder_in(z).view(len(z), *self.shape))


class FrameVAE:
    """A convolutional VAE that encodes each frame of a video into a latent state.

    Parameters
    ----------
    n_latents : int, default=4
        Latent dimension per frame (the *dynamic* latents, returned by :meth:`transform`).
    n_static : int, default=8
        Latent dimension per sequence (the *static* latent, shared by the frames of one video,
        as in the disentangled sequential VAE of Li & Mandt 2018). It gives what does not
        change over a video - here the colours - a place of its own, so that the per-frame
        latents are left for what moves. 0 turns it off.
    prior : {"independent", "temporal"}, default="independent"
        ``"independent"``: ``z_t ~ N(0, I)`` for every frame. ``"temporal"`` (LEAP-style):
        ``z_1 ~ N(0, I)`` and ``z_t | z_{t-1} ~ N(mu(z_{t-1}), diag sigma^2(z_{t-1}))`` with a
        learned network, so the latents are asked to follow Markov dynamics.
    width : int, default=16
        Channels of the first convolution (then twice that).
    beta : float, default=1.0
        Weight of the KL term.
    epochs : int, default=10
    batch_size : int, default=2
        Sequences per mini-batch (``batch_size * T`` frames).
    learning_rate : float, default=1e-3
        Adam's initial learning rate (cosine decay to zero over the epochs).
    kl_warmup_epochs : int, default=3
        The KL weight rises linearly from ``beta / (kl_warmup_epochs + 1)`` to `beta` over
        these epochs.
    device : str, default="cpu"
    progress : bool, default=True
        Show a progress bar with the loss.
    seed : int, default=0
        Seed of the initialisation, the mini-batches and the reparameterisation noise; the same
        seed gives the same encoder on CPU (training uses one torch thread).

    Attributes
    ----------
    history_ : list of dict
        Per epoch: mean ``loss``, ``reconstruction`` (binary cross-entropy per frame) and ``kl``.
    fit_seconds_ : float

    Notes
    -----
    The likelihood is a Bernoulli cross-entropy on pixel intensities in [0, 1], summed over
    the pixels of a frame. LEAP itself models the transition noise with a normalising
    flow; a diagonal Gaussian transition is our simplification.
    """

    def __init__(self, n_latents=4, prior="independent", *, n_static=8, width=16, beta=1.0, epochs=10, batch_size=2,
                 learning_rate=1e-3, kl_warmup_epochs=3, device="cpu", progress=True, seed=0):
        self.n_latents = check_int(n_latents, "n_latents", 1)
        self.prior = check_choice(prior, "prior", PRIORS)
        self.n_static = check_int(n_static, "n_static", 0)
        self.width = check_int(width, "width", 1)
        self.beta = check_real(beta, "beta", low=0)
        self.epochs = check_int(epochs, "epochs", 1)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0, open_low=True)
        self.kl_warmup_epochs = check_int(kl_warmup_epochs, "kl_warmup_epochs", 0)
        self.device = str(check_device(device))
        self.progress = check_bool(progress, "progress")
        self.seed = check_seed(seed)

    def fit(self, frames):
        """Fit the encoder and decoder to videos of shape ``(n, T, 3, size, size)``, pixels in [0, 1].

        Returns
        -------
        self
        """
        frames = _check_pixel_frames(frames)
        if self.prior == "temporal" and frames.shape[1] < 2:
            raise ValueError("prior='temporal' needs videos of at least 2 frames (T >= 2).")
        self._check_size(frames.shape[1], frames.shape[3], min(self.batch_size, len(frames)))
        self.size_ = frames.shape[3]
        with one_thread(self.device):
            self._train(torch.as_tensor(frames, device=self.device))
        self.network_.eval()
        return self

    def _check_size(self, T, size, batch):
        """Refuse up front networks or mini-batches too large for memory (float32)."""
        cells = 2 * self.width * (size // 8) ** 2
        latents = 3 * self.n_latents + 3 * self.n_static  # the dense layers in and out of the latents
        parameters = 2 * 128 * (cells + latents) + 2 * 16 * 4 * self.width ** 2 + 64 * 3 * self.n_latents
        activations = 2 * batch * T * self.width * size ** 2  # the first (largest) layers of encoder and decoder
        check_memory(4 * (4 * parameters + 3 * activations), "FrameVAE's networks and mini-batches",
                     fix="use fewer latents, a smaller width or a smaller batch_size")

    def _train(self, videos):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.network_ = _ConvVAE(self.size_, self.n_latents, self.n_static, self.width,
                                     self.prior == "temporal").to(self.device)
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        optimiser = adam(self.network_.parameters(), lr=self.learning_rate)
        # a decaying step size sharpens the positions the latents end on, at no extra cost
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=self.epochs)
        n = len(videos)
        self.history_ = []
        start = time.perf_counter()
        bar = progress_bar(range(self.epochs), progress=self.progress, desc=f"FrameVAE ({self.prior})", unit="epoch")
        for epoch_index in bar:
            totals = np.zeros(3)
            # KL warm-up: without it the latents can collapse before the decoder learns to draw the sprites
            beta = self.beta * min(1.0, (epoch_index + 1) / (self.kl_warmup_epochs + 1))
            for batch in torch.randperm(n, generator=generator, device=self.device).split(self.batch_size):
                terms = self._loss_terms(videos[batch], generator, beta)
                optimiser.zero_grad()
                terms[0].backward()
                optimiser.step()
                totals += np.array([t.item() for t in terms]) * len(batch)
            epoch = dict(zip(("loss", "reconstruction", "kl"), totals / n))
            schedule.step()
            self.history_.append(epoch)
            bar.set_postfix(loss=f"{epoch['loss']:.1f}")
        self.fit_seconds_ = time.perf_counter() - start

    def _encode(self, videos):
        """Posterior means and log-variances: dynamic (n, T, n_latents), static (n, n_static) or None."""
        n, T = videos.shape[:2]
        features = self.network_.trunk(videos.reshape(n * T, *videos.shape[2:])).view(n, T, -1)
        dynamic = self.network_.dynamic(features).chunk(2, dim=2)
        static = None if self.network_.static is None else self.network_.static(features.mean(dim=1)).chunk(2, dim=1)
        return dynamic, static

    def _decode(self, z, static_z):
        n, T = z.shape[:2]
        if static_z is not None:
            z = torch.cat([z, static_z[:, None, :].expand(n, T, -1)], dim=2)
        return self.network_.decode(z.reshape(n * T, -1))

    def _loss_terms(self, videos, generator, beta):
        n, T = videos.shape[:2]
        (mean, log_var), static = self._encode(videos)

        def draw(m, lv):
            return m + torch.exp(0.5 * lv) * torch.randn(m.shape, generator=generator, device=self.device)

        z = draw(mean, log_var)
        static_kl, static_z = 0.0, None
        if static is not None:
            static_z = draw(*static)
            static_kl = 0.5 * (static[0] ** 2 + static[1].exp() - 1 - static[1]).sum(dim=1).mean() / T
        logits = self._decode(z, static_z)
        target = videos.reshape(n * T, *videos.shape[2:])
        reconstruction = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / (n * T)
        prior_mean, prior_log_var = torch.zeros_like(mean), torch.zeros_like(log_var)
        if self.network_.transition is not None:
            step_mean, step_log_var = self.network_.transition(z[:, :-1]).chunk(2, dim=2)
            prior_mean = torch.cat([prior_mean[:, :1], step_mean], dim=1)
            prior_log_var = torch.cat([prior_log_var[:, :1], step_log_var.clamp(-8.0, 4.0)], dim=1)
        kl = 0.5 * (prior_log_var - log_var + (log_var.exp() + (mean - prior_mean) ** 2) / prior_log_var.exp() - 1)
        kl = kl.sum(dim=2).mean() + static_kl  # per frame
        return reconstruction + beta * kl, reconstruction, kl

    def _check_fitted(self, frames):
        if not hasattr(self, "network_"):
            raise ValueError("this FrameVAE is not fitted yet; call fit(frames) first.")
        frames = _check_pixel_frames(frames)
        if frames.shape[3] != self.size_:
            raise ValueError(f"the encoder was fitted on {self.size_} x {self.size_} frames; got "
                             f"{frames.shape[3]} x {frames.shape[3]}.")
        return frames

    @torch.no_grad()
    def transform(self, frames, batch_size=256):
        """Posterior means of every frame: ``(n, T, n_latents)``, encoded `batch_size` videos at a time."""
        batch_size = check_int(batch_size, "batch_size", 1)
        frames = self._check_fitted(frames)
        means = [self._encode(torch.as_tensor(chunk, device=self.device))[0][0].cpu().numpy()
                 for chunk in np.array_split(frames, max(1, len(frames) // batch_size))]
        return np.concatenate(means).astype(np.float64)

    @torch.no_grad()
    def reconstruct(self, frames):
        """Decoded posterior means, shaped like `frames` (for figures)."""
        frames = self._check_fitted(frames)
        n, T = frames.shape[:2]
        self._check_size(T, self.size_, n)  # one pass over every frame at once
        (mean, _), static = self._encode(torch.as_tensor(frames, device=self.device))
        logits = self._decode(mean, None if static is None else static[0])
        return torch.sigmoid(logits).cpu().numpy().reshape(frames.shape)

    def __repr__(self):
        return f"FrameVAE(n_latents={self.n_latents}, prior={self.prior!r}, epochs={self.epochs}, seed={self.seed})"
