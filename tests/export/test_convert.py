"""deepedge.export.convert: Keras to LiteRT flatbuffers, builtin ops only, float layers kept float."""

import numpy as np
import pytest

from deepedge.backend import keras, tf
from deepedge.errors import ConversionError
from deepedge.export.convert import convert


def test_flex_op_fails_naming_the_layer_and_the_op():
    class Determinant(keras.layers.Layer):
        def call(self, x):
            return tf.linalg.det(tf.reshape(x, (-1, 2, 2)))

    inputs = keras.Input((4,), batch_size=1)
    model = keras.Model(inputs, Determinant(name="determinant")(keras.layers.Dense(4)(inputs)))
    with pytest.raises(ConversionError, match=r"Layer 'determinant' uses TensorFlow op\(s\) MatrixDeterminant"):
        convert(model, "float32")


def test_float_layers_stay_float_even_when_they_produce_the_output():
    """Selective int8: a deny-listed layer keeps float weights, also when its op writes the model's output."""
    from ai_edge_litert.interpreter import Interpreter

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16,), batch_size=1)
    hidden = keras.layers.Dense(32, activation="relu", name="body")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(4, name="head")(hidden))
    samples = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    interpreter = Interpreter(model_content=convert(model, "int8", samples, float_layers=("head",)))
    kinds = []
    for op in interpreter._get_ops_details():
        if op["op_name"] == "FULLY_CONNECTED":
            kinds.append(interpreter._get_tensor_details(op["inputs"][1], 0)["dtype"].__name__)
    assert sorted(kinds) == ["float32", "int8"]  # body int8, head float
