import networkx as nx
import numpy as np
import pytest

import specbook as sb


def figure2_world(**kwargs):
    return sb.ColliderWorld(T=10, M=2, L=2, assignment=[[0, 1], [1, 0], [0, 1], [1, 0], [0, 1]],
                            disconnected=[6], **kwargs)


def test_graph_follows_the_generative_process():
    G = figure2_world().graph
    assert set(G) == {f"{k}{t}" for k in "sa" for t in range(1, 11)} | {"g1", "g2"}
    assert nx.is_directed_acyclic_graph(G)
    # connected steps: s_t -> s_{t+1} and a_t -> s_{t+1}; step 6 is cut from step 5
    assert G.has_edge("s4", "s5") and G.has_edge("a4", "s5")
    assert not G.has_edge("s5", "s6") and not G.has_edge("a5", "s6")
    assert all(G.has_edge(f"s{t}", f"a{t}") for t in range(1, 11))
    # every action of a serving segment points into the task, and nothing else does
    assert sorted(G.predecessors("g1")) == ["a3", "a4", "a7", "a8"]
    assert sorted(G.predecessors("g2")) == ["a1", "a10", "a2", "a5", "a6", "a9"]
    assert G.out_degree("g1") == 0 and G.out_degree("g2") == 0


def test_random_world_is_seeded_and_every_task_has_a_pair_of_segments():
    a = sb.ColliderWorld(T=20, M=4, L=2, seed=3)
    b = sb.ColliderWorld(T=20, M=4, L=2, seed=3)
    c = sb.ColliderWorld(T=20, M=4, L=2, seed=4)
    assert a.assignment.shape == (10, 4) and a.assignment.dtype == bool
    assert np.array_equal(a.assignment, b.assignment) and a.disconnected == b.disconnected
    assert not (np.array_equal(a.assignment, c.assignment) and a.disconnected == c.disconnected)
    assert (a.assignment.sum(axis=0) >= 2).all()
    assert np.array_equal(a.step_tasks, np.repeat(a.assignment, 2, axis=0))


def test_p_disconnect_extremes():
    assert sb.ColliderWorld(T=12, M=1, L=3, p_disconnect=0.0).disconnected == ()
    assert sb.ColliderWorld(T=12, M=1, L=3, p_disconnect=1.0).disconnected == tuple(range(2, 13))


@pytest.mark.parametrize("d", [1, 3])
def test_sample_shapes_seed_and_unit_variance(d):
    world = sb.ColliderWorld(T=6, M=2, L=3, state_dim=d, seed=1)
    x = world.sample(n=20_000, seed=5)
    assert x.states.shape == (20_000, 6, d) and x.actions.shape == (20_000, 6, d) and x.tasks.shape == (20_000, 2)
    y = world.sample(n=20_000, seed=5)
    assert np.array_equal(x.states, y.states) and np.array_equal(x.tasks, y.tasks)
    assert not np.array_equal(x.states, world.sample(n=20_000, seed=6).states)
    variances = np.concatenate([x.states.var(0).ravel(), x.actions.var(0).ravel(), x.tasks.var(0)])
    assert np.allclose(variances, 1.0, atol=0.05)
    assert np.allclose(np.diag(world.covariance()), 1.0)


def test_sample_covariance_matches_population():
    world = sb.ColliderWorld(T=8, M=2, L=2, seed=0)
    data = world.sample(n=50_000, seed=2)
    nodes = [f"s{t}" for t in range(1, 9)] + [f"a{t}" for t in range(1, 9)] + ["g1", "g2"]
    flat = np.concatenate([data.states[:, :, 0], data.actions[:, :, 0], data.tasks], axis=1)
    assert np.abs(np.cov(flat, rowvar=False) - world.covariance(nodes)).max() < 0.04


def test_population_independence_matches_d_separation():
    world = figure2_world(seed=0)
    G = world.graph
    rng = np.random.default_rng(0)
    nodes = sorted(G)
    for _ in range(300):
        x, y, *z = rng.choice(nodes, size=2 + rng.integers(0, 4), replace=False)
        separated = nx.is_d_separator(G, {x}, {y}, set(z))
        pcorr = world.partial_correlation(x, y, given=z)
        if separated:
            assert abs(pcorr) < 1e-10, (x, y, z)
        else:
            # linear-Gaussian with random weights: faithful with probability one
            assert abs(pcorr) > 1e-6, (x, y, z, pcorr)


def test_collider_opens_when_conditioned():
    world = figure2_world(seed=0)
    assert abs(world.partial_correlation("a4", "a8")) < 1e-12
    assert abs(world.partial_correlation("a4", "a8", given=["g1"])) > 0.05


