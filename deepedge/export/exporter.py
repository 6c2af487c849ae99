"""Export a deepedge task to LiteRT: builtin ops only, int8 by default, parity checked, carded.

`export(task, path, quantization="int8", calibration_data=..., evaluation_data=...)`
converts the task with a batch of one (or its step-wise signatures), measures the task
metric of the float Keras model and of the exported model on held-out data, lets the family
add its own measurements (`report=`), and writes `model.tflite`, `model.json` and the model
card (`card=`) once, only when the exported model is within the family's parity threshold
(or `force=True`). Every file is built in a temporary folder first and renamed into place.

What the exporter reads from the task is the `deepedge.apps.task.Task` interface: `task_name`,
`family`, `metric_name`, `metric_higher_is_better`, `parity_threshold`, `parity_relative`,
`edge_signatures()`, `edge_calibration_inputs()`, `edge_float_layers`, `edge_int8_io`,
`edge_metadata()`, `evaluate_metric()`, `evaluate_metric_as_exported()`,
`evaluate_metric_on_device()` and `count_examples()`. A model deepedge did not build goes
through the same function behind that interface (`deepedge.export.keras_model.KerasModelTask`).
"""

import contextlib
import copy
import shutil
import tempfile
import time
from pathlib import Path

from deepedge.backend import keras, tf
from deepedge.errors import InvalidInputError, ParityError
from deepedge.export.accelerators import device_summary
from deepedge.export.card import write_model_card
from deepedge.export.convert import (analyze_ops, compact_tensor_names, convert, convert_signatures,
                                     normalise_quantization, representative_inputs, saved_signatures,
                                     single_batch_model)
from deepedge.export.graph import float_ops
from deepedge.export.lookups import TABLE_PREFIX, lift_lookups, write_tables
from deepedge.export.rewrite import for_xnnpack
from deepedge.runtime.lookups import table_bytes
from deepedge.fileio import (atomic_write_json, check_output_path, folder_workspace, install_files, replace_folder,
                             swappable_folder)
from deepedge.runtime.metadata import FORMAT_VERSION, METADATA_NAME, TFLITE_NAME, sha256_of


def _example_count(data):
    """How many examples a data set (`.images`, `.audio`, `.paragraphs`, ... or its own length) or an
    array holds; None when it cannot tell."""
    for attribute in ("images", "audio", "paragraphs", "sources"):
        if hasattr(data, attribute):
            data = getattr(data, attribute)
            break
    try:
        return len(data)
    except TypeError:
        return None


def _check_export_arguments(quantization, calibration_data, num_calibration, max_drop, latency_runs):
    from deepedge.validation import describe, finite_float, optional_positive_int, positive_int

    optional_positive_int("num_calibration", num_calibration, hint="Pass how many calibration samples to use "
                          "(a few hundred), or None for the task's default.")
    positive_int("latency_runs", latency_runs, hint="Pass how many timed invokes to take the median of (1000, say).")
    if max_drop is not None:
        finite_float("max_drop", max_drop, hint="Pass the largest metric loss to allow, or None for the family's.")
    if quantization == "int8" and calibration_data is not None and _example_count(calibration_data) == 0:
        raise InvalidInputError(f"int8 export needs calibration samples from real training data, and "
                                f"`calibration_data` is empty. Received: {describe(calibration_data)}. Pass the "
                                "training split (a few hundred of its examples are enough).")


def _signature_samples(task, calibration_data, num_calibration):
    """A step-wise task's calibration samples: `(signature, {input: array})` pairs from real data."""
    options = {"num_samples": num_calibration} if num_calibration else {}
    return task.calibration_samples(calibration_data, **options)


def _flatbuffer(task, quantization, calibration_data, num_calibration):
    """`(flatbuffer, signatures or None)` for the task, converted with builtin ops only."""
    signatures = task.edge_signatures()
    if signatures:  # recurrent models: one signature per entry point, state carried by the runtime
        samples = None
        if quantization == "int8" and calibration_data is not None:
            samples = _signature_samples(task, calibration_data, num_calibration)
        return convert_signatures(signatures, quantization, samples, float_layers=task.edge_float_layers,
                                  int8_io=task.edge_int8_io), signatures
    inputs = task.edge_calibration_inputs(calibration_data)
    return convert(single_batch_model(task), quantization, inputs, num_calibration or 500,
                   float_layers=task.edge_float_layers), None


