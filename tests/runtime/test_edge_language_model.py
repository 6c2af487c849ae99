"""EdgeLanguageModel: the exported step signature agrees with Keras, generates without
TensorFlow, and refuses bad input."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from test_case import check_runtime_without_tensorflow


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "nplm"])
def test_exported_steps_agree_with_keras(trained_language_models, exported_language_models, name):
    from deepedge.edge import load

    model = trained_language_models[name]
    keras_step = model.keras_step_fn()
    for quantization, tolerance in (("float32", 1e-4), ("int8", None)):
        runtime = load(exported_language_models[name, quantization])
        edge_step = runtime.step_fn()
        k_state, e_state = model.initial_state(), runtime.initial_state()
        agree = 0
        for token in [1] + model.tokenizer.encode("it is a truth universally acknowledged that she was"):
            k_logits, k_state = keras_step(token, k_state)
            e_logits, e_state = edge_step(token, e_state)
            if tolerance:
                np.testing.assert_allclose(e_logits, k_logits, atol=tolerance, rtol=1e-4)
            agree += int(np.argmax(e_logits) == np.argmax(k_logits))
        assert agree >= 9  # int8: the top token matches at nearly every step


@pytest.mark.slow
def test_runtime_generates_without_tensorflow(exported_language_models):
    a, b, g = check_runtime_without_tensorflow(
        exported_language_models["lstm", "int8"],
        "[runtime.generate('she was', max_tokens=12, seed=3), runtime.generate('she was', max_tokens=12, seed=3),"
        " runtime.generate('she was', max_tokens=12, beam_width=3)]")
    assert a == b and a.startswith("She was") and g.startswith("She was"), (a, b, g)


@pytest.mark.slow
def test_runtime_rejects_bad_input(exported_language_models):
    from deepedge.edge import load

    runtime = load(exported_language_models["lstm", "int8"])
    state = runtime.initial_state()
    with pytest.raises(InvalidInputError, match="shape"):
        runtime.step({"token": np.array([3], np.int32)}, {**state, "h0": np.zeros((1, 7), np.float32)})
    with pytest.raises(InvalidInputError, match="NaN"):
        runtime.step({"token": np.array([3], np.int32)}, {**state, "c0": np.full((1, 64), np.nan, np.float32)})
    with pytest.raises(InvalidInputError, match="inputs"):
        runtime.step({"tokens": np.array([3], np.int32)}, state)
    with pytest.raises(InvalidInputError, match="Token ids"):
        runtime.perplexity(np.array([1, 2, 10_000]))
    with pytest.raises(InvalidInputError, match="string"):
        runtime.generate(42)
    with pytest.raises(InvalidInputError, match="signature"):
        runtime.run("encode", token=np.array([1], np.int32))
