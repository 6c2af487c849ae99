"""`deepedge predict KIND FILE`: run a shipped (or your own exported) model on device over your file."""

import click

from deepedge.cli.common import console, resolve_model
from deepedge.errors import InvalidInputError
from deepedge.fileio import check_output_path


def _family_named(kind):
    from deepedge.registry import families

    named = {family.predict_name: family for family in families() if family.predict_name}
    if kind not in named:
        raise InvalidInputError(f"`deepedge predict` takes one of {sorted(named)}. Received: {kind!r}")
    return named[kind]


@click.command("predict")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", help="An exported model folder or a shipped model name "
                              "(default: the family's shipped model, e.g. scenes_labeller for scene).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="scene: where to write the coloured overlay (default: FILE_labels.png beside the input). "
                   "speech: a picture of the log-mel input and the model's outputs over time.")
@click.option("--top-k", type=click.IntRange(min=1), default=3, show_default=True, help="Classes to show.")
def command(kind, file, model, out, top_k):
    """Run a shipped (or your own exported) model on device over your own FILE.

    KIND is image, scene or speech. scene: any image size; grey or colour (converted to grey).
    Prints the share of each class and writes the image with its labels painted over it.
    image: an image classifier; the picture is converted to grey and resized to the model's
    input. speech: a WAV file at any sample rate and channel count (resampled to 16 kHz, mixed
    down); a clip up to a second long is classified, a longer one streamed through the spotter,
    detections printed as they fire. With a speech recogniser (`--model asr_ctc`) the file is
    transcribed as it streams.
    """
    from deepedge.registry import family
    from deepedge.runtime import load

    if out is not None:
        check_output_path(out, folder=False)
    chosen = _family_named(kind)
    runtime = load(resolve_model(model or chosen.default_model))
    serving = family(runtime.task_name)
    if serving.family != chosen.family:
        raise InvalidInputError(f"{model} is a {runtime.task_name} model; `predict {kind}` needs a "
                                f"{chosen.task_name} model.")
    serving.predict_file(runtime, file, out=out, top_k=top_k, console=console)
