"""What the commands share: the consoles, and finding a model and the family that serves it."""

import json
from pathlib import Path

from rich.console import Console

from deepedge.errors import ModelFileError
from deepedge.presets import resolve_model  # noqa: F401  (the commands' shared lookup)

console = Console()
err_console = Console(stderr=True)


def family_of_model(path):
    """The `Family` serving the model at `path`: an exported folder (by the task its model.json
    records) or a `.keras` file (by the task class it records)."""
    from deepedge import registry
    from deepedge.apps.family import is_exported, keras_class_of, keras_path

    path = Path(path)
    if is_exported(path):
        from deepedge.runtime.metadata import read_metadata, resolve_model_paths

        _, json_path = resolve_model_paths(path)
        return registry.family(read_metadata(json_path).get("task"))
    keras_file = keras_path(path)
    if not keras_file.is_file():
        raise ModelFileError(f"No model at {path}: expected an exported folder (model.tflite + model.json), "
                             "a `.keras` file, or a shipped model's name (`deepedge info` lists them).")
    class_name = keras_class_of(keras_file)
    try:
        return registry.family_of_keras_class(class_name)
    except ModelFileError as e:
        raise ModelFileError(f"{keras_file} is not a deepedge model: {e}") from e


def print_json(result):
    import click

    click.echo(json.dumps(result))
