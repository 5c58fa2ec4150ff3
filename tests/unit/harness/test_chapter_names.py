"""What a chapter is called: NN_slug, or NNx_slug for a primer, in reading order."""
from pathlib import Path

import pytest

from specbook.harness.chapters import chapter_files, chapter_number, is_chapter_stem, is_primer

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stem, chapter", [
    ("01_collider_world", True), ("00a_d_separation", True), ("10_ten", True), ("05a_x2_y", True),
    ("5_short", False), ("005_long", False), ("05ab_two_letters", False), ("05A_upper", False), ("05a", False),
    ("05_", False), ("05_Upper", False), ("notes", False), ("05-dash", False), (5, False),
])
def test_a_chapter_stem_is_a_number_an_optional_letter_and_a_slug(stem, chapter):
    assert is_chapter_stem(stem) is chapter


def test_the_number_is_the_part_before_the_first_underscore_and_a_letter_makes_a_primer():
    assert [chapter_number(stem) for stem in ("05_structure_benchmark", "05a_identifiability")] == ["05", "05a"]
    assert is_primer("00a_d_separation") and not is_primer("00_quickstart") and not is_primer("10_ten")


def test_chapter_files_are_in_reading_order(tmp_path):
    for name in ["06_next.md", "05a_primer.md", "05_bench.md", "05_bench.ipynb", "README.md", "5_short.md"]:
        (tmp_path / name).touch()
    (tmp_path / "07_folder.md").mkdir()
    assert [path.name for path in chapter_files(tmp_path, ".md")] == ["05_bench.md", "05a_primer.md", "06_next.md"]
    assert chapter_files(tmp_path / "missing", ".md") == []
    stems = [path.stem for path in chapter_files(ROOT / "notebooks", ".md")]
    assert stems.index("00_quickstart") + 1 == stems.index("00a_d_separation") == stems.index("01_collider_world") - 1
