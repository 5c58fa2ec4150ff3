"""Hidden checks of chapter 6's exercises (the instructor copy carries them, the student copy does not).

Each check calls the student's functions and the solution's on worlds, samples and models the
chapter never drew (other seeds, sizes and training options: tiny VAEs, a few epochs, one torch
thread, so that training is quick and the same in both calls) and compares the answers;
``WRONG`` holds a plausible wrong answer per exercise, which the tests make sure the checks catch.
"""

import numpy as np
import pandas as pd

import specbook as sb
from specbook._torch import one_thread
from specbook.harness.grading import compare
from specbook.specialists.identifiability import estimated_support
from specbook.worlds.latent import example_world


def check_linear(student, solution):
    # one call: training and held-out R^2 are the costly part; every option differs from the chapter's and the defaults
    n_train, n_test, options, seed = 300, 600, {"epochs": 3, "batch_size": 64, "learning_rate": 1e-2}, 5
    with one_thread():
        got = student.linear_generalist_scores(n_train, n_test, dict(options), seed=seed)
        expected = solution.linear_generalist_scores(n_train, n_test, dict(options), seed=seed)
    compare(got, expected, f"linear_generalist_scores({n_train}, {n_test}, {options}, seed={seed})")


def _spare_generalist(seed):
    """A generalist with four spare latents, briefly trained on a fresh sample of the chapter's world."""
    world = example_world(seed=seed)
    train = world.sample(n=400, seed=seed + 1)
    with one_thread():
        model = sb.SpecialistVAE(n_latents=world.n_latents + 4, n_tasks=3, sparsity=0.0, epochs=6, batch_size=32,
                                 learning_rate=1e-2, progress=False, seed=seed)
        model.fit(train.obs, train.tasks)
    return model, world.sample(n=300, seed=seed + 2)


def check_spare(student, solution):
    model, sample = _spare_generalist(61)
    supports = [(0, 1, 5, 9), (2, 3, 4, 11), (4, 5, 6, 7, 8)]  # given by hand: some collapsed latents, some live
    for threshold in (0.55, 0.9):
        compare(student.collapsed_reads(model, sample, supports, threshold),
                solution.collapsed_reads(model, sample, supports, threshold),
                f"collapsed_reads(<spare generalist, seed 61>, <sample>, {supports}, {threshold})")
    model, sample = _spare_generalist(71)
    # the model's own estimated supports, as a column of a table (index not from 0), as in the chapter
    supports = pd.Series([tuple(int(j) for j in np.flatnonzero(row))
                          for row in estimated_support(model, model.transform(sample.obs))], index=[3, 4, 5])
    for threshold in (0.6,):
        compare(student.collapsed_reads(model, sample, supports, threshold),
                solution.collapsed_reads(model, sample, supports, threshold),
                f"collapsed_reads(<spare generalist, seed 71>, <sample>, <its estimated supports>, {threshold})")


CHECKS = {"ex-generalist-linear": check_linear, "ex-generalist-spare": check_spare}

WRONG = {
    # forgets sparsity=0.0: SpecialistVAE's default l1 weight (2.0) trains a specialist, not a generalist
    "ex-generalist-linear": '''
def linear_generalist_scores(n_train, n_test, vae_options, seed=0):
    linear_world = example_world(seed=seed, task_dim=1, task_map="linear")
    linear_train = linear_world.sample(n=n_train, seed=seed + 1)
    linear_test = linear_world.sample(n=n_test, seed=seed + 2)
    model = sb.SpecialistVAE(n_latents=8, n_tasks=3, progress=False, seed=seed, **vae_options)
    model.fit(linear_train.obs, linear_train.tasks)
    return task_block_scores(model, linear_world, linear_test, seed=seed)
''',
    # lists the collapsed latents counted from 0, where the column says from 1
    "ex-generalist-spare": '''
def collapsed_reads(model, sample, supports, threshold=0.2):
    spread = model.transform(sample.obs).std(axis=0)
    collapsed = {int(j) for j in np.flatnonzero(spread < threshold)}
    return pd.DataFrame([{"task": k + 1, "collapsed latents (from 1)": tuple(sorted(collapsed)),
                          "collapsed, read": len(collapsed & set(support)),
                          "live, read": len(set(support) - collapsed), "live": model.n_latents - len(collapsed)}
                         for k, support in enumerate(supports)])
''',
}
