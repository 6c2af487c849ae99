"""`model.json`: what an exported model needs beside its `.tflite` (numpy-free, TF-free).

It records the task, labels, input and output specs with their quantization parameters,
signatures, the op list, the metrics measured at export, and the SHA-256 of the `.tflite`
so a runtime can tell when the two files do not belong together.
"""

import hashlib
import json
from pathlib import Path

from deepedge.errors import ModelFileError
from deepedge.runtime.metadata_checks import check_structure

FORMAT_VERSION = 1
TFLITE_NAME = "model.tflite"
METADATA_NAME = "model.json"
TFLITE_IDENTIFIER = b"TFL3"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_model_paths(path):
    """`(tflite_path, json_path)` for a model folder, a `.tflite` file or a `model.json`."""
    path = Path(path)
    if path.is_dir():
        tflite, meta = path / TFLITE_NAME, path / METADATA_NAME
    elif path.suffix == ".tflite":
        tflite, meta = path, path.with_name(METADATA_NAME)
    elif path.suffix == ".json":
        tflite, meta = path.with_name(TFLITE_NAME), path
    else:
        raise ModelFileError(f"Expected a model folder, a .tflite file or a model.json. Received: {path}")
    for p, what in ((tflite, "model file"), (meta, "model.json")):
        if not p.is_file():
            raise ModelFileError(f"No {what} at {p}. Export one with `deepedge export MODEL.keras --out DIR`.")
    return tflite, meta


def read_metadata(json_path, tflite_path=None):
    """Reads and checks a `model.json`; with `tflite_path`, also that it matches that file."""
    try:
        meta = json.loads(Path(json_path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:  # (json's errors are ValueErrors)
        raise ModelFileError(f"{json_path} is not a readable model.json: {e}. Export the model again.") from e
    except RecursionError as e:
        raise ModelFileError(f"{json_path} is not a readable model.json: it is nested too deeply to be one. "
                             "Export the model again.") from e
    check_structure(meta, json_path)
    if meta["format_version"] > FORMAT_VERSION:
        raise ModelFileError(f"{json_path} has format_version {meta['format_version']}; this deepedge "
                             f"reads up to {FORMAT_VERSION}. Upgrade deepedge.")
    if tflite_path is not None:
        check_tflite_file(tflite_path)
        actual = sha256_of(tflite_path)
        if actual != meta["tflite_sha256"]:
            raise ModelFileError(
                f"{json_path} does not describe {tflite_path}: the model's SHA-256 is {actual[:12]}..., "
                f"model.json expects {meta['tflite_sha256'][:12]}... Keep the two files from one export "
                "together, or export again.")
    return meta


def check_tflite_file(path):
    """Raises `ModelFileError` unless `path` starts like a TFLite flatbuffer."""
    with open(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[4:8] != TFLITE_IDENTIFIER:
        raise ModelFileError(f"{path} is not a TFLite model (no 'TFL3' identifier in its header; "
                             f"found {head[4:8]!r}). It may be another kind of file, or empty.")
