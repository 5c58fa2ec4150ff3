"""Issue 16, bad input to the worlds and Layer 1: every case gets a clear ValueError (or works).

Huge sizes must be refused up front, without allocating: each of those cases runs under a
time limit far below what the allocation or the computation would take.
"""
import time

import networkx as nx
import numpy as np
import pytest

import specbook as sb
from specbook.tasks.baselines import cca_tasks, group_lasso_tasks, recorrect as baseline_recorrect, seltask_tasks
from specbook.experiments.structure import algorithm1, head_to_head, like_for_like, structure_trials, under_rules
from specbook.worlds.cats import CatRenderer, accessory_rgb
from specbook.ci import GCM, CITestResult, FisherZ, KnnCMI, NeuralCMI, ci_test
from specbook.tasks.discovery import band_set, discover_tasks, oracle_tasks
from specbook.worlds.latent import TaskLatentWorld
from specbook.tasks.multitest import reject
from specbook.progress import progress_bar
from specbook.metrics import query_truth, selection_truth
from specbook.tasks.theory import pair_truth, random_worlds, verify_selection, verify_theorem1, world_features
from specbook.worlds.video import AgentVideoWorld

WORLD = sb.ColliderWorld(T=8, M=2, L=2, seed=0)
DATA = WORLD.sample(n=300, seed=1)
VIDEO = AgentVideoWorld(T=4, M=1, seed=0)
LATENT = TaskLatentWorld(n_latents=4, n_tasks=2, obs_dim=6, seed=0)
CATS = CatRenderer(size=16)
FACTORS = CATS.sample_factors(2, seed=0)
GOOD_COLOURS = (np.full((2, 3), 0.5), np.full((2, 2, 3), 0.5))


def _constant_step(states):
    states = states.copy()
    states[:, 3] = 1.0
    return states


def _duplicated_step(states):
    states = states.copy()
    states[:, 3] = states[:, 5]
    return states


def _nan_states():
    states = np.zeros((2, 4, 4))
    states[0, 1, 2] = np.nan
    return states


def _user_test(pvalue):
    return lambda x, y, z: CITestResult(statistic=0.0, pvalue=pvalue, method="mine", n=len(x))


