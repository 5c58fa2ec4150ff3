"""Which chapters each chapter needs, read from the chapters themselves, and the map drawn from it.

Every chapter states its prerequisites in its learning-goals box, on one line such as
``**Prerequisites:** {doc}`02_band_ci_theorem1`, {doc}`03_why_colliders```, or
``**Prerequisites:** none (start here)``. That line is what the reader sees and the only
place they are written: :func:`chapter_prerequisites` reads it, and the book's introduction
shows the map :func:`draw_prerequisites` draws from it at build time, so the map cannot
drift from the chapters.
"""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from .chapters import CHAPTER_STEM, chapter_number

__all__ = ["chapter_prerequisites", "chapter_titles", "prerequisite_graph", "draw_prerequisites", "PREREQUISITES_LINE"]

#: The line of a chapter's learning-goals box that names its prerequisites.
PREREQUISITES_LINE = re.compile(r"^\*\*Prerequisites:\*\*(.*)$", re.MULTILINE)
_DOC_ROLE = re.compile(rf"\{{doc\}}`(?:[^`<]*<)?/?(?:notebooks/)?({CHAPTER_STEM})>?`")
_CHAPTER_SOURCE = re.compile(rf"^{CHAPTER_STEM}\.(md|ipynb)$")


def _chapter_sources(notebooks_dir: Path) -> dict[str, Path]:
    """Each chapter's MyST source, or its notebook where the folder has no source (a staged book)."""
    sources = {}
    for path in sorted(notebooks_dir.iterdir()) if notebooks_dir.is_dir() else []:
        if _CHAPTER_SOURCE.match(path.name) and (path.suffix == ".md" or path.stem not in sources):
            sources[path.stem] = path
    return dict(sorted(sources.items()))


def _prose(path: Path) -> str:
    """The text of a chapter: the MyST source, or the markdown cells of its notebook."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return text
    cells = json.loads(text).get("cells", [])
    return "\n\n".join("".join(cell.get("source", "")) for cell in cells if cell.get("cell_type") == "markdown")


def chapter_prerequisites(notebooks_dir) -> dict[str, list[str]]:
    """The chapters each chapter names as prerequisites, in chapter order.

    Parameters
    ----------
    notebooks_dir : str or Path
        The folder of the chapters' MyST sources (``NN_slug.md``), or of their notebooks
        (``NN_slug.ipynb``, as in a book staged for rendering).

    Returns
    -------
    dict of str to list of str
        Chapter stem -> the stems its ``**Prerequisites:**`` line links with ``{doc}``.

    Raises
    ------
    ValueError
        A chapter without that line or with two, one naming a chapter that does not exist or
        one at or after itself (the order of the book is the order of learning), or none
        at all in the folder.
    """
    notebooks_dir = Path(notebooks_dir)
    sources = _chapter_sources(notebooks_dir)
    if not sources:
        raise ValueError(f"notebooks_dir={str(notebooks_dir)!r} holds no chapter sources (NN_slug.md or .ipynb).")
    stems = list(sources)
    prerequisites = {}
    for path in sources.values():
        lines = PREREQUISITES_LINE.findall(_prose(path))
        if len(lines) != 1:
            raise ValueError(f"{path}: a chapter states its prerequisites on exactly one '**Prerequisites:**' line "
                             f"of its learning-goals box (found {len(lines)}); name them with {{doc}}`NN_slug`, "
                             "or write 'none'.")
        named = _DOC_ROLE.findall(lines[0])
        if not named and "none" not in lines[0].lower():
            raise ValueError(f"{path}: its '**Prerequisites:**' line names no chapter ({{doc}}`NN_slug`) and does "
                             "not say 'none'.")
        for stem in named:
            if stem not in stems:
                raise ValueError(f"{path}: prerequisite {stem!r} is not a chapter; chapters: {stems}.")
            if stems.index(stem) >= stems.index(path.stem):
                raise ValueError(f"{path}: prerequisite {stem!r} does not come before the chapter; a chapter can "
                                 "only build on earlier ones.")
        prerequisites[path.stem] = list(dict.fromkeys(named))
    return prerequisites


def chapter_titles(notebooks_dir) -> dict[str, str]:
    """Each chapter's title (its first ``# `` heading), by stem."""
    titles = {}
    for stem, path in _chapter_sources(Path(notebooks_dir)).items():
        heading = re.search(r"^# (.+)$", _prose(path), re.MULTILINE)
        titles[stem] = heading.group(1).strip() if heading else stem
    return titles


def prerequisite_graph(prerequisites):
    """A networkx DiGraph with an edge ``prerequisite -> chapter`` for each named prerequisite."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(prerequisites)
    graph.add_edges_from((needed, stem) for stem, needs in prerequisites.items() for needed in needs)
    return graph


def draw_prerequisites(prerequisites, path=None, *, titles=None):
    """Draw the chapters as a layered map, each chapter below the ones it needs.

    Parameters
    ----------
    prerequisites : dict of str to list of str
        As :func:`chapter_prerequisites` returns.
    path : str or Path, optional
        Where to save the figure (its format from the suffix, e.g. ``.svg``).
    titles : dict of str to str, optional
        Labels of the chapters (default: their stems).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = prerequisite_graph(prerequisites)
    layers = list(nx.topological_generations(graph))
    positions = {}
    for depth, layer in enumerate(layers):
        layer = sorted(layer)
        for place, stem in enumerate(layer):
            positions[stem] = (1.5 * (place - (len(layer) - 1) / 2), -depth)
    width = max(len(layer) for layer in layers)
    fig, ax = plt.subplots(figsize=(max(6.0, 3.2 * width), 1.1 * len(layers) + 0.4))
    labels = {stem: textwrap.fill(f"{chapter_number(stem)}  {(titles or {}).get(stem, stem.split('_', 1)[-1])}", 26)
              for stem in graph}
    texts = nx.draw_networkx_labels(graph, positions, labels, ax=ax, font_size=8,
                                    bbox={"boxstyle": "round,pad=0.35", "facecolor": "#eef3fb", "edgecolor": "#4a6fa5"})
    xs = [x for x, _ in positions.values()]
    ax.set(xlim=(min(xs) - 1.0, max(xs) + 1.0), ylim=(-(len(layers) - 1) - 0.5, 0.5))
    ax.set_axis_off()
    fig.canvas.draw()  # sizes the label boxes, which the arrows below are clipped at
    for needed, stem in graph.edges:
        # an arrow that skips a layer bends outwards, so that it does not run through the chapters between
        skips = positions[needed][1] - positions[stem][1] > 1
        bend = 1.5 if positions[needed][0] < 0 else -0.9  # for a downward arrow, > 0 bends left
        ax.annotate("", xy=positions[stem], xytext=positions[needed],
                    arrowprops={"arrowstyle": "-|>", "color": "0.45", "lw": 1.2, "mutation_scale": 14, "shrinkA": 2,
                                "connectionstyle": f"arc3,rad={bend if skips else 0}",
                                "shrinkB": 2, "patchA": texts[needed].get_bbox_patch(),
                                "patchB": texts[stem].get_bbox_patch()})
    if path is not None:
        # a fixed salt and no date: the same chapters give the same file, build after build
        with matplotlib.rc_context({"svg.hashsalt": "specbook"}):
            fig.savefig(path, bbox_inches="tight", metadata={"Date": None} if str(path).endswith(".svg") else None)
        plt.close(fig)
    return fig
