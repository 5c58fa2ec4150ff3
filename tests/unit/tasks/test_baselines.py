"""The structure-recovery baselines: CCA, Group Lasso, SelTask (our readings)."""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("celer")

from specbook import ColliderWorld  # noqa: E402
from specbook.tasks.baselines import (  # noqa: E402
    BASELINES,
    BaselineResult,
    cca_tasks,
    group_lasso_tasks,
    recorrect,
    seltask_tasks,
)

NAMES = list(BASELINES)


@pytest.fixture(scope="module")
def easy():
    """Steps i.i.d. (every transition cut), a strong task signal: each baseline should nail it."""
    worlds = [ColliderWorld(T=8, M=2, L=2, p_disconnect=1.0, task_noise=0.3, seed=s) for s in range(3)]
    return [(w, w.sample(n=5_000, seed=s + 1)) for s, w in enumerate(worlds)]


@pytest.fixture(scope="module")
def small():
    world = ColliderWorld(T=8, M=2, L=2, seed=3)
    return world, world.sample(n=1_000, seed=0)


@pytest.fixture(scope="module")
def results(small):
    _, data = small
    return {name: f(data.states, data.tasks, L=2, seed=0) for name, f in BASELINES.items()}


def test_registry():
    assert BASELINES == {"cca": cca_tasks, "group-lasso": group_lasso_tasks, "seltask": seltask_tasks}


@pytest.mark.parametrize("name", NAMES)
def test_result_shapes_and_types(name, results, small):
    world, _ = small
    res = results[name]
    assert isinstance(res, BaselineResult)
    assert res.method == name
    assert res.segment_tasks.shape == (world.N, world.M) and res.segment_tasks.dtype == bool
    assert res.step_tasks.shape == (world.T, world.M) and res.step_tasks.dtype == bool
    np.testing.assert_array_equal(res.step_tasks, np.repeat(res.segment_tasks, 2, axis=0))
    assert res.scores.shape == (world.N, world.M) and res.scores.dtype == float
    assert np.all(np.isfinite(res.scores))
    assert res.seconds > 0 and res.L == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.method = "other"


@pytest.mark.parametrize("name", NAMES)
def test_scores_order_the_decisions(name, results):
    """Every labelled segment scores at least as high as every unlabelled one (per task)."""
    res = results[name]
    for i in range(res.scores.shape[1]):
        on, off = res.scores[res.segment_tasks[:, i], i], res.scores[~res.segment_tasks[:, i], i]
        if on.size and off.size:
            assert on.min() >= off.max()


@pytest.mark.parametrize("name", NAMES)
def test_2d_states_equal_3d_with_one_dim(name, small):
    _, data = small
    f = BASELINES[name]
    a = f(data.states, data.tasks, L=2, seed=0)
    b = f(data.states[:, :, 0], data.tasks, L=2, seed=0)
    np.testing.assert_array_equal(a.segment_tasks, b.segment_tasks)
    np.testing.assert_allclose(a.scores, b.scores)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_result(name, small, results):
    _, data = small
    again = BASELINES[name](data.states, data.tasks, L=2, seed=0)
    np.testing.assert_array_equal(again.segment_tasks, results[name].segment_tasks)
    np.testing.assert_array_equal(again.scores, results[name].scores)


def test_cca_seed_changes_the_split(small, results):
    _, data = small
    other = cca_tasks(data.states, data.tasks, L=2, seed=1)
    assert not np.allclose(other.scores, results["cca"].scores)


def test_group_lasso_cv_is_seeded(small):
    _, data = small
    a = group_lasso_tasks(data.states, data.tasks, L=2, seed=0, selection="cv", n_lambdas=10)
    b = group_lasso_tasks(data.states, data.tasks, L=2, seed=0, selection="cv", n_lambdas=10)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.info["selection"] == "cv" and a.info["lambdas"].shape == (2,)


def test_group_lasso_path_solves_the_documented_objective():
    """KKT conditions of ||y - Xw||^2 / (2n) + alpha sum_g ||w_g|| (unit weights): the scaling skglm had."""
    from specbook.tasks.baselines import _group_lasso_path

    rng = np.random.default_rng(0)
    n, size = 400, 2
    X = rng.standard_normal((n, 6 * size))
    y = X[:, :size] @ [1.0, -0.5] + 0.3 * X[:, 4] + rng.standard_normal(n)
    lam_max = max(np.linalg.norm(X[:, g * size:(g + 1) * size].T @ y) for g in range(6)) / n
    alphas = lam_max * np.array([1.0, 0.3, 0.05])
    coefs = _group_lasso_path(X, y, alphas, size, 1e-12)
    assert coefs.shape == (3, 6 * size)
    assert not coefs[0].any()  # lam_max zeroes every group
    for alpha, w in zip(alphas[1:], coefs[1:]):
        gradient = X.T @ (y - X @ w) / n
        for g in range(6):
            block, grad = w[g * size:(g + 1) * size], gradient[g * size:(g + 1) * size]
            if block.any():
                np.testing.assert_allclose(grad, alpha * block / np.linalg.norm(block), atol=1e-6)
            else:
                assert np.linalg.norm(grad) <= alpha * (1 + 1e-6)
    active = coefs.reshape(3, 6, size).any(axis=2).sum(axis=1)
    assert active[2] > active[1] > 0