def test_larger_task_noise_weakens_the_collider_signal():
    def signal(noise):
        w = sb.ColliderWorld(T=4, M=1, L=2, assignment=[[1], [1]], disconnected=[2, 3, 4], task_noise=noise, seed=0)
        return abs(w.partial_correlation("a2", "a4", given=["g1"]))
    values = [signal(s) for s in (0.25, 1.0, 4.0)]
    assert values[0] > values[1] > values[2] > 0


def test_structural_weights_and_errors():
    world = figure2_world(seed=0)
    assert world.structural_weights("g1", "a4").shape == (1, 1)
    assert world.structural_weights("g1", "a4")[0, 0] != 0
    assert world.structural_weights("g1", "a5")[0, 0] == 0
    with pytest.raises(ValueError, match="unknown node"):
        world.structural_weights("g9", "a1")
    with pytest.raises(ValueError, match="unknown nodes"):
        world.covariance(["s99"])
    assert world.segment_steps(2) == [3, 4] and world.segment_of(4) == 2
    with pytest.raises(ValueError, match="k must be"):
        world.segment_steps(6)
    with pytest.raises(ValueError, match="t must be"):
        world.segment_of(0)
    with pytest.raises(ValueError, match="scalar nodes"):
        sb.ColliderWorld(T=4, M=1, state_dim=2).partial_correlation("s1", "s2")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(T=7, M=2, L=2), "multiple of L"),
        (dict(T=8, M=0), "M must be"),
        (dict(T=1, M=1, L=1), "T must be"),
        (dict(T=8, M=2, L=0), "L must be"),
        (dict(T=8, M=2, L=2.5), "L must be"),
        (dict(T=8, M=2, state_dim=0), "state_dim"),
        (dict(T=8, M=2, p_disconnect=1.5), "p_disconnect"),
        (dict(T=8, M=2, task_density=-0.1), "task_density"),
        (dict(T=8, M=2, task_noise=0.0), "task_noise"),
        (dict(T=8, M=2, weight_range=(0.0, 1.0)), "weight_range"),
        (dict(T=8, M=2, mechanism="quadratic"), "mechanism"),
        (dict(T=8, M=2, assignment=np.ones((3, 2), bool)), r"shape \(N, M\) = \(4, 2\)"),
        (dict(T=8, M=2, assignment=np.full((4, 2), 2)), "boolean"),
        (dict(T=8, M=2, disconnected=[1]), "2..T"),
        (dict(T=8, M=2, disconnected=[9]), "2..T"),
        (dict(T=8, M=2, seed=-1), r"seed must be an integer in \[0, 2\*\*32\); got -1\."),
        (dict(T=8, M=2, seed=1.5), r"seed must be an integer in \[0, 2\*\*32\); got 1\.5\."),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sb.ColliderWorld(**kwargs)


def test_bad_sample_size():
    with pytest.raises(ValueError, match="n must be"):
        sb.ColliderWorld(T=4, M=1).sample(n=0)


def test_nonlinear_world_is_seeded_standardised_and_non_gaussian():
    from scipy.stats import kurtosis

    world = sb.ColliderWorld(T=6, M=2, L=2, mechanism="nonlinear", seed=2)
    x = world.sample(n=20_000, seed=4)
    assert np.array_equal(x.states, world.sample(n=20_000, seed=4).states)
    again = sb.ColliderWorld(T=6, M=2, L=2, mechanism="nonlinear", seed=2).sample(n=20_000, seed=4)
    assert np.array_equal(x.tasks, again.tasks)
    flat = np.concatenate([x.states.reshape(20_000, -1), x.actions.reshape(20_000, -1), x.tasks], axis=1)
    assert np.allclose(flat.mean(axis=0), 0.0, atol=0.05) and np.allclose(flat.var(axis=0), 1.0, atol=0.1)
    assert abs(kurtosis(x.states[:, 0, 0])) > 0.5  # uniform noise on s1: clearly not Gaussian
    for method in (world.covariance, lambda: world.structural_weights("g1", "a1")):
        with pytest.raises(ValueError, match="mechanism='linear'"):
            method()


def test_nonlinear_collider_opens_when_conditioned():
    world = figure2_world(mechanism="nonlinear", seed=0)
    data = world.sample(n=50_000, seed=1)
    a4, a8, g1 = data.actions[:, 3, 0], data.actions[:, 7, 0], data.tasks[:, 0]
    basis = np.vander(g1, 6)

    def residual(y):
        return y - basis @ np.linalg.lstsq(basis, y, rcond=None)[0]

    assert abs(np.corrcoef(a4, a8)[0, 1]) < 0.03
    assert abs(np.corrcoef(residual(a4), residual(a8))[0, 1]) > 0.3


