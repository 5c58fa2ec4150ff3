"""The glossary: the concepts the chapters use, each defined once, and linked from where they are used."""
import re
from pathlib import Path

from specbook.harness.chapters import chapter_files

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "book" / "glossary.md"
# the concepts a student meets before the chapters define them (issue 23's list)
REQUIRED = ["collider", "d-separation", "band set", "representative state", "selection", "CI test", "calibration",
            "power", "multiple testing", "identifiability", "support", "Jacobian support", "generalist", "specialist",
            "MCC", "mAP"]
ROLE = re.compile(r"\{term\}`([^`<]*?)(?:\s*<([^>]+)>)?`")


def _defined_terms():
    text = GLOSSARY.read_text()
    block = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    # a term is a line at the left margin; its definition is indented below it
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith((" ", ":"))]


def _linked_terms(path):
    return [(target or text).strip() for text, target in ROLE.findall(path.read_text())]


def _pages():
    return chapter_files(ROOT / "notebooks", ".md") + sorted((ROOT / "book").glob("*.md"))


def test_the_glossary_defines_each_required_concept_once():
    terms = _defined_terms()
    assert len(terms) == len(set(terms)), "a term is defined twice"
    lowered = {term.lower() for term in terms}
    assert [term for term in REQUIRED if term.lower() not in lowered] == []


def test_every_term_role_names_a_defined_term():
    defined = {term.lower() for term in _defined_terms()}  # Sphinx matches glossary terms case-insensitively
    unknown = {(path.name, term) for path in _pages() for term in _linked_terms(path) if term.lower() not in defined}
    assert unknown == set()


def test_every_term_is_linked_from_a_chapter_and_every_chapter_links_terms():
    chapters = chapter_files(ROOT / "notebooks", ".md")
    linked = {term.lower() for path in chapters for term in _linked_terms(path)}
    assert [term for term in _defined_terms() if term.lower() not in linked] == []
    assert [path.name for path in chapters if len(_linked_terms(path)) < 3] == []
