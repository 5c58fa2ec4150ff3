"""What every torch model of the package shares.

Torch is imported inside the helpers, so the Layer 1 modules that use them (the neural CI
test) do not load torch until a model runs.
"""
from __future__ import annotations

from contextlib import contextmanager

__all__ = ["adam", "one_thread"]


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


def adam(parameters, **options):
    """``torch.optim.Adam`` with its multi-tensor (``foreach``) update, wherever the model runs.

    On CUDA this is torch's default already. On a CPU torch defaults to a loop over the
    parameters, whose per-tensor overhead weighs on the step of the package's small networks;
    the multi-tensor update does the same arithmetic, bit for bit, in less time (figures:
    ``benchmarks/results/adam_foreach.md``).
    """
    import torch

    return torch.optim.Adam(parameters, foreach=True, **options)