@pytest.mark.parametrize(
    "role, marginal_separated, given_task_separated",
    [("collider", True, False), ("confounder", False, True), ("mediator", False, True)],
)
def test_task_roles_reverse_the_independence_pattern(role, marginal_separated, given_task_separated):
    # one task, so that no other task can act as a common cause
    world = sb.ColliderWorld(T=10, M=1, L=2, assignment=[[0], [1], [0], [1], [0]], disconnected=[6],
                             task_role=role, seed=0)
    G = world.graph
    assert nx.is_directed_acyclic_graph(G)
    assert nx.is_d_separator(G, {"a4"}, {"a8"}, set()) is marginal_separated
    assert nx.is_d_separator(G, {"a4"}, {"a8"}, {"g1"}) is given_task_separated
    assert (abs(world.partial_correlation("a4", "a8")) < 1e-12) is marginal_separated
    assert (abs(world.partial_correlation("a4", "a8", given=["g1"])) < 1e-12) is given_task_separated


def test_task_role_edges():
    confounder = figure2_world(task_role="confounder").graph
    assert sorted(confounder.successors("g1")) == ["a3", "a4", "a7", "a8"] and confounder.in_degree("g1") == 0
    mediator = figure2_world(task_role="mediator").graph
    assert sorted(mediator.predecessors("g1")) == ["a3", "a4"] and sorted(mediator.successors("g1")) == ["a7", "a8"]
    with pytest.raises(ValueError, match="task_role"):
        sb.ColliderWorld(T=4, M=1, task_role="cause")


@pytest.mark.parametrize("role", ["confounder", "mediator"])
def test_other_roles_stay_markov_and_faithful(role):
    world = sb.ColliderWorld(T=8, M=2, L=2, task_role=role, seed=5)
    rng = np.random.default_rng(1)
    nodes = sorted(world.graph)
    assert np.allclose(np.diag(world.covariance()), 1.0)
    for _ in range(200):
        x, y, *z = rng.choice(nodes, size=2 + rng.integers(0, 4), replace=False)
        separated = nx.is_d_separator(world.graph, {x}, {y}, set(z))
        assert (abs(world.partial_correlation(x, y, given=z)) < 1e-10) is separated, (x, y, z)
    data = world.sample(n=1_000, seed=0)
    assert data.tasks.shape == (1_000, 2)
    nonlinear = sb.ColliderWorld(T=8, M=2, L=2, task_role=role, mechanism="nonlinear", seed=5)
    assert np.isfinite(nonlinear.sample(n=500, seed=0).tasks).all()


def test_coordinate_groups_make_block_diagonal_dynamics_and_tasks_read_one_group():
    world = sb.ColliderWorld(T=6, M=2, L=2, state_dim=4, coordinate_groups=[0, 0, 1, 1], task_groups=[1, 0],
                             assignment=[[1, 1], [1, 1], [0, 0]], disconnected=[], seed=2)
    assert world.task_groups.tolist() == [1, 0]
    cross = np.ix_([0, 1], [2, 3])
    for child, parent in (("s2", "s1"), ("s2", "a1"), ("a3", "s3")):
        W = world.structural_weights(child, parent)
        assert np.all(W[cross] == 0) and np.all(W.T[cross] == 0)
        assert np.all(W[np.ix_([0, 1], [0, 1])] != 0)
    assert np.all(world.structural_weights("g1", "a1")[:, :2] == 0)
    assert np.all(world.structural_weights("g1", "a1")[:, 2:] != 0)
    assert np.all(world.structural_weights("g2", "a2")[:, 2:] == 0)
    # so the two groups' states are independent (exact population covariance)
    cov = world.covariance(["s1", "s2", "s3", "s4"])
    rows = [c for t in range(4) for c in (4 * t, 4 * t + 1)]
    cols = [c for t in range(4) for c in (4 * t + 2, 4 * t + 3)]
    assert np.allclose(cov[np.ix_(rows, cols)], 0)


def test_coordinate_groups_bad_input():
    with pytest.raises(ValueError, match="mechanism='linear'"):
        sb.ColliderWorld(T=4, M=1, state_dim=2, mechanism="nonlinear", coordinate_groups=[0, 1])
    with pytest.raises(ValueError, match="coordinate_groups must be 2 integer labels"):
        sb.ColliderWorld(T=4, M=1, state_dim=2, coordinate_groups=[0, 1, 1])
    with pytest.raises(ValueError, match="task_groups needs coordinate_groups"):
        sb.ColliderWorld(T=4, M=1, state_dim=2, task_groups=[0])
    with pytest.raises(ValueError, match="task_groups must give each of the M=1 tasks"):
        sb.ColliderWorld(T=4, M=1, state_dim=2, coordinate_groups=[0, 1], task_groups=[3])


