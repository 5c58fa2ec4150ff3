"""The chapters' prerequisites, read from their learning-goals boxes, and the map drawn from them."""
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import pytest

from specbook.harness import sphinxext
from specbook.harness.chapters import chapter_files
from specbook.harness.prerequisites import chapter_prerequisites, chapter_titles, draw_prerequisites

ROOT = Path(__file__).resolve().parents[3]


def _chapters(folder, lines):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, line in lines.items():
        body = f"# Title of {stem}\n\n```{{admonition}} Learning goals\n- x\n\n{line}\n```\n" if line else "# T\n"
        (folder / f"{stem}.md").write_text(body)
    return folder


def test_every_chapter_names_earlier_chapters_and_the_book_starts_at_the_quickstart():
    prerequisites = chapter_prerequisites(ROOT / "notebooks")
    stems = [path.stem for path in chapter_files(ROOT / "notebooks", ".md")]
    assert list(prerequisites) == stems
    assert prerequisites["00_quickstart"] == []
    assert all(prerequisites[stem] for stem in stems[1:]), "every chapter after the quickstart builds on one"
    graph = nx.DiGraph([(needed, stem) for stem, needs in prerequisites.items() for needed in needs])
    assert nx.is_directed_acyclic_graph(graph)
    assert nx.descendants(graph, "00_quickstart") | {"00_quickstart"} == set(stems)  # every chapter is reachable


def test_the_prerequisites_are_the_doc_links_of_the_line(tmp_path):
    folder = _chapters(tmp_path / "nb", {
        "00_a": "**Prerequisites:** none (start here)",
        "01_b": "**Prerequisites:** {doc}`00_a`",
        "02_c": "**Prerequisites:** {doc}`00_a`, {doc}`the second <01_b>`, and {doc}`/notebooks/01_b`"})
    assert chapter_prerequisites(folder) == {"00_a": [], "01_b": ["00_a"], "02_c": ["00_a", "01_b"]}
    assert chapter_titles(folder)["01_b"] == "Title of 01_b"


def test_a_primer_is_a_chapter_between_its_neighbours(tmp_path):
    folder = _chapters(tmp_path / "nb", {
        "00_a": "**Prerequisites:** none (start here)",
        "00a_primer": "**Prerequisites:** {doc}`00_a`",
        "01_b": "**Prerequisites:** {doc}`00_a`, {doc}`the primer <00a_primer>`"})
    assert chapter_prerequisites(folder) == {"00_a": [], "00a_primer": ["00_a"], "01_b": ["00_a", "00a_primer"]}
    figure = draw_prerequisites(chapter_prerequisites(folder))
    assert "00a  primer" in {text.get_text() for text in figure.axes[0].texts}  # its number, then its slug
    (folder / "01_b.md").write_text("# B\n\n**Prerequisites:** {doc}`01a_primer`\n")
    with pytest.raises(ValueError, match="'01a_primer' is not a chapter"):
        chapter_prerequisites(folder)


@pytest.mark.parametrize("lines, match", [
    ({"00_a": None}, "exactly one"),
    ({"00_a": "**Prerequisites:** {doc}`09_nowhere`"}, "not a chapter"),
    ({"00_a": "**Prerequisites:** {doc}`01_b`", "01_b": "**Prerequisites:** none"}, "does not come before"),
    ({"00_a": "**Prerequisites:** {doc}`00_a`"}, "does not come before"),
    ({"00_a": "**Prerequisites:** the first chapter"}, "names no chapter"),
])
def test_a_chapter_without_a_sound_prerequisites_line_is_refused(tmp_path, lines, match):
    with pytest.raises(ValueError, match=match):
        chapter_prerequisites(_chapters(tmp_path / "nb", lines))


def test_a_folder_without_chapters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no chapter sources"):
        chapter_prerequisites(tmp_path)


def test_the_map_draws_every_chapter_and_every_arrow(tmp_path):
    prerequisites = {"00_a": [], "01_b": ["00_a"], "02_c": ["00_a", "01_b"]}
    path = tmp_path / "map.svg"
    figure = draw_prerequisites(prerequisites, path, titles={"00_a": "Start", "01_b": "Middle", "02_c": "End"})
    svg = path.read_text()
    assert all(label in svg for label in ("Start", "Middle", "End"))
    arrows = [text for text in figure.axes[0].texts if getattr(text, "arrow_patch", None) is not None]
    assert len(arrows) == 3  # one arrow per prerequisite
    assert path.read_bytes() == (draw_prerequisites(prerequisites, tmp_path / "again.svg", titles={
        "00_a": "Start", "01_b": "Middle", "02_c": "End"}) and (tmp_path / "again.svg").read_bytes())


def test_the_book_build_draws_the_introductions_map_from_the_chapters(tmp_path):
    _chapters(tmp_path / "notebooks", {"00_a": "**Prerequisites:** none", "01_b": "**Prerequisites:** {doc}`00_a`"})
    sphinxext._draw_chapter_map(SimpleNamespace(srcdir=str(tmp_path)))
    assert "Title of 01_b" in (tmp_path / sphinxext.CHAPTER_MAP).read_text()
    intro = (ROOT / "book" / "intro.md").read_text()
    assert f"]({Path(sphinxext.CHAPTER_MAP).relative_to('book')})" in intro  # the introduction shows it


def test_a_staged_book_reads_the_prerequisites_from_the_executed_notebooks(tmp_path):
    import jupytext

    staged = tmp_path / "staged"
    staged.mkdir()
    for source in chapter_files(ROOT / "notebooks", ".md"):
        jupytext.write(jupytext.read(source), staged / f"{source.stem}.ipynb")
    assert chapter_prerequisites(staged) == chapter_prerequisites(ROOT / "notebooks")
    assert chapter_titles(staged) == chapter_titles(ROOT / "notebooks")
