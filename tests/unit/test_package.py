"""The package's public API: every exported name works, and importing specbook stays light."""
import subprocess
import sys

import pytest

import specbook


def _modules_after(statement):
    """The top-level modules a fresh interpreter holds after running `statement`."""
    done = subprocess.run([sys.executable, "-c", f"import sys\n{statement}\nprint(' '.join(sys.modules))"],
                          capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in done.stdout.split()}


@pytest.mark.parametrize("statement", [
    "import specbook",
    "import specbook.__main__",  # `python -m specbook check|report|assignments`
    "import specbook.harness.sphinxext",  # the book build's Sphinx extension
    "import specbook.harness.checking, specbook.harness.reproduction, specbook.harness.recording",
    "import specbook.worlds.collider, specbook.tasks.discovery, specbook.tasks.theory, specbook.ci",  # Layer 1
])
def test_what_does_not_need_torch_does_not_import_it(statement):
    assert "torch" not in _modules_after(statement)


def test_every_exported_name_resolves_and_the_models_load_torch_on_first_use():
    for name in specbook.__all__:
        assert getattr(specbook, name) is not None, name
    assert specbook.get_profile("smoke").name == "smoke"
    assert specbook.ColliderWorld.__module__ == "specbook.worlds.collider"
    assert set(specbook.__all__) <= set(dir(specbook))
    assert "torch" in _modules_after("import specbook\nspecbook.SpecialistVAE")
    from specbook import SpecialistGAN, metrics  # from-imports go through the same look-up

    assert SpecialistGAN.__module__ == "specbook.specialists.gan" and metrics.__name__ == "specbook.metrics"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'SpecialistVAEs'"):
        specbook.SpecialistVAEs
    with pytest.raises(ImportError):
        from specbook import not_a_name  # noqa: F401


def test_one_thread_runs_torch_and_blas_on_one_thread_and_restores_them():
    import torch
    from threadpoolctl import threadpool_info

    from specbook._torch import one_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with one_thread():
            assert torch.get_num_threads() == 1
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        assert torch.get_num_threads() == 2
        with one_thread("cuda:0"):  # an accelerator's fit keeps the CPU threads it has
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
