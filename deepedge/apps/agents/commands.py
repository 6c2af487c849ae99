"""`deepedge play MODEL`: an agent runs on device and its run is drawn as an animated GIF."""

from pathlib import Path

import click

from deepedge.errors import InvalidInputError
from deepedge.presets import resolve_model


@click.command("play")
@click.argument("model")
@click.option("--image", "image_path", type=click.Path(exists=True, dir_okay=False),
              help="A grey picture for a glimpse agent (default: a held-out canvas of its data).")
@click.option("--index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which held-out canvas (or episode seed) to play.")
@click.option("--out", type=click.Path(dir_okay=False), help="The GIF to write. Defaults to MODEL_play.gif.")
def command(model, image_path, index, out):
    """Run an agent MODEL (a shipped name or an exported folder) on device and draw its run."""
    from deepedge.registry import family
    from deepedge.fileio import check_output_path
    from deepedge.runtime import load

    if out is not None:
        check_output_path(out, folder=False)
    runtime = load(resolve_model(model))
    player = getattr(family(runtime.task_name), "play", None)
    if player is None:
        raise InvalidInputError(f"{model} is a {runtime.task_name} model; `deepedge play` runs agents "
                                f"(glimpse agents and deep Q-networks).")
    out = Path(out or f"{Path(str(model)).name}_play.gif")
    click.echo(player(runtime, out, image_path=image_path, index=index))