def test_group_lasso_needs_no_compilation():
    """The solver is compiled ahead: a new process runs the baseline without numba and without its seconds."""
    code = (
        "import sys, time\n"
        "from specbook import ColliderWorld\n"
        "from specbook.tasks.baselines import group_lasso_tasks\n"
        "data = ColliderWorld(T=8, M=2, L=2, seed=0).sample(n=500, seed=1)\n"
        "start = time.perf_counter()\n"
        "group_lasso_tasks(data.states, data.tasks, L=2)\n"
        "print(time.perf_counter() - start, 'numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, numba = out.stdout.split()
    assert numba == "False"
    assert float(seconds) < 5, seconds  # skglm's numba compilation took ~9 s here; celer's first call ~0.4 s


@pytest.mark.parametrize("name", NAMES)
def test_recovers_an_easy_world(name, easy):
    for world, data in easy:
        res = BASELINES[name](data.states, data.tasks, L=2, seed=0)
        accuracy = (res.segment_tasks == world.assignment).mean()
        assert accuracy >= 0.9, (name, world.seed, res.segment_tasks, world.assignment)


@pytest.mark.parametrize("name", NAMES)
def test_labels_almost_nothing_when_tasks_are_noise(name):
    world = ColliderWorld(T=20, M=4, L=2, seed=0)
    data = world.sample(n=5_000, seed=0)
    labelled = []
    for s in range(2):
        noise = np.random.default_rng(s).standard_normal(data.tasks.shape)
        labelled.append(BASELINES[name](data.states, noise, L=2, seed=0).segment_tasks.mean())
    assert np.mean(labelled) <= 0.1, labelled


@pytest.mark.parametrize("name", NAMES)
def test_temporal_connections_cause_false_positives(name):
    """The documented weakness: connected neighbours of serving segments get labelled; cut them and they do not."""
    assignment = np.array([[0], [1], [0], [1]], dtype=bool)
    false_positives = {}
    for label, cut in (("connected", []), ("cut", [3, 5, 7])):
        total = 0
        for s in range(6):
            world = ColliderWorld(T=8, M=1, L=2, assignment=assignment, disconnected=cut, task_noise=0.3, seed=s)
            data = world.sample(n=5_000, seed=s)
            res = BASELINES[name](data.states, data.tasks, L=2, seed=0)
            total += int((res.segment_tasks & ~assignment).sum())
        false_positives[label] = total
    # with the cuts only chance rejections remain (12 negative labels tested at alpha = 0.05)
    assert false_positives["cut"] <= 2, false_positives
    assert false_positives["connected"] >= 3 * max(1, false_positives["cut"]), false_positives


def test_seltask_info(results, small):
    world, _ = small
    info = results["seltask"].info
    N, M = world.N, world.M
    for key in ("pvalues", "significant", "cmi_gain", "reconstruction"):
        assert info[key].shape == (M, N, N)
    lower = np.tril(np.ones((N, N), dtype=bool))
    assert np.isnan(info["pvalues"][:, lower]).all() and not info["significant"][:, lower].any()


def test_cca_pvalues_match_decisions(results):
    res = results["cca"]
    np.testing.assert_array_equal(res.segment_tasks, res.info["pvalues"] < 0.05)


# ---------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(0)
    return rng.standard_normal((200, 8, 1)), rng.standard_normal((200, 2))


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_n(name, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="same number of samples"):
        BASELINES[name](states, tasks[:-1], L=2)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_ndim(name, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="states must have shape"):
        BASELINES[name](states[0, 0], tasks, L=2)
    with pytest.raises(ValueError, match="states must have shape"):
        BASELINES[name](states[..., None], tasks, L=2)
    with pytest.raises(ValueError, match="tasks must have shape"):
        BASELINES[name](states, tasks[:, 0], L=2)


#: Bad entries written into one array: (which array, where, what, the error's message).
CORRUPTIONS = {
    "nan state": ("states", (3, 2, 0), np.nan, "states contains NaN or inf"),
    "inf state": ("states", (3, 2, 0), np.inf, "states contains NaN or inf"),
    "nan task": ("tasks", (5, 1), np.nan, "tasks contains NaN or inf"),
    "inf task": ("tasks", (5, 1), np.inf, "tasks contains NaN or inf"),
    "constant state column": ("states", (slice(None), 4, 0), 1.0,
                              r"states has constant columns \(1-based steps \[5\]\)"),
    "constant task column": ("tasks", (slice(None), 0), 0.0, "tasks has constant columns"),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_bad_entries(name, corruption, arrays):
    which, where, value, message = CORRUPTIONS[corruption]
    data = dict(zip(("states", "tasks"), arrays))
    data[which] = data[which].copy()
    data[which][where] = value
    with pytest.raises(ValueError, match=message):
        BASELINES[name](data["states"], data["tasks"], L=2)


@pytest.mark.parametrize("name", NAMES)
def test_T_not_a_multiple_of_L(name, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="T must be a multiple of L"):
        BASELINES[name](states, tasks, L=3)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("L", [0, -2, 1.5, True, "2"])
def test_bad_L(name, L, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="L must be an integer"):
        BASELINES[name](states, tasks, L=L)


@pytest.mark.parametrize("f", [cca_tasks, seltask_tasks])
@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.05", True])
def test_bad_alpha(f, alpha, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="alpha must be"):
        f(states, tasks, L=2, alpha=alpha)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [-1, 1.5, None])
def test_bad_seed(name, seed, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="seed must be"):
        BASELINES[name](states, tasks, L=2, seed=seed)


@pytest.mark.parametrize("name", NAMES)
def test_too_few_samples(name, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="samples"):
        BASELINES[name](states[:2], tasks[:2], L=2)


@pytest.mark.parametrize("f", [cca_tasks, seltask_tasks])
def test_unknown_correction(f, arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="correction must be one of"):
        f(states, tasks, L=2, correction="fdr")


def test_method_specific_options(arrays):
    states, tasks = arrays
    with pytest.raises(ValueError, match="test_fraction"):
        cca_tasks(states, tasks, test_fraction=1.0)
    with pytest.raises(ValueError, match="selection must be"):
        group_lasso_tasks(states, tasks, selection="aic")
    with pytest.raises(ValueError, match="n_lambdas"):
        group_lasso_tasks(states, tasks, n_lambdas=1)
    with pytest.raises(ValueError, match="lambda_min_ratio"):
        group_lasso_tasks(states, tasks, lambda_min_ratio=0)
    with pytest.raises(ValueError, match="cv must be"):
        group_lasso_tasks(states, tasks, selection="cv", cv=1)
    with pytest.raises(ValueError, match="threshold"):
        seltask_tasks(states, tasks, threshold=0)
    with pytest.raises(ValueError, match="at least two segments"):
        seltask_tasks(states, tasks, L=8)


def test_seltask_collinear_states(arrays):
    states, tasks = arrays
    s = states.copy()
    s[:, 3] = 2 * s[:, 2] + 1  # s4 is a function of s3, which the test of segment 2 conditions on
    with pytest.raises(ValueError, match="collinear"):
        seltask_tasks(s, tasks, L=2)


@pytest.mark.parametrize("name", NAMES)
def test_vector_states(name):
    world = ColliderWorld(T=6, M=2, L=2, state_dim=2, p_disconnect=1.0, task_noise=0.3, seed=1)
    data = world.sample(n=3_000, seed=2)
    res = BASELINES[name](data.states, data.tasks, L=2, seed=0)
    assert res.segment_tasks.shape == (3, 2)
    assert (res.segment_tasks == world.assignment).mean() >= 0.8


@pytest.mark.parametrize("correction", [None, "bonferroni", "holm", "bh", "by"])
@pytest.mark.parametrize("f", [cca_tasks, seltask_tasks], ids=["cca", "seltask"])
def test_recorrect_equals_running_again(f, correction):
    world = ColliderWorld(T=12, M=3, L=2, seed=4)
    data = world.sample(n=2_000, seed=5)
    found = f(data.states, data.tasks, L=2, seed=1)
    again = f(data.states, data.tasks, L=2, seed=1, correction=correction)
    redecided = recorrect(found, correction)
    assert redecided.info["correction"] == correction and redecided.method == found.method
    np.testing.assert_array_equal(redecided.segment_tasks, again.segment_tasks)
    np.testing.assert_array_equal(redecided.step_tasks, again.step_tasks)
    np.testing.assert_allclose(redecided.scores, again.scores)
    if f is seltask_tasks:
        np.testing.assert_array_equal(redecided.info["significant"], again.info["significant"])
    assert redecided.seconds >= found.seconds
    assert found.info["correction"] == (f is seltask_tasks and "bh" or None)  # the original is untouched


def test_recorrect_refuses_group_lasso_and_unknown_rules(results):
    with pytest.raises(ValueError, match="does not decide by tests"):
        recorrect(results["group-lasso"], "holm")
    with pytest.raises(ValueError, match="correction must be one of"):
        recorrect(results["cca"], "sidak")
