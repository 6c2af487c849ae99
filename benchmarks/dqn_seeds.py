"""A DQN recipe's learning curve over several seeds, at fixed frame counts.

One run of deep Q-learning is a noisy curve: the shipped `dqn_minatar_breakout` run reads 9.69 at
400,000 frames and 6.29 at 550,000. The MinAtar paper (Young and Tian 2019) plots the mean of 30
runs. This script trains the recipe again with other seeds (each its own resumable run under
~/.cache/deepedge/runs/PRESET-seedN: a run cut off resumes when the same command runs again) and
reports, for every seed and for their mean, the mean return of the last 100 training episodes
(the recipe's exploration, epsilon 0.1) at every `--every` frames.

    .venv/bin/python benchmarks/dqn_seeds.py dqn_minatar_breakout --seeds 1 2
    .venv/bin/python benchmarks/dqn_seeds.py dqn_minatar_breakout --report-only

Seed 0 is the shipped run (its checkpoints in saved_models/PRESET/training.json, every 50,000
steps). MinAtar has no frame skipping: a step is a frame. `--environment MinAtar/Breakout-v1`
trains on the game with the minimal three actions (the recipe's `-v0` has all six, as the MinAtar
paper's code); `--learning-rate 0.00025` with the code's default step size. Writes
`results/dqn_seeds_PRESET[-VERSION][-lrRATE].json` and `.md`.
One process trains one seed at a time on whatever cores it is given (pin it with `taskset` and
`TF_NUM_INTRAOP_THREADS=1` to leave the others free).
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def curve(returns, end_steps, marks):
    """Mean return of the last 100 episodes finished by each step in `marks` (NaN before any)."""
    end_steps = np.asarray(end_steps)
    out = []
    for mark in marks:
        done = int(np.searchsorted(end_steps, mark, side="right"))
        out.append(round(float(np.mean(returns[max(0, done - 100):done])), 3) if done else float("nan"))
    return out


def shipped_curve(preset, marks):
    """Seed 0: the shipped run's checkpoints (the nearest one at or after each mark)."""
    path = ROOT / "saved_models" / preset / "training.json"
    if not path.exists():
        return None
    checkpoints = json.loads(path.read_text())["checkpoints"]
    out = []
    for mark in marks:
        after = [c for c in checkpoints if c["step"] >= mark and c["step"] - mark < 1_000]
        out.append(after[0]["mean_return_100"] if after else float("nan"))
    return out


def variant_name(preset, environment=None, learning_rate=None):
    """The recipe's name with the environment's version and the learning rate when they are not
    the recipe's: the runs' folders under ~/.cache/deepedge/runs are `NAME-seedN`."""
    version = f"-{environment.rsplit('-', 1)[-1]}" if environment else ""
    rate = f"-lr{learning_rate:g}" if learning_rate else ""
    return f"{preset}{version}{rate}"


def train_seed(preset, seed, environment=None, learning_rate=None):
    from deepedge.apps.agents.dqn_training import train_preset
    from deepedge.data.cache import cache_dir

    checkpoint_dir = cache_dir() / "runs" / f"{variant_name(preset, environment, learning_rate)}-seed{seed}"
    train_preset(preset, checkpoint_dir, environment=environment, seed=seed,
                 agent={"learning_rate": learning_rate} if learning_rate else None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", help="a DQN recipe, e.g. dqn_minatar_breakout")
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="seeds to train (0 is the shipped run)")
    parser.add_argument("--every", type=int, default=100_000, help="frames between the reported points")
    parser.add_argument("--report-only", action="store_true", help="report the runs already stored; train nothing")
    parser.add_argument("--environment", help="another version of the recipe's game, e.g. MinAtar/Breakout-v1 "
                                              "(the minimal three actions; the recipe's -v0 has all six)")
    parser.add_argument("--learning-rate", type=float,
                        help="another step size than the recipe's (the MinAtar paper swept 2^-14 to 2^-7)")
    args = parser.parse_args(argv)

    from deepedge.apps.agents.dqn_presets import TRAINED
    from deepedge.data.cache import cache_dir

    if args.preset not in TRAINED:
        parser.error(f"unknown DQN recipe {args.preset!r}; expected one of {sorted(TRAINED)}")
    steps = TRAINED[args.preset]["recipe"]["steps"]
    marks = list(range(args.every, steps + 1, args.every))
    environment = args.environment if args.environment != TRAINED[args.preset]["environment"] else None
    rate = args.learning_rate if args.learning_rate != TRAINED[args.preset]["agent"]["learning_rate"] else None
    if not args.report_only:
        for seed in args.seeds:
            if seed == 0 and environment is None and rate is None:
                parser.error("seed 0 is the shipped run; pass other seeds")
            train_seed(args.preset, seed, environment, rate)

    rows = {}
    shipped = shipped_curve(args.preset, marks) if environment is None and rate is None else None
    if shipped is not None:
        rows[0] = {"curve": shipped, "complete": True}
    name = variant_name(args.preset, environment, rate)
    prefix = f"{name}-seed"
    for state in sorted((cache_dir() / "runs").glob(f"{prefix}*/state.json")):
        seed = int(state.parent.name[len(prefix):])
        history = json.loads(state.read_text())["history"]
        last = history["checkpoints"][-1]["step"] if history["checkpoints"] else 0
        points = curve(history["episode_returns"], history["episode_end_steps"], marks)
        rows[seed] = {"curve": [v if m <= last else float("nan") for m, v in zip(marks, points)],
                      "complete": last >= steps, "steps": last,
                      "train_minutes": round(history["train_seconds"] / 60, 1)}
    complete = [row["curve"] for row in rows.values() if row["complete"]]
    table = np.array(complete, dtype=float)
    mean = [round(float(v), 3) for v in np.nanmean(table, axis=0)] if complete else []
    sem = [round(float(v), 3) for v in np.nanstd(table, axis=0, ddof=1) / np.sqrt(len(table))] \
        if len(complete) > 1 else []
    record = {"preset": args.preset, "environment": environment or TRAINED[args.preset]["environment"],
              "learning_rate": rate or TRAINED[args.preset]["agent"]["learning_rate"],
              "frames": marks, "seeds": {str(k): v for k, v in sorted(rows.items())},
              "mean_complete_runs": mean, "standard_error": sem, "complete_runs": len(complete),
              "measured": datetime.date.today().isoformat(),
              "metric": "mean return of the last 100 training episodes (the recipe's epsilon) at each frame count"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"dqn_seeds_{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    lines = [f"# {args.preset} on {record['environment']}, learning rate {record['learning_rate']:g}: "
             "training return by seed", "", record["metric"] + ".", "",
             "| seed | " + " | ".join(f"{m // 1000}k" for m in marks) + " |",
             "| --- |" + " --- |" * len(marks)]
    for seed, row in sorted(rows.items()):
        label = f"{seed}" + ("" if row["complete"] else f" (to {row.get('steps', 0):,})")
        lines.append(f"| {label} | " + " | ".join("" if np.isnan(v) else f"{v:.2f}" for v in row["curve"]) + " |")
    if mean:
        lines.append(f"| mean of {len(complete)} | " + " | ".join(f"{v:.2f}" for v in mean) + " |")
    if sem:
        lines.append("| standard error | " + " | ".join(f"{v:.2f}" for v in sem) + " |")
    (RESULTS / f"dqn_seeds_{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
