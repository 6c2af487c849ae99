"""The LSTM language model and the NPLM: training, step-wise equivalence, `.keras` files and export.

The models are trained once per session (`trained_language_models` in tests/conftest.py).
"""

import json

import numpy as np
import pytest

from deepedge.errors import ParityError
from deepedge.ops.decoding import log_softmax
from test_case import run_task_test


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "nplm"])
def test_training_beats_the_unigram_and_steps_match_the_sequence_model(trained_language_models, austen_small, name):
    model = trained_language_models[name]
    _, validation, tokenizer = austen_small
    ids = np.asarray(tokenizer.encode_paragraphs(validation.paragraphs), np.int32)
    assert model.perplexity(ids) < 150  # an untrained model scores ~500 (the vocabulary size)
    step, state, previous, nll = model.keras_step_fn(), model.initial_state(), tokenizer.end_id, []
    for token in ids[:40]:
        logits, state = step(int(previous), state)
        nll.append(-log_softmax(logits)[token])
        previous = token
    np.testing.assert_allclose(nll, model.token_nll(ids)[:40], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "nplm"])
def test_save_and_load_keep_weights_tokenizer_and_config(trained_language_models, austen_small, tmp_path, name):
    model = trained_language_models[name]
    ids = np.asarray(austen_small[2].encode("she was very happy"), np.int32)
    # The LSTM reads a (batch, steps) sequence of ids, the NPLM a (batch, context_size) window per id.
    inputs, steps = (ids[None], (1, len(ids))) if name == "lstm" else (model.contexts(ids)[0], (len(ids),))
    again = run_task_test(model, inputs, (*steps, model.vocabulary_size), tmp_path)
    assert again.get_config() == model.get_config()
    assert again.tokenizer.vocabulary == model.tokenizer.vocabulary
    np.testing.assert_allclose(again.token_nll(ids), model.token_nll(ids), rtol=1e-5)


@pytest.mark.slow
def test_export_records_state_signatures_and_parity(exported_language_models, trained_language_models,
                                                    austen_small):
    from deepedge.edge import load

    exported = exported_language_models
    meta = json.loads((exported["lstm", "int8"] / "model.json").read_text())
    assert list(meta["signature_io"]) == ["step"]
    assert [s["name"] for s in meta["state"]["step"]] == ["h0", "c0", "h1", "c1"]
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in meta["ops"])
    assert "FULLY_CONNECTED" in meta["ops"] and meta["quantization"] == "int8"
    assert meta["metrics"]["metric"] == "perplexity" and meta["metrics"]["drop_unit"] == "percent"
    assert meta["tokenizer"]["vocabulary"] == trained_language_models["lstm"].tokenizer.vocabulary
    runtime = load(exported["lstm", "int8"])
    assert runtime.perplexity(austen_small[1]) == pytest.approx(meta["metrics"]["litert_int8"], rel=1e-6)
    nplm = json.loads((exported["nplm", "int8"] / "model.json").read_text())
    # the runtime shifts each token into the NPLM's window; its lifted lookup reads the window
    assert nplm["state"]["step"] == [{"name": "context", "shape": [1, 3], "dtype": "int32", "initial": 1.0,
                                      "shift": "token"}]
    assert [(entry["signature"], entry["ids"]) for entry in nplm["lookups"]] == [("step", "context")]
    for meta in (meta, nplm):
        assert meta["accelerators"]["xnnpack"]["delegated"] == meta["accelerators"]["xnnpack"]["ops"]
    device = load(exported["nplm", "int8"])
    assert device.perplexity(austen_small[1]) == pytest.approx(nplm["metrics"]["litert_int8"], rel=1e-6)


@pytest.mark.slow
def test_parity_failure_writes_nothing(trained_language_models, austen_small, tmp_path):
    from deepedge.edge import export

    train, validation, _ = austen_small
    with pytest.raises(ParityError, match="perplexity"):
        export(trained_language_models["lstm"], tmp_path / "strict", calibration_data=train,
               evaluation_data=validation, max_drop=-50.0, num_calibration=100, latency_runs=10)
    assert not (tmp_path / "strict").exists()


@pytest.mark.slow
def test_quantization_aware_fine_tuning_saves_ranges_that_load_and_refuses_a_second_run(trained_language_models,
                                                                                        tmp_path):
    from deepedge.apps.language_modelling import LSTMLanguageModel
    from deepedge.apps.language_modelling.recipes import fine_tune_quantization_aware
    from deepedge.errors import InvalidInputError
    from deepedge.training.qat import is_quantization_aware, quantization_ranges
    from deepedge.training.qat_files import RANGES_NAME

    trained_language_models["lstm"].save(tmp_path / "model.keras")
    (tmp_path / "training.json").write_text(json.dumps({"command": "deepedge train tiny"}))
    model, record = fine_tune_quantization_aware("austen_lstm_word", tmp_path, epochs=1, verbose=False, limit=2)
    assert is_quantization_aware(model) and record["epochs"] == 1 and record["float_layers"] == ["embedding"]
    assert "--quantization-aware" in record["command"] and record["validation_perplexity_fake_quant"] > 1
    saved = json.loads((tmp_path / RANGES_NAME).read_text())
    assert saved["ranges"] == quantization_ranges(model) and saved["model_file"] == "model.keras"
    training = json.loads((tmp_path / "training.json").read_text())
    assert training["command"] == "deepedge train tiny" and training["quantization_aware"] == record
    assert is_quantization_aware(LSTMLanguageModel.load(tmp_path / "model.keras"))
    with pytest.raises(InvalidInputError, match="already quantization-aware"):
        fine_tune_quantization_aware("austen_lstm_word", tmp_path)
