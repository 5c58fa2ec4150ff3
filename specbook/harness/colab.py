"""Where Colab installs specbook from: the one place that names the repository and revision.

Every chapter's first code cell is :data:`INSTALL_CELL`, verbatim (a test checks it).
It does nothing outside Colab; on Colab it installs the package from the repository
and leaves Colab's own torch and numpy in place (specbook only sets lower bounds).

The version itself lives in one place only, the package metadata (``version`` in
pyproject.toml): :data:`REVISION` is derived from it, and ``python -m specbook.harness.colab``
rewrites what must carry it literally (the chapters' install cells, ``CITATION.cff``,
``.zenodo.json``) after a bump; see "Citing and releases" in the README.
"""
from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError
from importlib import metadata
from pathlib import Path

#: Public repository of the book (git URL understood by pip).
REPOSITORY = "https://github.com/specbook/specbook"

#: The source checkout this module sits in, if it is one (pyproject.toml next to the package).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def source_version(root: Path | None = None) -> str:
    """The ``version`` of ``[project]`` in ``root/pyproject.toml`` (default: :data:`SOURCE_ROOT`, this checkout).

    Raises
    ------
    FileNotFoundError
        If there is no pyproject.toml in `root`.
    ValueError
        If it is not specbook's or names no version.
    """
    root = SOURCE_ROOT if root is None else Path(root)
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the two keys of [project] by hand
        section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
        body = section.group(1) if section else ""
        fields = dict(re.findall(r'^(name|version)\s*=\s*"([^"]*)"', body, re.MULTILINE))
    else:
        fields = tomllib.loads(text).get("project", {})
    if fields.get("name") != "specbook" or not fields.get("version"):
        raise ValueError(f"{root / 'pyproject.toml'} is not specbook's or names no version")
    return str(fields["version"])


def package_version() -> str:
    """specbook's version: the installed package's metadata, or else the source checkout's pyproject.toml.

    Raises
    ------
    RuntimeError
        If specbook is neither installed nor imported from a source checkout.
    """
    try:
        return metadata.version("specbook")
    except PackageNotFoundError:
        pass
    try:
        return source_version()
    except (OSError, ValueError) as exc:
        raise RuntimeError("specbook's version is unknown: the package is not installed (pip install -e .) and "
                           f"{SOURCE_ROOT / 'pyproject.toml'} cannot be read ({exc})") from exc


#: The release tag the chapters install on Colab, and whose notebooks the book's Colab badges
#: open: ``v`` + the package's version. A release bumps the version in pyproject.toml, runs
#: ``python -m specbook.harness.colab`` (install cells, CITATION.cff, .zenodo.json) and ``make sync``,
#: then tags the commit, so a chapter and the package it installs always come from one revision.
REVISION = "v" + package_version()

INSTALL_CELL = f'''\
# On Colab only: install specbook (Colab keeps its own torch and numpy). Elsewhere: nothing to do.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "specbook @ git+{REPOSITORY}@{REVISION}"'''


def _github_path() -> str:
    prefix = "https://github.com/"
    if not REPOSITORY.startswith(prefix):
        raise ValueError(f"REPOSITORY={REPOSITORY!r} is not a GitHub address; Colab opens notebooks from GitHub.")
    return REPOSITORY[len(prefix):]


def colab_url(stem: str) -> str:
    """The address that opens chapter `stem`'s ``.ipynb`` from the repository in Colab.

    Parameters
    ----------
    stem : str
        The chapter, e.g. ``"01_collider_world"``.

    Returns
    -------
    str
    """
    return f"https://colab.research.google.com/github/{_github_path()}/blob/{REVISION}/notebooks/{stem}.ipynb"


def notebook_url(stem: str) -> str:
    """The address of chapter `stem`'s ``.ipynb`` in the repository at :data:`REVISION` (the raw file)."""
    return f"{REPOSITORY}/raw/{REVISION}/notebooks/{stem}.ipynb"


#: What carries the version literally, as (glob relative to the repository root, pattern whose group 1 is the version);
#: ``[0-9][0-9]*_*`` takes the primers (``00a_d_separation``) with the chapters.
VERSIONED_FILES = (
    ("notebooks/[0-9][0-9]*_*.md", re.compile(re.escape(f"git+{REPOSITORY}@v") + r"([0-9][^\"'\s\\]*)")),
    ("notebooks/[0-9][0-9]*_*.ipynb", re.compile(re.escape(f"git+{REPOSITORY}@v") + r"([0-9][^\"'\s\\]*)")),
    ("CITATION.cff", re.compile(r"^version:\s*\"?([^\"\s]+)\"?\s*$", re.MULTILINE)),
    (".zenodo.json", re.compile(r"^\s*\"version\":\s*\"([^\"]*)\"", re.MULTILINE)),
)


def follow_version(root: Path = SOURCE_ROOT, version: str | None = None, *, write: bool = True) -> list[Path]:
    """Write `version` (default: :func:`package_version`) wherever a file of `root` carries it literally.

    The chapters' install cells (``.md`` and ``.ipynb``), ``CITATION.cff`` and ``.zenodo.json``
    (see :data:`VERSIONED_FILES`). With ``write=False`` nothing is written. Returns the files
    that changed (or would change).
    """
    version = version or package_version()
    changed = []
    for pattern, regex in VERSIONED_FILES:
        for path in sorted(Path(root).glob(pattern)):
            text = path.read_text(encoding="utf-8")
            new = regex.sub(lambda m: m.string[m.start(0):m.start(1)] + version + m.string[m.end(1):m.end(0)], text)
            if new != text:
                changed.append(path)
                if write:
                    path.write_text(new, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m specbook.harness.colab [--check]``: make every file that names the version follow it (after a bump).

    ``--check`` writes nothing and exits 1 when a file names another version (the release workflow runs it).
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--check"]):
        print("usage: python -m specbook.harness.colab [--check]\n\n" + (main.__doc__ or ""), file=sys.stderr)
        return 2
    check = argv == ["--check"]
    wanted = source_version()
    if package_version() != wanted:
        print(f"error: the installed specbook is {package_version()} but pyproject.toml says {wanted}; "
              "reinstall first (make setup, or pip install -e .)", file=sys.stderr)
        return 1
    changed = follow_version(SOURCE_ROOT, wanted, write=not check)
    for path in changed:
        print(f"{'names another version' if check else 'updated'}: {path.relative_to(SOURCE_ROOT)}")
    if check:
        if changed:
            print(f"error: these files do not name v{wanted}; run python -m specbook.harness.colab, then make sync",
                  file=sys.stderr)
            return 1
        print(f"every file names v{wanted}")
        return 0
    print(f"every file names v{wanted}" + ("; now run `make sync`" if changed else " (nothing changed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
