"""The chapters' shape: paired, stripped, parametrised, installable on Colab, in the book."""
import ast
import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

import specbook
from specbook.harness.chapters import chapter_files
from specbook.harness.colab import INSTALL_CELL, REVISION

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = chapter_files(NOTEBOOKS, ".md")
CHAPTER = re.compile(r"^\d\d[a-z]?_[a-z0-9_]+$")  # primers add a letter: 00a_d_separation


def cells(path):
    nb = jupytext.read(path)
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def code_cells(path):
    return [c for c in jupytext.read(path).cells if c.cell_type == "code"]


def test_there_are_chapters():
    stems = [p.stem for p in SOURCES]
    assert stems[:3] == ["00_quickstart", "00a_d_separation", "01_collider_world"]  # the primer between them
    assert stems.index("05_structure_benchmark") + 1 == stems.index("05a_identifiability") < stems.index(
        "06_generalist_superset")
    assert all(CHAPTER.match(stem) for stem in stems)


def test_every_ipynb_has_a_source():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == [p.stem for p in SOURCES]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync(source):
    twin = source.with_suffix(".ipynb")
    assert twin.exists(), f"{twin.name} is missing: run `make sync`"
    assert cells(source) == cells(twin), f"{source.name} and {twin.name} differ: run `make sync`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_ipynb_is_committed_without_outputs(source):
    nb = json.loads(source.with_suffix(".ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{source.stem}: strip outputs"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_kernel_is_python3(source):
    for path in (source, source.with_suffix(".ipynb")):
        assert jupytext.read(path).metadata["kernelspec"]["name"] == "python3", path.name


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_one_parameters_cell_with_profile_and_seed(source):
    tagged = [c for c in code_cells(source) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{source.stem} has {len(tagged)} cells tagged 'parameters'"
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
    }
    assert assigned.get("PROFILE") == "book" and assigned.get("SEED") == 0, assigned


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_first_code_cell_is_the_colab_install_cell(source):
    assert code_cells(source)[0].source.strip() == INSTALL_CELL.strip()


def test_every_chapter_is_in_the_table_of_contents_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    chapters = [file for file in files if file.startswith("notebooks/")]
    assert chapters == [f"notebooks/{p.stem}" for p in SOURCES]  # every chapter, primers included, in reading order


def test_colab_installs_the_release_tag_of_this_version():
    assert REVISION == f"v{specbook.__version__}", (
        "bump specbook.harness.colab.REVISION with the version (then make sync)")