@contextlib.contextmanager
def _selective_quantizer(task, calibration_data, num_calibration):
    """A `SelectiveQuantizer` of the task, calibrated as `_flatbuffer` calibrates it."""
    from deepedge.export.selective import SelectiveQuantizer

    signatures = task.edge_signatures()
    if signatures:
        samples = _signature_samples(task, calibration_data, num_calibration)
        with saved_signatures(signatures) as make_converter:
            yield SelectiveQuantizer(make_converter, lambda: iter(samples), next(iter(signatures.values()))["model"],
                                     task.edge_float_layers, int8_io=task.edge_int8_io)
        return
    model = single_batch_model(task)
    inputs = representative_inputs(task.edge_calibration_inputs(calibration_data), num_calibration or 500, model)
    yield SelectiveQuantizer(lambda: tf.lite.TFLiteConverter.from_keras_model(model), inputs, model,
                             task.edge_float_layers, int8_io=not task.edge_float_layers)


def _describe(task, path, quantization, flatbuffer, convert_seconds):
    ops, gpu_rejected = analyze_ops(flatbuffer)
    return {
        "format_version": FORMAT_VERSION,
        "task": task.task_name,
        "family": task.family,
        "name": path.name,
        "quantization": quantization,
        **task.edge_metadata(),
        "ops": sorted(set(ops)),
        "op_count": len(ops),
        **({"float_ops": float_ops(flatbuffer)} if quantization == "int8" else {}),
        "gpu_delegate": {"incompatible_ops": gpu_rejected,
                         "compatible_op_count": sum(op not in gpu_rejected for op in ops)},
        "size_bytes": len(flatbuffer),
        "convert_seconds": round(convert_seconds, 2),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }


def export(task, path, quantization="int8", calibration_data=None, evaluation_data=None,
           force=False, max_drop=None, num_calibration=None, latency_runs=1000, extra_metadata=None,
           report=None, card=None, max_ram=None, max_flash=None, repair=False, repair_data=None, max_growth=0.10,
           rewrite_for_xnnpack=True):
    """Exports `task` into the folder `path` as `model.tflite` + `model.json` (+ the card).

    Args:
        task: a deepedge task (a `deepedge.apps.task.Task`, for example `ImageClassifier`).
        path: output folder; created if needed. Existing files there are replaced only when
            the export succeeds.
        quantization: `"int8"` (default), `"float16"`, `"dynamic"` or `"float32"`/None.
        calibration_data: real training samples for int8 calibration (a data set, or an
            array of raw inputs).
        evaluation_data: held-out data on which the task metric of the float Keras model and
            of the exported model are compared.
        force: bool. Write the files even when the exported model fails the parity check.
        max_drop: float. Largest allowed metric drop; defaults to `task.parity_threshold`.
        num_calibration: int. Calibration samples to use.
        latency_runs: int. Invokes timed for the median latency.
        extra_metadata: dict merged into `model.json`.
        report: callable `(folder, meta) -> dict`: the family's own measurements of the exported
            model in `folder` (which it may load, or add files to); the dict is merged into
            `model.json` (its `metrics` into `meta["metrics"]`).
        card: dict with `data` (what the model was trained and measured on), `export_command`
            and `sections` (a callable `card -> [markdown lines]`): writes `card.json` and
            `card.md` beside the model.
        max_ram, max_flash: budgets (bytes, or `"256KB"`, `"1 MiB"`): when the converted model
            needs more RAM (the larger of its LiteRT and TFLite Micro tensor arenas) or flash
            (its file), `BudgetExceededError` names the largest tensors and nothing is written.
        repair: bool. When the int8 model misses the parity threshold, keep the groups of ops
            that lose most in float32, chosen by the task metric on `repair_data`, until it holds
            (`deepedge.export.repair`); model.json records what was kept and the search's table.
        repair_data: data the repair search measures candidates on; by default the first
            examples of `calibration_data`.
        max_growth: a repaired model may be at most this fraction larger than plain int8.
        rewrite_for_xnnpack: bool. Rewrite the ops XNNPACK leaves on reference kernels (int8
            SOFTMAX, AVERAGE_POOL_2D, TILE, shrinking slices, PACK, saturating clips) into ops
            it takes (`deepedge.export.rewrite`); model.json records what was rewritten. False
            keeps the converter's ops, as an NPU that runs int8 SOFTMAX itself (the Edge TPU) prefers.

    Returns:
        The `model.json` contents as a dict.
    """
    quantization = normalise_quantization(quantization)
    _check_export_arguments(quantization, calibration_data, num_calibration, max_drop, latency_runs)
    path = check_output_path(path, folder=True, option="path")
    started = time.perf_counter()
    flatbuffer, signatures = _flatbuffer(task, quantization, calibration_data, num_calibration)
    flatbuffer, rewrites, tables = _rewritten(compact_tensor_names(flatbuffer), rewrite_for_xnnpack)
    convert_seconds = time.perf_counter() - started
    meta = _metadata(task, path, quantization, flatbuffer, convert_seconds, max_ram, max_flash, rewrites, tables)
    # Built in a folder beside `path` and swapped in whole when the export succeeds: a kill at
    # any point leaves the previous export (or none) or the new one, never a mix.
    folder = folder_workspace(path)
    try:
        runtime = _install(folder, flatbuffer, meta, signatures, latency_runs, tables)
        if evaluation_data is not None:
            repairing = repair and quantization == "int8"
            meta["metrics"] = _parity(task, runtime, evaluation_data, quantization, force or repairing, max_drop)
            if repairing and not meta["metrics"]["passed"]:
                result = _repair(task, meta, signatures, calibration_data, repair_data, num_calibration,
                                 meta["metrics"], max_growth)
                flatbuffer, rewrites, tables = _rewritten(result.pop("flatbuffer"), rewrite_for_xnnpack)
                meta = _metadata(task, path, quantization, flatbuffer, convert_seconds, max_ram, max_flash, rewrites,
                                 tables)
                meta["repair"] = result
                for stale in folder.glob(f"{TABLE_PREFIX}*.npy"):
                    stale.unlink()
                runtime = _install(folder, flatbuffer, meta, signatures, latency_runs, tables)
                meta["metrics"] = _parity(task, runtime, evaluation_data, quantization, force, max_drop)
        if extra_metadata:
            meta.update(extra_metadata)
        if report is not None:
            atomic_write_json(folder / METADATA_NAME, meta)
            extra = dict(report(folder, meta))
            meta.setdefault("metrics", {}).update(extra.pop("metrics", {}))
            meta.update(extra)
        atomic_write_json(folder / METADATA_NAME, meta)
        if card is not None:
            if meta.get("repair") and card.get("export_command"):  # the command that repeats this export
                card = {**card, "export_command": card["export_command"] + " --repair"
                        + (f" --max-drop {max_drop:g}" if max_drop is not None else "")}
            if not rewrite_for_xnnpack and card.get("export_command"):
                card = {**card, "export_command": card["export_command"] + " --keep-ops"}
            write_model_card(folder, training_dir=path, **card)
        # an earlier export's lookup tables that this one did not write again are stale
        if swappable_folder(path):
            replace_folder(folder, path, drop=(f"{TABLE_PREFIX}*.npy",))
        else:  # the working directory, or a folder with subfolders: file by file, model.json last
            install_files(folder, path, drop=(f"{TABLE_PREFIX}*.npy",))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return meta


