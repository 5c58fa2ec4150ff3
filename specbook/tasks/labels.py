"""What every Layer 1 method returns: which tasks each segment serves."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SegmentLabels"]


@dataclass(frozen=True)
class SegmentLabels:
    """Segment-task labels found by a Layer 1 method (Algorithm 1 or a baseline).

    :class:`~specbook.tasks.discovery.TaskDiscovery` and
    :class:`~specbook.tasks.baselines.BaselineResult` extend it with what their method adds
    (p-values, scores), so code that scores labels takes either.

    Attributes
    ----------
    segment_tasks : ndarray of shape (N, M), bool
        ``segment_tasks[k - 1, i - 1]``: segment ``S_k`` serves task ``g_i``.
    step_tasks : ndarray of shape (T, M), bool
        The same labels for every step of each segment.
    method : str
        Name of the CI test (Algorithm 1) or of the baseline that produced the labels.
    seconds : float
        Wall time of the call.
    L : int
        Segment length used.
    """

    segment_tasks: np.ndarray
    step_tasks: np.ndarray
    method: str
    seconds: float
    L: int
