"""Hidden checks of the GAN-editing chapter's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on a GAN the chapter never trained
(16 x 16 cats, a narrow network, 20 steps, its mask set by hand so that each task reads a few
latents) and on latents and seeds the chapter never drew, and compares the answers. The
predictor is a stand-in for the chapter's ``CatFactorPredictor``: fixed random linear read-outs
of the pixels, with the same methods. ``WRONG`` holds a plausible wrong answer per exercise,
which the tests make sure the checks catch.
"""
import copy
import functools
import warnings

import numpy as np
import torch

from specbook.harness.grading import compare
from specbook.specialists.gan import SpecialistGAN
from specbook.worlds.cats import ACCESSORIES, CatRenderer

#: The latents each task of the hand-set specialist mask opens (the others stay closed).
OPEN_LATENTS = ([1, 6, 11], [3, 4], [0, 8, 9, 14])


@functools.lru_cache(maxsize=None)
def _generalist():
    """A tiny GAN, trained for a few steps on 48 rendered 16 x 16 cats; its tasks read every latent."""
    cats = CatRenderer(size=16).sample(48, seed=808)
    model = SpecialistGAN(width=8, steps=20, batch_size=16, l1_warmup_steps=0, l1_ramp_steps=0, progress=False,
                          seed=81)
    model.fit(cats.images, cats.labels(), cats.attributes())
    with torch.no_grad():  # 20 steps leave the heads unsure of every cat: make them decisive, so edits stop early
        model.heads_.head_w2[:, :, 0] *= 40
    return model


@functools.lru_cache(maxsize=None)
def _specialist():
    """The tiny GAN with a specialist's mask: a few open latents per task, every entry different."""
    model = copy.deepcopy(_generalist())
    rng = np.random.default_rng(82)
    logits = rng.uniform(-4, -1, (len(ACCESSORIES), model.n_latents))
    for task, latents in enumerate(OPEN_LATENTS):
        logits[task, latents] = rng.uniform(1, 4, len(latents))
    with torch.no_grad():
        model.heads_.mask_logits.copy_(torch.as_tensor(logits, dtype=torch.float32))
    return model


class _Readout:
    """Stands in for CatFactorPredictor: fixed random linear read-outs of the pixels, standardised on `reference`."""

    def __init__(self, reference, seed):
        flat = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
        rng = np.random.default_rng(seed)
        self._centre = flat.mean(axis=0)
        self._weights = rng.standard_normal((flat.shape[1], len(ACCESSORIES) + 11))
        self._scale = ((flat - self._centre) @ self._weights).std(axis=0)
        self._units = rng.uniform(0.5, 3.0, 11)  # factor units, as the real predictor's nuisances have

    def _scores(self, images):
        flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        return (flat - self._centre) @ self._weights / self._scale

    def predict_accessories(self, images):
        return 1 / (1 + np.exp(-self._scores(images)[:, :len(ACCESSORIES)]))

    def predict_nuisances(self, images, standardised=False):
        values = self._scores(images)[:, len(ACCESSORIES):]
        return values if standardised else values * self._units + 1.0


@functools.lru_cache(maxsize=None)
def _readout():
    model = _specialist()
    return _Readout(model.generate(model.sample_latents(200, seed=83)), seed=84)


def check_complement(student, solution):
    model, readout = _specialist(), _readout()
    with warnings.catch_warnings():  # block_r2's kernel has more features than these few samples: harmless
        warnings.filterwarnings("ignore", message="n_components > n_samples")
        for n, seed in ((60, 5), (90, 17)):
            compare(student.accessory_from_latents(model, readout, n, seed),
                    solution.accessory_from_latents(model, readout, n, seed),
                    f"accessory_from_latents(tiny specialist GAN, pixel read-out, {n}, {seed})")


def check_support_size(student, solution):
    model, readout = _specialist(), _readout()
    for ks, n, seed in (((1, 2, 5, 16), 30, 23), ((3, 16), 24, 4)):
        compare(student.swap_curve(model, readout, ks, n, seed), solution.swap_curve(model, readout, ks, n, seed),
                f"swap_curve(tiny specialist GAN, pixel read-out, {ks}, {n}, {seed})")


def check_edit_rules(student, solution):
    for name, model, n, seed in (("specialist", _specialist(), 10, 31), ("generalist", _generalist(), 7, 2)):
        compare(student.edit_moves(model, n, seed), solution.edit_moves(model, n, seed),
                f"edit_moves(tiny {name} GAN, {n}, {seed})")


CHECKS = {"ex-gan-complement": check_complement, "ex-gan-support-size": check_support_size,
          "ex-gan-edit-rules": check_edit_rules}

WRONG = {
    # takes every latent with a non-zero mask entry as the task's (the mask is never exactly 0), so none is left over
    "ex-gan-complement": '''
def accessory_from_latents(model, predictor, n=1_000, seed=0):
    from specbook.metrics import block_r2

    z = model.sample_latents(n, seed=seed)
    worn = predictor.predict_accessories(model.generate(z))
    rows = []
    for task in model.tasks:
        own = np.flatnonzero(model.mask_[model.task_index(task)])
        others = np.setdiff1d(np.arange(model.n_latents), own)
        target = worn[:, ACCESSORIES.index(task)]
        rows.append({"task": task, "latents read": len(own),
                     "R^2 from the task's latents": block_r2(target, z[:, own], seed=seed),
                     "R^2 from the other latents": block_r2(target, z[:, others], seed=seed)})
    return pd.DataFrame(rows).set_index("task")
''',
    # ranks the latents by their mask entry in ascending order: swaps the k most closed latents first
    "ex-gan-support-size": '''
def swap_curve(model, predictor, ks=(1, 2, 3, 4, 8, 16), n=160, seed=0):
    z = model.sample_latents(n, seed=seed)
    donors = model.sample_latents(n, seed=seed + 1)
    swaps = [(task, k) for task in model.tasks for k in ks]
    batches = [z]
    for task, k in swaps:
        chosen = np.argsort(model.mask_[model.task_index(task)], kind="stable")[:k]
        edited = z.copy()
        edited[:, chosen] = donors[:, chosen]
        batches.append(edited)
    images = model.generate(np.concatenate(batches))
    worn = (predictor.predict_accessories(images) > 0.5).reshape(len(batches), n, -1)
    nuisances = predictor.predict_nuisances(images, standardised=True).reshape(len(batches), n, -1)
    rows = []
    for (task, k), worn_after, nuisances_after in zip(swaps, worn[1:], nuisances[1:]):
        column = ACCESSORIES.index(task)
        rows.append({"task": task, "latents swapped": k, "open mask entries": len(model.relevant_latents(task)),
                     "accessory changed": float((worn_after[:, column] != worn[0][:, column]).mean()),
                     "nuisance change": float(np.abs(nuisances_after - nuisances[0]).mean())})
    return pd.DataFrame(rows)
''',
    # always puts the accessory on, whatever the cat shows, instead of toggling it
    "ex-gan-edit-rules": '''
def edit_moves(model, n=64, seed=0):
    z = model.sample_latents(n, seed=seed)
    rows = []
    for task in ACCESSORIES:
        for method in ("gradient", "swap"):
            move = model.edit(z, task, present=True, method=method, seed=seed) - z
            moved = (np.abs(move) > 1e-6).sum(axis=1)
            rows.append({"method": method, "task": task, "latents moved": moved.mean(),
                         "move length": np.linalg.norm(move, axis=1).mean(),
                         "sqrt(2 x latents moved)": np.sqrt(2 * moved).mean()})
    return pd.DataFrame(rows).set_index(["method", "task"])
''',
}
