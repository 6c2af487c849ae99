"""deepedge.export.rewrite: int8 SOFTMAX, AVERAGE_POOL_2D and TILE rewritten so that XNNPACK takes
every op, with the model's answers kept."""

import numpy as np
import pytest

from deepedge.backend import keras
from deepedge.export.accelerators import xnnpack_report
from deepedge.export.convert import convert
from deepedge.export.rewrite import for_xnnpack


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images[..., None] / 16.0).astype(np.float32), digits.target


@pytest.fixture(scope="module")
def converted():
    """A small int8 net with each rewritten op (pooling by average, nearest upsampling, softmax),
    trained briefly on the 8x8 digits: `(plain flatbuffer, held-out images, their labels)`."""
    images, labels = _digits()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1), batch_size=1)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.UpSampling2D(2)(x)  # nearest: RESHAPE, TILE, RESHAPE
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images[:1200], labels[:1200], batch_size=32, epochs=8, verbose=0)
    return convert(model, "int8", images[:200]), images[1200:1500], labels[1200:1500]


def _run(flatbuffer, images, output=0):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[output]
    scale, zero = source["quantization"]
    outputs = []
    for image in images:
        if source["dtype"] == np.int8:
            image = np.clip(np.rint(image / scale + zero), -128, 127)
        interpreter.set_tensor(source["index"], image[None].astype(source["dtype"]))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(target["index"])[0].astype(np.int32))
    return np.array(outputs), target


def test_every_op_runs_on_xnnpack_after_the_rewrite(converted, tmp_path):
    plain = converted[0]
    rewritten, counts = for_xnnpack(plain)
    assert counts == {"SOFTMAX": 1, "AVERAGE_POOL_2D": 1, "TILE": 2}
    (tmp_path / "plain.tflite").write_bytes(plain)
    (tmp_path / "rewritten.tflite").write_bytes(rewritten)
    before, after = xnnpack_report(tmp_path / "plain.tflite"), xnnpack_report(tmp_path / "rewritten.tflite")
    assert set(before["cpu_ops"]) == {"SOFTMAX", "AVERAGE_POOL_2D", "TILE"}
    assert after["cpu_ops"] == {} and after["delegated"] == after["ops"]


def test_the_rewritten_model_gives_the_same_answers(converted):
    plain, images, labels = converted
    rewritten, _ = for_xnnpack(plain)
    before, spec_before = _run(plain, images)
    after, spec_after = _run(rewritten, images)
    # the output keeps its type and quantization: the model's interface is unchanged
    assert spec_after["dtype"] == spec_before["dtype"] == np.int8
    assert spec_after["quantization"] == spec_before["quantization"]
    # the same accuracy within one image in a hundred, and probabilities a few steps of 1/256
    # apart at most (the averaging conv rounds ties as convolutions do)
    assert (before.argmax(1) == labels).mean() > 0.8
    assert abs((before.argmax(1) == labels).mean() - (after.argmax(1) == labels).mean()) <= 0.01
    assert np.abs(before - after).max() <= 8


def test_a_tile_becomes_copies_bit_for_bit():
    inputs = keras.Input((4, 4, 3), batch_size=1)
    outputs = keras.layers.UpSampling2D((2, 3))(inputs)
    images = np.random.default_rng(0).uniform(0, 1, (20, 4, 4, 3)).astype(np.float32)
    plain = convert(keras.Model(inputs, outputs), "int8", images)
    rewritten, counts = for_xnnpack(plain)
    assert counts == {"TILE": 2}
    assert np.array_equal(_run(plain, images)[0], _run(rewritten, images)[0])


def test_a_model_without_those_ops_is_returned_as_it_is():
    inputs = keras.Input((4,), batch_size=1)
    plain = convert(keras.Model(inputs, keras.layers.Dense(3)(inputs)), "int8",
                    np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32))
    assert for_xnnpack(plain) == (plain, {})


