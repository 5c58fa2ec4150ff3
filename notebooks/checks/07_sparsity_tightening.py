"""Hidden checks of chapter 7's exercises (the instructor copy carries them, the student copy does not).

Each check trains small specialists on worlds and samples the chapter never drew (other seeds, one
world whose tasks share two latents; a few epochs on one torch thread, with a quick mask learning
rate so that some mask entries close and others stay open), hands the same model to the student's
function and the solution's, and compares the answers; ``WRONG`` holds a plausible wrong answer per
exercise, which the tests make sure the checks catch.
"""
from functools import lru_cache

import torch

import specbook as sb
from specbook._torch import one_thread
from specbook.harness.grading import compare
from specbook.worlds.latent import example_world

#: (world seed, supports or None for the chapter's [0, 1], [2, 3, 4], [4, 5], (task, latent) entries whose head
#: weights are then cut): the chapter's world, and one where tasks 2 and 3 share two latents. A cut entry stays open
#: in the mask while the head ignores its latent (a flat Jacobian), so the mask alone overstates the support there.
WORLDS = ((31, None, ((2, 3),)), (41, ((0, 1), (1, 2, 3), (2, 3, 4)), ((1, 4),)))


@lru_cache(maxsize=None)
def _specialist(seed, supports=None, cut=()):
    """A world, a specialist briefly trained on it (its mask partly closed; the heads' weights of the `cut` entries
    then set to 0) and held-out samples (trained once for both checks)."""
    world = example_world(seed=seed, **({} if supports is None else {"supports": [list(block) for block in supports]}))
    train = world.sample(n=400, seed=seed + 1)
    with one_thread():
        model = sb.SpecialistVAE(n_latents=8, n_tasks=3, sparsity=2.0, epochs=6, batch_size=32, learning_rate=1e-2,
                                 mask_learning_rate=0.07, progress=False, seed=seed)
        model.fit(train.obs, train.tasks)
        with torch.no_grad():
            for task, latent in cut:
                model.network_.heads.head_w1[task, latent] = 0.0
    return world, model, world.sample(n=600, seed=seed + 2)


def _described(seed, supports, cut):
    return (f"<specialist on example_world(seed={seed}, supports={supports}), head weights zeroed at (task, latent) "
            f"{cut}>")


def check_overlap(student, solution):
    for (seed, supports, cut), pairs in zip(WORLDS, (((1, 2),), ((0, 1), (1, 2)))):
        world, model, sample = _specialist(seed, supports, cut)
        for tasks, r2_seed in zip(pairs, (3, 8)):
            with one_thread():
                expected = solution.shared_block(model, world, sample, tasks, seed=r2_seed)
                got = student.shared_block(model, world, sample, tasks, seed=r2_seed)
            compare(got, expected, f"shared_block({_described(seed, supports, cut)}, <world>, <held-out sample>, "
                                   f"{tasks}, seed={r2_seed})")


def check_mask_jacobian(student, solution):
    for seed, supports, cut in WORLDS:
        _, model, sample = _specialist(seed, supports, cut)
        for tol in (0.05, 0.4, 0.7):
            with one_thread():
                expected = solution.mask_against_jacobian(model, sample, tol)
                got = student.mask_against_jacobian(model, sample, tol)
            compare(got, expected, f"mask_against_jacobian({_described(seed, supports, cut)}, <held-out sample>, "
                                   f"{tol})")


CHECKS = {"ex-specialist-overlap": check_overlap, "ex-mask-jacobian": check_mask_jacobian}

WRONG = {
    # "the rest of the two blocks" taken as their whole union, shared latents included
    "ex-specialist-overlap": '''
def shared_block(model, world, sample, tasks=(1, 2), seed=0):
    from specbook.specialists.identifiability import estimated_support
    from specbook.metrics import block_r2

    z = model.transform(sample.obs)
    support = estimated_support(model, z)
    shared = np.flatnonzero(support[tasks[0]] & support[tasks[1]])
    first, second = set(world.supports[tasks[0]]), set(world.supports[tasks[1]])
    true_shared, true_rest = sorted(first & second), sorted(first | second)
    return {"latents both read (from 1)": (shared + 1).tolist(),
            "R^2 of the shared true latents": block_r2(sample.latents[:, true_shared], z[:, shared], seed=seed),
            "R^2 of the rest of the two blocks": block_r2(sample.latents[:, true_rest], z[:, shared], seed=seed)}
''',
    # scales the Jacobian by its largest entry overall, not by each task's row
    "ex-mask-jacobian": '''
def mask_against_jacobian(model, sample, tol=0.05):
    z = model.transform(sample.obs)
    magnitudes = task_jacobian(model.task_map, z, model.n_tasks)
    scaled = magnitudes / magnitudes.max()
    read, opened = scaled >= tol, model.support_
    return {"open, read": int((opened & read).sum()), "open, not read": int((opened & ~read).sum()),
            "closed, still read": int((~opened & read).sum()), "closed, not read": int((~opened & ~read).sum()),
            "largest closed |J| (row-scaled)": float(scaled[~opened].max(initial=0.0))}
''',
}
