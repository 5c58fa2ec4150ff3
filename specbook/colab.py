"""Where Colab installs specbook from: the one place that names the repository and revision.

Every chapter's first code cell is :data:`INSTALL_CELL`, verbatim (a test checks it).
It does nothing outside Colab; on Colab it installs the package from the repository
and leaves Colab's own torch and numpy in place (specbook only sets lower bounds).
"""

#: Public repository of the book (git URL understood by pip).
REPOSITORY = "https://github.com/specbook/specbook"
#: The release tag the chapters install on Colab, and whose notebooks the book's Colab badges
#: open: ``v`` + the package's version (a test keeps the two equal). A release bumps the
#: version in pyproject.toml, this tag and the chapters' install cells (``make sync``), then
#: tags the commit, so a chapter and the package it installs always come from one revision.
REVISION = "v0.1.0"

INSTALL_CELL = f'''\
# On Colab only: install specbook (Colab keeps its own torch and numpy). Elsewhere: nothing to do.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "specbook @ git+{REPOSITORY}@{REVISION}"'''


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
    prefix = "https://github.com/"
    if not REPOSITORY.startswith(prefix):
        raise ValueError(f"REPOSITORY={REPOSITORY!r} is not a GitHub address; Colab opens notebooks from GitHub.")
    return (f"https://colab.research.google.com/github/{REPOSITORY[len(prefix):]}"
            f"/blob/{REVISION}/notebooks/{stem}.ipynb")
