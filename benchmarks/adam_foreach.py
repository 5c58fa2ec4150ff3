"""Adam's multi-tensor update (``specbook._torch.adam``) against torch's CPU default, per model that trains.

For each of the package's trained models, fits the same model from the same seed with
torch's default Adam on a CPU (a loop over the parameter tensors) and with the
multi-tensor (``foreach``) update the package uses, alternating the two, one thread. Prints
the median seconds of each and the largest difference between the two fitted models'
outputs (0 means bit for bit the same), and writes ``results/adam_foreach.md``.

    OMP_NUM_THREADS=1 python benchmarks/adam_foreach.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import platform

import numpy as np
import torch
from results_table import median_seconds, write_table

import specbook as sb
from specbook.ci import neural_cmi
from specbook.specialists import editing, encoders, gan, vae
from specbook.worlds.cats import CatRenderer
from specbook.worlds.latent import example_world
from specbook.worlds.video import AgentVideoWorld


def loop_adam(parameters, **options):
    """torch's CPU default: one parameter tensor at a time."""
    return torch.optim.Adam(parameters, foreach=False, **options)


def models():
    """name -> (module whose ``adam`` the fit calls, function fitting a model and returning its output)."""
    latent = example_world(seed=0).sample(n=10_000, seed=1)
    cats = CatRenderer().sample(2_000, seed=0)
    video = AgentVideoWorld(seed=0).sample(200, seed=0)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((1_000, 2))
    x, y = z[:, :1] + rng.standard_normal((1_000, 1)), z[:, 1:] + rng.standard_normal((1_000, 1))

    def specialist_vae():
        model = sb.SpecialistVAE(n_latents=8, n_tasks=3, sparsity=2.0, epochs=5, progress=False, seed=0)
        return model.fit(latent.obs, latent.tasks).transform(latent.obs[:500])

    def specialist_gan():
        model = gan.SpecialistGAN(steps=100, l1_warmup_steps=20, l1_ramp_steps=60, progress=False, seed=0)
        model.fit(cats.images, cats.labels(), cats.attributes())
        return np.concatenate([p.detach().numpy().ravel() for p in model.generator_.parameters()])

    def frame_vae():
        model = encoders.FrameVAE(n_latents=4, epochs=1, progress=False, seed=0)
        return model.fit(video.frames).transform(video.frames[:50])

    def factor_predictor():
        model = editing.CatFactorPredictor(epochs=1, progress=False, seed=0).fit(cats)
        return np.concatenate([p.detach().numpy().ravel() for p in model.network_.parameters()])

    def neural_cmi_test():
        return np.array([neural_cmi.NeuralCMI(epochs=10, seed=0)(x, y, z).statistic])

    return {"SpecialistVAE (5 epochs, n = 10,000)": (vae, specialist_vae),
            "SpecialistGAN (100 steps)": (gan, specialist_gan),
            "FrameVAE (1 epoch, 200 videos)": (encoders, frame_vae),
            "CatFactorPredictor (1 epoch, 2,000 cats)": (editing, factor_predictor),
            "NeuralCMI (one test, 10 epochs, n = 1,000)": (neural_cmi, neural_cmi_test)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name, (module, fit) in models().items():
        foreach = module.adam
        outputs, seconds = {}, {}
        for label, optimiser in (("loop", loop_adam), ("foreach", foreach)):
            module.adam = optimiser
            try:
                outputs[label] = fit()
                seconds[label] = median_seconds(fit, args.repeats)
            finally:
                module.adam = foreach
        difference = float(np.max(np.abs(outputs["loop"] - outputs["foreach"])))
        rows.append([name, f"{seconds['loop']:.2f}", f"{seconds['foreach']:.2f}",
                     f"{1 - seconds['foreach'] / seconds['loop']:.0%}", f"{difference:.1g}"])
    header = (f"# Adam: torch's CPU loop against the multi-tensor update\n\n"
              f"`OMP_NUM_THREADS=1 python benchmarks/adam_foreach.py --repeats {args.repeats}`; torch "
              f"{torch.__version__}, {platform.processor() or platform.machine()}, one thread; median seconds "
              f"of a fit after a warm-up fit. *difference*: the largest absolute difference between the two "
              f"fitted models' outputs (0: bit for bit the same).\n\n")
    write_table("adam_foreach", header, ["model", "loop (s)", "foreach (s)", "saved", "difference"], rows)


if __name__ == "__main__":
    main()
