"""Threads sharing one loaded edge model: throughput with 1, 2 and 8 threads, and whether every
answer equals the single-threaded one.

One `deepedge.runtime.load(...)` object gives each calling thread its own LiteRT interpreter,
so threads run in parallel (LiteRT releases the GIL while it computes). For each model it
runs the same calls from 1, 2 and 8 threads and reports calls per second and wrong answers.
Results go to `benchmarks/results/concurrency.json` and `.md`.

    .venv/bin/python benchmarks/concurrency.py [--seconds 3]
"""

import argparse
import datetime
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from deepedge.runtime import load

RESULTS = Path(__file__).parent / "results"


def _workloads():
    classifier = load("saved_models/fashion_edgenet")
    images = np.random.default_rng(0).integers(0, 256, (200, *classifier.image_shape)).astype(np.float32)
    lm = load("saved_models/austen_nplm")
    prompts = ["it is a truth", "she was", "mr darcy", "the letter", "my dear"]
    return {
        "fashion_edgenet predict (1 image)": (len(images), lambda i: classifier.predict(images[i][None])[0],
                                              np.array_equal),
        "austen_nplm generate (10 tokens)": (len(prompts), lambda i: lm.generate(prompts[i], max_tokens=10, seed=3),
                                             lambda a, b: a == b),
    }


def measure(call, count, same, threads, seconds):
    alone = [call(i) for i in range(count)]
    calls, wrong, started = 0, 0, time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        while time.perf_counter() - started < seconds:
            indices = [i % count for i in range(calls, calls + threads * 16)]
            answers = list(pool.map(call, indices))
            wrong += sum(not same(a, alone[i]) for a, i in zip(answers, indices))
            calls += len(indices)
    elapsed = time.perf_counter() - started
    return {"threads": threads, "calls": calls, "calls_per_second": round(calls / elapsed, 1), "wrong": wrong}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="Seconds per measurement.")
    args = parser.parse_args()
    rows = []
    for name, (count, call, same) in _workloads().items():
        for threads in (1, 2, 8):
            row = {"workload": name, **measure(call, count, same, threads, args.seconds)}
            print(row, flush=True)
            rows.append(row)
    report = {"date": datetime.date.today().isoformat(), "cpus": os.cpu_count(), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "concurrency.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# Threads sharing one edge model ({report['date']}, {report['cpus']} CPUs)", "",
             "| workload | threads | calls/s | wrong answers |", "|---|---:|---:|---:|"]
    lines += [f"| {r['workload']} | {r['threads']} | {r['calls_per_second']} | {r['wrong']} of {r['calls']} |"
              for r in rows]
    (RESULTS / "concurrency.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
