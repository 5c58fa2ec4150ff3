"""What the table-printing benchmarks share: timing by median, and writing their Markdown table.

Imported by the scripts next to it (run as ``python benchmarks/<name>.py``, which puts this
folder on the path).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).with_name("results")


def median_seconds(function, repeats):
    """Median wall time of `repeats` calls of `function`, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def write_table(name, header, columns, rows):
    """Print `header` and a Markdown table of `rows` under `columns`, and write both to ``results/<name>.md``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    text = header + "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(text)
