import numpy as np

import specbook as sb
from specbook.tasks.theory import pair_truth, verify_theorem1, world_features


def test_pair_truth():
    A = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)
    truth = pair_truth(A)
    assert truth.shape == (2, 3, 3)
    assert truth[0, 0, 2] and not truth[0, 0, 1] and truth[1, 1, 2]
    assert not truth[:, np.tril_indices(3)[0], np.tril_indices(3)[1]].any()


def test_theorem1_holds_for_L_at_least_2_and_fails_for_L1():
    checks = verify_theorem1(150, L_values=(1, 2, 3), seed=1, progress=False)
    assert checks[checks.L >= 2].mismatches.sum() == 0
    assert checks[checks.L == 1].false_dependent.sum() > 0
    assert checks.missed.sum() == 0
    assert set(checks.L) == {1, 2, 3}


def test_first_state_is_not_a_safe_representative():
    checks = verify_theorem1(80, L_values=(2, 3), representatives="all", seed=2, progress=False)
    assert checks[checks.representative == 1].false_dependent.sum() > 0
    assert checks[checks.representative > 1].mismatches.sum() == 0


def test_world_features():
    world = sb.ColliderWorld(T=10, M=2, L=2, assignment=[[1, 0], [0, 1], [1, 0], [0, 0], [1, 1]],
                             disconnected=[4], seed=0)
    assert world_features(world) == {"interleaving": True, "repeats": True, "skips": True,
                                     "overlaps": True, "disconnections": True}
    plain = sb.ColliderWorld(T=4, M=1, L=2, assignment=[[1], [1]], disconnected=[], seed=0)
    assert not any(world_features(plain).values())


def test_local_proposition_holds_for_L_at_least_2_and_a_representative_after_the_first_step():
    checks = verify_theorem1(150, L_values=(1, 2, 3), seed=1, progress=False, query="local")
    assert checks[checks.L >= 2].mismatches.sum() == 0 and checks.missed.sum() == 0
    assert checks[checks.L == 1].false_dependent.sum() > 0
    assert (checks.queries == checks.M * checks.N).all()
    assert (checks.true_dependent <= checks.queries).all() and checks.true_dependent.sum() > 0
    positions = verify_theorem1(80, L_values=(2, 3), representatives="all", seed=2, progress=False, query="local")
    assert positions[positions.representative == 1].false_dependent.sum() > 0
    assert positions[positions.representative > 1].mismatches.sum() == 0


def test_local_proposition_on_all_other_states_gives_the_same_verdicts_as_on_the_band():
    band = verify_theorem1(150, L_values=(1, 2, 3), representatives="all", seed=5, progress=False, query="local")
    wide = verify_theorem1(150, L_values=(1, 2, 3), representatives="all", seed=5, progress=False, query="local",
                           conditioning="all-states")
    later = (wide.L >= 2) & (wide.representative > 1)
    assert wide[later].mismatches.sum() == 0 and wide[later].true_dependent.sum() > 0
    assert wide[~later].false_dependent.sum() > 0  # L = 1 or the first state: the same leak as on the band
    assert wide.equals(band)


def test_pair_queries_count_their_pairs():
    checks = verify_theorem1(30, L_values=(2, 3), seed=3, progress=False)
    assert (checks.queries == checks.pairs).all() and (checks.true_dependent == checks.true_pairs).all()


def test_selection_finds_the_segments_of_the_selected_tasks_but_not_which_task():
    from specbook.tasks.theory import verify_selection

    checks = verify_selection(120, seed=4, progress=False)
    assert checks.segment_mismatches.sum() == 0
    one, every = checks[checks.selection == "one"], checks[checks.selection == "all"]
    assert one.pair_mismatches.sum() == 0 and one.cross_task_pairs.sum() == 0
    assert every[every.M >= 2].cross_task_pairs.sum() > 0 and every[every.M == 1].cross_task_pairs.sum() == 0


def test_query_truth_marks_what_each_query_tests():
    from specbook.metrics import query_truth

    A = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)
    truth, tested = query_truth(A, "collider")
    assert np.array_equal(truth, pair_truth(A)) and tested[:, 0, 1].all() and not tested[:, 1, 0].any()
    truth, tested = query_truth(A, "local")
    assert np.array_equal(np.diagonal(truth, axis1=1, axis2=2), A.T) and tested.sum() == A.size
    assert not (truth & ~tested).any()
