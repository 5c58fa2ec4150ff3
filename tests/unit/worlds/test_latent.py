import numpy as np
import pytest
import torch

import specbook as sb
from specbook.worlds.latent import EXAMPLE_SUPPORTS
from specbook.metrics import jacobian_support


def test_world_shapes_supports_and_determinism():
    world = sb.TaskLatentWorld(n_latents=8, n_tasks=3, supports=[[0, 1], [2, 3, 4], [4, 5]], obs_dim=20, seed=0)
    data = world.sample(n=500, seed=1)
    assert data.latents.shape == (500, 8) and data.obs.shape == (500, 20) and data.tasks.shape == (500, 3)
    assert world.supports == EXAMPLE_SUPPORTS
    assert world.support_matrix.sum(axis=1).tolist() == [2, 3, 2]
    again = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, seed=0).sample(n=500, seed=1)
    assert np.array_equal(data.obs, again.obs) and np.array_equal(data.tasks, again.tasks)
    assert not np.array_equal(data.obs, world.sample(n=500, seed=2).obs)


def test_tasks_depend_only_on_their_support():
    world = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, seed=3)
    s = np.random.default_rng(0).standard_normal((400, 8))
    assert np.array_equal(jacobian_support(world.task_function, s, tol=1e-9), world.support_matrix)
    # Changing a latent outside task 0's support leaves task 0 unchanged.
    moved = s.copy()
    moved[:, 7] += 3.0
    assert np.allclose(world.task_function(moved)[:, 0], world.task_function(s)[:, 0])


def test_random_supports_and_standardised_tasks():
    world = sb.TaskLatentWorld(n_latents=6, n_tasks=4, support_size=3, seed=5)
    assert all(len(support) == 3 and max(support) < 6 for support in world.supports)
    data = world.sample(n=20_000, seed=0)
    assert np.allclose(data.tasks.mean(axis=0), 0, atol=0.05)
    assert np.allclose(data.tasks.std(axis=0), np.sqrt(1 + world.task_noise ** 2), atol=0.05)
    assert np.allclose(data.obs.std(axis=0), np.sqrt(1 + world.obs_noise ** 2), atol=0.05)


def test_support_size_ranges_and_disjoint_supports():
    sizes = set()
    for seed in range(20):
        world = sb.TaskLatentWorld(n_latents=9, n_tasks=3, support_size=(1, 3), disjoint_supports=True, seed=seed)
        assert 1 <= min(map(len, world.supports)) and max(map(len, world.supports)) <= 3
        assert world.support_matrix.sum(axis=0).max() == 1  # no latent shared
        sizes |= set(map(len, world.supports))
    assert sizes == {1, 2, 3}


@pytest.mark.parametrize("activation", ["leaky-relu", "tanh", "elu"])
def test_every_activation_keeps_the_mixing_injective(activation):
    world = sb.TaskLatentWorld(n_latents=4, n_tasks=2, obs_dim=6, activation=activation, mixing_layers=3, seed=1)
    s = torch.as_tensor(np.random.default_rng(0).standard_normal((50, 4)))
    jacobians = torch.stack([torch.autograd.functional.jacobian(world.mix, row[None])[0, :, 0] for row in s])
    assert (torch.linalg.matrix_rank(jacobians) == 4).all()  # full column rank at every point
    assert activation in repr(world)


def test_activations_give_different_worlds_with_the_same_seed():
    latents = np.random.default_rng(0).standard_normal((10, 8))
    mixed = [sb.TaskLatentWorld(activation=a, seed=0).mix(latents) for a in ("leaky-relu", "tanh", "elu")]
    assert not np.allclose(mixed[0], mixed[1]) and not np.allclose(mixed[1], mixed[2])


