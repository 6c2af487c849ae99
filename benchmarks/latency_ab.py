"""Interleaved one-thread latency of LiteRT files against each other: an A/B of two exports of a model.

    python benchmarks/latency_ab.py A.tflite B.tflite [C.tflite ...] [--signature step] [--rounds 7]

Each file is loaded in its own interpreter (XNNPACK applied, one thread) and timed in turns
(`deepedge.runtime.bench.interleaved_latency`), so a slow stretch of a shared machine hits every
file alike; the ratio to the first file is what to read. With `--signature`, that signature's
runner is timed (inputs set on every call, as a decoder step runs). Prints one JSON line per file.

How the rewrites of `deepedge.export.rewrite` were timed on the shipped models: the file before
them from git, against the shipped one, for example
`git show 8b8af4d:saved_models/fashion_lenet5/model.tflite > /tmp/before.tflite` and
`python benchmarks/latency_ab.py /tmp/before.tflite saved_models/fashion_lenet5/model.tflite`.
"""

import argparse
import json

import numpy as np

from deepedge.runtime.bench import measure_latency


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--signature", help="Time this signature's runner (a step-wise model's `step`).")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=500, help="Invokes timed per file per round.")
    args = parser.parse_args()
    from ai_edge_litert.interpreter import Interpreter

    interpreters = {}
    for path in args.files:
        interpreter = Interpreter(model_path=path, num_threads=1)
        interpreter.allocate_tensors()
        interpreters[path] = interpreter
    medians = {path: [] for path in args.files}
    for _ in range(args.rounds):
        for path, interpreter in interpreters.items():
            medians[path].append(measure_latency(interpreter, runs=args.runs, signature=args.signature)["median"])
    first = float(np.median(medians[args.files[0]]))
    for path in args.files:
        median = float(np.median(medians[path]))
        print(json.dumps({"file": path, "median_us": round(median, 2), "ratio_to_first": round(median / first, 3),
                          "round_medians": medians[path], "signature": args.signature}))


if __name__ == "__main__":
    main()