def _rewritten(flatbuffer, rewrite_for_xnnpack):
    """`(flatbuffer, rewrites, (lookups, tables))`: the XNNPACK rewrites and lifted lookups
    (`deepedge.export.lookups`) applied, or the flatbuffer as it was."""
    if not rewrite_for_xnnpack:
        return flatbuffer, {}, ([], {})
    flatbuffer, rewrites = for_xnnpack(flatbuffer)
    flatbuffer, lookups, tables = lift_lookups(flatbuffer)
    return flatbuffer, rewrites, (lookups, tables)


def _metadata(task, path, quantization, flatbuffer, convert_seconds, max_ram, max_flash, rewrites, tables):
    """model.json's description of a converted model (with the ops `for_xnnpack` rewrote and the
    lookups it lifted); raises `BudgetExceededError` before anything is written when it needs
    more RAM or flash than allowed."""
    meta = _describe(task, path, quantization, flatbuffer, convert_seconds)
    if rewrites:
        meta["xnnpack_rewrites"] = rewrites
    lookups = tables[0]
    if lookups:
        meta["lookups"] = copy.deepcopy(lookups)
    meta.update(device_summary(flatbuffer, max_ram, max_flash, side_bytes=sum(table_bytes(lookups).values())))
    return meta


def _install(folder, flatbuffer, meta, signatures, latency_runs, tables=([], {})):
    """Writes `flatbuffer`, its lifted lookup tables and `meta` (completed with its inputs,
    outputs and signatures) into `folder`, measures the median latency unless `latency_runs`
    is 0; returns the runtime."""
    from deepedge.runtime import io_metadata, load, signature_io
    from deepedge.runtime.bench import measure_latency

    (folder / TFLITE_NAME).write_bytes(flatbuffer)
    if meta.get("lookups"):
        write_tables(folder, meta["lookups"], tables[1])
    meta["tflite_sha256"] = sha256_of(folder / TFLITE_NAME)
    meta.update(io_metadata(folder / TFLITE_NAME))
    signature = None
    if signatures:
        sig_io = signature_io(folder / TFLITE_NAME)
        meta["signature_io"] = sig_io
        meta["state"] = {name: sig["state"] for name, sig in signatures.items() if "state" in sig}
        signature = next(iter(signatures))
        meta["inputs"], meta["outputs"] = sig_io[signature]["inputs"], sig_io[signature]["outputs"]
    atomic_write_json(folder / METADATA_NAME, meta)
    runtime = load(folder, num_threads=1)
    if latency_runs:
        meta["latency_us"] = {**measure_latency(runtime.interpreter, runs=latency_runs, signature=signature),
                              "threads": 1, **({"signature": signature} if signature else {})}
    return runtime