def test_min_segments_per_task_lets_a_task_have_one_segment_and_defaults_to_two():
    default = sb.ColliderWorld(T=20, M=4, L=2, seed=11)
    # what the world drew before the option existed (the same for 30 seeds and three shapes when it was added)
    assert default.assignment.astype(int).T.tolist() == [[1, 0, 0, 0, 0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0, 0, 0, 0, 0],
                                                         [0, 1, 0, 0, 1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 1, 0, 1, 0]]
    assert default.disconnected == (3, 4, 8, 9, 14, 15, 16, 19)
    counts = [sb.ColliderWorld(T=20, M=4, L=2, task_density=0.0, min_segments_per_task=m, seed=seed)
              .assignment.sum(axis=0) for m in (1, 2, 3) for seed in range(5)]
    assert all((c == m).all() for c, m in zip(counts, np.repeat([1, 2, 3], 5)))
    assert (sb.ColliderWorld(T=4, M=2, L=2, min_segments_per_task=3, seed=0).assignment).all()  # fewer segments
    with pytest.raises(ValueError, match="min_segments_per_task must be an integer >= 1; got 0"):
        sb.ColliderWorld(T=8, M=2, L=2, min_segments_per_task=0)


def test_sample_selected_keeps_the_draws_that_achieved_the_selected_tasks():
    world = sb.ColliderWorld(T=10, M=3, L=2, seed=2)
    one = world.sample_selected(2_000, 1, seed=3)
    assert isinstance(one, sb.SelectedSample) and one.states.shape == (2_000, 10, 1) and one.selected == (1,)
    assert 0.45 < one.acceptance < 0.55  # unit-variance tasks, threshold 0
    both = world.sample_selected(500, [2, 1], threshold=0.5, seed=3)
    assert both.selected == (1, 2) and both.acceptance < 0.2
    again = world.sample_selected(500, [2, 1], threshold=0.5, seed=3)
    assert np.array_equal(both.states, again.states)
    # the kept draws are those of sample() whose selected tasks passed the threshold
    rng = np.random.default_rng(3)
    first = world.sample(1_000, seed=int(rng.integers(2**32)))
    kept = first.states[(first.tasks[:, [0, 1]] > 0.5).all(axis=1)]
    assert np.array_equal(both.states[:len(kept)], kept[:500])


@pytest.mark.parametrize("kwargs, match", [
    (dict(selected=0), r"selected must be an integer in \[1, 3\]; got 0"),
    (dict(selected=[1, 4]), r"selected must be an integer in \[1, 3\]; got 4"),
    (dict(selected=[]), "selected must name at least one task"),
    (dict(selected=[2, 2]), "selected must name at least one task, each once"),
    (dict(selected="1"), "selected must be a 1-based task or a list of them"),
    (dict(selected=1, threshold=float("nan")), "threshold must be a finite real number"),
    (dict(selected=[1, 2, 3], threshold=3.0, max_draws=2_000), r"kept .* fewer than n = 100: lower threshold"),
])
def test_sample_selected_refuses_bad_selections(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sb.ColliderWorld(T=10, M=3, L=2, seed=2).sample_selected(100, **kwargs)


def test_task_outcomes_threshold_each_task_and_refuse_a_constant_one():
    tasks = np.array([[0.5, -1.0], [-0.5, 2.0], [1.5, 0.1]])
    assert sb.task_outcomes(tasks).tolist() == [[1, 0], [0, 1], [1, 1]]
    assert sb.task_outcomes(tasks, threshold=[1.0, 0.0]).tolist() == [[0, 0], [0, 1], [1, 1]]
    with pytest.raises(ValueError, match=r"threshold 2 makes task 1's outcome constant \(every sample a failure\)"):
        sb.task_outcomes(tasks, threshold=2.0)
    with pytest.raises(ValueError, match=r"makes task 2's outcome constant \(every sample a success\)"):
        sb.task_outcomes(tasks, threshold=[0.0, -5.0])
    with pytest.raises(ValueError, match=r"one per task \(M = 2\); got 3"):
        sb.task_outcomes(tasks, threshold=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        sb.task_outcomes(np.array([[np.nan, 1.0], [0.0, 1.0]]))
