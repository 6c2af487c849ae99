"""Export any Keras model to the device: `export_model(model, path, calibration_data=..., evaluation_data=...)`.

What deepedge's own tasks get, for a model deepedge did not build: the checks of
`deepedge.export.doctor` before anything converts (all problems at once), builtin ops only,
full int8 calibrated on real examples, the parity gate on a metric, `model.json` with the
inputs' raw shapes, quantization and declared preprocessing, the flash/RAM and accelerator
report, and the model card, written as one folder that replaces the old one whole. It runs
through `deepedge.export.exporter.export` with the model behind `KerasModelTask`.
"""

from deepedge.backend import keras
from deepedge.errors import ConversionError, InvalidInputError
from deepedge.export.convert import normalise_quantization
from deepedge.export.doctor import diagnose, format_problems
from deepedge.export.exporter import export
from deepedge.export.keras_model import KerasModelTask
from deepedge.progress import stderr_console


def _check_float_layers(model, float_layers):
    names = {layer.name for layer in model._flatten_layers(include_self=False, recursive=True)}
    unknown = [name for name in float_layers if name not in names]
    if unknown:
        raise InvalidInputError(f"`float_layers` names layers the model does not have: {unknown}. Received: "
                                f"float_layers={list(float_layers)}. The model's layers: {sorted(names)[:40]}.")


def _preflight(model, quantization):
    """Raises `ConversionError` listing every error `diagnose` finds, before any conversion."""
    errors = [problem for problem in diagnose(model, quantization=quantization) if problem.severity == "error"]
    if errors:
        raise ConversionError(f"{model.name!r} cannot be exported to builtin-only LiteRT; nothing was converted or "
                              f"written. {len(errors)} problem(s):\n{format_problems(errors)}")


def export_model(model, path, quantization="int8", calibration_data=None, evaluation_data=None, metric="accuracy",
                 max_drop=None, preprocessing=None, float_layers=(), labels=None, higher_is_better=None, force=False,
                 num_calibration=500, latency_runs=1000, card=None, max_ram=None, max_flash=None, repair=False,
                 rewrite_for_xnnpack=True):
    """Exports a Keras model that deepedge did not build into the folder `path`.

    Args:
        model: a built `keras.Model`: functional, sequential or subclassed, with one or several
            inputs and outputs.
        path: output folder for `model.tflite`, `model.json`, `card.md` and `card.json`;
            replaced whole, and only when the export succeeds.
        quantization: `"int8"` (default: int8 weights, activations, inputs and outputs),
            `"float16"`, `"dynamic"` or `"float32"`.
        calibration_data: real examples for int8 calibration, raw as the device will see them:
            an array (one input), a list of arrays in input order, a dict by input name, an
            `(x, y)` pair, or a deepedge data set. Free input dimensions take their sizes.
        evaluation_data: held-out `(x, y)` (or a data set with labels): the metric of the float
            Keras model and of the exported model are compared on it. `y` is an array for the
            first output, or a dict by output name.
        metric: `"accuracy"` (percent), `"mae"`, `"mean_iou"` (percent), or a function
            `(y_true, y_pred) -> float`.
        max_drop: float. The largest loss to quantization allowed: defaults to 1 point of
            accuracy or mean IoU, 5 percent of the MAE; required with a metric function.
        preprocessing: what the model expects done to raw inputs, built into the exported
            graph and recorded in model.json: `{"scale": 1 / 255, "offset": 0.0, "layout":
            "channels_first"}` (`x * scale + offset`, per channel if lists; a channels-first
            raw input is transposed), or such dicts by input name.
        float_layers: names of layers to keep in float32 in an int8 model (a spectrogram front
            end); inputs and outputs then stay float32.
        labels: class names of the first output, recorded in model.json.
        higher_is_better: bool. The direction of a metric function (default True).
        force: bool. Write the model even when it fails the parity gate.
        num_calibration: int. Calibration examples used, spread over `calibration_data`.
        latency_runs: int. Invokes timed for the median latency.
        card: dict with the card's `data` (name, source, licence) and `export_command`.
        max_ram, max_flash: budgets, as in `deepedge.export.exporter.export`.
        repair: bool. When int8 misses `max_drop`, keep the groups of ops that lose most in
            float32 until it holds (`deepedge.export.repair`), as `deepedge.export.exporter.export`;
            the candidates are measured on `calibration_data`, which then needs targets (`y`).

    Returns:
        The `model.json` contents as a dict.

    Raises:
        ConversionError: the model has layers that will not convert (every one is listed,
            with its fix), or an op with no builtin kernel (named with its layer).
        ParityError: the exported model loses more than `max_drop` (unless `force`).
        InvalidInputError: data that does not fit the model's inputs.

    Example:

    >>> deepedge.export.export_model(model, "my_model", calibration_data=x_train[:500],
    ...                              evaluation_data=(x_test, y_test), preprocessing={"scale": 1 / 255})
    >>> deepedge.edge.load("my_model").predict(x_test[:8])  # raw uint8 images in
    """
    if not isinstance(model, keras.Model):
        raise InvalidInputError(f"`model` must be a keras.Model. Received: {type(model).__name__}. Load a .keras file "
                                "with `keras.saving.load_model(path)` first.")
    quantization = normalise_quantization(quantization)
    _preflight(model, quantization)
    if quantization == "int8" and calibration_data is None:
        raise InvalidInputError("int8 export needs calibration_data: a few hundred real examples, raw as the device "
                                "sees them. Received none. Pass calibration_data=, or quantization='float32'.")
    _check_float_layers(model, float_layers)
    with stderr_console() as console:
        task = KerasModelTask(model, metric, max_drop, higher_is_better, preprocessing, float_layers, labels,
                              calibration_data, console)
        # The repair search measures candidates on the calibration data: it then needs targets too.
        calibration = None if calibration_data is None else task.data(calibration_data, "calibration_data", repair)
        evaluation = None if evaluation_data is None else task.data(evaluation_data, "evaluation_data", True)
        card = {"data": (card or {}).get("data"), "export_command": (card or {}).get("export_command")}
        return export(task, path, quantization, calibration_data=calibration, evaluation_data=evaluation, force=force,
                      max_drop=task.parity_threshold, num_calibration=num_calibration, latency_runs=latency_runs,
                      card=card, max_ram=max_ram, max_flash=max_flash, repair=repair,
                      rewrite_for_xnnpack=rewrite_for_xnnpack)


__all__ = ["export_model"]
