"""Small `.keras` files for shipped models: no optimizer state, optionally float16 weights.

A `.keras` file is a zip with `config.json` and `model.weights.h5`. A compiled model saves
its optimizer's moments too (two copies of every weight for AdamW), which a shipped model
does not need: `save_for_shipping` saves an uncompiled float32 copy (`shipping_copy`), so
every shipped model loads the same way, ready for `predict`, `export`, or `compile` + `fit`.
`save_half_precision` also rewrites the weights file with every float32 array stored as
float16; Keras casts them back to the model's float32 variables when it loads the file
(`keras.saving.load_model`, `safe_mode=True`), so nothing else changes except a relative
rounding of at most 2**-11 per weight. Measure the metric on the reloaded model, as
`deepedge export` does.
"""

import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from deepedge.fileio import atomic_path

WEIGHTS = "model.weights.h5"


def _copy_half(source, target):
    for name, item in source.items():
        if hasattr(item, "items"):
            _copy_half(item, target.require_group(name))
        else:
            data = item[()]
            if isinstance(data, np.ndarray) and data.dtype == np.float32:
                data = data.astype(np.float16)
            target.create_dataset(name, data=data)
        for key, value in item.attrs.items():
            target[name].attrs[key] = value


def shipping_copy(model, input_shape):
    """The same model (weights and config) in float32, uncompiled: no optimizer state.

    Training may run in mixed bfloat16; the copy computes in float32 whatever the global
    dtype policy. `input_shape` builds it (a batch of one is enough).
    """
    from deepedge.backend import keras

    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        copy = type(model).from_config(model.get_config())
        copy.build(input_shape)
    finally:
        keras.config.set_dtype_policy(policy)
    copy.set_weights(model.get_weights())
    return copy


def save_for_shipping(model, path, input_shape, half_precision=False):
    """Saves `shipping_copy(model, input_shape)` to `path` (`.keras`), atomically; with
    `half_precision`, weights stored as float16 (`save_half_precision`). Returns the copy."""
    copy = shipping_copy(model, input_shape)
    save_keras(copy, path, half_precision)
    return copy


def save_keras(model, path, half_precision=False):
    """Saves `model` to `path` (`.keras`) atomically; with `half_precision`, its weights stored
    as float16 (`save_half_precision`: float32 again once loaded)."""
    if half_precision:
        save_half_precision(model, path)
    else:
        with atomic_path(path) as tmp:
            model.save(tmp)


def save_half_precision(model, path):
    """Saves `model` to `path` (`.keras`) with float16 weight storage, atomically."""
    import h5py

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.keras"
        model.save(full)
        with zipfile.ZipFile(full) as src, atomic_path(path) as out:
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    if info.filename != WEIGHTS:
                        dst.writestr(info, src.read(info.filename))
                        continue
                    weights = Path(tmp) / WEIGHTS
                    with src.open(info) as f, open(weights, "wb") as g:
                        shutil.copyfileobj(f, g)
                    half = Path(tmp) / "half.h5"
                    with h5py.File(weights, "r") as a, h5py.File(half, "w") as b:
                        for key, value in a.attrs.items():
                            b.attrs[key] = value
                        _copy_half(a, b)
                    dst.write(half, WEIGHTS)
