"""Fuzz targets of the on-device runtime: the public methods of the shipped models, loaded once
with `deepedge.edge.load`, on awkward arguments (see `fuzz_core` for the property).

Each example is a dict of keyword arguments; arguments left out take their defaults. Counts
that set how much work a call does (`max_tokens`, `beam_width`, `max_steps`) are drawn small
or junk, never huge: a huge valid count is a request for hours of work, not a bad input.
"""

import math

from hypothesis import strategies as st

from fuzz_core import (Target, array_problem, first_problem, labels_problem, probabilities_problem, text_problem,
                       texts_problem)
from fuzz_strategies import arrays, counts, inputs, junk, numbers, texts, usual_arrays

AUDIO = dict(valid_dtypes=("int16", "float32"), valid_patterns=("unit", "zeros"))


def kwargs(required, **optional):
    return st.fixed_dictionaries(required, optional=optional)


def method(model, name):
    """`call` of a target: `resources.model(model).name(**example)`."""
    return lambda resources, example: getattr(resources.model(model), name)(**example)


def _top_k():
    return st.one_of(st.integers(-1, 25), junk())


# === Image classifier, keyword spotter ===

def _classify_check(model):
    return lambda r, ex, result: labels_problem(result, r.model(model).class_names, ex.get("top_k", 1))


def _detections_problem(result, names):
    for item in result:
        if (not isinstance(item, tuple) or len(item) != 3 or not math.isfinite(item[0]) or item[0] < 0
                or item[1] not in names or not 0.0 <= item[2] <= 1.0):
            return f"bad detection {item!r}"
    return None


def _unknown(resources):
    return resources.model("kws_dscnn").class_names.index("_unknown_")


def _calibrate(resources, example):
    spotter = resources.model("kws_dscnn")
    previous = spotter.threshold
    try:
        return spotter.calibrate(**example)
    finally:
        spotter.threshold = previous  # the other targets keep the shipped threshold


def _calibration_problem(result):
    if not isinstance(result, dict) or not 0.0 <= result["threshold"] <= 0.99:
        return f"bad calibration {result!r:.100}"
    return None


CLASSIFIERS = [
    Target("fashion_edgenet.predict", "runtime", lambda r: kwargs({"images": inputs([(28, 28), (28, 28, 1)])}),
           method("fashion_edgenet", "predict"), lambda r, ex, result: probabilities_problem(result, 10)),
    Target("fashion_edgenet.classify", "runtime",
           lambda r: kwargs({"images": inputs([(28, 28), (2, 28, 28, 1)])}, top_k=_top_k()),
           method("fashion_edgenet", "classify"), _classify_check("fashion_edgenet")),
    Target("kws_dscnn.predict", "runtime", lambda r: kwargs({"audio": inputs([(16000,), (2, 16000)], **AUDIO)}),
           method("kws_dscnn", "predict"), lambda r, ex, result: probabilities_problem(result, 22)),
    Target("kws_dscnn.classify", "runtime", lambda r: kwargs({"audio": inputs([(16000,)], **AUDIO)}, top_k=_top_k()),
           method("kws_dscnn", "classify"), _classify_check("kws_dscnn")),
    Target("kws_dscnn.label", "runtime", lambda r: kwargs({"audio": inputs([(16000,)], **AUDIO)}),
           method("kws_dscnn", "label"),
           lambda r, ex, result: None if result and all(n in r.model("kws_dscnn").class_names for n in result)
           else f"bad labels {result!r:.80}"),
    Target("kws_dscnn.detect", "runtime",
           lambda r: kwargs({"audio": inputs([(20000,), (9000,)], **AUDIO)},
                            hop_seconds=st.one_of(st.floats(0.05, 1.0), numbers(), junk()),
                            smoothing=st.one_of(st.integers(-1, 5), junk())),
           method("kws_dscnn", "detect"),
           lambda r, ex, result: _detections_problem(result, r.model("kws_dscnn").class_names), examples=30),
    Target("kws_dscnn.calibrate", "runtime",
           lambda r: st.one_of(
               kwargs({"audio": usual_arrays([(3, 16000)], AUDIO["valid_dtypes"], ("unit",)),
                       "labels": st.permutations([_unknown(r), 0, 2])}, target_false_accepts=st.floats(0, 100)),
               kwargs({"audio": inputs([(3, 16000)], **AUDIO),
                       "labels": st.one_of(st.lists(st.integers(-1, 23), min_size=3, max_size=3),
                                           st.permutations([_unknown(r), 0, 2]), inputs([(3,)]))},
                      target_false_accepts=st.one_of(st.floats(0, 100), numbers(), junk()))),
           _calibrate, lambda r, ex, result: _calibration_problem(result), examples=30),
]


