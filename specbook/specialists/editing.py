"""How specific an edit is: a factor predictor trained on rendered cats, and the scores of chapter 8.

The paper shows edited cats and lets the reader judge. Here every judgement is a number,
read off the images by a network trained on the renderer's labels
(:class:`CatFactorPredictor`): which accessories a cat wears, and its nuisance factors
(fur and background colour, pose, ears). :class:`EditEvaluator` then scores the edits of a
:class:`~specbook.specialists.gan.SpecialistGAN`:

``success``
    Share of edits after which the predictor sees the wanted label of the edited task.
``preserved``
    Share of (edit, other task) pairs whose predicted label did not change.
``drift: <group>``
    How far the predicted nuisance factors moved, on a scale where 0 is what the
    renderer's exact counterfactual pairs show (the same cat, the accessory toggled:
    the predictor's own error) and 1 is the distance between two random cats.
``change inside``, ``change outside``
    Mean absolute pixel change (channels summed) inside and outside the accessory's
    region: the renderer's region for the pose the predictor reads off the image,
    widened by one pixel. An exact counterfactual changes nothing outside.
``pixels outside``
    Share of the edit's whole pixel change that falls outside that region.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from torch import nn

from ..worlds.cats import (ACCESSORIES, FACTOR_RANGES, NUISANCE_GROUPS, CatImages, CatRenderer, accessory_index,
                           factor_index)
from ..metrics import block_r2
from .._torch import adam, one_thread
from ..progress import progress_bar
from ..validation import (as_real_array, check_bool, check_choice, check_int, check_memory, check_pixels, check_real,
                         check_seed)

__all__ = ["NUISANCE_FACTORS", "CatFactorPredictor", "EditEvaluator", "compare_means", "frechet_distance",
           "readable_groups", "score_edits", "task_latent_entanglement"]

#: The nuisance factors the predictor reads (every factor but the accessories and their hues).
NUISANCE_FACTORS = tuple(name for group in NUISANCE_GROUPS.values() for name in group)



def _check_images(images, size=None):
    array = as_real_array(images, "images").astype(np.float32)
    if array.ndim != 4 or array.shape[0] == 0 or array.shape[1] != 3 or array.shape[2] != array.shape[3]:
        raise ValueError(f"images must have shape (n, 3, size, size) with n >= 1, channels first; got {array.shape}.")
    if array.shape[2] < 4 or array.shape[2] & (array.shape[2] - 1):
        raise ValueError(f"images are {array.shape[2]} x {array.shape[2]}; the predictor pools them down to 4 x 4, so "
                         "size must be a power of two >= 4.")
    if size is not None and array.shape[2] != size:
        raise ValueError(f"images are {array.shape[2]} x {array.shape[2]}; "
                         f"this predictor was trained on {size} x {size}.")
    return check_pixels(array, "images")


def _check_predictor(predictor):
    if not isinstance(predictor, CatFactorPredictor) or not hasattr(predictor, "network_"):
        raise ValueError(f"predictor must be a trained CatFactorPredictor; got {type(predictor).__name__}.")


def _check_model(model, name="model"):
    # read by its methods, so that any editor with a SpecialistGAN's interface serves (the tests use the renderer)
    if not all(callable(getattr(model, method, None)) for method in ("generate", "edit", "task_index", "sample_latents",
                                                                     "relevant_latents")):
        raise ValueError(f"{name} must be a trained SpecialistGAN; got {type(model).__name__}.")


class _Network(nn.Module):
    def __init__(self, size, width, n_outputs):
        super().__init__()
        layers, channels = [], 3
        for level in range(int(np.log2(size // 4))):
            layers += [nn.Conv2d(channels, width * 2 ** level, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = width * 2 ** level
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * 16, 128), nn.ReLU(),
                                  nn.Linear(128, n_outputs))

    def forward(self, images):
        return self.body(images)


class CatFactorPredictor:
    """A small CNN that reads a cat's accessories and nuisance factors off its image.

    Outputs one logit per accessory (binary cross-entropy) and the nuisance factors
    :data:`NUISANCE_FACTORS` (squared error on factors standardised to unit variance).

    Parameters
    ----------
    width : int, default=16
        Channels of the first convolution (doubling at each of the three poolings).
    epochs : int, default=6
    batch_size : int, default=64
    learning_rate : float, default=2e-3
        Adam, cosine decay to 0.
    progress : bool, default=True
    seed : int, default=0
    """

    def __init__(self, width=16, epochs=6, batch_size=64, learning_rate=2e-3, progress=True, seed=0):
        self.width = check_int(width, "width", 1)
        self.epochs = check_int(epochs, "epochs", 1)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.learning_rate = check_real(learning_rate, "learning_rate", low=0, open_low=True)
        self.progress = check_bool(progress, "progress")
        self.seed = check_seed(seed)

    def fit(self, cats):
        """Train on rendered cats (:class:`~specbook.worlds.cats.CatImages`)."""
        if not isinstance(cats, CatImages):
            raise ValueError(f"cats must be CatImages from a CatRenderer; got {type(cats).__name__}.")
        images = _check_images(cats.images)
        self.size_ = images.shape[2]
        nuisances = cats.factors[:, [factor_index(f) for f in NUISANCE_FACTORS]]
        self._mean, self._scale = nuisances.mean(axis=0), nuisances.std(axis=0)
        targets = np.hstack([cats.labels(), (nuisances - self._mean) / self._scale]).astype(np.float32)
        with one_thread():
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.network_ = _Network(self.size_, self.width, len(ACCESSORIES) + len(NUISANCE_FACTORS))
            self._train(torch.as_tensor(images), torch.as_tensor(targets))
        self.network_.eval()
        return self

    def _train(self, images, targets):
        generator = torch.Generator().manual_seed(self.seed)
        optimiser = adam(self.network_.parameters(), lr=self.learning_rate)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=self.epochs)
        n_accessories = len(ACCESSORIES)
        self.history_ = []
        for _ in progress_bar(range(self.epochs), progress=self.progress, desc="CatFactorPredictor", unit="epoch"):
            total = 0.0
            for rows in torch.randperm(len(images), generator=generator).split(self.batch_size):
                out = self.network_(images[rows])
                loss = (nn.functional.binary_cross_entropy_with_logits(out[:, :n_accessories],
                                                                       targets[rows, :n_accessories])
                        + nn.functional.mse_loss(out[:, n_accessories:], targets[rows, n_accessories:]))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += loss.item() * len(rows)
            schedule.step()
            self.history_.append(total / len(images))

    def _outputs(self, images, layers=None):
        if not hasattr(self, "network_"):
            raise RuntimeError("This CatFactorPredictor is not trained yet; call fit(cats) first.")
        images = torch.as_tensor(_check_images(images, self.size_))
        network = self.network_.body if layers is None else self.network_.body[:layers]
        with torch.no_grad():
            return np.concatenate([network(chunk).numpy() for chunk in images.split(1024)]).astype(np.float64)

    def features(self, images):
        """The last hidden layer's activations, (n, 128): the space of :func:`frechet_distance`."""
        return self._outputs(images, layers=-1)

    def predict_accessories(self, images):
        """Probability that each accessory is worn, (n, 3) in :data:`~specbook.worlds.cats.ACCESSORIES` order."""
        return 1 / (1 + np.exp(-self._outputs(images)[:, : len(ACCESSORIES)]))

    def predict_nuisances(self, images, standardised=False):
        """Predicted nuisance factors, (n, len(NUISANCE_FACTORS)); in factor units unless `standardised`."""
        values = self._outputs(images)[:, len(ACCESSORIES):]
        return values if standardised else values * self._scale + self._mean

    def score(self, cats):
        """Held-out quality: accessory accuracy and R^2 of every nuisance factor, as a dict."""
        if not isinstance(cats, CatImages):
            raise ValueError(f"cats must be CatImages from a CatRenderer; got {type(cats).__name__}.")
        accessories = self.predict_accessories(cats.images) > 0.5
        labels = cats.labels() > 0.5
        truth = cats.factors[:, [factor_index(f) for f in NUISANCE_FACTORS]]
        predicted = self.predict_nuisances(cats.images)
        r2 = 1 - ((truth - predicted) ** 2).sum(axis=0) / ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
        return {**{f"accuracy: {a}": float((accessories[:, i] == labels[:, i]).mean())
                   for i, a in enumerate(ACCESSORIES)},
                **{f"R^2: {f}": float(value) for f, value in zip(NUISANCE_FACTORS, r2)}}


