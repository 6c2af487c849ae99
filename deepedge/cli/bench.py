"""`deepedge bench MODEL`: median latency of an exported model in the LiteRT runtime."""

import click

from deepedge.cli.common import console, err_console, print_json, resolve_model


@click.command("bench")
@click.argument("model")
@click.option("--runs", type=click.IntRange(min=10), default=1000, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(model, runs, threads, as_json):
    """Median latency of an exported model in the LiteRT runtime."""
    from deepedge.runtime import load
    from deepedge.runtime.bench import measure_latency

    path = resolve_model(model)
    runtime = load(path, num_threads=threads)
    with err_console.status(f"Timing {runs} invokes..."):
        signatures = list(runtime.metadata.get("signature_io", {}))  # step-wise: the step run most often
        signature = next((name for name in ("step", "decode_step") if name in signatures), None)
        signature = signature or (signatures[0] if signatures else None)
        latency = measure_latency(runtime.interpreter, runs=runs, signature=signature)
    result = {"model": str(path), "quantization": runtime.metadata["quantization"],
              "size_bytes": runtime.tflite_path.stat().st_size, "threads": threads, "latency_us": latency}
    if as_json:
        print_json(result)
    else:
        console.print(f"{path}: median {latency['median']:.1f} us (p10 {latency['p10']:.1f}, "
                      f"p90 {latency['p90']:.1f}) over {runs} invokes, {threads} thread(s)")
