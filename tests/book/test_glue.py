"""Prose that cannot drift from the run: every number a chapter's text quotes is glued by its code.

A chapter quotes a measured number with a MyST-NB glue role, ``{glue:text}`name:.3f```, and
``specbook.record(name, value)`` glues the value under ``name`` when it runs in a notebook
kernel. Two checks:

* fast (static): every glue key a chapter's ``.md`` references is recorded or glued somewhere in
  that chapter's code (``record("key", ...)``, ``glue("key", ...)``, or an f-string name such as
  ``record(f"accuracy_{rule}", ...)`` whose pattern matches the key), so a typo fails at once;
* slow (executed): in the chapters the book was rendered from, every referenced key is glued by
  the executed notebook, no key is glued twice (MyST-NB warns, and the book is built with ``-W``),
  and every glued value that is also a recorded metric equals the value in ``metrics.json``.

The slow checks read the run folder of the session's book build (``book`` in conftest.py, the
``run`` folder beside its ``html``; they run after it, on its xdist worker): the smoke run is made
in the Colab-like environment, which has no MyST-NB, so nothing is glued there (``record`` glues
only where MyST-NB is installed). To check a run folder that already exists (``python -m specbook
run --out DIR``, any profile), set ``SPECBOOK_GLUE_RUN=DIR``.
"""
from __future__ import annotations

import ast
import json
import math
import os
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from specbook.harness.chapters import chapter_files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = chapter_files(NOTEBOOKS, ".md")
CHAPTERS = [p.stem for p in SOURCES]

#: A glue role in prose: {glue}`key`, {glue:text}`key:fmt`, {glue:any}`key`, {glue:md}`key:inline`, ...
GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>[a-z]+))?\}`(?P<content>[^`]+)`")
#: A glue directive: ```{glue:figure} key (or ::: fences, or {glue}, {glue:math}, ...).
GLUE_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue(?::[a-z]+)?\}[ \t]+(?P<key>\S+)", re.MULTILINE)
#: Roles whose content may end in ``:format`` (the format spec follows the last colon).
FORMATTED_ROLES = {"text", "md"}
#: A double-backtick code span, which shows a role's syntax instead of running it.
CODE_SPAN = re.compile(r"(?<!`)``(?!`).+?(?<!`)``(?!`)")
#: record("name", ...), sb.record(f"name_{x}", ...), glue('name', ...) in a chapter's code.
RECORD_CALL = re.compile(r"""\b(?:record|glue)\(\s*(?P<f>[fF]?)(?P<q>["'])(?P<name>.+?)(?P=q)""")
#: What a replacement field of an f-string name may stand for (a metric name's characters).
NAME_PART = r"[A-Za-z0-9_.\-]+"


def _key(kind: str | None, content: str) -> str | None:
    """The glue key a role refers to, or None for a key glued in another document (doc::key)."""
    if kind in FORMATTED_ROLES and ":" in content:
        content = content.rsplit(":", 1)[0]
    if "::" in content:
        return None
    return content.strip()


def referenced_keys(source: Path) -> list[str]:
    """The glue keys that the markdown cells of a chapter's MyST source reference, in order."""
    keys = []
    for cell in jupytext.read(source, fmt="md:myst").cells:
        if cell.cell_type != "markdown":
            continue
        text = CODE_SPAN.sub("", cell.source)
        for match in GLUE_ROLE.finditer(text):
            key = _key(match["kind"], match["content"])
            if key is not None:
                keys.append(key)
        for match in GLUE_DIRECTIVE.finditer(text):
            if "::" not in match["key"]:
                keys.append(match["key"])
    return keys


def recorded_name_patterns(source: Path) -> list[re.Pattern]:
    """One pattern per record/glue call in a chapter's code cells; an f-string name becomes a regex."""
    patterns = []
    for cell in jupytext.read(source, fmt="md:myst").cells:
        if cell.cell_type != "code":
            continue
        for match in RECORD_CALL.finditer(cell.source):
            name = match["name"]
            if match["f"]:
                # "accuracy_{rule}" -> accuracy_[A-Za-z0-9_.\-]+ ; "{{" and "}}" are literal braces
                parts = re.split(r"(\{\{|\}\}|\{[^{}]*\})", name)
                regex = "".join(
                    re.escape(part[0]) if part in ("{{", "}}")
                    else NAME_PART if part.startswith("{")
                    else re.escape(part)
                    for part in parts
                )
            else:
                regex = re.escape(name)
            patterns.append(re.compile(regex))
    return patterns


# --- fast: static check of the sources ---------------------------------------------------