def test_shrinking_slices_stacks_and_saturating_clips_are_rewritten_exactly(tmp_path):
    """What a recurrent step does to its sequence and state: a time step sliced out (a shrinking
    STRIDED_SLICE), outputs stacked (PACK), a state clipped to the range calibration gives it
    (MINIMUM and MAXIMUM at the int8 limits)."""
    inputs = keras.Input((3, 8), batch_size=1)
    ops = keras.ops
    first, last = inputs[:, 0, :], inputs[:, 2, :]
    clipped = ops.clip(keras.layers.Dense(8)(first), -3.0, 3.0)  # ([-1, 1] becomes RELU_N1_TO_1)
    outputs = [ops.stack([first, last], axis=1), keras.layers.Dense(4)(clipped)]
    sequences = np.random.default_rng(0).normal(0, 2, (50, 3, 8)).astype(np.float32)
    plain = convert(keras.Model(inputs, outputs), "int8", sequences)
    rewritten, counts = for_xnnpack(plain)
    assert counts["STRIDED_SLICE"] == 2 and counts["PACK"] == 1
    assert counts["MINIMUM"] == counts["MAXIMUM"] == 1
    path = tmp_path / "rewritten.tflite"
    path.write_bytes(rewritten)
    assert xnnpack_report(path)["cpu_ops"] == {}
    for output in range(2):
        before, after = _run(plain, sequences, output)[0], _run(rewritten, sequences, output)[0]
        # one step at most, and only where a value sits at the clip's bound
        assert np.abs(before - after).max() <= 1 and (before != after).mean() < 0.05


def test_a_clip_inside_the_tensors_range_is_kept():
    inputs = keras.Input((8,), batch_size=1)
    clipped = keras.ops.clip(keras.layers.Dense(8)(inputs), -3.0, 3.0)
    outputs = keras.layers.Dense(4)(keras.layers.Concatenate()([clipped, inputs]))  # one range for both
    plain = convert(keras.Model(inputs, outputs), "int8",
                    np.random.default_rng(0).normal(0, 4, (50, 8)).astype(np.float32))
    from deepedge.export.graph import read_graph

    assert {"MINIMUM", "MAXIMUM"} <= {op.name for op in read_graph(plain).subgraphs[0].ops}
    rewritten, counts = for_xnnpack(plain)
    assert "MINIMUM" not in counts and "MAXIMUM" not in counts


def test_the_embeddings_negative_index_wrap_is_dropped():
    """Keras's Embedding wraps negative ids (LESS, ADD, SELECT before GATHER): int32 ops that
    neither XNNPACK nor TFLite Micro (SELECT) take. The lookup then reads the ids as given."""
    from deepedge.export.graph import read_graph

    ids = keras.Input((4,), batch_size=1, dtype="int32")
    outputs = keras.layers.Dense(3)(keras.layers.Flatten()(keras.layers.Embedding(20, 8)(ids)))
    samples = np.random.default_rng(0).integers(0, 20, (30, 4)).astype(np.int32)
    plain = convert(keras.Model(ids, outputs), "int8", samples)
    rewritten, counts = for_xnnpack(plain)
    assert counts == {"SELECT": 1}
    names = [op.name for op in read_graph(rewritten).subgraphs[0].ops]
    assert not {"LESS", "ADD", "SELECT", "SELECT_V2"} & set(names) and "GATHER" in names
    assert np.array_equal(_run(plain, samples)[0], _run(rewritten, samples)[0])


def test_a_concatenation_of_more_than_five_becomes_a_tree_xnnpack_takes(tmp_path):
    inputs = keras.Input((4,), batch_size=1)
    outputs = keras.layers.Concatenate()([keras.layers.Dense(3)(inputs) for _ in range(12)])
    samples = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    plain = convert(keras.Model(inputs, outputs), "int8", samples)
    rewritten, counts = for_xnnpack(plain)
    assert counts == {"CONCATENATION": 1}
    path = tmp_path / "rewritten.tflite"
    path.write_bytes(rewritten)
    assert xnnpack_report(path)["cpu_ops"] == {}  # XNNPACK takes five inputs at most
    assert np.array_equal(_run(plain, samples)[0], _run(rewritten, samples)[0])
