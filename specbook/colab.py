"""Where Colab installs specbook from: the one place that names the repository and revision.

Every chapter's first code cell is :data:`INSTALL_CELL`, verbatim (a test checks it).
It does nothing outside Colab; on Colab it installs the package from the repository
and leaves Colab's own torch and numpy in place (specbook only sets lower bounds).
"""

#: Public repository of the book (git URL understood by pip).
REPOSITORY = "https://github.com/specbook/specbook"
#: Branch, tag or commit the chapters install on Colab.
REVISION = "main"

INSTALL_CELL = f'''\
# On Colab only: install specbook (Colab keeps its own torch and numpy). Elsewhere: nothing to do.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "specbook @ git+{REPOSITORY}@{REVISION}"'''
