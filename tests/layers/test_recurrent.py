"""deepedge.layers.recurrent: an LSTM step laid out for int8 export."""

import numpy as np
import pytest

from deepedge.backend import keras


def _cell(units=16, inputs=8, seed=0):
    keras.utils.set_random_seed(seed)
    cell = keras.layers.LSTMCell(units, name="cell")
    cell.build((None, inputs))
    rng = np.random.default_rng(seed)
    kernel, recurrent, bias = cell.get_weights()
    # forget gates near 1, and two units whose input and candidate stay open: their cell state
    # grows to about 20 over a sequence while the others stay near 1, as in trained LSTMs
    bias[units:2 * units] = 3.0
    bias[:2], bias[2 * units:2 * units + 2] = 5.0, 5.0
    cell.set_weights([rng.normal(0, 0.3, kernel.shape), rng.normal(0, 0.2, recurrent.shape), bias])
    return cell


def test_gatewise_step_computes_what_the_keras_cell_computes():
    from deepedge.layers import GatewiseLSTMStep

    cell = _cell()
    step = GatewiseLSTMStep(cell)
    assert step.name == "cell_step" and step.state_update.name == "cell_state"
    rng = np.random.default_rng(1)
    x, h, c = (rng.normal(size=(3, n)).astype("float32") for n in (8, 16, 16))
    _, (h_keras, c_keras) = cell(x, [h, c])
    h_step, c_step = step(x, h, c)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(h_step), keras.ops.convert_to_numpy(h_keras), atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(c_step), keras.ops.convert_to_numpy(c_keras), atol=1e-5)


def test_step_select_picks_steps_and_reorders_them_exactly():
    from deepedge.layers import StepSelect
    from deepedge.ops.sources import source_feeds

    states = [np.full((1, 4), t + 0.25, np.float32) for t in range(5)]
    feeds = source_feeds(np.array([7, 8, 9, 2, 2]), end_id=2)  # three words and the end token
    last = StepSelect()(feeds["source_last"], states)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(last), np.full((1, 1, 4), 3.25))
    ordered = keras.ops.convert_to_numpy(StepSelect()(feeds["source_order"], np.stack(states, axis=1)))
    # step k of a reversed read read position 3 - k; the padding stays where it is
    assert ordered[0, :, 0].tolist() == [3.25, 2.25, 1.25, 0.25, 4.25]


@pytest.mark.slow
def test_int8_export_keeps_the_cell_state_in_float_and_tracks_a_long_sequence():
    """Over 60 steps with a cell state growing to tens, the gatewise step with its state update
    in float follows the float cell far more closely than the Keras cell converted to int8."""
    from deepedge.export.convert import convert_signatures
    from deepedge.layers import GatewiseLSTMStep
    from deepedge import quiet

    cell = _cell()
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(60, 1, 8)).astype("float32")

    def step_model(gatewise):
        x, h, c = keras.Input((8,), batch_size=1, name="x"), keras.Input((16,), batch_size=1, name="h"), \
            keras.Input((16,), batch_size=1, name="c")
        if gatewise:
            h_next, c_next = GatewiseLSTMStep(cell)(x, h, c)
        else:
            _, (h_next, c_next) = cell(x, [h, c])
        return {"step": {"model": keras.Model([x, h, c], [h_next, c_next]), "inputs": ["x", "h", "c"],
                         "outputs": ["h", "c"]}}

    h = c = np.zeros((1, 16), np.float32)
    samples, float_h, float_c = [], [], []
    for x in xs:
        samples.append(("step", {"x": x, "h": h, "c": c}))
        _, (h, c) = cell(x, [h, c])
        h, c = keras.ops.convert_to_numpy(h), keras.ops.convert_to_numpy(c)
        float_h.append(h)
        float_c.append(c)
    assert np.abs(float_c[-1]).max() > 10 > 2 > np.median(np.abs(float_c[-1]))  # the case this layout is for

    errors = {}
    for gatewise in (True, False):
        flatbuffer = convert_signatures(step_model(gatewise), "int8", samples,
                                        float_layers=("cell_state",) if gatewise else ())
        with quiet.native_output_silenced():
            from ai_edge_litert.interpreter import Interpreter

            runner = Interpreter(model_content=flatbuffer).get_signature_runner("step")
        h = c = np.zeros((1, 16), np.float32)
        h_errors, c_errors = [], []
        for x, h_float, c_float in zip(xs, float_h, float_c):
            out = runner(x=x, h=h, c=c)
            h, c = out["h"], out["c"]
            h_errors.append(np.abs(h - h_float).mean())
            c_errors.append(np.median(np.abs(c - c_float)))  # the typical unit, not the two large ones
        errors[gatewise] = (float(np.mean(h_errors)), float(np.mean(c_errors)))
    assert errors[True][0] < errors[False][0] / 3 and errors[True][1] < errors[False][1] / 3, errors
