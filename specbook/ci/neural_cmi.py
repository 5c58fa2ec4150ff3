"""The neural conditional mutual information test (:class:`NeuralCMI`); torch loads on first use."""
from __future__ import annotations

import numpy as np

from .._torch import adam, one_thread
from ..validation import check_device, check_int, check_memory, check_seed
from .neighbours import _local_permutation, _neighbour_lists
from .residuals import _random_features, _ridge_fold
from ..stats import standardise
from .result import CITestResult, _call_docstring, _check_data, _check_min_samples, _sequential_pvalue


class NeuralCMI:
    """Neural conditional mutual information test with an InfoNCE critic.

    A critic ``f(x, y, z)`` (an MLP on the concatenated, standardised inputs) is trained on a
    random half of the samples to pick the true ``y_i`` out of ``{y_i} U {y_j : j among the
    n_negatives nearest neighbours of i in z}`` for each ``(x_i, z_i)``; the negatives are
    y shuffled *locally*, so they follow ``p(y | z)`` and the only thing that tells the
    positive apart is a dependence of y on x given z. The statistic is the InfoNCE bound
    ``< f(x_i, y_i, z_i) - log mean_j exp f(x_i, y_j, z_i) >`` (j over positive and
    negatives) on the held-out half, in nats.

    Null: the trained critic is re-scored on the held-out half with x locally permuted
    (each sample takes the x of one of its `k_perm` nearest z-neighbours, Runge 2018),
    `n_permutations` times; the critic is not retrained, so the null is cheap. Terms of the
    critic that depend on (x, z) alone cancel in the InfoNCE score, and terms in (y, z) are
    untouched by permuting x, so the null reacts only to an x-y interaction.

    Before all this, x and y are replaced by their residuals on z (ridge regression on the
    random features of :class:`GCM`, fitted on the training half). Given z a residual is an
    invertible shift of x, so the hypothesis is unchanged; but without it x carries
    information about z, which the critic uses to recognise the true y, and which a local
    permutation (z-neighbours are never at exactly the same z) partly destroys - a false
    "dependence" that made the test reject null cases far above the level in our checks
    (``benchmarks/results/docstring_figures.md``).

    Parameters
    ----------
    hidden : int, default=64
        Width of the critic's two hidden layers.
    epochs : int, default=100
        Passes over the training half (mini-batches of 256, Adam with learning rate 1e-3).
    n_negatives : int, default=8
        Locally shuffled negatives per sample.
    k_perm : int, default=5
        Size of the z-neighbourhood (itself included) x is shuffled within for the null.
    n_permutations : int, default=100
        Most local permutations of the held-out half; the smallest possible p-value is
        ``1 / (1 + n_permutations)``.
    stop_after : int or None, default=10
        Sequential p-values (Besag & Clifford, 1991), as in :class:`KnnCMI`: permutations are
        drawn until `stop_after` of their scores reach the statistic (p-value ``stop_after / k``
        at the k-th), else all `n_permutations` are (p-value ``(1 + count) / (1 +
        n_permutations)``). Stopping happens only for p-values of at least ``stop_after /
        n_permutations``, so every p-value below that, every decision at a lower level, and the
        statistic are the ones drawing all permutations gives. None draws them all.
    device : str, default="cpu"
        Torch device; ``"cuda"`` is honoured when available.
    seed : int, default=0
        Seed of the split, the critic's initialisation, the mini-batches and the permutations.
        Results are deterministic on CPU.
    """

    name = "neural-cmi"
    _BATCH_SIZE = 256
    _LEARNING_RATE = 1e-3

    def __init__(self, hidden=64, epochs=100, n_negatives=8, k_perm=5, n_permutations=100, device="cpu", seed=0,
                 stop_after=10):
        self.hidden = check_int(hidden, "hidden", 1)
        # the critic's hidden-to-hidden layer, with Adam's two moments and the gradient: 4 floats a weight
        check_memory(16 * self.hidden ** 2, f"NeuralCMI(hidden={self.hidden})'s critic",
                     fix="choose a smaller hidden (the default is 64)")
        self.epochs = check_int(epochs, "epochs", 1)
        self.n_negatives = check_int(n_negatives, "n_negatives", 1)
        self.k_perm = check_int(k_perm, "k_perm", 2)
        self.n_permutations = check_int(n_permutations, "n_permutations", 1)
        self.stop_after = None if stop_after is None else check_int(stop_after, "stop_after", 1)
        self.device = check_device(device)
        self.seed = check_seed(seed)

    @_call_docstring("``statistic`` is the held-out InfoNCE estimate in nats (at most ``log(n_negatives + 1)``).")
    def __call__(self, x, y, z=None):
        x, y, z = _check_data(x, y, z)
        n = len(x)
        per_half = max(self.n_negatives, self.k_perm) + 1
        _check_min_samples(n, max(40, 4 * per_half), "neural-cmi",
                           f"at least 40 and 4 (max(n_negatives, k_perm) + 1) = {4 * per_half} so that each half "
                           "has enough z-neighbours")
        with one_thread(self.device):
            return self._test(x, y, z)

    def _test(self, x, y, z):
        import torch

        n = len(x)
        rng = np.random.default_rng(self.seed)
        halves = np.array_split(rng.permutation(n), 2)
        data = [standardise(a) for a in (x, y, z)]
        if z.shape[1]:
            data[0], data[1] = self._residualise(data, halves[0], rng)
        train, test = (self._split(data, rows, rng) for rows in halves)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            critic = self._critic(sum(a.shape[1] for a in data)).to(self.device)

        optimiser = adam(critic.parameters(), lr=self._LEARNING_RATE)
        n_train = len(train["x"])
        for _ in range(self.epochs):
            for batch in np.array_split(rng.permutation(n_train), max(1, n_train // self._BATCH_SIZE)):
                batch = torch.as_tensor(batch, device=self.device)
                scores = self._infonce(critic, train["x"][batch], train["y"], train["z"][batch],
                                       train["candidates"][batch])
                optimiser.zero_grad()
                (-scores.mean()).backward()
                optimiser.step()

        with torch.no_grad():
            def held_out_score(x_rows):
                return float(self._infonce(critic, test["x"][x_rows], test["y"], test["z"], test["candidates"]).mean())

            statistic = held_out_score(slice(None))
            null, reached = [], 0
            while len(null) < self.n_permutations and (self.stop_after is None or reached < self.stop_after):
                null.append(held_out_score(torch.as_tensor(_local_permutation(test["shuffle_within"], rng),
                                                           device=self.device)))
                reached += null[-1] >= statistic
        return CITestResult(statistic=statistic, pvalue=_sequential_pvalue(statistic, null, self.stop_after),
                            method=self.name, n=n)

    @staticmethod
    def _residualise(data, train, rng):
        """x and y minus their ridge regressions on random features of z, fitted on `train`."""
        x, y, z = data
        targets = np.hstack([x, y])
        features = _random_features(z, max(2, min(128, len(train) // 8)), rng)
        blocks = (slice(0, x.shape[1]), slice(x.shape[1], targets.shape[1]))
        fit = _ridge_fold(features, targets, blocks, train, np.arange(len(z)), rng)
        return [targets[:, block] - prediction for block, prediction in zip(blocks, fit.predictions)]

    def _split(self, data, rows, rng):
        """Tensors of one half, with each sample's negatives and its neighbourhood for the null."""
        import torch

        x, y, z = (torch.as_tensor(a[rows], dtype=torch.float32, device=self.device) for a in data)
        neighbours = self._z_neighbours(data[2][rows], rng)
        return {"x": x, "y": y, "z": z,
                # column 0 is the positive (the sample itself), the others are its negatives
                "candidates": torch.as_tensor(neighbours[:, : self.n_negatives + 1], device=self.device),
                "shuffle_within": neighbours[:, : self.k_perm]}

    def _critic(self, inputs):
        from torch import nn

        return nn.Sequential(nn.Linear(inputs, self.hidden), nn.ELU(), nn.Linear(self.hidden, self.hidden), nn.ELU(),
                             nn.Linear(self.hidden, 1))

    def _z_neighbours(self, z, rng):
        """(n, max(n_negatives, k_perm) + 1): each sample itself, then its nearest neighbours in z.

        Without z every sample is a neighbour of every other, so random others are drawn.
        """
        n, width = len(z), max(self.n_negatives, self.k_perm)
        if z.shape[1] == 0:
            others = (np.arange(n)[:, None] + rng.integers(1, n, size=(n, width))) % n
        else:
            others = _neighbour_lists(z, width)[1]
        return np.column_stack([np.arange(n), others])

    @staticmethod
    def _infonce(critic, x, y_all, z, candidates):
        """Per-sample InfoNCE score; column 0 of `candidates` is the positive."""
        import torch

        batch, width = candidates.shape
        inputs = torch.cat([x[:, None, :].expand(batch, width, -1), y_all[candidates],
                            z[:, None, :].expand(batch, width, -1)], dim=2)
        scores = critic(inputs).squeeze(-1)
        return scores[:, 0] - torch.logsumexp(scores, dim=1) + np.log(width)
