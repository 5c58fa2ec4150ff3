"""Build the HTML book from the runner's executed chapters: one executor, nothing run twice.

:func:`build_book` does what ``make book`` does:

1. ``specbook run --profile book --resume`` into ``<out>/run``: a chapter whose inputs
   (notebook, profile, seed, package sources) did not change since it last passed is
   reused, so a second build with nothing changed executes nothing;
2. stages the book's sources in ``<out>/source``: the prose pages, the table of contents,
   the executed chapters (in place of their MyST twins) and a ``_config.yml`` that tells
   MyST-NB not to execute anything; a staged file is rewritten only when its bytes
   change, so that Sphinx re-renders only what changed;
3. writes the reproduction and status pages from that same run, so the numbers on the
   pages and in the chapters come from one execution;
4. runs ``jupyter-book build`` on the staged sources (warnings are errors), writing
   ``<out>/html``.

A chapter that fails stops the build before step 2, naming the chapter and the cell.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from .reproduction import render_reproduction, render_status
from .runner import run_chapters

__all__ = ["BookBuild", "BuildResult", "build_book", "stage_sources", "toc_chapters"]

#: Parts of the repository the book is made of, besides the chapters.
BOOK_SOURCES = ("_toc.yml", "book")
#: What the staged configuration changes: the chapters arrive executed.
_NO_EXECUTION = {"execute_notebooks": "off"}


@dataclass(kw_only=True)
class BuildResult:
    """What a build of the book (HTML or PDF) did.

    Attributes
    ----------
    run : specbook.harness.runner.RunResult
        The run that executed (or reused) the chapters.
    returncode : int
        0 when the build succeeded; 1 when a chapter failed or a build step reported an error.
    log : str
        The build's output ("" when nothing ran).
    """

    run: object
    returncode: int
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(kw_only=True)
class BookBuild(BuildResult):
    """What :func:`build_book` did: the attributes of :class:`BuildResult` (``log`` is jupyter-book's
    output) and

    Attributes
    ----------
    html : Path
        Folder of the built HTML book (``index.html`` inside).
    """

    html: Path


def stage_sources(root, run_dir, source, pages=None) -> list[Path]:
    """Lay out the book's sources in `source`, with the executed chapters of `run_dir`.

    Parameters
    ----------
    root : str or Path
        The repository: ``_config.yml``, ``_toc.yml``, ``book/`` and ``notebooks/``.
    run_dir : str or Path
        A run folder whose ``notebooks/`` holds every chapter the table of contents names, executed.
    source : str or Path
        Folder to write; files that would not change are left untouched, files that
        are no longer part of the book are removed.
    pages : dict of str to str, optional
        Pages to stage in place of the repository's, by path relative to `root`
        (e.g. ``{"book/status.md": ...}``).

    Returns
    -------
    list of Path
        The staged files that changed.
    """
    root, run_dir, source = Path(root), Path(run_dir), Path(source)
    wanted = {}
    for name in BOOK_SOURCES:
        path = root / name
        files = [path] if path.is_file() else [p for p in sorted(path.rglob("*")) if p.is_file()]
        for file in files:
            relative = file.relative_to(root)
            if relative.parts[:2] == ("book", "run"):
                continue  # the committed run is shown through its pages, not rendered
            wanted[relative] = file.read_bytes()
    wanted[Path("_config.yml")] = _staged_config(root / "_config.yml").encode()
    for relative, text in (pages or {}).items():
        wanted[Path(relative)] = text.encode()
    for stem in toc_chapters(root / "_toc.yml"):
        executed = run_dir / "notebooks" / f"{stem}.ipynb"
        if not executed.is_file():
            raise FileNotFoundError(f"the run folder {run_dir} holds no executed chapter {stem}.ipynb; "
                                    "run the chapter first (specbook run --resume).")
        wanted[Path("notebooks") / f"{stem}.ipynb"] = _without_injected_parameters(executed).encode()
    changed = []
    for relative, data in wanted.items():
        target = source / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        changed.append(target)
    for stale in [p for p in source.rglob("*") if p.is_file() and p.relative_to(source) not in wanted]:
        stale.unlink()
    return changed


def toc_chapters(toc) -> list[str]:
    """Stems of the chapters (``notebooks/NN_slug``) that the table of contents names, in order."""
    files = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(Path(toc).read_text()))
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def _staged_config(config: Path) -> str:
    settings = yaml.safe_load(config.read_text())
    settings.setdefault("execute", {}).update(_NO_EXECUTION)
    settings["exclude_patterns"] = [p for p in settings.get("exclude_patterns", []) if p != "notebooks/*.ipynb"]
    settings["exclude_patterns"].append("notebooks/*.md")
    # The reproduction and status pages come from the run behind this build, so they cannot be stale.
    settings.setdefault("sphinx", {}).setdefault("config", {})["specbook_run_folder"] = ""
    return yaml.safe_dump(settings, sort_keys=False)


def _without_injected_parameters(executed: Path) -> str:
    """The executed notebook without papermill's parameters cell (the reader sees the chapter's own)."""
    notebook = nbformat.read(executed, as_version=4)
    notebook.cells = [cell for cell in notebook.cells
                      if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])]
    return nbformat.writes(notebook) + "\n"


def _run_and_stage(root: Path, out: Path, *, profile, seed, jobs, progress):
    """Steps 1 to 3 of :func:`build_book`, shared with :func:`specbook.harness.pdf.build_pdf`: ``(run, source folder)``.

    The source folder is None when a chapter failed (its messages are printed on stderr).
    """
    run_dir, source = out / "run", out / "source"
    run = run_chapters(profile=profile, seed=seed, out=run_dir, jobs=jobs, resume=True,
                       notebooks_dir=root / "notebooks", progress=progress)
    if not run.ok:
        for message in run.failure_messages():
            print(message, file=sys.stderr)
        return run, None
    pages = {"book/reproduction.md": render_reproduction(run_dir, allow_dirty=True),
             "book/status.md": render_status(run_dir, allow_dirty=True)}
    stage_sources(root, run_dir, source, pages)
    return run, source


def _jupyter_book(source: Path, output: Path, builder: str, *options: str) -> subprocess.CompletedProcess:
    """``jupyter-book build`` of the staged `source` into `output` (warnings are errors)."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jupyter_book), "build", str(source), "--path-output", str(output),
                           "--builder", builder, *options, "-W", "--keep-going"], capture_output=True, text=True)


