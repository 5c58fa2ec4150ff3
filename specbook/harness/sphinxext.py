"""The book's Sphinx extension: "Open in Colab" badges, and no script included twice.

Enable it with ``sphinx: extra_extensions: [specbook.harness.sphinxext]`` in ``_config.yml``.

- Every chapter page gets a badge at the top linking to the chapter's ``.ipynb`` in
  the repository named by :mod:`specbook.harness.colab` (the same place the chapters' install
  cell reads), so the book, the install cell and the badge name one revision. Next to
  it, a link downloads the chapter's ``.ipynb`` twin, shipped with the HTML beside the
  page (``notebooks/NN_slug.ipynb``: the notebook the page was rendered from, so it works
  offline and matches the page); only a build without that notebook links to the
  repository's copy at the same revision instead.
- The reproduction report and the status page (``book/reproduction.md``,
  ``book/status.md``) get a warning banner when the run they come from
  (``book/run``, or the folder that the config value ``specbook_run_folder`` names;
  ``""`` turns the banner off, for pages generated from the build's own run) is stale
  against the sources being built: the banner is decided at build time, so a
  committed page never claims to match code that changed after it.
- The introduction's map of the chapters (``book/_generated/chapter_map.svg``) is drawn at
  build time from the prerequisites each chapter names in its learning-goals box
  (:mod:`specbook.harness.prerequisites`), so it cannot drift from the chapters.
- Under Sphinx 7.4 the inline scripts that sphinx-thebe and sphinx-togglebutton add
  appear twice in every page; a second ``const THEBE_JS_URL`` is a JavaScript
  SyntaxError in the reader's console. Each page keeps the first copy only.
"""
from __future__ import annotations

import html
import shutil
from pathlib import Path

from .chapters import chapter_files
from .colab import colab_url, notebook_url
from .prerequisites import chapter_prerequisites, chapter_titles, draw_prerequisites
from .provenance import COMMITTED_RUN
from .reproduction import stale_banner, with_banner

#: Pages generated from the book's committed run, and that run's folder (relative to the source folder).
RUN_PAGES = ("book/reproduction", "book/status")
RUN_FOLDER = COMMITTED_RUN

#: The map of the chapters and their prerequisites, drawn at build time (relative to the source folder).
CHAPTER_MAP = "book/_generated/chapter_map.svg"

#: Pages whose names start with this are chapters (``notebooks/NN_slug``).
CHAPTER_PREFIX = "notebooks/"
BADGE_FILE = "colab-badge.svg"


def _add_static_path(app) -> None:
    app.config.html_static_path.append(str(Path(__file__).with_name("_static")))


def _script_key(script):
    # The second copy of an inline script has filename "" where the first has None.
    attributes = getattr(script, "attributes", {})
    return getattr(script, "filename", None) or "", tuple(sorted((k, str(v)) for k, v in attributes.items()))


def _drop_repeated_scripts(context) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _notebook_download(app, pagename, stem, context) -> str:
    """The link that downloads chapter `stem`'s ``.ipynb``: shipped beside the page when the sources hold it."""
    if app is not None:
        source = Path(app.srcdir) / f"{pagename}.ipynb"
        if source.is_file():
            target = Path(app.outdir) / f"{pagename}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            return context["pathto"](f"{pagename}.ipynb", 1)
    return notebook_url(stem)


def _add_badge(pagename, context, app=None) -> None:
    if not pagename.startswith(CHAPTER_PREFIX) or "body" not in context:
        return
    stem = pagename[len(CHAPTER_PREFIX):]
    image = context["pathto"](f"_static/{BADGE_FILE}", 1)
    download = _notebook_download(app, pagename, stem, context)
    badge = (f'<p class="colab-badge-line"><a class="colab-badge" href="{html.escape(colab_url(stem))}" '
             f'target="_blank" rel="noopener"><img src="{html.escape(image)}" alt="Open In Colab" '
             'width="117" height="20"></a>\n'
             f'<a class="notebook-download" href="{html.escape(download)}" download="{html.escape(stem)}.ipynb" '
             f'title="Download this chapter as a Jupyter notebook">Download {html.escape(stem)}.ipynb</a></p>\n')
    context["body"] = badge + context["body"]


def _mark_stale_run(app, docname, source) -> None:
    if docname not in RUN_PAGES or not app.config.specbook_run_folder:
        return
    srcdir = Path(app.srcdir)
    banner = stale_banner(srcdir / app.config.specbook_run_folder, notebooks_dir=srcdir / "notebooks")
    source[0] = with_banner(source[0], banner)


def _page_context(app, pagename, templatename, context, doctree) -> None:
    _drop_repeated_scripts(context)
    _add_badge(pagename, context, app)


def _draw_chapter_map(app) -> None:
    """Draw the chapters' prerequisites (from their learning-goals boxes) for the introduction."""
    notebooks = Path(app.srcdir) / "notebooks"
    if not chapter_files(notebooks, ".md") and not chapter_files(notebooks, ".ipynb"):
        return  # a book without the chapters' sources has no map to draw
    target = Path(app.srcdir) / CHAPTER_MAP
    target.parent.mkdir(parents=True, exist_ok=True)
    draw_prerequisites(chapter_prerequisites(notebooks), target, titles=chapter_titles(notebooks))


def setup(app):
    """Register the extension with Sphinx (called by Sphinx when it loads the extension)."""
    app.add_config_value("specbook_run_folder", RUN_FOLDER, "env", types=[str])
    app.connect("builder-inited", _add_static_path)
    app.connect("builder-inited", _draw_chapter_map)
    app.connect("html-page-context", _page_context)
    app.connect("source-read", _mark_stale_run)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