def readable_groups(predictor_scores, min_r2=0.8):
    """The nuisance groups whose every factor the predictor reads with held-out R^2 >= `min_r2`.

    Drift is only measured where the judge can see: a factor it reads poorly (at 32 x 32,
    the ear shape, which a hat also covers) moves its predictions about for no reason.

    Parameters
    ----------
    predictor_scores : dict
        What :meth:`CatFactorPredictor.score` returns.
    min_r2 : float, default=0.8
    """
    min_r2 = check_real(min_r2, "min_r2", high=1)
    needed = [f"R^2: {name}" for names in NUISANCE_GROUPS.values() for name in names]
    if not isinstance(predictor_scores, dict) or any(key not in predictor_scores for key in needed):
        raise ValueError("predictor_scores must be the dict CatFactorPredictor.score returns, with the keys "
                         f"{needed}.")
    return [group for group, names in NUISANCE_GROUPS.items()
            if all(predictor_scores[f"R^2: {name}"] >= min_r2 for name in names)]


def _group_distance(a, b):
    """Per nuisance group, mean Euclidean distance between standardised predictions (rows paired)."""
    distances = {}
    for group, names in NUISANCE_GROUPS.items():
        columns = [NUISANCE_FACTORS.index(name) for name in names]
        distances[group] = float(np.linalg.norm(a[:, columns] - b[:, columns], axis=1).mean())
    return distances


