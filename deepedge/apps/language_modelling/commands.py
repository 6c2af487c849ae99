"""`deepedge generate PROMPT`: continue a prompt with a language model on device (no TensorFlow)."""

import click

from rich.console import Console

from deepedge.errors import InvalidInputError
from deepedge.presets import resolve_model


@click.command("generate")
@click.argument("prompt")
@click.option("--model", default="austen_lstm_word", show_default=True,
              help="An exported language model folder or a shipped model name.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=80, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.01), default=0.8, show_default=True)
@click.option("--top-k", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--greedy", is_flag=True, help="Always take the most likely token.")
@click.option("--beam", type=click.IntRange(min=1), help="Beam search with this many hypotheses.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for reproducible sampling (0 or more).")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True)
def command(prompt, model, max_tokens, temperature, top_k, greedy, beam, seed, samples):
    """Continue PROMPT with an int8 language model in the LiteRT runtime (no TensorFlow)."""
    import time

    from deepedge.runtime import load

    runtime = load(resolve_model(model))
    if not callable(getattr(runtime, "generate", None)):
        raise InvalidInputError(f"{model} is a {runtime.task_name} model, which does not generate text.")
    for i in range(samples):
        steps_before = runtime.steps_run
        started = time.perf_counter()
        text = runtime.generate(prompt, max_tokens=max_tokens, strategy="greedy" if greedy else "sample",
                                temperature=temperature, top_k=top_k, beam_width=beam,
                                seed=None if seed is None else seed + i)
        seconds = time.perf_counter() - started
        steps = runtime.steps_run - steps_before
        click.echo(text)
        Console(stderr=True).print(f"[dim]{steps} steps in {seconds * 1000:.0f} ms: {steps / seconds:,.0f} tokens/s "
                                   f"on {runtime.metadata['quantization']} LiteRT, 1 thread[/]")
