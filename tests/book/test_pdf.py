"""The PDF of the book (``make pdf``): printed by headless Chromium from the same executed chapters.

It is built into the build folder of the session's HTML book (fixture ``book`` in conftest.py,
or ``SPECBOOK_BUILT_BOOK``), at that book's profile, so every chapter resumes and nothing is
executed again. The PDF is then read back with pypdf (pages, text, outline, fonts, images) and
one page with a figure is rendered to pixels with pypdfium2; that page goes to
``test-artifacts/pdf/`` (or ``$SPECBOOK_ARTIFACTS/pdf/``).

Without the Debian package ``chromium`` the tests are skipped.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from specbook.harness.book import toc_chapters
from specbook.harness.chapters import chapter_files

ROOT = Path(__file__).resolve().parents[2]
# As specbook.harness.pdf.find_chromium looks for it (not imported here: a missing tool should skip, not fail,
# collection).
CHROMIUM = shutil.which(os.environ.get("SPECBOOK_CHROMIUM") or "chromium") or next(
    (found for name in ("chromium-browser", "google-chrome", "google-chrome-stable") if (found := shutil.which(name))),
    None)
#: A sane size for the whole book (the smoke profile printed 197 pages).
PAGES = range(60, 1500)

pytestmark = [
    pytest.mark.xdist_group("book"),  # the same worker as test_book.py: the PDF reuses that build's run
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH: the PDF is printed by headless Chromium; "
                       "install the Debian package chromium (apt-get install -y --no-install-recommends chromium)"),
]


def normal(text: str) -> str:
    """Text as compared here: ligatures unfolded (NFKC), whitespace runs as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def first_heading(path: Path) -> str:
    return next(line[2:].strip() for line in path.read_text().splitlines() if line.startswith("# "))


CHAPTER_TITLES = [first_heading(ROOT / "notebooks" / f"{stem}.md") for stem in toc_chapters(ROOT / "_toc.yml")]
BIBLIOGRAPHY = first_heading(ROOT / "book" / "references.md")


@pytest.fixture(scope="module")
def pdf(book, report_lines):
    """``python -m specbook pdf`` into the book's build folder, at its profile; the PDF's path."""
    output = book.parent
    profile = json.loads((output / "run" / "metrics.json").read_text())["profile"]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "specbook", "pdf", "--root", str(ROOT), "--out", str(output),
                           "--profile", profile, "--no-progress"], capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-4000:]
    chapters = len(chapter_files(ROOT / "notebooks", ".ipynb"))
    # the book's run, nothing executed again
    assert f"{chapters} passed ({chapters} resumed" in done.stdout, done.stdout[-4000:]
    path = output / "pdf" / "specbook.pdf"
    assert path.is_file()
    pages = re.search(r"\((\d+) pages\)", done.stdout)
    report_lines.append(f"PDF of the book ({profile} profile): {pages.group(1) if pages else '?'} pages in "
                        f"{seconds:.0f} s, {path.stat().st_size / 1e6:.1f} MB")
    return path


@pytest.fixture(scope="module")
def reader(pdf):
    import pypdf

    return pypdf.PdfReader(pdf)


@pytest.fixture(scope="module")
def page_texts(reader):
    return [normal(page.extract_text() or "") for page in reader.pages]


def test_the_page_count_is_sane(reader, pdf):
    from specbook.harness.pdf import count_pdf_pages

    assert len(reader.pages) in PAGES
    assert count_pdf_pages(pdf) == len(reader.pages)  # the count the command prints


def test_the_table_of_contents_opens_the_book_and_is_its_outline(reader, page_texts):
    front = " ".join(page_texts[:3])
    assert "Contents" in front
    missing = [title for title in CHAPTER_TITLES if normal(title) not in front]
    assert not missing, f"not in the printed table of contents: {missing}"

    def flat(outline):
        for item in outline:
            yield from flat(item) if isinstance(item, list) else [item.title]

    # Chromium drops the space where a heading wraps; compare without spaces.
    bookmarks = {re.sub(r"\s", "", normal(title)) for title in flat(reader.outline)}
    missing = [title for title in [*CHAPTER_TITLES, BIBLIOGRAPHY]
               if not any(re.sub(r"\s", "", normal(title)) in mark for mark in bookmarks)]
    assert not missing, f"no bookmark for: {missing}"