def _repair(task, meta, signatures, calibration_data, repair_data, num_calibration, parity, max_growth):
    """Runs `deepedge.export.repair.repair` on the task: candidates measured on `repair_data` (by
    default the first examples of the calibration data: training data, never the test split)."""
    from deepedge.export.repair import REPAIR_EXAMPLES, repair, subset
    from deepedge.progress import progress_bar, stderr_console

    data = subset(calibration_data if repair_data is None else repair_data, REPAIR_EXAMPLES)
    reference = task.evaluate_metric_as_exported(data)
    with tempfile.TemporaryDirectory() as scratch, \
            _selective_quantizer(task, calibration_data, num_calibration) as quantizer, \
            stderr_console() as console, progress_bar(console) as progress:
        bar = progress.add_task("Repair: plain int8", total=None)

        def measure(flatbuffer):
            folder = Path(tempfile.mkdtemp(dir=scratch))
            runtime = _install(folder, flatbuffer, dict(meta), signatures, latency_runs=0)
            return task.evaluate_metric_on_device(runtime, data)

        scale = _parity_scale(task, data, reference)[0] if task.parity_relative else None
        result = repair(quantizer, measure, reference, parity["max_drop"], task.metric_higher_is_better,
                        task.parity_relative, max_growth, evaluation_drop=parity["drop"], scale=scale,
                        on_candidate=lambda text: progress.update(bar, description=f"Repair: {text}"))
    result["examples"] = task.count_examples(data)
    return result


def _parity_scale(task, data, reference):
    """`(scale, basis)`: what a relative loss to quantization is a percentage of, and its name for
    the card: the task's `parity_scale` where it has one, else the size of the float figure."""
    scale = getattr(task, "parity_scale", None)
    return scale(data, reference) if scale is not None else (abs(reference), "of the float figure")


def _parity(task, runtime, evaluation_data, quantization, force, max_drop):
    keras_value = task.evaluate_metric_as_exported(evaluation_data)
    edge_value = task.evaluate_metric_on_device(runtime, evaluation_data)
    drop = (keras_value - edge_value) if task.metric_higher_is_better else (edge_value - keras_value)
    relative, basis = task.parity_relative, None
    if relative:  # e.g. perplexity: the allowed loss is a percentage of the float figure, or of
        scale, basis = _parity_scale(task, evaluation_data, keras_value)  # what the task says (a game's
        drop = 100.0 * drop / scale if scale else drop  # gain over a random policy)
    threshold = task.parity_threshold if max_drop is None else max_drop
    metrics = {
        "metric": task.metric_name,
        "split": getattr(evaluation_data, "split", "held-out"),
        "examples": task.count_examples(evaluation_data),
        "keras_float": round(keras_value, 4),
        f"litert_{quantization}": round(edge_value, 4),
        "drop": round(drop, 4),
        "drop_unit": "percent" if relative else "points",
        **({"drop_basis": basis} if basis else {}),
        "max_drop": threshold,
        "passed": bool(drop <= threshold),
    }
    from deepedge.training.qat import is_quantization_aware

    model = task if isinstance(task, keras.layers.Layer) else getattr(task, "model", None)  # a user model's wrapper
    if isinstance(model, keras.layers.Layer) and is_quantization_aware(model):
        metrics["keras_model"] = "quantization-aware (fake-quant)"  # `keras_float` is then what QAT trained
    if not metrics["passed"] and not force:
        raise ParityError(
            f"The {quantization} model's {task.metric_name} is {edge_value:.4f}, the float Keras model's "
            f"{keras_value:.4f}: a loss of {drop:.4f} {f'percent {basis}' if relative else 'points'}, more than the "
            f"{threshold} allowed. Nothing was written. Calibrate on more (or more representative) training "
            "samples, train longer, keep the ops that lose most in float32 (`--repair`), or pass force=True "
            "(`--force`) to write it anyway.")
    return metrics
