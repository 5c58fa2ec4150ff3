"""From pixels to tasks: Algorithm 1 on raw frames, learned latents, LEAP-style latents and true states.

Each seed draws a new AgentVideoWorld (T = 12, M = 2, L = 2, two agents, 32 x 32 frames) and
`--n` videos; the encoders are fitted on the first `--n-train`. Algorithm 1 then runs on every
representation with GCM (the book's fast nonparametric test) and with neural CMI, and the
pair-task dependences are scored by mean average precision. Trials run in 2 worker processes,
each on one BLAS/torch thread.

    python benchmarks/pixels.py --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import specbook as sb
from specbook.experiments.pixels import REPRESENTATIONS, run_trials, summarise, video_specialists
from specbook.worlds.video import AgentVideoWorld


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--n-train", type=int, default=1_000)
    parser.add_argument("--epochs", type=int, default=10, help="FrameVAE epochs")
    parser.add_argument("--neural-epochs", type=int, default=40, help="epochs of the neural CMI critic")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pixels.md")
    args = parser.parse_args()

    start = time.perf_counter()
    with threadpool_limits(1):
        worlds = [AgentVideoWorld(seed=seed) for seed in args.seeds]
        trials = run_trials(worlds, args.n, seeds=args.seeds, n_jobs=args.workers, n_train=args.n_train,
                            test="gcm", other_tests={"neural-cmi": {"epochs": args.neural_epochs}, "fisherz": {}},
                            encoder_options={"epochs": args.epochs})
        trial_seconds = time.perf_counter() - start
        neural = [trial.other_tests["neural-cmi"] for trial in trials]
        fisher = [trial.other_tests["fisherz"] for trial in trials]
        specialists = pd.concat([video_specialists(trial, progress=False).assign(seed=trial.seed) for trial in trials])
        truth_specialists = pd.concat([video_specialists(trial, "states", step_tasks=trial.world.step_tasks,
                                                         progress=False).assign(seed=trial.seed) for trial in trials])
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def table(which):
        summary = summarise(which)
        rows = []
        for name, row in summary.iterrows():
            rows.append(f"| {REPRESENTATIONS[name]} | {row[('map', 'mean')]:.3f} +/- {row[('map', 'std')]:.3f} | "
                        f"{row[('accuracy', 'mean')]:.3f} | {row[('mcc', 'mean')]:.3f} | "
                        f"{row[('r2_states', 'mean')]:.3f} | {row[('seconds', 'mean')]:.1f} |")
        return "\n".join(["| representation | mAP | accuracy | MCC | R^2 of states | s |",
                          "|---|---|---|---|---|---|", *rows])

    chance = np.mean([sb.metrics.map_chance_level(t.world.assignment) for t in trials])
    text = [
        "# From pixels to tasks",
        "",
        f"`python benchmarks/pixels.py --seeds {' '.join(map(str, args.seeds))}` on {platform.machine()} "
        f"({args.workers} worker processes, one thread each); {total:.0f} s in all ({trial_seconds:.0f} s for "
        f"the trials: encoders and the three tests). Peak RSS of the main process "
        f"{peak:.0f} MiB (the workers are not counted).",
        "",
        f"n = {args.n} videos per seed, encoders fitted on {args.n_train} for {args.epochs} epochs; "
        f"{len(args.seeds)} seeds (mean +/- sd). Chance level (the expected mAP of a random ranking, "
        f"`specbook.metrics.map_chance_level`): {chance:.3f}. "
        "Paper (SportsHHI): 0.09 on o, 0.12 LEAP, 0.25 on latent s.",
        "",
        "## GCM", "", table(trials), "",
        f"## Neural CMI ({args.neural_epochs} critic epochs)", "", table(neural), "",
        "## Fisher-z (linear; exact on the true states)", "", table(fisher), "",
        "## Layer 2 on the video: specialists on the steps Algorithm 1 found (learned latents, GCM)", "",
        specialists.groupby(["task", "sparsity"])[["latents_read", "r2_task_agent", "r2_other_agents"]]
        .mean().round(3).to_markdown(), "",
        "## The same on the true states and the true steps", "",
        truth_specialists.groupby(["task", "sparsity"])[["latents_read", "r2_task_agent", "r2_other_agents"]]
        .mean().round(3).to_markdown(), "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(text))
    print("\n".join(text))
    for trial in trials:
        print(trial.scores().round(3).to_string())


if __name__ == "__main__":
    main()
