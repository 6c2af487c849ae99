"""Embedding lookups lifted out of int8 graphs: XNNPACK takes every op left, and the model
computes bit for bit what its GATHER did; the runtimes check the ids and the tables."""

import json
import shutil

import numpy as np
import pytest

from deepedge.errors import InvalidInputError, ModelFileError


def _converted(kind):
    """An int8 flatbuffer of a tiny model reading 4 token ids through an Embedding of 50 rows:
    `"plain"`, `"mask"` (the ids also make a padding mask) or `"computed"` (the ids shifted first);
    with the XNNPACK rewrites applied, as the exporter does before it lifts lookups (they drop
    Keras's negative-index wrap in front of the GATHER)."""
    from deepedge.backend import keras, tf
    from deepedge.export.rewrite import for_xnnpack

    ids = keras.Input((4,), batch_size=1, dtype="int32", name="ids")
    looked_up = keras.ops.add(ids, 1) if kind == "computed" else ids
    x = keras.layers.Flatten()(keras.layers.Embedding(50, 8)(looked_up))
    if kind == "mask":
        x = keras.layers.Concatenate()([x, keras.ops.cast(keras.ops.not_equal(ids, 0), "float32")])
    model = keras.Model(ids, keras.layers.Dense(5, activation="tanh")(x))
    rng = np.random.default_rng(0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.integers(0, 49, (1, 4)).astype(np.int32)] for _ in range(50))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    return for_xnnpack(converter.convert())[0]


def _outputs(flatbuffer, feeds):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    runner = interpreter.get_signature_runner("serving_default")
    return runner(**feeds)


@pytest.mark.parametrize("kind", ["plain", "mask"])
def test_a_lifted_lookup_gives_the_gathers_outputs_bit_for_bit_and_xnnpack_takes_every_op(kind, tmp_path):
    from deepedge.export.accelerators import xnnpack_report
    from deepedge.export.lookups import lift_lookups, write_tables
    from deepedge.runtime.lookups import Lookups

    flatbuffer = _converted(kind)
    lifted, lookups, tables = lift_lookups(flatbuffer)
    assert len(lookups) == 1
    (entry,) = lookups
    assert entry["ids"] == "ids" and entry["rows"] == 50 and entry["width"] == 8 and entry["ids_shape"] == [1, 4]
    assert entry["ids_kept"] is (kind == "mask")
    assert "GATHER" in xnnpack_report(flatbuffer)["cpu_ops"]
    report = xnnpack_report(lifted)
    assert "GATHER" not in report["cpu_ops"]
    if kind == "plain":
        assert report["delegated"] == report["ops"]
    assert len(lifted) < len(flatbuffer)  # the table left the file for its sidecar
    write_tables(tmp_path, lookups, tables)
    runtime_lookups = Lookups(lookups, tmp_path, tmp_path / "model.json")
    rng = np.random.default_rng(1)
    for _ in range(25):
        ids = rng.integers(0, 50, (1, 4)).astype(np.int32)
        expected = _outputs(flatbuffer, {"ids": ids})
        got = _outputs(lifted, runtime_lookups.expand("serving_default", {"ids": ids}))
        assert list(got) == list(expected)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])


def test_a_gather_of_computed_ids_is_left_in_the_graph():
    from deepedge.export.lookups import lift_lookups

    flatbuffer = _converted("computed")
    assert lift_lookups(flatbuffer) == (flatbuffer, [], {})


@pytest.mark.slow
def test_an_exported_token_model_reads_its_table_beside_it_and_refuses_bad_ids(exported_language_models, tmp_path):
    from deepedge.edge import load

    folder = tmp_path / "lstm"
    shutil.copytree(exported_language_models["lstm", "int8"], folder)
    meta = json.loads((folder / "model.json").read_text())
    (entry,) = meta["lookups"]
    assert entry["signature"] == "step" and entry["ids"] == "token" and not entry["ids_kept"]
    assert (folder / entry["table"]).is_file()
    xnnpack = meta["accelerators"]["xnnpack"]
    assert xnnpack["delegated"] == xnnpack["ops"]
    assert meta["footprint"]["flash_bytes"] >= (folder / "model.tflite").stat().st_size + entry["rows"] * entry["width"]

    runtime = load(folder)
    state = runtime.initial_state()
    outputs, _ = runtime.step({"token": np.array([3], np.int32)}, state)
    assert outputs["logits"].shape[-1] == entry["rows"]
    with pytest.raises(InvalidInputError, match="outside the vocabulary"):
        runtime.step({"token": np.array([entry["rows"]], np.int32)}, state)
    with pytest.raises(InvalidInputError, match="outside the vocabulary"):
        runtime.step({"token": np.array([-1], np.int32)}, state)
    with pytest.raises(InvalidInputError, match="integers"):
        runtime.step({"token": np.array([3.0], np.float32)}, state)
    with pytest.raises(InvalidInputError, match="shape"):
        runtime.step({"token": np.array([3, 4], np.int32)}, state)

    table = folder / entry["table"]
    data = bytearray(table.read_bytes())
    data[-1] ^= 1
    table.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="SHA-256"):
        load(folder)
    table.unlink()
    with pytest.raises(ModelFileError, match="lookup table"):
        load(folder)


def test_every_shipped_folder_holds_the_tables_its_model_json_lists_and_no_others():
    import json

    from deepedge.presets import saved_models_dir

    for folder in sorted(saved_models_dir().iterdir()):
        listed = {entry["table"] for entry in json.loads((folder / "model.json").read_text()).get("lookups", [])}
        assert {path.name for path in folder.glob("lookup_*.npy")} == listed, folder.name