# === Speech recogniser, language model, translator, captioner ===

def _asr_text(r, ex, result):
    return text_problem(result, r.model("asr_ctc").characters)


def _stream_problem(r, ex, result):
    for item in result:
        if not isinstance(item, tuple) or not math.isfinite(item[0]) or text_problem(item[1]):
            return f"bad stream item {item!r:.80}"
    return None


def _beams():
    return st.one_of(st.none(), st.integers(1, 4), counts())


SEQUENCES = [
    Target("asr_ctc.transcribe", "runtime",
           lambda r: kwargs({"audio": inputs([(1600,), (5000,)], **AUDIO)}, beam_width=_beams(),
                            use_language_model=st.booleans()),
           method("asr_ctc", "transcribe"), _asr_text, examples=30),
    Target("asr_ctc.transcribe_stream", "runtime",
           lambda r: kwargs({"audio": inputs([(3000,)], **AUDIO)}, beam_width=_beams(), final=st.booleans()),
           method("asr_ctc", "transcribe_stream"), _stream_problem, examples=25),
    Target("asr_ctc.logits", "runtime", lambda r: kwargs({"audio": inputs([(1600,)], **AUDIO)}),
           method("asr_ctc", "logits"), lambda r, ex, result: array_problem(result, (None, 29)), examples=25),
    Target("asr_ctc.decode", "runtime",
           lambda r: kwargs({"logits": inputs([(6, 29), (1, 29)], valid_dtypes=("float32",),
                                              valid_patterns=("unit", "noise"))},
                            beam_width=_beams(), use_language_model=st.booleans()),
           method("asr_ctc", "decode"), _asr_text),
    Target("austen_nplm.generate", "runtime",
           lambda r: kwargs({"prompt": st.one_of(texts(), texts(), junk())}, max_tokens=counts(-1, 6),
                            strategy=st.one_of(st.sampled_from(["greedy", "sample"]), junk()),
                            temperature=st.one_of(st.floats(0.01, 3), numbers(), junk()),
                            top_k=st.one_of(st.none(), counts(-1, 50)), beam_width=st.one_of(st.none(), counts(-1, 3)),
                            seed=st.one_of(st.none(), st.integers(0, 2**64), numbers(), junk())),
           method("austen_nplm", "generate"), lambda r, ex, result: text_problem(result)),
    Target("austen_nplm.perplexity", "runtime",
           lambda r: kwargs({"data": st.one_of(texts(), st.lists(texts(), max_size=3),
                                               st.lists(st.integers(-3, 10_003), max_size=12),
                                               arrays([(8,)], valid_dtypes=("int32", "uint16", "int64")), junk())}),
           method("austen_nplm", "perplexity"),
           lambda r, ex, result: None if isinstance(result, float) and math.isfinite(result) and result >= 1 - 1e-6
           else f"bad perplexity {result!r}"),
    Target("es_en_attention.translate", "runtime",
           lambda r: kwargs({"texts": st.one_of(texts(), st.lists(texts(), max_size=3), junk())},
                            beam_width=st.one_of(st.none(), st.integers(0, 5), counts()),
                            length_penalty=st.one_of(st.just(1.0), numbers(), junk()),
                            max_tokens=st.one_of(st.none(), counts(-1, 8))),
           method("es_en_attention", "translate"),
           lambda r, ex, result: text_problem(result) if isinstance(ex["texts"], str)
           else texts_problem(result, len(ex["texts"])), examples=30),
    Target("scenes_captioner.caption", "runtime",
           lambda r: kwargs({"images": inputs([(64, 64, 3), (2, 64, 64, 3)])},
                            beam_width=st.one_of(st.none(), st.integers(0, 5), counts()),
                            length_penalty=st.one_of(st.just(1.0), numbers(), junk()),
                            max_tokens=st.one_of(st.none(), counts(-1, 8))),
           method("scenes_captioner", "caption"),
           lambda r, ex, result: text_problem(result) if isinstance(result, str)
           else texts_problem(result), examples=30),
]


