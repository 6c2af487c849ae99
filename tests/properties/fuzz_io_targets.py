"""Fuzz targets beside the models: the audio and image readers, the tokenizers, the CTC and
sampling decoders, and model.json parsing (see `fuzz_core` for the property).

model.json targets write each document into a work folder beside a copy of a shipped
`.tflite` and load it with `deepedge.edge.load`; a document that loads must then give valid
answers on a plain input (a smoke call), so a bad field cannot slip through to NaN outputs.
"""

import json

import numpy as np
from hypothesis import strategies as st

from fuzz_core import (Target, array_problem, first_problem, probabilities_problem, text_problem)
from fuzz_files import (apply_mutations, image_files, json_mutations, json_values, model_json_documents, npy_files,
                        wav_files)
from fuzz_strategies import arrays, counts, inputs, junk, numbers, texts


def kwargs(required, **optional):
    return st.fixed_dictionaries(required, optional=optional)


def _written(resources, name, data):
    path = resources.workdir / name
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data, "utf-8", "surrogatepass")
    return path


# === Readers ===

def _wav_problem(r, ex, result):
    audio, rate = result
    return first_problem(array_problem(audio, (None, None), low=-1.0, high=1.0),
                         None if isinstance(rate, int) and 4000 <= rate <= 384_000 else f"rate {rate!r}",
                         None if len(audio) else "no samples")


def _read_wav(resources, data):
    from deepedge.ops.audio import read_wav

    return read_wav(data)


def _load_audio(resources, data):
    from deepedge.ops.audio import load_audio

    return load_audio(data)


def _read_wav_path(resources, example):
    from deepedge.ops.audio import read_wav

    return read_wav(_written(resources, "fuzz.wav", example) if isinstance(example, bytes) else example)


def _read_image(resources, example):
    from deepedge.ops.preprocess import read_image

    source, channels = example
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], str) and isinstance(source[1], bytes):
        source = _written(resources, "fuzz" + source[0], source[1])
    return read_image(source, channels)


def _image_problem(r, ex, result):
    channels = ex[1]
    problem = array_problem(result, (None, None, channels), kinds="u", high=255)
    return problem or (None if min(result.shape[:2]) >= 1 else f"an empty image {result.shape}")


def _open_image(resources, data):
    from deepedge.ops.preprocess import open_image

    with open_image(data, "unreadable", "advice") as image:
        return image.width, image.height, image.mode


def _prepare_image(resources, example):
    from deepedge.runtime.captioner import prepare_image

    return prepare_image(example, 32)


READERS = [
    Target("read_wav.bytes", "readers", lambda r: wav_files(), _read_wav, _wav_problem, examples=60),
    Target("read_wav.path", "readers", lambda r: st.one_of(wav_files(), junk()), _read_wav_path, _wav_problem),
    Target("load_audio", "readers", lambda r: st.one_of(wav_files(), wav_files(long=True)), _load_audio,
           lambda r, ex, result: array_problem(result, (None,), low=-1.0, high=1.0) or (
               None if len(result) >= 1600 else f"only {len(result)} samples")),
    Target("read_image.file", "readers",
           lambda r: st.tuples(st.one_of(image_files(), image_files(), image_files(), junk()), st.sampled_from((1, 3))),
           _read_image, _image_problem, examples=60),
    Target("read_image.npy", "readers", lambda r: st.tuples(npy_files().map(lambda d: (".npy", d)),
                                                            st.sampled_from((1, 3))),
           _read_image, lambda r, ex, result: None if isinstance(result, np.ndarray) else f"{type(result)}"),
    Target("open_image.bytes", "readers", lambda r: st.one_of(image_files().map(lambda f: f[1]), junk()), _open_image,
           lambda r, ex, result: None if min(result[:2]) >= 1 else f"size {result[:2]}", examples=60),
    Target("prepare_image", "readers",
           lambda r: st.one_of(image_files().map(lambda f: f[1]),
                               inputs([(20, 30, 3), (20, 30), (9, 7, 4), (5, 5, 1)])),
           _prepare_image, lambda r, ex, result: array_problem(result, (32, 32, 3), high=255.0), examples=60),
]


# === Tokenizers ===

TOKENIZERS = (("austen_nplm", "tokenizer"), ("es_en_attention", "source_tokenizer"),
              ("es_en_attention", "target_tokenizer"), ("scenes_captioner", "tokenizer"), ("asr_ctc", "characters"))


def tokenizer_of(resources, source):
    """A shipped tokenizer; `("asr_ctc", "characters")` is a character tokenizer of its alphabet."""
    from deepedge.tokenizers import CharTokenizer

    if source[1] == "characters":
        return CharTokenizer(["<unk>", "</p>"] + resources.metadata("asr_ctc")["characters"])
    return resources.tokenizer(*source)


def _ids_problem(ids, tokenizer):
    if not isinstance(ids, list) or not all(isinstance(i, int) and 0 <= i < tokenizer.vocabulary_size for i in ids):
        return f"bad ids {ids!r:.80}"
    return None


