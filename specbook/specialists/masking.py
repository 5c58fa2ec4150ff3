"""Task heads behind a task-latent mask: the piece the specialist VAE and the specialist GAN share.

Row ``k`` of the mask ``M`` (entries in (0, 1), a sigmoid of free logits) says how much
of each latent task ``k``'s head may read. The head reads the *gated* latents

    ``m_k * z + (1 - m_k) * eps``,  ``eps ~ N(0, I)``,

so a closed entry passes noise instead of a scaled-down latent: with a plain product
``m_k * z`` a head could undo any small ``m`` by larger weights, and an l1 penalty on
``M`` (the paper's surrogate for the support size of the task map) would shrink nothing.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..validation import check_int

__all__ = ["MaskedTaskHeads", "MASK_INIT_LOGIT"]

#: Every mask entry starts open: sigmoid(3) = 0.95.
MASK_INIT_LOGIT = 3.0


class MaskedTaskHeads(nn.Module):
    """One small MLP per task (one hidden SiLU layer), each reading the latents through its mask row.

    Parameters
    ----------
    n_latents : int
    n_tasks : int
    task_dim : int
        Outputs per task.
    hidden : int
        Hidden units of each head.
    """

    def __init__(self, n_latents, n_tasks, task_dim, hidden):
        super().__init__()
        n_latents, n_tasks = check_int(n_latents, "n_latents", 1), check_int(n_tasks, "n_tasks", 1)
        task_dim, hidden = check_int(task_dim, "task_dim", 1), check_int(hidden, "hidden", 1)
        self.mask_logits = nn.Parameter(torch.full((n_tasks, n_latents), MASK_INIT_LOGIT))
        scale = 1 / math.sqrt(n_latents)
        self.head_w1 = nn.Parameter(torch.empty(n_tasks, n_latents, hidden).uniform_(-scale, scale))
        self.head_b1 = nn.Parameter(torch.zeros(n_tasks, hidden))
        bound = 1 / math.sqrt(hidden)
        self.head_w2 = nn.Parameter(torch.empty(n_tasks, hidden, task_dim).uniform_(-bound, bound))
        self.head_b2 = nn.Parameter(torch.zeros(n_tasks, task_dim))

    def mask(self):
        """The mask ``M``, shape (n_tasks, n_latents), entries in (0, 1)."""
        return torch.sigmoid(self.mask_logits)

    def gate(self, z, noise=None):
        """Gated latents (n, n_tasks, n_latents): ``m_k * z + (1 - m_k) * noise`` (``noise=None``: zero)."""
        n_tasks, n_latents = self.mask_logits.shape
        for name, value, shape in (("z", z, "(n, n_latents)"), ("noise", noise, "(n, n_tasks, n_latents)")):
            if value is not None and not isinstance(value, torch.Tensor):
                raise ValueError(f"{name} must be a torch.Tensor of shape {shape}; got {type(value).__name__}.")
        if z.ndim != 2 or z.shape[1] != n_latents:
            raise ValueError(f"z must have shape (n, n_latents = {n_latents}); got {tuple(z.shape)}.")
        if noise is not None and noise.shape != (len(z), n_tasks, n_latents):
            raise ValueError(f"noise must have shape (n, n_tasks, n_latents) = {(len(z), n_tasks, n_latents)}; "
                             f"got {tuple(noise.shape)}.")
        mask = self.mask()
        gated = mask * z[:, None, :]
        return gated if noise is None else gated + (1 - mask) * noise

    def forward(self, gated):
        """Task outputs (n, n_tasks, task_dim) from gated latents (n, n_tasks, n_latents)."""
        hidden = nn.functional.silu(torch.einsum("bkj,kjh->bkh", gated, self.head_w1) + self.head_b1)
        return torch.einsum("bkh,khd->bkd", hidden, self.head_w2) + self.head_b2
