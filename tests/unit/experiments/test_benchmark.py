import numpy as np
import pandas as pd
import pytest

import specbook as sb
from specbook.tasks.baselines import BASELINES
from specbook.tasks.multitest import CORRECTIONS
from specbook.experiments.structure import (RULES, SUMMARY_COLUMNS, algorithm1, head_to_head, like_for_like, recorrect,
                                structure_trials, under_rules)


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


@pytest.mark.parametrize("query", ["collider", "intersection-union"])
def test_recorrect_equals_running_algorithm1_again(query):
    data = sb.ColliderWorld(T=16, M=4, L=2, seed=2).sample(n=2_000, seed=3)
    found = sb.discover_tasks(data.states, data.tasks, L=2, query=query)
    for correction in CORRECTIONS:
        again = sb.discover_tasks(data.states, data.tasks, L=2, query=query, correction=correction)
        redecided = recorrect(found, correction)
        assert redecided.correction == correction and redecided.query == query
        for field in ("segment_tasks", "step_tasks", "pair_dependent", "pvalues"):
            np.testing.assert_array_equal(getattr(redecided, field), getattr(again, field))
    with pytest.raises(ValueError, match="correction must be one of"):
        recorrect(found, "sidak")


def test_under_rules_scores_one_row_per_rule():
    methods = {"alg1": under_rules(algorithm1()),
               "cca": under_rules(lambda s, g, L: BASELINES["cca"](s, g, L=L, seed=0), {"holm": "holm"}),
               "gl": lambda s, g, L: BASELINES["group-lasso"](s, g, L=L, seed=0)}
    table = structure_trials(methods, T=8, M=2, L=2, n_samples=2_000, seeds=[0, 1], progress=False)
    assert len(table) == 2 * (len(RULES) + 1 + 1)
    assert set(table[table.method == "alg1"].rule) == set(RULES)
    assert table[table.method == "gl"].rule.isna().all()
    direct = structure_trials({rule: algorithm1(correction=c) for rule, c in RULES.items()}, T=8, M=2, L=2,
                              n_samples=2_000, seeds=[0, 1], progress=False)
    ours = table[table.method == "alg1"].set_index(["rule", "seed"]).accuracy.sort_index()
    theirs = direct.rename(columns={"method": "rule"}).set_index(["rule", "seed"]).accuracy.sort_index()
    pd.testing.assert_series_equal(ours, theirs)
    world = sb.ColliderWorld(T=8, M=2, L=2, seed=1)
    assert np.allclose(table[table.seed == 1].base_rate, world.assignment.mean())
    with pytest.raises(ValueError):
        under_rules(algorithm1(), {"x": "sidak"})


def _panels():
    """Two methods (one with two rules), two seeds, T in {8, 20}, M in {2, 4, 6} (hand-made scores)."""
    a, b = [], []
    for method, rule, shift in (("m", "holm", 0.0), ("m", "bh", 0.05), ("g", None, -0.1)):
        for seed in (0, 1):
            for T, base in ((8, 0.2), (20, 0.3)):
                a.append({"method": method, "rule": rule, "seed": seed, "T": T, "base_rate": base + 0.5 * seed,
                          "accuracy": 0.9 - 0.01 * T + shift + 0.02 * seed})
            for M in (2, 4, 6):
                b.append({"method": method, "rule": rule, "seed": seed, "M": M,
                          "mcc": 0.8 + shift - (0.01 + 0.02 * seed) * M})
    return pd.DataFrame(a), pd.DataFrame(b)


def test_like_for_like_summarises_per_seed_then_over_seeds():
    a, b = _panels()
    table = like_for_like(a, b)
    assert list(table.columns) == ["seeds", *SUMMARY_COLUMNS]
    assert list(table.index) == [("m", "holm"), ("m", "bh"), ("g", ""), ("chance", "")]
    row = table.loc[("m", "holm")]
    assert row.seeds == 2
    np.testing.assert_allclose(row.accuracy_at_T, np.mean([0.7, 0.72]))
    np.testing.assert_allclose(row.accuracy_at_T_sd, np.std([0.7, 0.72], ddof=1))
    per_seed_all = [np.mean([0.82, 0.7]), np.mean([0.84, 0.72])]
    np.testing.assert_allclose(row.accuracy_all_T, np.mean(per_seed_all))
    np.testing.assert_allclose(row.accuracy_all_T_sd, np.std(per_seed_all, ddof=1))
    np.testing.assert_allclose([row.mcc_slope, row.mcc_slope_sd], [-0.02, np.std([-0.01, -0.03], ddof=1)])
    per_seed_mcc = [0.8 - 0.01 * 4, 0.8 - 0.03 * 4]
    np.testing.assert_allclose([row.mcc_mean, row.mcc_mean_sd], [np.mean(per_seed_mcc), np.std(per_seed_mcc, ddof=1)])
    np.testing.assert_allclose(table.loc[("g", ""), "accuracy_at_T"], 0.61)
    chance = table.loc[("chance", "")]
    # base rates at T = 20: 0.3 and 0.8 -> best constant 0.7 and 0.8; over T: (0.8 + 0.7) / 2, (0.7 + 0.8) / 2
    np.testing.assert_allclose([chance.accuracy_at_T, chance.accuracy_at_T_sd], [0.75, np.std([0.7, 0.8], ddof=1)])
    np.testing.assert_allclose([chance.accuracy_all_T, chance.accuracy_all_T_sd], [0.75, 0.0], atol=1e-12)
    assert (chance[["mcc_mean", "mcc_slope", "mcc_mean_sd", "mcc_slope_sd"]] == 0).all()
    assert ("chance", "") not in like_for_like(a, b, chance=False).index
    np.testing.assert_allclose(like_for_like(a, b, T=8).loc[("m", "holm"), "accuracy_at_T"], np.mean([0.82, 0.84]))


def test_like_for_like_refuses_ill_formed_trials():
    a, b = _panels()
    with pytest.raises(ValueError, match="more than one row"):
        like_for_like(pd.concat([a, a]), b)
    with pytest.raises(ValueError, match="two different values of M"):
        like_for_like(a, b[b.M == 2])
    with pytest.raises(ValueError, match="no rows at T = 12"):
        like_for_like(a, b, T=12)
    with pytest.raises(ValueError, match="lack the columns"):
        like_for_like(a.drop(columns="base_rate"), b)


def test_head_to_head_compares_under_shared_rules():
    a, b = _panels()
    b2 = b.copy()
    b2.loc[b2.method == "g", "rule"] = "holm"
    a2 = a.copy()
    a2.loc[a2.method == "g", "rule"] = "holm"
    table = like_for_like(a2, b2)
    duel = head_to_head(table, "m", "g")
    assert list(duel.index) == ["holm"]
    np.testing.assert_allclose(duel.loc["holm", "difference"], 0.1)
    assert duel.loc["holm", "first_ahead"]
    assert not head_to_head(table, "g", "m", "mcc_slope").loc["holm", "first_ahead"]
    with pytest.raises(ValueError, match="share no rule"):
        head_to_head(like_for_like(a, b), "m", "g")
    with pytest.raises(ValueError, match="column must be"):
        head_to_head(table, "m", "g", "mcc_slope_sd")
