"""`deepedge caption IMAGE --model FOLDER`: caption your own pictures on device (no TensorFlow)."""

import time

import click
from rich.console import Console

from deepedge.errors import InvalidInputError
from deepedge.presets import resolve_model


@click.command("caption")
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--model", default="scenes_captioner", show_default=True,
              help="An exported captioner folder or a shipped model name.")
@click.option("--beam", type=click.IntRange(min=1), default=3, show_default=True,
              help="Beam width (1 decodes greedily).")
@click.option("--attention", "attention_png", type=click.Path(dir_okay=False),
              help="Draw the image with one attention map per word into this PNG (first image, greedy).")
def command(images, model, beam, attention_png):
    """Caption IMAGES (PNG, JPEG, ...; any size, RGB, RGBA or grey) with an int8 captioner in LiteRT."""
    from deepedge.runtime import load
    from deepedge.runtime.captioner import prepare_image

    runtime = load(resolve_model(model))
    if not callable(getattr(runtime, "caption", None)):
        raise InvalidInputError(f"{model} is a {runtime.task_name} model, which does not caption images.")
    started = time.perf_counter()
    for path in images:
        caption = runtime.caption(prepare_image(path, runtime.image_size), beam)
        click.echo(f"{path}: {caption}" if len(images) > 1 else caption)
    seconds = time.perf_counter() - started
    Console(stderr=True).print(f"[dim]{len(images)} image(s) in {seconds * 1000:.0f} ms on "
                               f"{runtime.metadata['quantization']} LiteRT, 1 thread, beam {beam}[/]")
    if attention_png:
        if not runtime.metadata.get("attention"):
            raise InvalidInputError(f"{model} has no attention to draw (a Show-and-Tell model).")
        from deepedge.apps.captioning.demo import draw_attention

        draw_attention(runtime, prepare_image(images[0], runtime.image_size), attention_png)
        Console(stderr=True).print(f"Wrote {attention_png}")
