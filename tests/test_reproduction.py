"""The reproduction report: verdict rules, missing chapters, the pages, and the committed copy."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from specbook.reproduction import CLAIMS, VERDICTS, judge_run, render_reproduction, render_status, write_report

ROOT = Path(__file__).resolve().parents[1]
BOOK_RUN = ROOT / "book" / "run"

#: Numbers of a made-up run in which every claim holds.
HOLDS = {
    "02_band_ci_theorem1": {"theorem1_mismatches_L_ge_2": 0, "theorem1_worlds_L_ge_2": 10_000,
                            "theorem1_worlds_failing_L1": 5, "theorem1_worlds_L1": 10,
                            "corollary1_first_state_false_dependent": 3, "corollary1_other_states_mismatches": 0,
                            "corollary1_missed": 0},
    "03_why_colliders": {"oracle_false_dependences_collider": 0, "oracle_recall_collider": 1.0,
                         "oracle_false_dependences_confounder": 4, "oracle_recall_confounder": 0.5,
                         "oracle_false_dependences_mediator": 0, "oracle_recall_mediator": 0.5},
    "05_structure_benchmark": {**{f"{metric}_{key}": score for metric in ("accuracy_T20", "mcc_mean")
                                  for key, score in [("alg1_paper", 0.99), ("alg1_holm", 0.98), ("seltask", 0.9),
                                                     ("group_lasso", 0.8), ("cca", 0.5)]},
                               "runtime_T20_M4_seconds": 0.01},
    "06_generalist_superset": {"superset_share": 1.0},
    "07_sparsity_tightening": {"no_l1_r2_relevant": 0.95, "no_l1_r2_irrelevant": 0.9, "l1_r2_relevant": 0.97,
                               "l1_r2_irrelevant": 0.05, "l1_supports_equal_share": 1.0},
    "08_gan_editing": {"swap_l1_edit_success": 0.99, "swap_l1_mean_drift": 0.1, "swap_no_l1_mean_drift": 0.9,
                       "swap_targets_met_tasks": 3, "gradient_targets_met_tasks": 3,
                       "specialist_max_nuisance_r2": 0.02},
    "09_pixels_to_tasks": {**{f"gcm_map_{key}": score for key, score in
                              [("frames", 0.1), ("leap", 0.15), ("latents", 0.3), ("states", 0.9)]},
                           **{f"neural_cmi_map_{key}": 0.2 for key in ("frames", "leap", "latents", "states")}},
}


def write_run(folder: Path, numbers: dict, failed=()) -> Path:
    chapters = {stem: {"status": "failed" if stem in failed else "passed", "seconds": 12.5, "resumed": False,
                       "metrics": {name: {"value": value} for name, value in values.items()}, "error": None}
                for stem, values in numbers.items()}
    run = {"profile": "book", "seed": 0, "chapters": chapters, "git_commit": "0123456789abcdef",
           "git_dirty": False, "specbook_version": "0.1.0", "python": "3.11.7", "platform": "Linux",
           "started": "2026-12-02T00:00:00+00:00", "finished": "2026-12-02T00:10:00+00:00", "total_seconds": 600}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(run))
    return folder


def changed(stem, **values):
    return {**HOLDS, stem: {**HOLDS[stem], **values}}


def verdict_of(tmp_path, numbers, experiment_start, failed=()):
    verdicts = judge_run(write_run(tmp_path / "run", numbers, failed))
    (verdict,) = [v for v in verdicts if v.claim.experiment.startswith(experiment_start)]
    return verdict


def test_every_claim_is_reproduced_when_the_numbers_hold(tmp_path):
    verdicts = judge_run(write_run(tmp_path, HOLDS))
    assert [v.claim.experiment for v in verdicts] == [claim.experiment for claim in CLAIMS]
    assert {v.verdict for v in verdicts} == {"reproduced"}, [(v.claim.experiment, v.reason) for v in verdicts]


@pytest.mark.parametrize("numbers, experiment, verdict", [
    (changed("02_band_ci_theorem1", theorem1_mismatches_L_ge_2=1), "Theorem 1", "not reproduced"),
    (changed("02_band_ci_theorem1", theorem1_worlds_L_ge_2=500), "Theorem 1", "partly"),
    (changed("02_band_ci_theorem1", corollary1_other_states_mismatches=2), "Corollary 1", "not reproduced"),
    (changed("03_why_colliders", oracle_false_dependences_collider=1), "Tasks as colliders", "not reproduced"),
    (changed("05_structure_benchmark", accuracy_T20_alg1_paper=0.7), "Synthetic structure", "partly"),
    (changed("05_structure_benchmark", accuracy_T20_alg1_paper=0.7, accuracy_T20_alg1_holm=0.7),
     "Synthetic structure", "not reproduced"),
    (changed("05_structure_benchmark", mcc_mean_cca=0.95), "Synthetic, growing", "not reproduced"),
    (changed("05_structure_benchmark", runtime_T20_M4_seconds=0.5), "Runtime", "not reproduced"),
    (changed("06_generalist_superset", superset_share=0.5), "Proposition 2", "partly"),
    (changed("07_sparsity_tightening", no_l1_r2_irrelevant=0.1), "Proposition 2", "not reproduced"),
    (changed("07_sparsity_tightening", l1_supports_equal_share=0.8), "Theorem 2", "partly"),
    (changed("07_sparsity_tightening", l1_r2_irrelevant=0.6), "Theorem 2", "not reproduced"),
    (changed("08_gan_editing", swap_targets_met_tasks=2), "Controllable", "partly"),
    (changed("08_gan_editing", swap_l1_mean_drift=1.0, swap_targets_met_tasks=0, gradient_targets_met_tasks=0),
     "Controllable", "not reproduced"),
    (changed("09_pixels_to_tasks", gcm_map_leap=0.05), "Video", "partly"),
    (changed("09_pixels_to_tasks", gcm_map_latents=0.12), "Video", "not reproduced"),
])
def test_each_rule_gives_partly_or_not_when_its_numbers_say_so(tmp_path, numbers, experiment, verdict):
    assert verdict_of(tmp_path, numbers, experiment).verdict == verdict


def test_a_chapter_that_failed_or_was_not_run_or_lacks_a_number_gives_not_run(tmp_path):
    assert verdict_of(tmp_path, HOLDS, "Video", failed=["09_pixels_to_tasks"]).verdict == "not run"
    without_gan = {stem: values for stem, values in HOLDS.items() if stem != "08_gan_editing"}
    assert "08_gan_editing" in verdict_of(tmp_path, without_gan, "Controllable").reason
    numbers = changed("05_structure_benchmark")
    del numbers["05_structure_benchmark"]["runtime_T20_M4_seconds"]
    verdict = verdict_of(tmp_path, numbers, "Runtime")
    assert verdict.verdict == "not run" and "runtime_T20_M4_seconds" in verdict.reason


def test_the_pages_show_claims_numbers_verdicts_environment_and_timings(tmp_path):
    run = write_run(tmp_path / "run", changed("09_pixels_to_tasks", gcm_map_leap=0.05))
    page = render_reproduction(run)
    assert page.startswith("(reproduction-report)=\n# Reproduction report")
    assert "| Video task discovery (mAP) ([09](../notebooks/09_pixels_to_tasks.md)) |" in page
    assert "**partly**" in page and "9 reproduced, 1 partly" in page
    assert "commit `0123456789ab`" in page and "Python 3.11.7" in page
    status = render_status(run)
    assert "| [02_band_ci_theorem1](../notebooks/02_band_ci_theorem1.md) | passed | 12.5 | 7 |" in status
    assert "| **all** | 7 of 7 passed | 87.5 (sum) |" in status
    report, status_page = write_report(run, tmp_path / "pages")
    assert report.read_text() == page and status_page.read_text() == status


def test_a_folder_without_a_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no metrics.json"):
        judge_run(tmp_path)
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match="not a specbook run"):
        judge_run(tmp_path)


def test_the_command_line_prints_verdicts_and_writes_the_pages(tmp_path):
    run = write_run(tmp_path / "run", HOLDS)
    done = subprocess.run([sys.executable, "-m", "specbook", "report", str(run), "--out", str(tmp_path / "pages")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("reproduced") == len(CLAIMS) and (tmp_path / "pages" / "status.md").exists()
    missing = subprocess.run([sys.executable, "-m", "specbook", "report", str(tmp_path / "nothing")],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "holds no metrics.json" in missing.stderr


def test_the_committed_pages_are_generated_from_the_committed_run():
    assert (BOOK_RUN / "metrics.json").exists(), "commit the run the book reports on as book/run/metrics.json"
    assert (ROOT / "book" / "reproduction.md").read_text() == render_reproduction(BOOK_RUN), (
        "book/reproduction.md is stale: python -m specbook report book/run --out book")
    assert (ROOT / "book" / "status.md").read_text() == render_status(BOOK_RUN)
    assert all(v.verdict in VERDICTS[:3] for v in judge_run(BOOK_RUN)), "a chapter of the book run did not pass"