# === Scene labeller, glimpse agent, Q-network ===

def _labels_problem(r, ex, result):
    return array_problem(result, None, kinds="u", low=0, high=1) or (
        None if result.ndim in (2, 3) and result.size else f"label maps of shape {result.shape}")


def _overlay_problem(r, ex, result):
    labels, rgb = result
    return first_problem(array_problem(labels, (None, None), kinds="u", low=0, high=1),
                         array_problem(rgb, labels.shape + (3,), kinds="u"))


def _look_problem(r, ex, result):
    agent = r.model("glimpse_cluttered")
    return first_problem(probabilities_problem(result[0], 10, ndim=1),
                         array_problem(result[1], (agent.glimpses, 2), low=-1.0, high=1.0))


def _episode(resources, example):
    return resources.model("dqn_cartpole").play_episode(**example)


def _episode_problem(r, ex, result):
    steps = result.get("steps")
    limit = ex.get("max_steps") if isinstance(ex.get("max_steps"), int) else 10**9
    if not math.isfinite(result.get("return", math.nan)) or not isinstance(steps, int) or not 0 <= steps <= limit:
        return f"bad episode {result!r:.100}"
    return None


AGENTS = [
    Target("nuclei_labeller.predict", "runtime",
           lambda r: kwargs({"images": inputs([(32, 32), (32, 32, 1), (2, 20, 24, 1), (130, 40)])}),
           method("nuclei_labeller", "predict"),
           lambda r, ex, result: probabilities_problem(result, 2, ndim=4), examples=30),
    Target("nuclei_labeller.label", "runtime", lambda r: kwargs({"images": inputs([(32, 32), (2, 16, 16)])}),
           method("nuclei_labeller", "label"), _labels_problem, examples=30),
    Target("nuclei_labeller.overlay", "runtime",
           lambda r: kwargs({"image": inputs([(24, 24), (24, 24, 1)])},
                            alpha=st.one_of(st.floats(0, 1), numbers(), junk())),
           method("nuclei_labeller", "overlay"), _overlay_problem, examples=30),
    Target("glimpse_cluttered.predict", "runtime",
           lambda r: kwargs({"images": inputs([(40, 40), (60, 60, 1), (2, 40, 40)])}),
           method("glimpse_cluttered", "predict"), lambda r, ex, result: probabilities_problem(result, 10)),
    Target("glimpse_cluttered.look", "runtime", lambda r: kwargs({"image": inputs([(40, 40), (50, 30, 1)])}),
           method("glimpse_cluttered", "look"), _look_problem),
    Target("dqn_cartpole.q_values", "runtime",
           lambda r: kwargs({"state": inputs([(4,)], valid_dtypes=("float32", "float64"),
                                             valid_patterns=("unit", "zeros"))}),
           method("dqn_cartpole", "q_values"), lambda r, ex, result: array_problem(result, (2,))),
    Target("dqn_cartpole.play_episode", "runtime",
           lambda r: kwargs({"max_steps": counts(-1, 15)},
                            seed=st.one_of(st.integers(0, 2**64), numbers(), junk()),
                            episode=st.one_of(st.integers(-1, 2**40), numbers(), junk()),
                            epsilon=st.one_of(st.floats(0, 1), numbers(), junk()),
                            record=st.one_of(st.booleans(), junk())),
           _episode, _episode_problem, examples=30),
]

TARGETS = CLASSIFIERS + SEQUENCES + AGENTS

MODELS = ("fashion_edgenet", "kws_dscnn", "asr_ctc", "austen_nplm", "es_en_attention", "scenes_captioner",
          "nuclei_labeller", "glimpse_cluttered", "dqn_cartpole")

__all__ = ["MODELS", "TARGETS"]
