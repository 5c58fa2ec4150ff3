"""Run profiles: the sizes a chapter uses, by name.

Every chapter has one cell tagged ``parameters`` that sets ``PROFILE`` (and
``SEED``); the chapter then asks this module for the sizes that go with it::

    P = specbook.harness.profiles.get(PROFILE)
    data = world.sample(n=P.n_samples, seed=SEED)

``smoke``
    Runs every chapter in seconds; what CI executes and checks against
    ``expected/smoke.json``.
``book``
    What the HTML book shows (executed by ``jupyter-book build``).
``full``
    The paper's scale (10 runs of n = 10,000 samples, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Profile", "PROFILES", "get"]


@dataclass(frozen=True)
class Profile:
    """Sizes one profile gives to the chapters.

    Attributes
    ----------
    name : str
        The profile's name.
    n_samples : int
        Samples drawn from a world for one experiment.
    n_runs : int
        Independent repetitions (seeds) of an experiment.
    n_worlds : int
        Random worlds drawn by the graph-level (d-separation) checks.
    cell_timeout : int
        Seconds one notebook cell may run before the runner stops it: a guard against a hung
        cell, not a time budget. The book profile's allows for chapters that share two cores
        with each other and with other work (chapter 8's GAN cell has run for many minutes
        there in CI; see ``benchmarks/results/docstring_figures.md``).
    sweep_stride : int
        Chapters that sweep a setting keep every `sweep_stride`-th point of the sweep.
    train_epochs : int
        Epochs a chapter trains each neural model for (Layer 2 onwards).
    n_jobs : int
        Worker processes a chapter may use for independent fits (starting them costs a
        few seconds, which the smoke profile does not recoup).
    gan_steps : int
        Training steps of each GAN (chapter 8).
    gan_seeds : int
        GANs trained per setting (chapter 8; seeds ``SEED, SEED + 1, ...``).
    video_samples : int
        Videos drawn per trial (chapter 9).
    video_train : int
        Videos the frame encoders are fitted on (chapter 9).
    video_seeds : int
        Trials, each with its own world and seed (chapter 9).
    encoder_epochs : int
        Epochs of each frame encoder (chapter 9).
    critic_epochs : int
        Epochs of the neural CMI test's critic (chapter 9).
    knn_samples : int
        Samples per world of chapter 5's kNN-CMI panel (the slowest CI test, even at fewer
        samples than GCM's; timings in ``benchmarks/results/citests.md``).
    knn_runs : int
        Worlds (seeds) of that panel.
    family_worlds : int
        Worlds of chapter 7's family (``random_task_latent_worlds``), on which the l1 weight
        chosen from the data is compared with fixed ones. Each costs about 24 s of CPU at the
        book profile (four arms, one of them a path and refits); with 20 the book run took
        1,173 s against 761 s, and with 8 CI took 34 min, so the book profile keeps 4 (a
        glimpse; the evidence is ``benchmarks/sparsity_auto.py``'s 24 worlds and the full
        profile's 40).
    family_samples : int
        Training samples per world of that family.
    family_epochs : int
        Epochs of each VAE fitted on that family (mini-batches of 64, as in
        ``benchmarks/sparsity_auto.py``).
    vae_epochs : int or None
        Epochs of chapters 6 and 7's VAEs; None: `train_epochs`.
    vae_batch_size : int
        Mini-batch size of those VAEs (``SpecialistVAE``'s default, 256, outside smoke).
    vae_learning_rate : float
        Adam's learning rate for those VAEs (``SpecialistVAE``'s default, 3e-3, outside smoke).
        The l1 penalty closes a mask entry at a pace set by the number and size of the
        optimiser's steps, not by epochs: at the smoke profile's 2,000 samples, 5 epochs of
        256-sample batches (40 steps) leave the mask where it started, and the VAEs with
        and without l1 barely differ. The smoke profile therefore trains these VAEs for
        15 epochs of 64 samples at 1e-2 (about 470 larger steps, at a small extra cost per
        VAE), enough for the penalty to shrink the irrelevant block's R^2 on both seeds
        (the figures: ``benchmarks/results/docstring_figures.md``).
    """

    name: str
    n_samples: int
    n_runs: int
    n_worlds: int
    cell_timeout: int
    sweep_stride: int = 1
    train_epochs: int = 100
    n_jobs: int = 1
    gan_steps: int = 5_000
    gan_seeds: int = 1
    video_samples: int = 2_000
    video_train: int = 1_000
    video_seeds: int = 2
    encoder_epochs: int = 10
    critic_epochs: int = 20
    knn_samples: int = 2_000
    knn_runs: int = 2
    family_worlds: int = 4
    family_samples: int = 4_000
    family_epochs: int = 40
    vae_epochs: int | None = None
    vae_batch_size: int = 256
    vae_learning_rate: float = 3e-3

    @property
    def vae_options(self) -> dict:
        """``epochs``, ``batch_size`` and ``learning_rate`` of chapters 6 and 7's ``SpecialistVAE`` fits."""
        return {"epochs": self.train_epochs if self.vae_epochs is None else self.vae_epochs,
                "batch_size": self.vae_batch_size, "learning_rate": self.vae_learning_rate}

    def sweep(self, points):
        """The points of a sweep this profile runs (every `sweep_stride`-th, always the last)."""
        points = list(points)
        kept = points[:: self.sweep_stride]
        return kept if kept[-1] == points[-1] else kept + [points[-1]]

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", n_samples=2_000, n_runs=2, n_worlds=200, cell_timeout=300, sweep_stride=3, train_epochs=5,
                     gan_steps=30, video_samples=150, video_train=60, video_seeds=1, encoder_epochs=1, critic_epochs=2,
                     knn_samples=400, knn_runs=1, vae_epochs=15, vae_batch_size=64, vae_learning_rate=1e-2,
                     family_worlds=1, family_samples=1_000, family_epochs=10),
    "book": Profile("book", n_samples=10_000, n_runs=5, n_worlds=12_500, cell_timeout=1_800, train_epochs=100,
                    n_jobs=2, gan_steps=5_000),
    "full": Profile("full", n_samples=10_000, n_runs=10, n_worlds=25_000, cell_timeout=3_600, train_epochs=200,
                    n_jobs=2, gan_steps=15_000, gan_seeds=3, video_samples=5_000, video_train=2_000, video_seeds=10,
                    encoder_epochs=20, critic_epochs=50, knn_runs=10, family_worlds=40),
}


def get(name: str) -> Profile:
    """Return the :class:`Profile` called `name` (``"smoke"``, ``"book"`` or ``"full"``)."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"profile={name!r} is not a known profile; choose one of {sorted(PROFILES)}."
        ) from None