def test_every_chapter_starts_a_page_with_its_title(page_texts):
    # Each title is on some page after the table of contents, at the top of one of them.
    for title in CHAPTER_TITLES:
        starts = [i for i, text in enumerate(page_texts) if i >= 1 and text.startswith(normal(title))]
        assert starts, f"no page begins with the chapter title {title!r}"


def test_the_bibliography_is_printed(page_texts):
    text = " ".join(page_texts)
    at = text.rfind(BIBLIOGRAPHY)
    assert at > 0, f"no {BIBLIOGRAPHY!r} heading"
    bibliography = text[at:].lower()
    titles = [normal(re.sub(r"[{}]", "", t)).lower()
              for t in re.findall(r"^\s*title\s*=\s*[{\"](.+?)[}\"],?\s*$",
                                  (ROOT / "book" / "references.bib").read_text(), flags=re.M)]
    printed = [t for t in titles if t[:40] in bibliography]
    assert len(printed) >= max(3, len(titles) // 2), f"only {len(printed)} of {len(titles)} references printed"


def test_mathematics_is_rendered_by_mathjax(pdf, page_texts):
    fonts = set(re.findall(rb"/(?:BaseFont|FontName)\s*/[A-Z]{6}\+([^\s/]+)", pdf.read_bytes()))
    assert any(font.startswith(b"MathJax_") for font in fonts), f"no MathJax font embedded: {sorted(fonts)}"
    text = " ".join(page_texts)
    assert "\\(" not in text and "\\[" not in text and "$$" not in text, "TeX printed as typed"


def test_theorem_and_exercise_boxes_with_their_solutions(page_texts):
    text = " ".join(page_texts)
    for box in ["Theorem 1", "Definition", "Exercise 1", "Solution to Exercise 1"]:
        assert box in text, box


def embedded_images(reader) -> set:
    """The image objects the pages draw (their references; nothing decoded), forms followed."""
    found, seen = set(), set()

    def walk(resources):
        xobjects = (resources or {}).get("/XObject")
        for ref in (xobjects.get_object() if xobjects else {}).values():
            key = (ref.idnum, ref.generation) if hasattr(ref, "idnum") else id(ref)
            if key in seen:
                continue
            seen.add(key)
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found.add(key)
            elif obj.get("/Subtype") == "/Form" and "/Resources" in obj:
                walk(obj["/Resources"].get_object())

    for page in reader.pages:
        if "/Resources" in page:
            walk(page["/Resources"].get_object())
    return found


def test_the_figures_are_embedded(reader, book):
    embedded = len(embedded_images(reader))
    figures = len(list((book / "_images").glob("*.png")))  # the HTML book's figures, from the same run
    assert figures >= 20
    assert embedded >= figures, f"{embedded} images in the PDF, {figures} figures in the HTML book"


def test_a_page_with_a_figure_renders_to_a_picture_that_is_not_blank(reader, pdf, report_lines):
    import numpy as np
    import pypdfium2

    number = next(i for i, page in enumerate(reader.pages) if page.images)
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        picture = document[number].render(scale=1.5).to_pil().convert("L")
    finally:
        document.close()
    pixels = np.asarray(picture, dtype=float)
    assert pixels.shape[0] > 1000 and pixels.shape[1] > 700
    assert pixels.std() > 20, f"page {number + 1} looks blank (pixel standard deviation {pixels.std():.1f})"
    assert (pixels < 200).mean() > 0.02, f"page {number + 1} has almost nothing printed on it"
    folder = Path(os.environ.get("SPECBOOK_ARTIFACTS") or ROOT / "test-artifacts") / "pdf"
    folder.mkdir(parents=True, exist_ok=True)
    picture.save(folder / f"page-{number + 1}.png")
    report_lines.append(f"PDF page {number + 1} rendered to {folder / f'page-{number + 1}.png'}")
