import numpy as np

from specbook.baselines import BASELINES
from specbook.benchmark import algorithm1, structure_trials


def test_structure_trials_scores_every_method_on_every_seed():
    methods = {"alg1": algorithm1(correction="holm"), "cca": lambda s, g, L: BASELINES["cca"](s, g, L=L, seed=0)}
    table = structure_trials(methods, T=8, M=2, L=2, n_samples=3_000, seeds=[0, 1, 2], progress=False,
                             world_options={"action_noise": 0.25})
    assert len(table) == 6 and set(table.method) == {"alg1", "cca"}
    assert {"accuracy", "mcc", "false_positives", "seconds", "action_noise"} <= set(table.columns)
    in_workers = structure_trials(methods, T=8, M=2, L=2, n_samples=3_000, seeds=[0, 1, 2], progress=False,
                                  world_options={"action_noise": 0.25}, n_jobs=2)
    scores = ["method", "seed", "accuracy", "mcc", "false_positives", "false_negatives"]
    assert table[scores].equals(in_workers[scores])
    assert table[table.method == "alg1"].accuracy.mean() >= 0.9
