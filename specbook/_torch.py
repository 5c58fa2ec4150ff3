"""What every torch model of the package shares.

Torch is imported inside the helpers, so the Layer 1 modules that use them (the neural CI
test) do not load torch until a model runs.
"""
from __future__ import annotations

from contextlib import contextmanager

__all__ = ["one_thread"]


@contextmanager
def one_thread(device="cpu"):
    """Run the enclosed torch and BLAS work on one thread (on a CPU `device`), then restore.

    The package's networks are small: one thread is faster than several, and the numbers do
    not depend on the core count. It matters most where processes share the cores (two
    chapters, two test workers): there torch's threads busy-wait for each other, and a fit on
    several threads is slower by a multiple.
    """
    import torch

    from ._threads import limited_threads

    if not str(device).startswith("cpu"):
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with limited_threads(1):
            yield
    finally:
        torch.set_num_threads(threads)
