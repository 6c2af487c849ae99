"""Language models: step-wise equivalence, save/load, export to LiteRT and the on-device runtime."""

import json
import subprocess
import sys

import numpy as np
import pytest

from deepedge.ops.decoding import Sampler, beam_search, log_softmax, sample_sequence, segment_starts
from deepedge.errors import InvalidInputError, ParityError


@pytest.fixture(scope="module")
def austen_small():
    from deepedge.data.text import load_austen
    from deepedge.tokenizers import WordTokenizer

    train, validation = load_austen("train").take(4), load_austen("validation").take(1)
    tokenizer = WordTokenizer.from_texts(train.paragraphs, max_vocabulary=500)
    return train, validation, tokenizer


def _fit(model, ids):
    from deepedge.apps.language_modelling import NPLM
    from deepedge.apps.language_modelling.training import sequence_windows
    from deepedge.backend import keras

    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x, y = model.contexts(ids) if isinstance(model, NPLM) else sequence_windows(ids, 32)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def trained(austen_small):
    """A tiny two-layer LSTM LM and an NPLM trained for seconds on four Austen chapters."""
    from deepedge.apps.language_modelling import NPLM, LSTMLanguageModel
    from deepedge.backend import keras

    train, _, tokenizer = austen_small
    ids = np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32)
    keras.utils.set_random_seed(0)
    lstm = _fit(LSTMLanguageModel(tokenizer, embedding_dim=32, lstm_units=[64, 48], dropout=0.1), ids)
    nplm = _fit(NPLM(tokenizer, context_size=3, embedding_dim=16, hidden_units=64, direct_connections=True), ids)
    return {"lstm": lstm, "nplm": nplm}


@pytest.fixture(scope="module")
def exported(trained, austen_small, tmp_path_factory):
    from deepedge.edge import export

    train, validation, _ = austen_small
    out = {}
    for name, model in trained.items():
        for quantization in ("int8", "float32"):
            path = tmp_path_factory.mktemp("lm") / f"{name}_{quantization}"
            export(model, path, quantization=quantization, calibration_data=train, evaluation_data=validation,
                   max_drop=25.0, num_calibration=400, latency_runs=100, extra_metadata={"data": "austen"})
            out[name, quantization] = path
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "nplm"])
def test_training_beats_the_unigram_and_steps_match_the_sequence_model(trained, austen_small, name):
    model = trained[name]
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
def test_save_and_load_keep_weights_tokenizer_and_config(trained, austen_small, tmp_path, name):
    from deepedge.backend import keras

    model = trained[name]
    model.save(tmp_path / "lm.keras")
    again = keras.saving.load_model(tmp_path / "lm.keras", safe_mode=True)
    assert again.get_config() == model.get_config()
    ids = austen_small[2].encode("she was very happy")
    np.testing.assert_allclose(again.token_nll(np.asarray(ids)), model.token_nll(np.asarray(ids)), rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "nplm"])
def test_exported_steps_agree_with_keras(trained, exported, name):
    from deepedge.edge import load

    model = trained[name]
    keras_step = model.keras_step_fn()
    for quantization, tolerance in (("float32", 1e-4), ("int8", None)):
        runtime = load(exported[name, quantization])
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
def test_export_records_state_signatures_and_parity(exported, trained, austen_small):
    from deepedge.edge import load

    meta = json.loads((exported["lstm", "int8"] / "model.json").read_text())
    assert list(meta["signature_io"]) == ["step"]
    assert [s["name"] for s in meta["state"]["step"]] == ["h0", "c0", "h1", "c1"]
    assert not any(op.startswith("Flex") or op == "CUSTOM" for op in meta["ops"])
    assert "FULLY_CONNECTED" in meta["ops"] and meta["quantization"] == "int8"
    assert meta["metrics"]["metric"] == "perplexity" and meta["metrics"]["drop_unit"] == "percent"
    assert meta["tokenizer"]["vocabulary"] == trained["lstm"].tokenizer.vocabulary
    runtime = load(exported["lstm", "int8"])
    assert runtime.perplexity(austen_small[1]) == pytest.approx(meta["metrics"]["litert_int8"], rel=1e-6)
    nplm = json.loads((exported["nplm", "int8"] / "model.json").read_text())
    assert nplm["state"]["step"] == [{"name": "context", "shape": [1, 3], "dtype": "int32", "initial": 1.0}]