def _tokenizer_call(name):
    return lambda r, ex: getattr(tokenizer_of(r, ex["tokenizer"]), name)(ex["value"])


def _built(resources, example):
    """A tokenizer from a config, and its encoding and decoding of a sentence."""
    from deepedge.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_config(example)
    ids = tokenizer.encode("It is a truth, hola 😀.")
    return tokenizer, ids, tokenizer.decode(ids)


def _from_texts(resources, example):
    from deepedge.tokenizers import TOKENIZERS as KINDS

    tokenizer = KINDS[example["kind"]].from_texts(example["texts"], max_vocabulary=example["max_vocabulary"])
    return tokenizer, [(tokenizer.encode(t), t) for t in example["texts"]]


def _from_texts_problem(r, ex, result):
    tokenizer, encoded = result
    for ids, _ in encoded:
        problem = _ids_problem(ids, tokenizer) or text_problem(tokenizer.decode(ids))
        if problem:
            return problem
    return None


def _configs(resources):
    real = resources.metadata("scenes_captioner")["tokenizer"]
    plausible = st.fixed_dictionaries({"kind": st.one_of(st.sampled_from(("word", "subword", "char")), json_values(2)),
                                       "vocabulary": st.one_of(st.lists(texts(4), max_size=6).map(
                                           lambda v: ["<unk>", "</p>"] + v), json_values(4))},
                                      optional={"merges": json_values(4), "lowercase": json_values(1),
                                                "end_token": json_values(1), "unknown_token": json_values(1)})
    return st.one_of(json_values(), plausible, json_mutations(real).map(lambda m: apply_mutations(real, m)))


def _tokenizer_examples(values):
    return lambda r: kwargs({"tokenizer": st.sampled_from(TOKENIZERS), "value": values})


TOKENIZER_TARGETS = [
    Target("tokenizer.encode", "tokenizers", _tokenizer_examples(st.one_of(texts(), texts(80), junk())),
           _tokenizer_call("encode"), lambda r, ex, ids: _ids_problem(ids, tokenizer_of(r, ex["tokenizer"])),
           examples=60),
    Target("tokenizer.decode", "tokenizers",
           _tokenizer_examples(st.one_of(st.lists(st.integers(0, 30), max_size=8), st.lists(
               st.integers(-3, 9000), max_size=8), arrays([(5,)], valid_dtypes=("int32", "uint8")), junk())),
           _tokenizer_call("decode"), lambda r, ex, text: text_problem(text), examples=60),
    Target("tokenizer.encode_paragraphs", "tokenizers",
           _tokenizer_examples(st.one_of(texts(), st.lists(texts(), max_size=4), junk())),
           _tokenizer_call("encode_paragraphs"),
           lambda r, ex, ids: _ids_problem(ids, tokenizer_of(r, ex["tokenizer"])), examples=60),
    Target("tokenizer.from_config", "tokenizers", _configs, _built,
           lambda r, ex, result: _ids_problem(result[1], result[0]) or text_problem(result[2]), examples=60),
    Target("tokenizer.from_texts", "tokenizers",
           lambda r: st.fixed_dictionaries({"kind": st.sampled_from(("word", "subword", "char")),
                                            "texts": st.lists(texts(), max_size=5),
                                            "max_vocabulary": st.one_of(st.none(), st.integers(-1, 40))}),
           _from_texts, _from_texts_problem),
]


# === Decoders ===

def _characters(resources):
    return resources.metadata("asr_ctc")["characters"]


def _logits(*shapes):
    return inputs(shapes, valid_dtypes=("float32", "float64"), valid_patterns=("unit", "noise", "zeros"))


def _ctc(name):
    def call(resources, example):
        from deepedge.ops import ctc

        characters = _characters(resources)
        if name in ("BeamStream", "GreedyStream"):
            options = {"beam_width": example["beam_width"]} if name == "BeamStream" else {}
            if example.get("language_model"):
                options["language_model"] = resources.model("asr_ctc").language_model
            stream = getattr(ctc, name)(characters, **options)
            texts_ = [stream.push(chunk) for chunk in example["chunks"]]
            return texts_ + [stream.finish() if name == "BeamStream" else stream.text]
        if name == "beam_decode":
            return ctc.beam_decode(example["logits"], characters, example["beam_width"])
        return ctc.greedy_decode(example["logits"], characters)

    return call


def _ctc_problem(r, ex, result):
    alphabet = _characters(r)
    return next((text_problem(t, alphabet) for t in (result if isinstance(result, list) else [result])
                 if text_problem(t, alphabet)), None)


def _sample(resources, example):
    from deepedge.ops.decoding import Sampler

    sampler = Sampler(example["strategy"], example["temperature"], example["top_k"])
    return sampler(example["logits"], np.random.default_rng(0))


def _as_token_ids(resources, example):
    from deepedge.ops.decoding import as_token_ids

    return as_token_ids(tokenizer_of(resources, example["tokenizer"]), example["value"])