def _group_distances(a, b):
    """Per nuisance group, the Euclidean distance of every row pair (standardised predictions).

    :func:`_group_distance` is the mean of these over the rows.
    """
    distances = {}
    for group, names in NUISANCE_GROUPS.items():
        columns = [NUISANCE_FACTORS.index(name) for name in names]
        distances[group] = np.linalg.norm(a[:, columns] - b[:, columns], axis=1)
    return distances


def _dilate(masks):
    """Widen (n, h, w) masks by one pixel (3 x 3 maximum)."""
    padded = np.pad(masks, ((0, 0), (1, 1), (1, 1)))
    h, w = masks.shape[1:]
    return np.max([padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)], axis=0)


class EditEvaluator:
    """Scores edits of generated cats against references drawn by the renderer.

    Parameters
    ----------
    predictor : CatFactorPredictor
        A trained predictor.
    renderer : CatRenderer
        The renderer of the training images (its size must match the predictor's).
    n_reference : int, default=2000
        Counterfactual pairs per task, and random pairs, that set the drift scale.
    seed : int, default=0
    """

    def __init__(self, predictor, renderer, n_reference=2000, seed=0):
        _check_predictor(predictor)
        if not isinstance(renderer, CatRenderer) or renderer.size != predictor.size_:
            raise ValueError("renderer must be a CatRenderer of the predictor's image size.")
        self.predictor, self.renderer = predictor, renderer
        n = check_int(n_reference, "n_reference", 2)
        check_memory(2 * 4 * n * 3 * renderer.size ** 2, f"n_reference={n:,} pairs of rendered cats",
                     fix="pass a smaller n_reference")
        seed = check_seed(seed)
        first, second = renderer.sample(n, seed=seed), renderer.sample(n, seed=seed + 1)
        self.random_pairs_ = _group_distance(*(predictor.predict_nuisances(c.images, standardised=True)
                                               for c in (first, second)))
        self.counterfactual_pairs_, self.counterfactual_pixels_ = {}, {}
        for i, task in enumerate(ACCESSORIES):
            without, with_ = renderer.counterfactual_pairs(n, task, seed=seed + 2 + i)
            self.counterfactual_pairs_[task] = _group_distance(
                *(predictor.predict_nuisances(c.images, standardised=True) for c in (without, with_)))
            self.counterfactual_pixels_[task] = {
                "true region": self._pixel_change(without.images, with_.images, with_.regions[:, i]),
                "predicted region": self._pixel_change(without.images, with_.images,
                                                       self._predicted_regions(with_.images, task)),
            }

    def _predicted_regions(self, images, task):
        """The region of `task`'s accessory for the pose the predictor reads off each image."""
        factors = np.zeros((len(images), len(FACTOR_RANGES)))  # no accessory worn: regions do not depend on it
        predicted = self.predictor.predict_nuisances(images)
        for j, name in enumerate(NUISANCE_FACTORS):
            low, high = FACTOR_RANGES[name]
            factors[:, factor_index(name)] = np.clip(predicted[:, j], low, high)
        return self.renderer.render(factors).regions[:, accessory_index(task)]

    @staticmethod
    def _pixel_change(before, after, regions):
        """Mean change inside and outside the (widened) regions, and the share of all change outside."""
        change = np.abs(after - before).sum(axis=1)
        inside = _dilate(regions) > 0.01
        outside_total = np.where(inside, 0.0, change).sum()
        return {"change inside": float(change[inside].mean()) if inside.any() else 0.0,
                "change outside": float(change[~inside].mean()) if (~inside).any() else 0.0,
                "pixels outside": float(outside_total / max(change.sum(), 1e-12))}

    def score(self, model, z, task, method="gradient", *, per_edit=False):
        """Edit every latent in `z` towards the opposite of its predicted label for `task`, and score the edits.

        Parameters
        ----------
        model : SpecialistGAN
            A trained model whose tasks include `task`.
        z : array-like of shape (n, n_latents)
        task : str
            One of the renderer's accessories.
        method : str, default="gradient"
            The edit rule, passed to ``model.edit`` (see :meth:`SpecialistGAN.edit`).
        per_edit : bool, default=False
            Also return the scores of every single edit, under the key ``"per edit"``.

        Returns
        -------
        dict
            ``success``, ``preserved``, ``drift: <group>`` for every nuisance group,
            ``change inside``, ``change outside``, ``pixels outside``, ``latents moved``
            (mean number of latents an edit changed), and ``edits`` (n). With
            `per_edit`, ``"per edit"`` holds a dict of arrays of length n: ``success``
            (0 or 1) and ``drift: <group>`` (the same scale), whose means are the
            ``success`` and ``drift: <group>`` above (the spread of an edit score
            over edits needs them).
        """
        _check_model(model)
        k = accessory_index(task)
        model.task_index(task)
        method = check_choice(method, "method", ("gradient", "swap"))
        per_edit = check_bool(per_edit, "per_edit")
        z = as_real_array(z, "z").astype(np.float32)
        if z.ndim != 2 or len(z) == 0:
            raise ValueError(f"z must have shape (n, n_latents) with n >= 1; got {z.shape}.")
        before = model.generate(z)
        labels_before = self.predictor.predict_accessories(before) > 0.5
        target = ~labels_before[:, k]
        edited = z.copy()
        for present in (True, False):
            rows = target == present
            if rows.any():
                edited[rows] = model.edit(z[rows], task, present=present, method=method)
        after = model.generate(edited)
        labels_after = self.predictor.predict_accessories(after) > 0.5
        others = [j for j in range(len(ACCESSORIES)) if j != k]
        moved = _group_distance(*(self.predictor.predict_nuisances(images, standardised=True)
                                  for images in (before, after)))
        scores = {"success": float((labels_after[:, k] == target).mean()),
                  "preserved": float((labels_after[:, others] == labels_before[:, others]).mean())}
        for group, distance in moved.items():
            floor, ceiling = self.counterfactual_pairs_[task][group], self.random_pairs_[group]
            scores[f"drift: {group}"] = (distance - floor) / (ceiling - floor)
        regions = self._predicted_regions(np.where(target[:, None, None, None], after, before), task)
        scores.update(self._pixel_change(before, after, regions))
        scores["latents moved"] = float((np.abs(edited - z) > 1e-6).sum(axis=1).mean())
        scores["edits"] = len(z)
        if per_edit:
            each = {"success": (labels_after[:, k] == target).astype(float)}
            distances = _group_distances(*(self.predictor.predict_nuisances(images, standardised=True)
                                           for images in (before, after)))
            for group, distance in distances.items():
                floor, ceiling = self.counterfactual_pairs_[task][group], self.random_pairs_[group]
                each[f"drift: {group}"] = (distance - floor) / (ceiling - floor)
            scores["per edit"] = each
        return scores


