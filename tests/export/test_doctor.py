"""deepedge.export.doctor: every problem of a model for a builtin-only int8 export, listed at once,
before any conversion, each with its layer and its fix."""

import pytest

from deepedge.backend import keras
from deepedge.export.doctor import diagnose, diagnose_file
from user_models import image_classifier, model_with_problems


def _found(problems):
    return {(p.severity, p.layer) for p in problems}


def test_several_problems_are_listed_at_once_errors_first():
    problems = diagnose(model_with_problems())
    assert _found(problems) == {("error", "encoder"), ("error", "half"), ("warning", "tokens"),
                                ("warning", "double")}
    assert [p.severity for p in problems] == ["error", "error", "warning", "warning"]
    recurrent = next(p for p in problems if p.layer == "encoder")
    assert "unroll=True" in recurrent.fix and "StepwiseExportMixin" in recurrent.fix
    assert "set_dtype_policy('float32')" in next(p for p in problems if p.layer == "half").fix


def test_a_clean_model_has_no_problem():
    assert diagnose(image_classifier()) == []


def test_an_unrolled_lstm_over_a_fixed_length_passes_and_a_bidirectional_one_is_named_once():
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(30, 4)(tokens)
    hidden = keras.layers.LSTM(4, unroll=True, return_sequences=True)(hidden)
    hidden = keras.layers.Bidirectional(keras.layers.GRU(4), name="both_ways")(hidden)
    problems = diagnose(keras.Model(tokens, keras.layers.Dense(2)(hidden)))
    assert _found(problems) == {("error", "both_ways")}


def test_string_inputs_and_text_layers_are_errors_with_the_tokenizer_fix():
    text = keras.Input((1,), dtype="string", name="text")
    lookup = keras.layers.StringLookup(vocabulary=["a", "b"], name="lookup")(text)
    problems = diagnose(keras.Model(text, keras.layers.Dense(2)(keras.ops.cast(lookup, "float32"))))
    assert {("error", "text"), ("error", "lookup")} <= _found(problems)
    assert all("deepedge.tokenizers" in p.fix for p in problems if p.severity == "error")


@pytest.mark.slow
def test_the_conversion_check_names_each_op_that_needs_flex_with_its_layer():
    class Wave(keras.layers.Layer):
        def call(self, x):
            return keras.ops.erf(x)

    inputs = keras.Input((4,), name="values")
    problems = diagnose(keras.Model(inputs, Wave(name="wave")(keras.layers.Dense(4)(inputs))), convert=True)
    assert _found(problems) == {("note", "wave"), ("error", "wave")}
    error = next(p for p in problems if p.severity == "error")
    assert "Erf" in error.what and "gelu" in error.fix


def test_a_keras_file_safe_mode_refuses_is_diagnosed_from_its_config(tmp_path):
    path = tmp_path / "troubled.keras"
    model_with_problems().save(path)
    model, problems = diagnose_file(path)
    assert model is None
    assert "safe mode" in problems[0].what and problems[0].severity == "error"
    assert {("error", "encoder"), ("error", "half"), ("error", "double"), ("warning", "tokens")} <= _found(problems)
