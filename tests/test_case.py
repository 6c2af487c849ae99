"""The shared harness every family's tests call, in the manner of KerasHub's `TestCase`.

`run_task_test` checks a Keras task the way users rely on it (outputs, config and `.keras`
round trips); `run_edge_export_test` exports it and checks the edge contract: builtin ops
only, the parity check passed without `force`, the runtime loaded in a fresh process with
no TensorFlow, and a clear `InvalidInputError` for each bad input.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

HEAVY_MODULES = ("tensorflow", "keras", "tf_keras")


def _numpy(outputs):
    from deepedge.backend import keras

    if isinstance(outputs, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in outputs]
    return keras.ops.convert_to_numpy(outputs)


def run_task_test(task, inputs, expected_output_shape, tmp_path):
    """A forward pass has the expected shape and no NaN; `get_config`/`from_config` and
    `save`/`load` (safe mode) rebuild a model with the same outputs.

    `inputs` is what the task's `call` takes: pixels, audio, or token ids for a language
    model. Returns the model loaded from `tmp_path`, for the caller's own checks."""
    outputs = _numpy(task(inputs, training=False))
    assert tuple(outputs.shape) == tuple(expected_output_shape), outputs.shape
    assert np.all(np.isfinite(outputs))
    rebuilt = type(task).from_config(task.get_config())
    if not rebuilt.built:  # a subclassed task (a language model) makes its weights on its first call
        rebuilt(inputs, training=False)
    rebuilt.set_weights(task.get_weights())
    np.testing.assert_allclose(_numpy(rebuilt(inputs, training=False)), outputs, rtol=1e-5, atol=1e-6)
    path = tmp_path / f"{task.name}.keras"
    task.save(path)
    loaded = type(task).load(path)
    np.testing.assert_allclose(_numpy(loaded(inputs, training=False)), outputs, rtol=1e-5, atol=1e-6)
    return loaded


def check_runtime_without_tensorflow(folder, call, inputs=None, timeout=300, forbidden_in_stderr=()):
    """Loads the exported model in a fresh Python with `deepedge.edge.load`, evaluates `call`
    (an expression of `runtime` and `x`, the array `inputs`), and checks that neither
    TensorFlow nor Keras was imported, and that the process's stderr holds none of the
    strings `forbidden_in_stderr` (log noise, say). Returns the call's result, read back
    from JSON (so tuples come back as lists)."""
    script = ["import json, sys", "import numpy as np", "from deepedge.edge import load",
              f"runtime = load({str(folder)!r})"]
    if inputs is not None:
        np.save(folder / "harness_inputs.npy", np.asarray(inputs))
        script.append(f"x = np.load({str(folder / 'harness_inputs.npy')!r}, allow_pickle=False)")
    script += [f"result = {call}",
               f"heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r}]",
               "assert not heavy, heavy",
               "print(json.dumps(np.asarray(result).tolist() if isinstance(result, np.ndarray) else result))"]
    done = subprocess.run([sys.executable, "-c", "\n".join(script)], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    for text in forbidden_in_stderr:
        assert text not in done.stderr, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_edge_export_test(task, folder, calibration_data, evaluation_data, edge_call, edge_inputs=None,
                         bad_inputs=(), max_drop=None, **export_options):
    """Exports `task` to int8 in `folder` and checks the edge contract.

    Args:
        edge_call: an expression of `runtime` and `x` that the on-device model must run in a
            process without TensorFlow (`"runtime.predict(x)"`).
        edge_inputs: the array `x`.
        bad_inputs: `(method name, argument, message pattern)` triples: each call must raise
            `InvalidInputError` matching the pattern, and the runtime must still work after.
    Returns:
        `(model.json as a dict, the runtime, the result of edge_call)`.
    """
    from deepedge.edge import load
    from deepedge.errors import InvalidInputError

    meta = task.export(folder, calibration_data=calibration_data, evaluation_data=evaluation_data,
                       max_drop=max_drop, **export_options)
    assert meta["metrics"]["passed"], meta["metrics"]
    assert not [op for op in meta["ops"] if op.startswith("Flex") or op == "CUSTOM"], meta["ops"]
    assert meta["task"] == task.task_name and meta["family"] == task.family
    on_disk = json.loads((folder / "model.json").read_text())
    assert on_disk["tflite_sha256"] == meta["tflite_sha256"]
    result = check_runtime_without_tensorflow(folder, edge_call, edge_inputs)
    runtime = load(folder)
    for method, argument, pattern in bad_inputs:
        with pytest.raises(InvalidInputError, match=pattern):
            getattr(runtime, method)(argument)
    if edge_inputs is not None:
        fresh = check_runtime_without_tensorflow(folder, edge_call, edge_inputs)
        assert fresh == result  # the same answers in a new process: nothing depends on state
    return meta, runtime, result