def frechet_distance(predictor, images_a, images_b):
    """Frechet distance between two image sets in the feature space of a trained predictor.

    The Frechet inception distance (Heusel et al., 2017) with the predictor's last hidden
    layer in place of an Inception network (no pretrained weights can be downloaded
    here): ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` of Gaussians fitted to
    the two sets of features. Only comparable between sets scored by the same predictor.
    """
    _check_predictor(predictor)
    a, b = predictor.features(images_a), predictor.features(images_b)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("frechet_distance needs at least 2 images in each set.")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((S_a S_b)^(1/2)) = tr((R S_b R)^(1/2)) with R = S_a^(1/2): symmetric, so eigh is exact and
    # stable where dead units make the covariances singular
    values, vectors = linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.sqrt(np.clip(linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


def task_latent_entanglement(model, predictor, n=3_000, seed=0):
    """What each task's latents know about the nuisances, in the model's own samples.

    For every task, the held-out R^2 of each nuisance group (as the predictor reads it
    off generated images) from the task's latents (``model.relevant_latents``), by
    :func:`specbook.metrics.block_r2` (kernel ridge). In the rendered cats every nuisance
    is independent of every accessory, so in a model that fits them the latents that
    decide an accessory know nothing about the fur, the background or the pose: every
    R^2 near 0, the GAN version of chapter 7's "R^2 irrelevant". A generalist's task
    reads all latents, which make the whole image, so its R^2 are high by construction.

    Returns
    -------
    pandas.DataFrame
        One row per task: ``task``, ``latents`` (how many), and one ``R^2: <group>``
        column per nuisance group (NaN for a task that reads no latent).
    """
    import pandas as pd

    _check_model(model)
    _check_predictor(predictor)
    z = model.sample_latents(check_int(n, "n", 10), seed=check_seed(seed))
    nuisances = predictor.predict_nuisances(model.generate(z), standardised=True)
    rows = []
    for task in model.tasks:
        latents = np.asarray(model.relevant_latents(task))
        row = {"task": task, "latents": int(latents.size)}
        for group, names in NUISANCE_GROUPS.items():
            block = nuisances[:, [NUISANCE_FACTORS.index(name) for name in names]]
            row[f"R^2: {group}"] = block_r2(block, z[:, latents], seed=seed) if latents.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def score_edits(models, evaluator, *, methods=("gradient", "swap"), n_edits=500, n_quality=2_000, seed=0,
                per_edit=False):
    """Edit scores of several models for every task, with each model's image quality.

    Parameters
    ----------
    models : dict
        Name (any hashable, e.g. ``(arm, seed)``) to a trained
        :class:`~specbook.specialists.gan.SpecialistGAN`.
    evaluator : EditEvaluator
    methods : sequence of str, default=("gradient", "swap")
        Edit rules to score (:meth:`SpecialistGAN.edit`).
    n_edits : int, default=500
        Latents edited per model and task (the same draw for every model).
    n_quality : int, default=2000
        Rendered and generated images compared by :func:`frechet_distance`.
    seed : int, default=0
    per_edit : bool, default=False
        Also return the scores of every single edit (the same edits: the table is
        unchanged).

    Returns
    -------
    pandas.DataFrame, or (pandas.DataFrame, pandas.DataFrame)
        One row per model, task and edit rule: ``model``, ``task``, ``method``,
        ``frechet distance`` and the scores of :meth:`EditEvaluator.score`. With
        `per_edit`, also a second table with one row per model, task, edit rule and
        edited latent vector (``edit``, 0 to ``n_edits - 1``): ``success`` (0 or 1) and
        ``drift: <group>`` for every nuisance group. Its means over ``edit`` are the
        first table's ``success`` and ``drift: <group>``.
    """
    import pandas as pd

    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a non-empty dict of name to trained SpecialistGAN; got {models!r:.80}.")
    for name, model in models.items():
        _check_model(model, f"models[{name!r}]")
    if not isinstance(evaluator, EditEvaluator):
        raise ValueError(f"evaluator must be an EditEvaluator; got {type(evaluator).__name__}.")
    if isinstance(methods, str) or not hasattr(methods, "__iter__"):
        raise ValueError(f"methods must be a sequence of edit rules such as ('gradient', 'swap'); got {methods!r}.")
    methods = [check_choice(method, "methods", ("gradient", "swap")) for method in methods]
    per_edit = check_bool(per_edit, "per_edit")
    seed = check_seed(seed)
    n_edits, n_quality = check_int(n_edits, "n_edits", 1), check_int(n_quality, "n_quality", 2)
    check_memory(2 * 4 * n_quality * 3 * evaluator.renderer.size ** 2, f"n_quality={n_quality:,} rendered and "
                 "generated images", fix="pass a smaller n_quality")
    real = evaluator.renderer.sample(n_quality, seed=seed).images
    rows, edits = [], []
    for name, model in models.items():
        z = model.sample_latents(n_edits, seed=seed + 1)
        quality = frechet_distance(evaluator.predictor, real,
                                   model.generate(model.sample_latents(n_quality, seed=seed + 2)))
        for task in ACCESSORIES:
            for method in methods:
                scores = evaluator.score(model, z, task, method=method, per_edit=per_edit)
                if per_edit:
                    each = scores.pop("per edit")
                    n = len(each["success"])
                    edits.append(pd.DataFrame({"model": pd.Series([name] * n, dtype=object), "task": task,
                                               "method": method, "edit": np.arange(n), **each}))
                rows.append({"model": name, "task": task, "method": method, "frechet distance": quality, **scores})
    table = pd.DataFrame(rows)
    return (table, pd.concat(edits, ignore_index=True)) if per_edit else table


def compare_means(first, second, *, z=2.0):
    """Whether one set of scores is larger than another, or the two are the same within noise.

    The difference of the means counts when it exceeds `z` standard errors,
    ``sqrt(sd_1^2 / n_1 + sd_2^2 / n_2)`` (sample sds, ``ddof=1``; 0 for a single
    value). Chapter 8 uses it to state, in words computed from the numbers, whether the
    specialist's edits drift more or less than the generalist's.

    Parameters
    ----------
    first, second : array-like
        Finite scores, one per edit (at least one each).
    z : float, default=2.0

    Returns
    -------
    dict
        ``mean_first``, ``mean_second``, ``difference`` (first minus second),
        ``standard_error`` and ``direction``: ``"more than"``, ``"less than"`` or
        ``"about as much as"`` (first compared with second).

    Examples
    --------
    >>> compare_means([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])["direction"]
    'more than'
    >>> compare_means([1.0, 2.0, 3.0], [1.5, 2.0, 2.5])["direction"]
    'about as much as'
    """
    a, b = (as_real_array(values, name).ravel() for values, name in ((first, "first"), (second, "second")))
    if not a.size or not b.size or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("compare_means needs at least one finite score on each side.")
    z = check_real(z, "z", low=0)
    variance = sum((x.var(ddof=1) if x.size > 1 else 0.0) / x.size for x in (a, b))
    difference, error = float(a.mean() - b.mean()), float(np.sqrt(variance))
    if difference > z * error and difference > 0:
        direction = "more than"
    elif difference < -z * error and difference < 0:
        direction = "less than"
    else:
        direction = "about as much as"
    return {"mean_first": float(a.mean()), "mean_second": float(b.mean()), "difference": difference,
            "standard_error": error, "direction": direction}