def test_the_key_parser_reads_every_kind_of_reference(tmp_path):
    source = tmp_path / "99_example.md"
    source.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n"
        "Quoted: {glue:text}`acc_holm:.3f`, {glue:text}`n_worlds:,d`, {glue}`plain`, {glue:any}`anything`,\n"
        "{glue:md}`table:inline`, {glue:text}`other_page::elsewhere:.2f`, and as syntax only:\n"
        "`` {glue:text}`not_a_reference:.3f` ``.\n\n"
        "```{glue:figure} a_figure\n:name: fig-a\n```\n\n"
        "```{code-cell} ipython3\nsb.record(f\"accuracy_{rule}\", 1.0)\nglue('plain', 2)\n"
        "sb.record(\"acc_holm\", 0.9, atol=1e-9)\n```\n"
    )
    assert referenced_keys(source) == ["acc_holm", "n_worlds", "plain", "anything", "table", "a_figure"]
    patterns = recorded_name_patterns(source)
    assert any(p.fullmatch("accuracy_paper_rule") for p in patterns)
    assert any(p.fullmatch("plain") for p in patterns)
    assert not any(p.fullmatch("n_worlds") for p in patterns)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_glue_reference_names_a_key_the_chapter_records(source):
    patterns = recorded_name_patterns(source)
    unknown = sorted({key for key in referenced_keys(source) if not any(p.fullmatch(key) for p in patterns)})
    assert not unknown, (
        f"{source.name} quotes glue keys that none of its cells records or glues: {unknown}. "
        "Fix the key's spelling, or record the number with sb.record(name, value, ...)."
    )


# --- slow: the executed chapters ---------------------------------------------------------


def glued_values(notebook: Path) -> list[tuple[str, str | None]]:
    """(key, text/plain) of every glued output of an executed notebook, in order."""
    glued = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if not scrapbook:
                continue
            prefix = scrapbook.get("mime_prefix", "")
            data = {mime[len(prefix):] if mime.startswith(prefix) else mime: value
                    for mime, value in output.get("data", {}).items()}
            glued.append((scrapbook["name"], data.get("text/plain")))
    return glued


def same_value(text: str, recorded) -> bool:
    """True when the glued text/plain is the recorded value (floats exactly, as repr round-trips)."""
    try:
        glued = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        glued = text
    if isinstance(recorded, bool) or isinstance(glued, bool):
        return glued is recorded
    if isinstance(recorded, float) or isinstance(glued, float):
        return isinstance(glued, (int, float)) and isinstance(recorded, (int, float)) and \
            math.isclose(glued, recorded, rel_tol=1e-15, abs_tol=0.0)
    return glued == recorded


@pytest.fixture(scope="module")
def glue_run_dir(request):
    """A run folder of every chapter: SPECBOOK_GLUE_RUN, or the one the session's book was rendered from."""
    existing = os.environ.get("SPECBOOK_GLUE_RUN")
    out = Path(existing).expanduser().resolve() if existing else request.getfixturevalue("book").parent / "run"
    if not (out / "metrics.json").is_file():
        pytest.fail(f"{existing or out}: no metrics.json there (expected a run folder)")
    return out


@pytest.fixture(scope="module")
def run_metrics(glue_run_dir):
    return json.loads((glue_run_dir / "metrics.json").read_text())


def executed_chapter(stem, glue_run_dir, run_metrics):
    """A chapter's entry in the run and what its executed notebook glued; skipped when not run."""
    chapter = run_metrics["chapters"].get(stem)
    if chapter is None:
        pytest.skip(f"{stem} is not in the run {glue_run_dir}")
    assert chapter["status"] == "passed", f"{stem} failed in {glue_run_dir}: {chapter.get('error')}"
    return chapter, glued_values(glue_run_dir / chapter["executed_notebook"])


@pytest.mark.slow
@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("stem", CHAPTERS)
def test_executed_chapter_glues_every_key_its_prose_quotes(stem, glue_run_dir, run_metrics):
    _, glued = executed_chapter(stem, glue_run_dir, run_metrics)
    names = [name for name, _ in glued]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"{stem} glues these keys more than once (MyST-NB warns): {duplicates}"
    missing = sorted(set(referenced_keys(NOTEBOOKS / f"{stem}.md")) - set(names))
    assert not missing, f"{stem}'s prose quotes glue keys that the executed notebook never glues: {missing}"


@pytest.mark.slow
@pytest.mark.xdist_group("book")
@pytest.mark.parametrize("stem", CHAPTERS)
def test_glued_values_equal_the_recorded_metrics(stem, glue_run_dir, run_metrics):
    chapter, glued = executed_chapter(stem, glue_run_dir, run_metrics)
    recorded, glued = chapter["metrics"], dict(glued)
    assert recorded.keys() <= glued.keys(), \
        f"{stem} recorded numbers that were not glued: {sorted(recorded.keys() - glued.keys())}"
    differ = {name: (glued[name], recorded[name]["value"]) for name in recorded.keys() & glued.keys()
              if glued[name] is None or not same_value(glued[name], recorded[name]["value"])}
    assert not differ, f"{stem}: glued value differs from metrics.json (glued, recorded): {differ}"