def build_book(root=".", out="_build", *, profile="book", seed=0, jobs=None, builder="html",
               progress=True) -> BookBuild:
    """Execute what changed and build the book from the executed chapters.

    Parameters
    ----------
    root : str or Path, default="."
        The repository.
    out : str or Path, default="_build"
        Where the run (``run/``), the staged sources (``source/``) and the HTML (``html/``) go.
    profile : {"smoke", "book", "full"}, default="book"
        Profile of the run behind the book.
    seed : int, default=0
        Seed of that run.
    jobs : int, optional
        Chapters executed at once; default :func:`specbook.harness.runner.default_jobs`.
    builder : str, default="html"
        jupyter-book's builder.
    progress : bool, default=True
        Show the runner's progress bar.

    Returns
    -------
    BookBuild
    """
    root, out = Path(root).resolve(), Path(out).resolve()
    html = out / "html"
    run, source = _run_and_stage(root, out, profile=profile, seed=seed, jobs=jobs, progress=progress)
    if source is None:
        return BookBuild(run=run, html=html, returncode=1)
    done = _jupyter_book(source, out / "jb", builder)
    built = out / "jb" / "_build" / builder
    if done.returncode == 0:
        if html.exists():
            shutil.rmtree(html)
        shutil.copytree(built, html)
    return BookBuild(run=run, html=html, returncode=done.returncode, log=done.stdout + done.stderr)
