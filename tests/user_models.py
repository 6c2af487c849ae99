"""Tiny Keras models that deepedge did not build, for the tests of `export_model`, `deepedge doctor`,
`deepedge export MY_MODEL.keras` and the generic runtime (imported by test files in several folders)."""

import numpy as np


def two_input_model(seed=0):
    """A functional model with two inputs (an 8x8 grey image taking pixels scaled to 0..1, three
    numbers) and two outputs (`kind`: 3 class probabilities, `size`: one number)."""
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    image = keras.Input((8, 8, 1), name="image")
    extra = keras.Input((3,), name="extra")
    hidden = keras.layers.Conv2D(8, 3, activation="relu")(image)
    hidden = keras.layers.GlobalAveragePooling2D()(hidden)
    hidden = keras.layers.Concatenate()([hidden, keras.layers.Dense(4, activation="relu")(extra)])
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(hidden)
    size = keras.layers.Dense(1, name="size")(hidden)
    return keras.Model([image, extra], [kind, size], name="two_by_two")


def two_input_data(model, count=300, seed=0):
    """`(inputs, kind labels, sizes)`: raw uint8 images and numbers, labelled by the float model
    itself (fed images / 255), so the float model scores 100% and parity measures quantization."""
    from deepedge.backend import keras

    rng = np.random.default_rng(seed)
    inputs = {"image": rng.integers(0, 256, (count, 8, 8, 1)).astype(np.uint8),
              "extra": rng.normal(size=(count, 3)).astype(np.float32)}
    kind, size = model([inputs["image"].astype(np.float32) / 255.0, inputs["extra"]])
    return inputs, np.argmax(keras.ops.convert_to_numpy(kind), -1), keras.ops.convert_to_numpy(size)


def image_classifier(seed=0, shape=(8, 8, 1), classes=3):
    """A small CNN on raw 0..255 pixels (a Rescaling layer inside), softmax over `classes`."""
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    image = keras.Input(shape, name="image")
    hidden = keras.layers.Rescaling(1 / 255)(image)
    hidden = keras.layers.Conv2D(8, 3, activation="relu")(hidden)
    hidden = keras.layers.GlobalAveragePooling2D()(hidden)
    return keras.Model(image, keras.layers.Dense(classes, activation="softmax", name="probs")(hidden), name="tiny_cnn")


def model_with_problems():
    """A model with four problems for `deepedge doctor`: free sequence length, an LSTM over the
    whole sequence, a layer computing in float16, and a Lambda layer."""
    from deepedge.backend import keras

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(50, 8)(tokens)
    hidden = keras.layers.LSTM(8, name="encoder")(hidden)
    hidden = keras.layers.Dense(8, dtype="mixed_float16", name="half")(hidden)
    hidden = keras.layers.Lambda(lambda t: t * 2.0, name="double")(hidden)
    return keras.Model(tokens, keras.layers.Dense(2, dtype="float32", name="logits")(hidden), name="troubled")
