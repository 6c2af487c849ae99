"""EdgeStepModel.bind: a decoder's fixed inputs (the encoder memory) are set once per decode,
and the steps still give exactly what a plain `run` with every input gives, also when two
decodes interleave on one thread or a plain `run` comes between two steps."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.presets import saved_models_dir
from deepedge.runtime import load


@pytest.fixture(scope="module")
def translator():
    return load(saved_models_dir() / "es_en_attention")


def _memory(model, sentence):
    source = model.source_tokenizer.encode(sentence)[: model.max_source_length - 1]
    ids = np.zeros(model.max_source_length, np.int32)
    ids[: len(source) + 1] = [*source, model.source_tokenizer.end_id]
    encoded = model.encode_one(ids)
    rows = model.decoder_rows
    return {name: np.repeat(value, rows, axis=0) for name, value in encoded.items()}


def _steps(model, memory, tokens, call):
    state = {name: memory[name] for name in ("h", "c")}
    fixed = {name: value for name, value in memory.items() if name not in ("h", "c")}
    logits = []
    for token in tokens:
        out = call(fixed, np.full(model.decoder_rows, token, np.int32), state)
        state = {"h": out["h"], "c": out["c"]}
        logits.append(out["logits"])
    return logits


def test_bound_steps_match_plain_runs_also_when_decodes_interleave(translator):
    first = _memory(translator, "En el principio creó Dios los cielos y la tierra.")
    second = _memory(translator, "Y dijo Dios: Sea la luz; y fué la luz.")
    tokens = [translator.target_tokenizer.end_id, *translator.target_tokenizer.encode("In the beginning God")]

    def plain(fixed, token, state):
        return translator.run("decode_step", token=token, **fixed, **state)

    expected_first, expected_second = (_steps(translator, m, tokens, plain) for m in (first, second))
    bound = {}

    def bound_call(key, memory):
        def call(fixed, token, state):
            if key not in bound:
                bound[key] = translator.bind("decode_step", **fixed)
            if key == "first":  # a plain run of the same signature between two bound steps
                translator.run("decode_step", token=token, **{n: v for n, v in second.items()})
            return bound[key](token=token, **state)
        return call

    # the two decodes step in turn on one thread: each must find its own memory again
    state_first = {n: first[n] for n in ("h", "c")}
    state_second = {n: second[n] for n in ("h", "c")}
    for t, token in enumerate(tokens):
        token = np.full(translator.decoder_rows, token, np.int32)
        a = bound_call("first", first)({n: v for n, v in first.items() if n not in ("h", "c")}, token, state_first)
        b = bound_call("second", second)({n: v for n, v in second.items() if n not in ("h", "c")}, token, state_second)
        np.testing.assert_array_equal(a["logits"], expected_first[t])
        np.testing.assert_array_equal(b["logits"], expected_second[t])
        state_first, state_second = {"h": a["h"], "c": a["c"]}, {"h": b["h"], "c": b["c"]}
    assert not np.array_equal(expected_first[-1], expected_second[-1])  # the memories differ


def test_bound_signature_checks_its_inputs(translator):
    memory = _memory(translator, "Hola.")
    step = translator.bind("decode_step", **{n: v for n, v in memory.items() if n not in ("h", "c")})
    with pytest.raises(InvalidInputError, match="takes inputs"):
        step(token=np.zeros(translator.decoder_rows, np.int32))
    with pytest.raises(InvalidInputError, match="must have shape"):
        step(token=np.zeros(1, np.int32), h=memory["h"], c=memory["c"])
    with pytest.raises(InvalidInputError, match="NaN"):
        step(token=np.zeros(translator.decoder_rows, np.int32), h=memory["h"] * np.nan, c=memory["c"])