BAD_INPUTS = {
    # ColliderWorld: accepted though invalid
    "disconnected float": (lambda: sb.ColliderWorld(T=4, M=1, disconnected=[2.7]), "disconnected must list integer"),
    "disconnected string": (lambda: sb.ColliderWorld(T=10, M=1, disconnected="35"), "disconnected must be a list"),
    "disconnected scalar": (lambda: sb.ColliderWorld(T=10, M=1, disconnected=5), "disconnected must be a list"),
    "disconnected bool": (lambda: sb.ColliderWorld(T=4, M=1, disconnected=[True]), "disconnected must list integer"),
    "disconnected 0-d array": (lambda: sb.ColliderWorld(T=4, M=1, disconnected=np.array(3)), "disconnected must"),
    # ColliderWorld: seeds and doubtful types
    "world seed negative": (lambda: sb.ColliderWorld(T=4, M=1, seed=-1), r"seed must be an integer in \[0, 2\*\*32\)"),
    "world seed float": (lambda: sb.ColliderWorld(T=4, M=1, seed=1.5), "seed must be an integer"),
    "world seed string": (lambda: sb.ColliderWorld(T=4, M=1, seed="0"), "seed must be an integer"),
    "world seed bool": (lambda: sb.ColliderWorld(T=4, M=1, seed=True), "seed must be an integer"),
    "world seed too large": (lambda: sb.ColliderWorld(T=4, M=1, seed=2 ** 32), "seed must be an integer"),
    "weight_range scalar": (lambda: sb.ColliderWorld(T=4, M=1, weight_range=5), "weight_range must be a pair"),
    "weight_range string": (lambda: sb.ColliderWorld(T=4, M=1, weight_range=(1, "2")), "weight_range must be a pair"),
    "weight_range triple": (lambda: sb.ColliderWorld(T=4, M=1, weight_range=(1, 2, 3)), "weight_range must be a pair"),
    "weight_range nan": (lambda: sb.ColliderWorld(T=4, M=1, weight_range=(np.nan, 1)), "weight_range must be a pair"),
    "weight_range reversed": (lambda: sb.ColliderWorld(T=4, M=1, weight_range=(2, 1)), "weight_range must be a pair"),
    "p_disconnect bool": (lambda: sb.ColliderWorld(T=4, M=1, p_disconnect=True), "p_disconnect must be"),
    "task_noise bool": (lambda: sb.ColliderWorld(T=4, M=1, task_noise=True), "task_noise must be"),
    "task_noise inf": (lambda: sb.ColliderWorld(T=4, M=1, task_noise=np.inf), "task_noise must be"),
    "mechanism list": (lambda: sb.ColliderWorld(T=4, M=1, mechanism=["linear"]), "mechanism must be one of"),
    "segment_of string": (lambda: WORLD.segment_of("3"), r"t must be an integer in \[1, 8\]"),
    "segment_steps float": (lambda: WORLD.segment_steps(1.0), r"k must be an integer in \[1, 4\]"),
    "covariance empty": (lambda: WORLD.covariance([]), "nodes is empty"),
    "covariance string": (lambda: WORLD.covariance("s1"), "nodes must be a list"),
    "structural_weights list": (lambda: WORLD.structural_weights(["s2"], "s1"), "unknown node"),
    "partial_correlation string": (lambda: WORLD.partial_correlation("s2", "s4", "s3"), "given must be a list"),
    "sample seed negative": (lambda: WORLD.sample(10, seed=-1), "seed must be an integer"),
    "sample n bool": (lambda: WORLD.sample(True), "n must be an integer"),
    # AgentVideoWorld
    "video seed negative": (lambda: AgentVideoWorld(seed=-1), "seed must be an integer"),
    "video seed float": (lambda: AgentVideoWorld(seed=2.0), "seed must be an integer"),
    "video seed string": (lambda: AgentVideoWorld(seed="1"), "seed must be an integer"),
    "video sample seed": (lambda: VIDEO.sample(2, seed=-3), "seed must be an integer"),
    "video sample n": (lambda: VIDEO.sample(0), "n must be an integer"),
    "render nan states": (lambda: VIDEO.render(_nan_states(), *GOOD_COLOURS), "states contains NaN"),
    "render colours out of range": (lambda: VIDEO.render(np.zeros((2, 4, 4)), np.full((2, 3), 2.0), GOOD_COLOURS[1]),
                                    r"backgrounds must be RGB values in \[0, 1\]"),
    "render string states": (lambda: VIDEO.render([["a"]], *GOOD_COLOURS), "states must hold real numbers"),
    "positions nan": (lambda: VIDEO.positions(np.full(4, np.nan)), "states contains NaN"),
    "agent_columns string": (lambda: VIDEO.agent_columns("0"), r"agent must be an integer in \[0, 1\]"),
    # TaskLatentWorld
    "latent seed negative": (lambda: TaskLatentWorld(seed=-1), "seed must be an integer"),
    "latent seed bool": (lambda: TaskLatentWorld(seed=True), "seed must be an integer"),
    "latent obs_noise bool": (lambda: TaskLatentWorld(obs_noise=True), "obs_noise must be"),
    "latent sample seed": (lambda: LATENT.sample(10, seed=2 ** 40), "seed must be an integer"),
    "latent mix nan": (lambda: LATENT.mix(np.full((2, 4), np.nan)), "latents contains NaN"),
    "latent mix complex": (lambda: LATENT.mix(np.ones((2, 4)) * 1j), "latents must hold real numbers"),
    "nonlinearity rtol": (lambda: LATENT.nonlinearity_check(n=10, rtol=-1), "rtol must be"),
    # band_set
    "band_set T not a multiple of L": (lambda: band_set(1, 2, T=7, L=2), "T must be a multiple of L"),
    "band_set representative beyond L": (lambda: band_set(1, 2, T=8, L=2, representative=3),
                                         r"representative must be an integer in \[1, 2\]; got 3"),
    "band_set string segment": (lambda: band_set("1", 2, T=8, L=2), "k must be an integer"),
    "band_set float T": (lambda: band_set(1, 2, T=8.0, L=2), "T must be an integer"),
    # discover_tasks
    "constant state column": (lambda: discover_tasks(_constant_step(DATA.states), DATA.tasks),
                              r"states or tasks have constant columns \(step 4\)"),
    "duplicated state column": (lambda: discover_tasks(_duplicated_step(DATA.states), DATA.tasks),
                                "step 4 and step 6 are copies"),
    "constant task": (lambda: discover_tasks(DATA.states, np.ones((300, 2))), r"constant columns \(task 1"),
    "empty states": (lambda: discover_tasks(np.empty((0, 8)), np.empty((0, 2))), "at least n = 2 samples"),
    "complex states": (lambda: discover_tasks(DATA.states * 1j, DATA.tasks), "states must hold real numbers"),
    "user test nan p-value": (lambda: discover_tasks(DATA.states, DATA.tasks, test=_user_test(np.nan)),
                              r"returned the p-value nan; a p-value must be a number in \[0, 1\]"),
    "user test negative p-value": (lambda: discover_tasks(DATA.states, DATA.tasks, test=_user_test(-0.1)),
                                   "returned the p-value -0.1"),
    "user test p-value above 1": (lambda: discover_tasks(DATA.states, DATA.tasks, test=_user_test(1.5)),
                                  "returned the p-value 1.5"),
    "user test without a result": (lambda: discover_tasks(DATA.states, DATA.tasks, test=lambda x, y, z: 0.5),
                                   "must return an object with `statistic` and `pvalue`"),
    # ci_test
    "ci_test complex": (lambda: ci_test(np.arange(10) * 1j, np.arange(10.0)), "x must hold real numbers"),
    "ci_test strings": (lambda: ci_test(["a", "b"], [1, 2]), "x must hold real numbers"),
    "ci_test ragged": (lambda: ci_test([[1], [1, 2]], [1, 2]), "x must be an array of real numbers"),
    "ci_test user nan": (lambda: ci_test(np.arange(10.0), np.arange(10.0) ** 2, test=_user_test(np.nan)),
                         "returned the p-value nan"),
    "ci_test user negative": (lambda: ci_test(np.arange(10.0), np.arange(10.0) ** 2, test=_user_test(-1.0)),
                              "returned the p-value -1.0"),
    "GCM seed string": (lambda: GCM(seed="0"), "seed must be an integer"),
    "KnnCMI seed bool": (lambda: KnnCMI(seed=True), "seed must be an integer"),
    "NeuralCMI device None": (lambda: NeuralCMI(device=None), "device must be a torch device"),
    "covariance strings": (lambda: FisherZ().pvalues_from_covariance([["a"]], 10, []), "cov must hold real numbers"),
    "queries scalar": (lambda: FisherZ().pvalues_from_covariance(np.eye(3), 10, 5), "queries must be a list"),
    # oracle_tasks
    "oracle undirected graph": (lambda: oracle_tasks(nx.Graph(WORLD.graph), 8, 2, 2),
                                "graph must be a networkx.DiGraph"),
    "oracle dict graph": (lambda: oracle_tasks({}, 8, 2, 2), "graph must be a networkx.DiGraph"),
    "oracle T string": (lambda: oracle_tasks(WORLD.graph, "8", 2, 2), "T must be an integer"),
    "oracle T float": (lambda: oracle_tasks(WORLD.graph, 8.0, 2, 2), "T must be an integer"),
    "oracle M negative": (lambda: oracle_tasks(WORLD.graph, 8, -1, 2), "M must be an integer"),
    "oracle L float": (lambda: oracle_tasks(WORLD.graph, 8, 2, 2.0), "L must be an integer >= 1; got 2.0"),
    "oracle cyclic graph": (lambda: oracle_tasks(nx.DiGraph(list(WORLD.graph.edges) + [("a1", "s1")]), 8, 2, 2),
                            "directed cycle"),
    # multitest
    "reject nan": (lambda: reject([0.01, np.nan], 0.05), r"pvalues\[1\] is nan"),
    "reject negative": (lambda: reject([-0.5], 0.05), r"pvalues must lie in \[0, 1\]"),
    "reject 2-D": (lambda: reject(np.zeros((2, 2)), 0.05, "holm"), "pvalues must be 1-D"),
    "reject strings": (lambda: reject(["a"], 0.05), "pvalues must hold real numbers"),
    # theory
    "verify progress string": (lambda: verify_theorem1(1, progress="no"), "progress must be True or False"),
    "verify seed negative": (lambda: verify_theorem1(1, seed=-1, progress=False), "seed must be an integer"),
    "verify representatives": (lambda: verify_theorem1(1, representatives="first"), "representatives must be one of"),
    "random_worlds L_values empty": (lambda: random_worlds(1, L_values=()), "L_values must be a non-empty list"),
    "random_worlds L_values zero": (lambda: random_worlds(1, L_values=[2, 0]),
                                    r"L_values\[1\] must be an integer >= 1; got 0"),
    "random_worlds L_values bool": (lambda: random_worlds(1, L_values=[True]), r"L_values\[0\] must be an integer"),
    "random_worlds n_worlds float": (lambda: random_worlds(1.5), "n_worlds must be an integer"),
    "pair_truth 1-D": (lambda: pair_truth([1, 0]), r"assignment must be an \(N, M\) array"),
    "verify query unknown": (lambda: verify_theorem1(1, query="pairs", progress=False), "query must be one of"),
    "verify_selection n_worlds 0": (lambda: verify_selection(0), "n_worlds must be an integer >= 1"),
    "selection_truth task 0": (lambda: selection_truth(WORLD.assignment, [0]), r"selected must be an integer in"),
    "selection_truth empty": (lambda: selection_truth(WORLD.assignment, []), "selected must name at least one task"),
    "selection_truth string": (lambda: selection_truth(WORLD.assignment, "1"),
                               "selected must be a 1-based task or a list of them"),
    "query_truth unknown": (lambda: query_truth(WORLD.assignment, "pairs"), "query must be one of"),
    # selections and outcomes
    "local query on selected data": (lambda: discover_tasks(DATA.states, None, L=2, query="local"),
                                     r"query='local' tests states against the task values, and tasks=None"),
    "selected data with 1-D states": (lambda: discover_tasks(DATA.states[:, 0, 0], None, L=2),
                                      r"states must have shape \(n, T, d\)"),
    "oracle selected local": (lambda: oracle_tasks(WORLD.graph, 8, 2, 2, selected=[1], query="local"),
                              "needs the task values"),
    "oracle selected duplicate": (lambda: oracle_tasks(WORLD.graph, 8, 2, 2, selected=[1, 1]),
                                  "selected must name at least one task, each once"),
    "sample_selected threshold inf": (lambda: WORLD.sample_selected(10, 1, threshold=float("inf")),
                                      "threshold must be a finite real number"),
    "sample_selected max_draws below n": (lambda: WORLD.sample_selected(10, 1, max_draws=5),
                                          r"max_draws must be an integer >= 10"),
    "task_outcomes constant": (lambda: sb.task_outcomes(DATA.tasks, threshold=1e9), "outcome constant"),
    "task_outcomes 1-D": (lambda: sb.task_outcomes(DATA.tasks[:, 0]), r"tasks must be a finite \(n, M\) array"),
    "task_outcomes bool threshold": (lambda: sb.task_outcomes(DATA.tasks, threshold=True),
                                     "threshold must be a finite real number"),
    "min_segments_per_task float": (lambda: sb.ColliderWorld(T=8, M=2, L=2, min_segments_per_task=1.5),
                                    "min_segments_per_task must be an integer"),
    "world_features not a world": (lambda: world_features(3), "world must be a ColliderWorld"),
    # progress
    "progress string": (lambda: progress_bar(range(3), progress="no"), "progress must be True or False"),
    "progress None": (lambda: progress_bar(range(3), progress=None), "progress must be True or False"),
    # baselines
    "cca seed negative": (lambda: cca_tasks(DATA.states, DATA.tasks, seed=-1), "seed must be an integer"),
    "cca max_iter string": (lambda: cca_tasks(DATA.states, DATA.tasks, max_iter="5"), "max_iter must be an integer"),
    "cca test_fraction bool": (lambda: cca_tasks(DATA.states, DATA.tasks, test_fraction=True), "test_fraction must"),
    "group lasso tol": (lambda: group_lasso_tasks(DATA.states, DATA.tasks, tol=-1), "tol must be"),
    "group lasso selection": (lambda: group_lasso_tasks(DATA.states, DATA.tasks, selection=None), "selection must"),
    "seltask threshold bool": (lambda: seltask_tasks(DATA.states, DATA.tasks, threshold=True), "threshold must"),
    "seltask max_iter": (lambda: seltask_tasks(DATA.states, DATA.tasks, max_iter=0), "max_iter must be an integer"),
    "baseline recorrect": (lambda: baseline_recorrect("cca", "holm"), "result must be a BaselineResult"),
    # benchmark
    "algorithm1 alpha": (lambda: algorithm1(alpha=1.5), "alpha must be a finite real number > 0 and < 1"),
    "algorithm1 test": (lambda: algorithm1(test="chi2"), "unknown CI test"),
    "under_rules method": (lambda: under_rules("fisherz"), "method must be a callable"),
    "trials progress string": (lambda: structure_trials({"a": algorithm1()}, T=8, M=2, n_samples=100, seeds=[0],
                                                        progress="no"), "progress must be True or False"),
    "trials seeds negative": (lambda: structure_trials({"a": algorithm1()}, T=8, M=2, n_samples=100, seeds=[-1]),
                              "seed"),
    "trials methods": (lambda: structure_trials([algorithm1()], T=8, M=2, n_samples=100, seeds=[0]),
                       "methods must be a non-empty dict"),
    "trials world_options clash": (lambda: structure_trials({"a": algorithm1()}, T=8, M=2, n_samples=100, seeds=[0],
                                                            world_options={"seed": 1}), "world_options must not set"),
    "trials n_samples": (lambda: structure_trials({"a": algorithm1()}, T=8, M=2, n_samples=0, seeds=[0]),
                         "n_samples must be an integer"),
    "like_for_like not a frame": (lambda: like_for_like([], []), "horizon_trials must be a pandas DataFrame"),
    "head_to_head not a frame": (lambda: head_to_head({}, "a", "b"), "table must be a like_for_like DataFrame"),
    # cats
    "cats seed negative": (lambda: CATS.sample(2, seed=-1), "seed must be an integer"),
    "cats p_accessory bool": (lambda: CATS.sample(2, p_accessory=True), "p_accessory must be"),
    "cats toggle present string": (lambda: CATS.toggle(FACTORS, "hat", present="no"), "present must be True or False"),
    "cats factors strings": (lambda: CATS.render([["a"] * 17]), "factors must hold real numbers"),
    "cats hue nan": (lambda: accessory_rgb([np.nan]), "hue contains NaN"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_with_a_clear_message(case):
    make, match = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=match):
        make()


HUGE = {
    "ColliderWorld(T=10**6)": (lambda: sb.ColliderWorld(T=10 ** 6, M=1), "above the limit of 4,096"),
    "ColliderWorld(T=4000)": (lambda: sb.ColliderWorld(T=4000, M=1), "8,001 variables"),
    "ColliderWorld(M=10**7)": (lambda: sb.ColliderWorld(T=4, M=10 ** 7), "above the limit of 4,096"),
    "sample(n=10**8)": (lambda: WORLD.sample(n=10 ** 8), r"would need about [\d.,]+ GiB, above the limit of 8 GiB"),
    "discover_tasks on (20, 20000)": (lambda: discover_tasks(np.random.default_rng(0).standard_normal((20, 20_000)),
                                                             np.random.default_rng(1).standard_normal((20, 2))),
                                      "99,990,000 tests"),
    "oracle_tasks on a long horizon": (lambda: oracle_tasks(nx.DiGraph(), 2_000, 1, 2), "above the limit of 100,000"),
    "TaskLatentWorld(4000, 4000)": (lambda: TaskLatentWorld(n_latents=4000, obs_dim=4000), "obs_dim = 4,000 is above"),
    "TaskLatentWorld many tasks": (lambda: TaskLatentWorld(n_tasks=1000), "task outputs is above the limit"),
    "TaskLatentWorld sample(10**9)": (lambda: LATENT.sample(10 ** 9), "above the limit of 8 GiB"),
    "AgentVideoWorld().sample(10**6)": (lambda: AgentVideoWorld().sample(10 ** 6), "above the limit of 8 GiB"),
    "render 10**6 videos": (lambda: VIDEO.render(np.broadcast_to(0.0, (10 ** 6, 4, 4)),
                                                 np.broadcast_to(0.5, (10 ** 6, 3)),
                                                 np.broadcast_to(0.5, (10 ** 6, 2, 3))), "above the limit of 8 GiB"),
    "AgentVideoWorld(M=10**12)": (lambda: AgentVideoWorld(M=10 ** 12), "above the limit of 4,096"),
    "TaskLatentWorld(mixing_layers=10**12)": (lambda: TaskLatentWorld(mixing_layers=10 ** 12), "mixing_layers"),
    "verify_theorem1(10**12)": (lambda: verify_theorem1(10 ** 12, progress=False), "above the limit of 1,000,000"),
    "CatRenderer huge grid": (lambda: CatRenderer(size=4096, supersample=8), "above the limit of 8 GiB"),
    "cats sample(10**8)": (lambda: CATS.sample(10 ** 8), "above the limit of 8 GiB"),
    "seltask long horizon": (lambda: seltask_tasks(np.random.default_rng(0).standard_normal((30, 4_000)),
                                                   np.random.default_rng(1).standard_normal((30, 2))),
                             "above the limit of 1,000,000"),
}


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_sizes_are_refused_up_front(case):
    make, match = HUGE[case]
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        make()
    assert time.perf_counter() - start < 1.0


def test_memory_limit_can_be_raised(monkeypatch):
    monkeypatch.setenv("SPECBOOK_MEMORY_LIMIT_GB", "1e6")
    with pytest.raises(ValueError, match="T=4000"):  # the time limit stays
        sb.ColliderWorld(T=4000, M=1)
    monkeypatch.setenv("SPECBOOK_MEMORY_LIMIT_GB", "0.000001")
    with pytest.raises(ValueError, match="above the limit of 1e-06 GiB"):
        WORLD.sample(n=1_000)


def test_valid_calls_the_chapters_make_still_work():
    # numpy integer seeds, the largest seed, ranges and arrays of steps, numpy bools
    world = sb.ColliderWorld(T=8, M=2, L=2, disconnected=range(2, 9), seed=np.int64(3))
    assert world.disconnected == tuple(range(2, 9))
    assert sb.ColliderWorld(T=8, M=1, disconnected=np.array([3, 5]), seed=2 ** 32 - 1).disconnected == (3, 5)
    assert world.sample(5, seed=np.uint32(2 ** 32 - 1)).states.shape == (5, 8, 1)
    assert AgentVideoWorld(T=4, M=1, seed=np.int64(1)).sample(2, seed=np.int32(7)).frames.shape == (2, 4, 3, 32, 32)
    assert band_set(2, 4, T=10, L=2) == [3, 5, 7, 9]
    assert band_set(np.int64(1), 2, T=np.int64(8), L=2, representative=np.int64(1)) == [2, 4]
    found = discover_tasks(DATA.states, DATA.tasks, L=2, test="fisherz")
    assert found.pvalues.shape == (2, 4, 4)
    assert discover_tasks(DATA.states, DATA.tasks, test=_user_test(np.float64(0.5))).segment_tasks.sum() == 0
    assert reject(np.array([0.01, 0.5]), 0.05).tolist() == [True, False]
    assert reject([], 0.05, "holm").size == 0
    assert oracle_tasks(WORLD.graph, np.int64(8), 2, 2).pair_dependent.shape == (2, 4, 4)
    progress_bar(range(2), progress=np.bool_(False)).close()
    assert len(list(random_worlds(2, L_values=np.array([2, 3])))) == 2