@pytest.mark.slow
def test_parity_failure_writes_nothing(trained, austen_small, tmp_path):
    from deepedge.edge import export

    train, validation, _ = austen_small
    with pytest.raises(ParityError, match="perplexity"):
        export(trained["lstm"], tmp_path / "strict", calibration_data=train, evaluation_data=validation,
               max_drop=-50.0, num_calibration=100, latency_runs=10)
    assert not (tmp_path / "strict").exists()


@pytest.mark.slow
def test_runtime_generates_without_tensorflow(exported):
    code = (
        "import sys, deepedge.edge as e\n"
        f"lm = e.load({str(exported['lstm', 'int8'])!r})\n"
        "a = lm.generate('she was', max_tokens=12, seed=3)\n"
        "b = lm.generate('she was', max_tokens=12, seed=3)\n"
        "g = lm.generate('she was', max_tokens=12, beam_width=3)\n"
        "assert a == b and a.startswith('She was') and g.startswith('She was'), (a, b, g)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


@pytest.mark.slow
def test_runtime_rejects_bad_input(exported):
    from deepedge.edge import load

    runtime = load(exported["lstm", "int8"])
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


def _markov_step(table):
    """A step function over a fixed transition table (rows: previous token)."""
    def step(token, state):
        return np.log(table[token]), state
    return step


def test_sampling_controls():
    rng = np.random.default_rng(0)
    logits = np.array([0.0, 3.0, 1.0, 2.9])
    assert Sampler("greedy")(logits, rng) == 1
    assert Sampler("sample", top_k=1)(logits, rng) == 1
    assert Sampler("greedy", banned=(1,))(logits, rng) == 3
    draws = [Sampler("sample", top_k=2)(logits, rng) for _ in range(200)]
    assert set(draws) == {1, 3}
    cold = [Sampler("sample", temperature=0.05)(logits, rng) for _ in range(50)]
    assert cold.count(1) > 40
    with pytest.raises(InvalidInputError):
        Sampler("sample", temperature=0)


def test_beam_search_finds_what_greedy_misses():
    # From token 0, greedy takes 1 (p=0.6) and then 0 (p=0.55): 0.33 in all. The better path
    # is 2 (p=0.4) then 3 (p=1.0): 0.4.
    table = np.full((4, 4), 1e-9)
    table[0, 1], table[0, 2] = 0.6, 0.4
    table[1, 3], table[1, 0] = 0.45 - 3e-9, 0.55
    table[2, 3] = 1.0
    table[3, 3] = 1.0
    step = _markov_step(table)
    greedy = sample_sequence(step, [0], {}, 2, Sampler("greedy"))
    best = beam_search(step, [0], {}, 2, beam_width=2, stop_token=3)[0][0]
    assert greedy == [1, 0] and best == [2, 3]


def test_segments_cover_the_stream_once():
    starts = segment_starts(10_000)
    assert starts[0] == 0 and len(starts) == 16 and starts == sorted(set(starts))
    assert segment_starts(100) == [0]


def test_kneser_ney_is_a_distribution_and_prefers_seen_text():
    from deepedge.ops.ngram import KneserNey

    rng = np.random.default_rng(0)
    text = list(rng.integers(2, 40, 3000)) + [5, 6, 7, 8] * 200
    kn = KneserNey(order=4).fit(text, vocabulary_size=50)
    for context in ([5, 6, 7], [39, 38, 2], [49, 49, 49], []):
        assert sum(kn.probability(w, context) for w in range(50)) == pytest.approx(1.0, abs=1e-9)
    assert kn.probability(8, [5, 6, 7]) > 0.9
    assert kn.perplexity([5, 6, 7, 8] * 20) < kn.perplexity(list(rng.integers(2, 40, 80)))
