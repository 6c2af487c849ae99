"""Half-size `.keras` files for shipped models: float32 weights stored as float16.

A `.keras` file is a zip with `config.json` and `model.weights.h5`. `save_half_precision`
rewrites the weights file with every float32 array stored as float16; Keras casts them back
to the model's float32 variables when it loads the file (`keras.saving.load_model`,
`safe_mode=True`), so nothing else changes except a relative rounding of at most 2**-11 per
weight. Shipped language models use it to stay under 20 MB; measure the metric on the
reloaded model, as `deepedge export` does.
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
