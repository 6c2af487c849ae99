"""`deepedge demo agents`: the shipped agents on device, a table and animated GIFs.

Glimpse agents classify held-out canvases in the LiteRT interpreter (test error against the
float model's from the export, the cost per image) and draw their glimpse paths over a few of
them; deep Q-networks play their fixed-seed held-out episodes (the mean return against the
float network's) and draw one game each.
"""

import numpy as np

from pathlib import Path

from deepedge.fileio import atomic_write_json


def run_dqn_demo(family, out, limit=None, console=None):
    """Plays each installed shipped Q-network on device; prints a table, writes GIFs and
    `agents_dqn_results.json` into `out`; returns the rows."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.apps.agents.environments import random_policy_return
    from deepedge.apps.agents.play import play_game
    from deepedge.presets import shipped_model_dir
    from deepedge.progress import progress_bar
    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Deep Q-networks on device (fixed-seed held-out episodes)")
    table.add_column("model", no_wrap=True)
    for column in ("game", "episodes", "random policy", "float return", "int8 return", "KiB", "int8 us/step"):
        table.add_column(column, justify="right")
    rows = []
    for name in family.installed_models():
        runtime = load(shipped_model_dir(name))
        episodes = family.load_data(runtime.environment, "test")
        if limit:
            episodes = episodes.take(limit)
        with progress_bar() as bar:
            bar.add_task(f"{name}: {episodes.episodes} episodes of {runtime.environment} on device", total=None)
            mean_return = runtime.evaluate_metric(episodes)
            random_return = random_policy_return(episodes)
        metrics = runtime.metadata.get("metrics") or {}
        float_return = metrics.get("keras_float") if metrics.get("examples") == episodes.episodes else None
        latency = measure_latency(runtime.interpreter, runs=1000)["median"]
        size = runtime.tflite_path.stat().st_size
        table.add_row(name, runtime.environment, str(episodes.episodes), f"{random_return:.2f}",
                      f"{float_return:.2f}" if float_return is not None else "-", f"{mean_return:.2f}",
                      f"{size / 1024:.1f}", f"{latency:.1f}")
        gif = out / f"{name}_play.gif"
        played = play_game(runtime, gif, seed=episodes.seed, episode=0, epsilon=episodes.epsilon)
        console.print(f"wrote {gif} (episode 0: return {played['return']:g} in {played['steps']} steps)")
        rows.append({"model": name, "environment": runtime.environment, "episodes": episodes.episodes,
                     "random_policy_mean_return": round(random_return, 4), "float_mean_return": float_return,
                     "int8_mean_return": round(mean_return, 4),
                     "size_bytes": size, "latency_us": latency, "gif": str(gif)})
    console.print(table)
    atomic_write_json(out / "agents_dqn_results.json", rows)
    return rows


def run_glimpse_demo(family, out, limit=None, console=None, pictures=4):
    """Runs each installed shipped glimpse agent on device over its held-out canvases; prints a
    table, writes `pictures` GIFs of glimpse paths each and `agents_glimpse_results.json`."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.apps.agents.play import play_glimpse
    from deepedge.presets import shipped_model_dir
    from deepedge.progress import map_in_chunks
    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Glimpse agents on device (held-out canvases)")
    table.add_column("model", no_wrap=True)
    for column in ("canvases", "test images", "float error %", "int8 error %", "glimpses", "MACs/image", "KiB",
                   "int8 us/glimpse"):
        table.add_column(column, justify="right")
    rows = []
    for name in family.installed_models():
        runtime = load(shipped_model_dir(name))
        data = family.load_data(runtime.metadata["data"], "test")
        if limit:
            data = data.take(limit)
        scores = map_in_chunks(runtime.predict, data.images, f"{name}: {len(data)} canvases on device")
        error = 100.0 * float(np.mean(np.argmax(scores, -1) != data.labels))
        metrics = runtime.metadata.get("metrics") or {}
        float_error = 100.0 * (1 - metrics["keras_float"]) if metrics.get("examples") == len(data) else None
        macs = runtime.metadata.get("multiply_accumulates")
        latency = measure_latency(runtime.interpreter, runs=1000, signature="step")["median"]
        size = runtime.tflite_path.stat().st_size
        table.add_row(name, runtime.metadata["data"], str(len(data)),
                      f"{float_error:.2f}" if float_error is not None else "-", f"{error:.2f}",
                      str(runtime.glimpses), f"{macs:,}" if macs else "-", f"{size / 1024:.1f}", f"{latency:.1f}")
        gifs = []
        for index in range(min(pictures, len(data))):
            gif = out / f"{name}_glimpses_{index}.gif"
            label, probability, _ = play_glimpse(runtime, data.images[index], gif)
            truth = data.class_names[data.labels[index]]
            console.print(f"wrote {gif} (says {label} at {probability:.2f}, truth {truth})")
            gifs.append(str(gif))
        rows.append({"model": name, "data": runtime.metadata["data"], "examples": len(data),
                     "float_error": None if float_error is None else round(float_error, 2),
                     "int8_error": round(error, 2), "glimpses": runtime.glimpses, "multiply_accumulates": macs,
                     "size_bytes": size, "latency_us_per_glimpse": latency, "gifs": gifs})
    console.print(table)
    atomic_write_json(out / "agents_glimpse_results.json", rows)
    return rows
