"""Grade a chapter's solutions, untouched stubs and ``WRONG`` answers with its hidden checks (no execution).

    python benchmarks/grade_chapter.py 00_quickstart [01_collider_world ...]

Prints each exercise's score in the three cases and the seconds taken; exits 1 unless every
solution passes, every stub is "not attempted" and every wrong answer is "wrong".
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from specbook.harness.assignments import find_exercises  # noqa: E402
from specbook.harness.grading import grade_answers  # noqa: E402


def main(stems):
    ok = True
    for stem in stems:
        spec = importlib.util.spec_from_file_location(f"checks_{stem}", ROOT / "notebooks" / "checks" / f"{stem}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        exercises = find_exercises(ROOT / "notebooks" / f"{stem}.md", stem)
        cases = {"solution": ({e.label: "\n\n".join(e.solution_cells) for e in exercises}, "passed"),
                 "stub": ({}, "not attempted"), "wrong": (module.WRONG, "wrong")}
        for case, (answers, wanted) in cases.items():
            start = time.perf_counter()
            grades = grade_answers(stem, answers)
            seconds = time.perf_counter() - start
            for grade in grades:
                good = grade.status == wanted
                ok &= good
                print(f"{stem} {case:<8} {grade.label:<28} {grade.status:<14} {'ok' if good else 'UNEXPECTED'} "
                      f"{grade.detail[:150]}")
            print(f"{stem} {case}: {seconds:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
