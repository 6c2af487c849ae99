"""The embedding tables an export lifted out of its graph (`deepedge.export.lookups`), read here.

A token model's signature then takes the token ids as before, but the .tflite takes their
embedding rows: `Lookups.expand` checks the ids (shape, integer type, inside the vocabulary)
and puts the dequantized rows in their place, which the model's QUANTIZE turns back into the
exact int8 rows the GATHER gave. numpy only; the tables are read once, when the model loads,
and checked against the SHA-256 model.json records.
"""

import hashlib
import io

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.metadata_checks import REEXPORT


def table_bytes(entries):
    """`{table file: bytes}` of model.json's `lookups` entries (int8, one byte a value; a table
    two signatures share counted once): what the model reads from flash beside its .tflite."""
    return {entry["table"]: int(entry["rows"]) * int(entry["width"]) for entry in entries or []}


class Lookups:
    """The lifted lookups of one model, by signature.

    Args:
        entries: model.json's `lookups` list.
        folder: the model folder (the tables lie beside model.json).
        json_path: for error messages.
    """

    def __init__(self, entries, folder, json_path):
        self.by_signature = {}
        tables, values = {}, {}
        for entry in entries:
            try:
                file, rows, width = entry["table"], int(entry["rows"]), int(entry["width"])
                signature, ids, rows_input = entry["signature"], entry["ids"], entry["rows_input"]
                scale, zero_point = np.float32(entry["scale"]), np.float32(entry["zero_point"])
                ids_shape, kept, digest = tuple(entry["ids_shape"]), bool(entry["ids_kept"]), entry["sha256"]
            except (KeyError, TypeError, ValueError) as e:
                raise ModelFileError(f"{json_path}: a `lookups` entry lacks {e} or has a wrong type. {REEXPORT}") from e
            if file not in tables:
                tables[file] = _read_table(folder, file, digest, (rows, width), json_path)
            key = (file, float(scale), float(zero_point))  # signatures sharing a table share its values
            if key not in values:
                values[key] = (tables[file].astype(np.float32) - zero_point) * scale
            self.by_signature.setdefault(signature, []).append(_Lookup(ids, rows_input, values[key], ids_shape, kept))

    @classmethod
    def from_metadata(cls, meta, folder, json_path):
        """The model's lookups, or None when its export lifted none."""
        entries = meta.get("lookups")
        if not entries:
            return None
        if not isinstance(entries, list):
            raise ModelFileError(f"{json_path}: `lookups` must be a list. {REEXPORT}")
        return cls(entries, folder, json_path)

    def rows_inputs(self, signature):
        """`{rows input: ids input}` of `signature`."""
        return {lookup.rows_input: lookup.ids for lookup in self.by_signature.get(signature, [])}

    def dropped_ids(self, signature):
        """The ids inputs `signature` takes that the .tflite does not (only their rows)."""
        return [lookup.ids for lookup in self.by_signature.get(signature, []) if not lookup.kept]

    def id_specs(self, signature):
        """Input specs of the ids the .tflite no longer takes: int32 of the recorded shape."""
        return {lookup.ids: {"name": lookup.ids, "shape": list(lookup.ids_shape), "dtype": "int32", "scale": 0.0,
                             "zero_point": 0} for lookup in self.by_signature.get(signature, []) if not lookup.kept}

    def expand(self, signature, inputs):
        """`inputs` with each lookup's rows added (and its ids removed unless the .tflite reads
        them too); raises `InvalidInputError` for ids of the wrong shape or type, or outside
        the vocabulary."""
        lookups = self.by_signature.get(signature)
        if not lookups:
            return inputs
        inputs = dict(inputs)
        for lookup in lookups:
            if lookup.ids not in inputs:
                continue  # the caller's name check reports it
            ids = inputs[lookup.ids] if lookup.kept else inputs.pop(lookup.ids)
            inputs[lookup.rows_input] = lookup.rows(ids, f"Input {lookup.ids!r} of {signature!r}")
        return inputs


class _Lookup:
    """One lifted lookup. It reads its table dequantized (float32, four bytes a value: 10 MB for
    a 10,000 x 256 table) so a step costs one row gather (about a microsecond), not a gather and
    two array operations; the values are exactly those QUANTIZE turns back into the int8 rows."""

    def __init__(self, ids, rows_input, values, ids_shape, kept):
        self.ids, self.rows_input, self.values, self.ids_shape, self.kept = ids, rows_input, values, ids_shape, kept
        self.vocabulary = int(values.shape[0])

    def rows(self, ids, where):
        ids = np.asarray(ids)
        if ids.shape != self.ids_shape:
            raise InvalidInputError(f"{where} must have shape {self.ids_shape}. Received: shape={ids.shape}.")
        if ids.dtype.kind not in "iu":
            raise InvalidInputError(f"{where} holds token ids, which must be integers. Received: dtype={ids.dtype}.")
        # unsigned, a negative id is out of range too: `take` raises instead of wrapping around
        index = ids.view(np.uint32) if ids.dtype == np.int32 else ids.astype(np.int64).view(np.uint64)
        try:
            return self.values.take(index, axis=0)
        except IndexError:
            bad = int(ids[(ids < 0) | (ids >= self.vocabulary)].flat[0])
            raise InvalidInputError(f"{where} holds the id {bad}, outside the vocabulary [0, {self.vocabulary}). "
                                    "Encode text with the model's own tokenizer.") from None


def _read_table(folder, file, digest, shape, json_path):
    path = folder / file
    if "/" in file or "\\" in file or file.startswith("."):
        raise ModelFileError(f"{json_path}: the lookup table {file!r} must be a file name beside model.json. {REEXPORT}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelFileError(f"{json_path} needs the lookup table {path}, which cannot be read ({e}). Copy the "
                             "whole model folder: the .tflite reads its embedding rows from it.") from e
    if hashlib.sha256(data).hexdigest() != digest:
        raise ModelFileError(f"{path} is not the lookup table model.json was exported with (its SHA-256 differs): "
                             "it was changed or truncated. Copy the model folder again, or export again.")
    try:
        table = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as e:
        raise ModelFileError(f"{path} is not a numpy table ({e}). Export again.") from e
    if table.dtype != np.int8 or table.shape != shape:
        raise ModelFileError(f"{path} holds a {table.dtype} table of shape {table.shape}; model.json expects int8 "
                             f"{shape}. {REEXPORT}")
    return table
