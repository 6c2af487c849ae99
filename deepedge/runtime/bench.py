"""Latency of a LiteRT interpreter: median over many invokes, one thread by default."""

import time

import numpy as np


def measure_latency(interpreter, runs=1000, warmup=50, signature=None):
    """Median, p10 and p90 wall time of `interpreter.invoke()` in microseconds.

    Inputs are set once (zeros of the right type); only `invoke` is timed. With `signature`,
    that signature's runner is timed instead (a whole call, setting its inputs included).
    """
    if signature is not None:
        runner = interpreter.get_signature_runner(signature)
        feeds = {name: np.zeros(d["shape"], d["dtype"]) for name, d in runner.get_input_details().items()}

        def invoke():
            runner(**feeds)
    else:
        for detail in interpreter.get_input_details():
            interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
        invoke = interpreter.invoke
    for _ in range(warmup):
        invoke()
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        invoke()
        times[i] = time.perf_counter_ns() - start
    times /= 1000.0
    return {"median": round(float(np.median(times)), 2), "p10": round(float(np.percentile(times, 10)), 2),
            "p90": round(float(np.percentile(times, 90)), 2), "runs": runs}


def interleaved_latency(interpreters, rounds=7, runs=1000):
    """Latency of several interpreters measured in turns, so a slow stretch of a shared machine
    hits every one alike: `{name: {"median": median of the rounds' medians, "round_medians",
    "runs"}}` in microseconds.

    Args:
        interpreters: `{name: interpreter}`.
        rounds: int. Rounds; each times every interpreter once, in the given order.
        runs: int. Invokes timed per interpreter per round.
    """
    per_round = {name: [] for name in interpreters}
    for _ in range(rounds):
        for name, interpreter in interpreters.items():
            per_round[name].append(measure_latency(interpreter, runs=runs)["median"])
    return {name: {"median": round(float(np.median(values)), 2), "round_medians": values, "runs": rounds * runs}
            for name, values in per_round.items()}


def call_latency_us(fn, runs=50, warmup=3):
    """Median wall time of `fn()` in microseconds (for Keras `model(x)` next to the interpreter)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - start) / 1000)
    return float(np.median(times))