DECODERS = [
    Target("ctc.greedy_decode", "decoders", lambda r: kwargs({"logits": _logits((6, 29), (1, 29))}),
           _ctc("greedy_decode"), _ctc_problem, examples=60),
    Target("ctc.beam_decode", "decoders",
           lambda r: kwargs({"logits": _logits((6, 29)), "beam_width": st.one_of(st.integers(1, 6), counts())}),
           _ctc("beam_decode"), _ctc_problem, examples=60),
    Target("ctc.BeamStream", "decoders",
           lambda r: kwargs({"chunks": st.lists(_logits((3, 29)), max_size=3),
                             "beam_width": st.one_of(st.integers(1, 6), counts()), "language_model": st.booleans()}),
           _ctc("BeamStream"), _ctc_problem, examples=60),
    Target("ctc.GreedyStream", "decoders", lambda r: kwargs({"chunks": st.lists(_logits((3, 29)), max_size=3)}),
           _ctc("GreedyStream"), _ctc_problem, examples=60),
    Target("decoding.Sampler", "decoders",
           lambda r: kwargs({"strategy": st.one_of(st.sampled_from(("sample", "greedy")), junk()),
                             "temperature": st.one_of(st.floats(0.01, 5), numbers()),
                             "top_k": st.one_of(st.none(), st.integers(-1, 12), junk()), "logits": _logits((10,))}),
           _sample, lambda r, ex, i: None if isinstance(i, int) and 0 <= i < np.size(ex["logits"])
           else f"token {i!r} of {np.size(ex['logits'])} logits", examples=60),
    Target("decoding.as_token_ids", "decoders",
           _tokenizer_examples(st.one_of(texts(), st.lists(texts(), max_size=3), st.lists(st.integers(-3, 9000),
                                                                                          max_size=8),
                                         arrays([(6,)], valid_dtypes=("int32", "int64")), junk())),
           _as_token_ids, lambda r, ex, ids: array_problem(ids, (None,), kinds="i", low=0,
                                                           high=tokenizer_of(r, ex["tokenizer"]).vocabulary_size - 1),
           examples=60),
]


# === model.json ===

MUTATED = ("fashion_edgenet", "kws_dscnn", "asr_ctc", "dqn_cartpole", "glimpse_cluttered", "scenes_captioner",
           "nuclei_labeller")

SMOKE = {  # runtime class: a plain call on a model that loaded, and what is wrong with its answer
    "EdgeImageClassifier": lambda m: probabilities_problem(m.predict(np.zeros(m.image_shape, np.uint8)),
                                                           len(m.class_names)),
    "EdgeKeywordSpotter": lambda m: probabilities_problem(m.predict(np.zeros(m.clip_samples, np.float32)),
                                                          len(m.class_names)) or text_problem(m.label(
                                                              np.zeros(m.clip_samples, np.float32))[0]),
    "EdgeSpeechRecognizer": lambda m: text_problem(m.transcribe(np.zeros(3200, np.float32), beam_width=2)),
    "EdgeQNetwork": lambda m: array_problem(m.q_values(np.zeros(m.state_shape, np.float32)), (m.num_actions,)),
    "EdgeGlimpseAgent": lambda m: probabilities_problem(m.predict(np.full((40, 40), 128, np.uint8)),
                                                        len(m.class_names)),
    "EdgeCaptioner": lambda m: text_problem(m.caption(np.zeros((m.image_size, m.image_size, 3), np.uint8),
                                                      max_tokens=4)),
    "EdgeSceneLabeller": lambda m: probabilities_problem(m.predict(np.zeros((32, 32, m.channels), np.uint8)),
                                                         len(m.class_names), ndim=4),
}


def _load_with(name):
    """`call` of a model.json target: writes the example's document beside a copy of `name`'s
    .tflite, loads the folder and makes the smoke call."""
    def call(resources, example):
        from deepedge.edge import load

        folder = resources.model_copy(name)
        document = example if isinstance(example, str) else json.dumps(
            apply_mutations(resources.metadata(name), example), ensure_ascii=False)
        _written(resources, f"copy_of_{name}/model.json", document)
        model = load(folder)
        smoke = SMOKE.get(type(model).__name__)
        return model, (smoke(model) if smoke else f"no smoke call for {type(model).__name__}")

    return call


def _read_metadata(resources, text):
    from deepedge.runtime.metadata import read_metadata

    return read_metadata(_written(resources, "model.json", text))


MODEL_JSON = [
    Target("model_json.read_metadata", "model_json", lambda r: model_json_documents(), _read_metadata,
           lambda r, ex, meta: None if isinstance(meta, dict) else f"{type(meta)}", examples=60),
    Target("model_json.load_random", "model_json", lambda r: model_json_documents(), _load_with("fashion_edgenet"),
           lambda r, ex, result: result[1], examples=60, expect_valid=False),
] + [Target(f"model_json.mutated.{name}", "model_json", lambda r, name=name: json_mutations(r.metadata(name)),
            _load_with(name), lambda r, ex, result: result[1]) for name in MUTATED]

TARGETS = READERS + TOKENIZER_TARGETS + DECODERS + MODEL_JSON

__all__ = ["TARGETS", "tokenizer_of"]
