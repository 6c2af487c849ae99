"""`deepedge evaluate MODEL`: the task metric of a `.keras` file, an exported model or a shipped name."""

import click

from deepedge.cli.common import console, family_of_model, print_json, resolve_model
from deepedge.errors import InvalidInputError


def evaluate_model(model, split="test", data=None, limit=None, beam_width=None, backend="litert"):
    """The task metric of a `.keras` or exported model on a split: a dict for `--json`.

    `beam_width` applies to families with beam search (speech recognisers: CTC beam search
    with the exported character language model where there is one). `backend="micro"` runs an
    exported model in TFLite Micro instead of LiteRT (`deepedge.runtime.micro`)."""
    from deepedge.apps.family import is_exported
    from deepedge.runtime.micro import micro_backend

    path = resolve_model(model)
    family = family_of_model(path)
    name = family.data_name(path, data)
    if beam_width and not family.beam_search:
        raise InvalidInputError(f"--beam applies to models decoded by beam search; {path} is a {family.title} "
                                f"model, evaluated on {name!r}.")
    micro = backend == "micro"
    if micro and not is_exported(path):
        raise InvalidInputError(f"--backend micro runs an exported model (a folder with model.tflite and "
                                f"model.json); {path} is a Keras model. Export it first (`deepedge export`).")
    with micro_backend(micro):
        result = family.evaluate(path, name, split, limit, beam_width)
    if micro:
        result["kind"] = result["kind"].replace("litert", "tflite_micro")
    return result


@click.command("evaluate")
@click.argument("model")
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="test", show_default=True)
@click.option("--data", help="Data set name (default: the one the model was trained on).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N examples.")
@click.option("--beam", type=click.IntRange(min=1),
              help="Recognisers: CTC beam search with this many prefixes (and the exported character language "
                   "model), instead of greedy decoding.")
@click.option("--backend", type=click.Choice(["litert", "micro"]), default="litert", show_default=True,
              help="Exported models: run in LiteRT, or in TFLite Micro (PyPI tflite-micro) with the arena the "
                   "export recorded.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(model, split, data, limit, beam, backend, as_json):
    """Print the task metric of a .keras file, an exported model, or a shipped model name."""
    result = evaluate_model(model, split, data, limit, beam, backend)
    if as_json:
        print_json(result)
    else:
        unit = "%" if result["metric"] == "accuracy" else ""
        console.print(f"{result['model']} ({result['kind']}): {result['metric']} {result['value']:.2f}{unit} "
                      f"on {result['data']}/{result['split']} "
                      f"({result['examples']:,} {result.get('unit', 'examples')})")