def test_random_family_varies_and_repeats():
    from specbook.worlds.latent import random_task_latent_worlds

    worlds = list(random_task_latent_worlds(40, seed=3))
    again = list(random_task_latent_worlds(40, seed=3))
    assert [repr(w) for w in worlds] == [repr(w) for w in again]
    assert {w.activation for w in worlds} == {"leaky-relu", "tanh", "elu"}
    assert {len(s) for w in worlds for s in w.supports} == {1, 2, 3, 4}
    assert len({w.mixing_layers for w in worlds}) == 4 and len({w.n_latents for w in worlds}) >= 4
    overlapping = [w for w in worlds if w.support_matrix.sum(axis=0).max() > 1]
    assert overlapping and len(overlapping) < len(worlds)
    for w in worlds:
        assert w.task_dim >= max(2, max(map(len, w.supports)))  # vector tasks injective in their blocks
        assert w.support_matrix.any(axis=0).sum() <= w.n_latents
    assert all(w.task_dim == 1 for w in random_task_latent_worlds(5, tasks="scalar", seed=3))
    with pytest.raises(ValueError, match="tasks must be one of"):
        random_task_latent_worlds(3, tasks="matrix")
    with pytest.raises(ValueError, match="n_worlds"):
        random_task_latent_worlds(-1)


def test_latents_are_independent_so_irrelevant_blocks_are_unpredictable():
    data = sb.TaskLatentWorld(seed=0).sample(n=5000, seed=0)
    correlation = np.corrcoef(data.latents.T) - np.eye(8)
    assert np.abs(correlation).max() < 0.06


def test_mixing_is_invertible_and_nonlinear():
    world = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, seed=0)
    s = torch.randn(256, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    jacobian = torch.func.vmap(torch.func.jacrev(lambda v: world.mix(v[None])[0]))(s)
    singular = torch.linalg.svdvals(jacobian)
    assert singular.min() > 1e-3  # full column rank everywhere: the mixing is injective
    assert not torch.allclose(jacobian[0], jacobian[1])  # the Jacobian changes: not linear
    linear = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, mixing="linear", seed=0)
    jacobian = torch.func.vmap(torch.func.jacrev(lambda v: linear.mix(v[None])[0]))(s)
    assert torch.allclose(jacobian[0], jacobian[1])


def test_nonlinearity_check_tells_mlp_from_linear_tasks():
    nonlinear = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, seed=0).nonlinearity_check()
    assert [r["gradient_rank"] for r in nonlinear] == [2, 3, 2] and all(r["sufficient"] for r in nonlinear)
    linear = sb.TaskLatentWorld(supports=EXAMPLE_SUPPORTS, task_map="linear", seed=0).nonlinearity_check()
    assert [r["gradient_rank"] for r in linear] == [1, 1, 1] and not any(r["sufficient"] for r in linear)


@pytest.mark.parametrize("kwargs, match", [
    ({"supports": [[0, 9], [1], [2]]}, "outside 0..n_latents - 1"),
    ({"supports": [[], [1], [2]]}, "non-empty"),
    ({"supports": [[0, 0], [1], [2]]}, "repeats"),
    ({"supports": [[0], [1]]}, "one entry per task"),
    ({"supports": [[0.5], [1], [2]]}, "integer"),
    ({"obs_dim": 5}, "obs_dim = 5 < n_latents = 8"),
    ({"mixing": "cubic"}, "mixing"),
    ({"task_map": "tree"}, "task_map"),
    ({"obs_noise": -1}, "obs_noise"),
    ({"task_noise": float("nan")}, "task_noise"),
    ({"leaky_slope": 1.0}, "leaky_slope"),
    ({"n_latents": 0}, "n_latents"),
    ({"support_size": 9}, "support_size"),
    ({"support_size": (3, 2)}, "low <= high"),
    ({"support_size": (1, 9)}, r"support_size\[1\]"),
    ({"support_size": (1, 2, 3)}, "a \\(low, high\\) pair"),
    ({"activation": "relu"}, "activation must be one of 'leaky-relu', 'tanh', 'elu'"),
    ({"disjoint_supports": "yes"}, "disjoint_supports"),
    ({"n_tasks": 3, "support_size": 3, "disjoint_supports": True}, "need 9 latents, more than n_latents = 8"),
])
def test_bad_world_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sb.TaskLatentWorld(**kwargs)


def test_bad_sample_and_map_arguments():
    world = sb.TaskLatentWorld(seed=0)
    with pytest.raises(ValueError, match="n must be"):
        world.sample(n=0)
    with pytest.raises(ValueError, match="latents must have shape"):
        world.task_function(np.zeros((3, 5)))
