"""The specialist VAE (Layer 2): fit time, and support recovery with and without an l1 warm-up.

For each seed, a sample of the example world (chapters 6 and 7) is drawn and a specialist
(lambda = 2, 100 epochs, n = 10,000) is fitted for each ``l1_warmup_epochs`` value (0 and 1).
Printed per fit: the estimated support sizes (truth 2, 3, 2), the mean block R^2 of the
relevant and irrelevant latents, whether the matching recovers the task structure, and the
seconds the fit took. Fits run on one torch thread each, in ``--workers`` processes.

    python benchmarks/specialist.py [--seeds 5] [--workers 2]

The table is printed and written to ``benchmarks/results/specialist.md``.
"""
from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import pandas as pd

import specbook as sb
from specbook.specialists.identifiability import fit_models, latent_alignment, task_block_scores
from specbook.worlds.latent import example_world

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--warmups", type=int, nargs="+", default=[0, 1], help="l1_warmup_epochs values to compare")
    args = parser.parse_args()

    world = example_world(seed=0)
    test = world.sample(n=4_000, seed=2)
    samples = {seed: world.sample(n=10_000, seed=1 if seed == 0 else 1_000 + seed) for seed in range(args.seeds)}
    settings = [{"sparsity": 2.0, "epochs": args.epochs, "batch_size": args.batch_size, "seed": seed,
                 "l1_warmup_epochs": warmup, "obs": samples[seed].obs, "tasks": samples[seed].tasks}
                for warmup in args.warmups for seed in range(args.seeds)]
    start = time.perf_counter()
    models = fit_models(settings, n_jobs=args.workers)
    wall = time.perf_counter() - start
    rows = []
    for options, model in zip(settings, models):
        scores = task_block_scores(model, world, test, seed=options["seed"])
        rows.append({"l1_warmup_epochs": options["l1_warmup_epochs"], "seed": options["seed"],
                     "support_sizes": scores["estimated_size"].tolist(),
                     "r2_relevant": round(scores["r2_relevant"].mean(), 3),
                     "r2_irrelevant": round(scores["r2_irrelevant"].mean(), 3),
                     "structure_recovered": latent_alignment(model, world, test)["structure_recovered"],
                     "fit_seconds": round(model.fit_seconds_, 1)})
    table = pd.DataFrame(rows)
    recovered = table.groupby("l1_warmup_epochs")["structure_recovered"].agg(["sum", "count"])
    lines = [
        "# Specialist VAE: support recovery and fit time",
        "",
        f"`python benchmarks/specialist.py --seeds {args.seeds} --workers {args.workers} --epochs {args.epochs} "
        f"--batch-size {args.batch_size} --warmups {' '.join(map(str, args.warmups))}` "
        f"on {platform.machine()}, specbook {sb.__version__}; {len(models)} fits in {wall:.0f} s wall clock "
        f"({args.workers} worker processes, one torch thread each); peak RSS of the parent "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB.",
        "Example world of chapters 6 and 7, lambda = 2, n = 10,000 training samples, 4,000 held-out samples.",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
        *("| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)),
        "",
    ] + [f"- l1_warmup_epochs = {warmup}: structure recovered in {row['sum']} of {row['count']} seeds."
         for warmup, row in recovered.iterrows()]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "benchmarks" / "results" / ("specialist.md" if args.batch_size == 256
                                             else f"specialist_batch{args.batch_size}.md")
    out.write_text(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
