"""Mutation checks: break a method inside the chapter kernel and make sure the regression check notices.

Chapters 6-9 train networks, so their expectations in ``expected/smoke.json`` carry loose
tolerances; what a broken method cannot pass is their relations to chance and to the
other arm (``"above"``/``"below"``, see :mod:`specbook.harness.checking`). Each test here runs one
chapter at the smoke profile with a mutation injected into its kernel and asserts that
``check_run`` fails, naming the metric and the one it is related to.

The mutation travels as a ``sitecustomize.py`` in a temporary folder put on
``PYTHONPATH``: the papermill kernel inherits the environment of the process that calls
:func:`specbook.harness.runner.run_chapters`, and Python imports ``sitecustomize`` when it starts,
so the patch is in place before the chapter's first cell. The patch writes a marker file,
so that a mutation that silently failed to apply cannot pass for a caught one.
"""
import os
import textwrap
from pathlib import Path

import pytest

from specbook.harness.checking import check_run
from specbook.harness.runner import run_chapters

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "expected" / "smoke.json"

#: name -> (chapter, patch applied after ``import specbook``, words one problem line must hold)
MUTATIONS = {
    # (a) the CI test's p-values (and statistics) become uniform draws: a ranking by them is random.
    # At the smoke profile (one trial of 150 videos) the true states' mAP (0.48) is not far above
    # such a ranking (which scored 0.46 with these draws; a random ranking's expected mAP, the
    # recorded chance level, is 0.36): the frames' mAP (0.59, 0.23 above chance) is what drops to chance
    "shuffled_ci_pvalues": ("09_pixels_to_tasks", """
        import numpy as np
        from specbook import ci
        original = ci.GCM.__call__
        draws = np.random.default_rng(12345)

        def mutated(self, x, y, z=None):
            result = original(self, x, y, z)
            pvalue = float(draws.uniform())
            return ci.CITestResult(statistic=float(-np.log(pvalue)), pvalue=pvalue, method=result.method,
                                   n=result.n, dof=result.dof)

        ci.GCM.__call__ = mutated
        """, ("09_pixels_to_tasks/gcm_map_frames", "map_chance")),
    # (b) the l1 penalty is gone from the loss of every SpecialistVAE (fixed weights and sparsity="auto" alike)
    "no_l1_penalty": ("07_sparsity_tightening", """
        from specbook.specialists import vae
        original = vae.SpecialistVAE._loss_terms

        def mutated(self, x, u, generator):
            self._l1_weight = 0.0
            return original(self, x, u, generator)

        vae.SpecialistVAE._loss_terms = mutated
        """, ("07_sparsity_tightening/l1_r2_irrelevant", "no_l1_r2_irrelevant")),
    # (c) the editor does nothing: both rules return the latents they were given
    "no_op_editor": ("08_gan_editing", """
        import numpy as np
        from specbook.specialists import gan

        def mutated(self, z, task, present=True, **options):
            return np.array(z, dtype=np.float32, copy=True)

        gan.SpecialistGAN.edit = mutated
        """, ("08_gan_editing/gradient_l1_change_inside", "gradient_l1_change_outside")),
    # (d) the GAN's l1 penalty is gone: both arms train alike, so their masks close alike.
    # At 30 smoke steps the penalty lowers the mean mask entry by about 0.005 (3 seeds: 0.0052 to 0.0057)
    "no_l1_gan": ("08_gan_editing", """
        from specbook.specialists import gan
        original = gan.SpecialistGAN.fit

        def mutated(self, *args, **kwargs):
            self.sparsity = 0.0
            return original(self, *args, **kwargs)

        gan.SpecialistGAN.fit = mutated
        """, ("08_gan_editing/l1_mask_mean", "no_l1_mask_mean")),
}


def write_mutation(folder: Path, patch: str, marker: Path) -> None:
    """A sitecustomize.py that applies `patch` when a Python process starts, and notes that it did."""
    folder.mkdir()
    body = textwrap.indent(textwrap.dedent(patch).strip(), "    ")
    (folder / "sitecustomize.py").write_text(
        "def _mutate():\n"
        "    import specbook  # noqa: F401  (the patch below replaces its public classes' methods in place)\n"
        f"{body}\n"
        f"    with open({str(marker)!r}, 'a') as handle:\n"
        "        handle.write('applied\\n')\n\n\n"
        "_mutate()\n"
    )


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutated_method_fails_the_smoke_check(tmp_path, monkeypatch, name):
    chapter, patch, (metric, related) = MUTATIONS[name]
    marker = tmp_path / "mutation-applied"
    write_mutation(tmp_path / "site", patch, marker)
    pythonpath = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path / "site"), pythonpath])))

    run = run_chapters([chapter], profile="smoke", out=tmp_path / "run", notebooks_dir=ROOT / "notebooks",
                       progress=False)

    assert marker.is_file(), f"the {name} mutation was never applied in the kernel"
    result = check_run(tmp_path / "run", against=EXPECTED)
    assert not result.ok, f"check passed with the {name} mutation:\n{result.summary()}"
    lines = [line for line in result.problems if line.startswith(metric) and related in line]
    assert lines, f"no problem names {metric} against {related}:\n{result.summary()}"
    print(f"{name}: {lines[0]}")
    del run
