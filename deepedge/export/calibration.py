"""Calibration samples for step-wise decoders: real states, teacher-forced through real outputs."""

import numpy as np

from deepedge.backend import keras, tf


def graph_function(model):
    """`model(inputs, training=False)` traced once into a graph (`tf.function`): calibration
    steps a Keras model thousands of times, and eagerly each step costs milliseconds of op
    dispatch (a quantization-aware LSTM step 128 ms, as a graph under 10 ms)."""
    return tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)


def teacher_forced_steps(step_model, carried, tokens, rows, steps=8):
    """`("decode_step", inputs)` calibration samples of a decoder reading `tokens` (the start
    token, then a reference's words) from the state and memory in `carried` (a dict, every
    entry `(rows, ...)`, with the state as `h` and `c`): `steps` of them spread evenly from the
    first token to the last, so the states late in a long output are calibrated as well as
    those at its start.

    `step_model` is the Keras `decode_step` signature model, or its `graph_function`:
    `[token, *carried] -> [logits, h, c, ...]`.
    """
    carried = dict(carried)
    recorded = set(np.linspace(0, len(tokens) - 1, min(steps, len(tokens))).round().astype(int))
    samples = []
    for t, token in enumerate(tokens):
        token_row = np.full(rows, token, np.int32)
        if t in recorded:
            samples.append(("decode_step", {"token": token_row, **carried}))
        if t == max(recorded):
            break
        _, h, c, *_ = step_model([token_row, *carried.values()])
        carried["h"], carried["c"] = keras.ops.convert_to_numpy(h), keras.ops.convert_to_numpy(c)
    return samples


__all__ = ["graph_function", "teacher_forced_steps"]
