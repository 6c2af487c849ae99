"""Session fixtures that several test folders share: each model here is trained or exported once.

Image recognition: a small classifier trained on the real 8x8 digits, and its int8 export.
Language modelling: tiny LSTM and NPLM models trained on four Austen chapters, and their exports.
Scene labelling: a small labeller trained on the real nuclei strip, exported to int8.
Speech: a few synthesised keywords per class, a tiny spotter trained on them and its export,
and a tiny (untrained) streaming recogniser.
"""

import os

import numpy as np
import pytest

from helpers import build_tiny_classifier

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# === Image recognition ===

@pytest.fixture(scope="session")
def digits():
    from deepedge.data import load_digits

    return {split: load_digits(split) for split in ("train", "validation", "test")}


@pytest.fixture(scope="session")
def trained_digits_classifier(digits):
    """An edge net trained for a few seconds on the 8x8 digits (about 90% test accuracy)."""
    from deepedge.backend import keras
    from deepedge.training import recalibrate_batch_norm

    train = digits["train"]
    model = build_tiny_classifier(train.class_names)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=15, verbose=0)
    recalibrate_batch_norm(model, train.images)
    return model


@pytest.fixture(scope="session")
def exported_int8(trained_digits_classifier, digits, tmp_path_factory):
    """The trained digits classifier exported to int8 (folder with model.tflite and model.json)."""
    path = tmp_path_factory.mktemp("export") / "digits_int8"
    trained_digits_classifier.export(path, calibration_data=digits["train"], evaluation_data=digits["test"],
                                     max_drop=3.0, extra_metadata={"data": "digits"})
    return path


# === Language modelling ===

@pytest.fixture(scope="session")
def austen_small():
    from deepedge.data.text import load_austen
    from deepedge.tokenizers import WordTokenizer

    train, validation = load_austen("train").take(4), load_austen("validation").take(1)
    tokenizer = WordTokenizer.from_texts(train.paragraphs, max_vocabulary=500)
    return train, validation, tokenizer


def _fit_language_model(model, ids):
    from deepedge.apps.language_modelling import NPLM
    from deepedge.apps.language_modelling.recipes import sequence_windows
    from deepedge.backend import keras

    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x, y = model.contexts(ids) if isinstance(model, NPLM) else sequence_windows(ids, 32)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="session")
def trained_language_models(austen_small):
    """A tiny two-layer LSTM LM and an NPLM trained for seconds on four Austen chapters."""
    from deepedge.apps.language_modelling import NPLM, LSTMLanguageModel
    from deepedge.backend import keras

    train, _, tokenizer = austen_small
    ids = np.asarray(tokenizer.encode_paragraphs(train.paragraphs), np.int32)
    keras.utils.set_random_seed(0)
    lstm = _fit_language_model(LSTMLanguageModel(tokenizer, embedding_dim=32, lstm_units=[64, 48], dropout=0.1),
                               ids)
    nplm = _fit_language_model(NPLM(tokenizer, context_size=3, embedding_dim=16, hidden_units=64,
                                    direct_connections=True), ids)
    return {"lstm": lstm, "nplm": nplm}


@pytest.fixture(scope="session")
def exported_language_models(trained_language_models, austen_small, tmp_path_factory):
    """`{(name, quantization): folder}` for both models in int8 and float32."""
    from deepedge.edge import export

    train, validation, _ = austen_small
    out = {}
    for name, model in trained_language_models.items():
        for quantization in ("int8", "float32"):
            path = tmp_path_factory.mktemp("lm") / f"{name}_{quantization}"
            export(model, path, quantization=quantization, calibration_data=train, evaluation_data=validation,
                   max_drop=25.0, num_calibration=400, latency_runs=100, extra_metadata={"data": "austen"})
            out[name, quantization] = path
    return out


# === Scene labelling ===

@pytest.fixture(scope="session")
def nuclei_export(tmp_path_factory):
    """A small labeller trained for seconds on the real nuclei strip, exported to int8:
    `(model, folder, model.json as a dict, the test strip)`."""
    from deepedge.apps import SceneLabeller
    from deepedge.apps.scene_labelling.recipes import random_tiles
    from deepedge.backend import keras
    from deepedge.data.scenes import NUCLEI_CLASSES, load_nuclei

    train, test = load_nuclei("train"), load_nuclei("test")
    keras.utils.set_random_seed(0)
    model = SceneLabeller.from_preset("encoder_decoder", class_names=NUCLEI_CLASSES, metric="foreground_iou",
                                      encoder_filters=(8, 16, 16), decoder_filters=(16, 8, 8))
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    rng = np.random.default_rng(0)
    x, y = random_tiles(train.images[0].astype(np.float32), train.masks[0], 384, 64, rng)
    model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    path = tmp_path_factory.mktemp("scene") / "nuclei_int8"
    meta = model.export(path, calibration_data=load_nuclei("train", tile=128, stride=64), evaluation_data=test,
                        max_drop=5.0, latency_runs=20, extra_metadata={"data": "nuclei"})
    return model, path, meta, test


# === Speech ===

@pytest.fixture(scope="session")
def tiny_keywords():
    from deepedge.data.speech import load_keywords

    return {"train": load_keywords("train", per_keyword=4), "validation": load_keywords("validation", per_keyword=2)}


@pytest.fixture(scope="session")
def tiny_spotter(tiny_keywords):
    """A narrow DS-CNN trained for a few seconds on 4 utterances per keyword."""
    from deepedge.apps.speech import KeywordSpotter
    from deepedge.backend import keras
    from deepedge.data.speech import KEYWORD_CLASSES, SpeechAugmentation

    keras.utils.set_random_seed(0)
    model = KeywordSpotter(KEYWORD_CLASSES, backbone={"filters": 16, "blocks": 2},
                           spec_augment={"freq_masks": 1, "time_masks": 1})
    train = tiny_keywords["train"]
    clips = train.clips(np.random.default_rng(0), SpeechAugmentation())
    model.log_mel.adapt(clips)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(clips, train.labels, batch_size=16, epochs=3, verbose=0)
    model.threshold = 0.3
    return model


@pytest.fixture(scope="session")
def exported_spotter(tiny_spotter, tiny_keywords, tmp_path_factory):
    """The tiny spotter exported to int8 (forced: seconds of training may miss the parity bar):
    `(folder, model.json as a dict)`."""
    path = tmp_path_factory.mktemp("kws") / "int8"
    meta = tiny_spotter.export(path, calibration_data=tiny_keywords["train"],
                               evaluation_data=tiny_keywords["validation"], force=True, latency_runs=50)
    return path, meta


@pytest.fixture(scope="session")
def tiny_recognizer():
    """An untrained streaming recogniser: 16 conv filters, two LSTMs of 24, 4 frames a step."""
    from deepedge.apps.speech.speech_recognizer import SpeechRecognizer
    from deepedge.backend import keras
    from deepedge.data.speech import CHARACTERS

    keras.utils.set_random_seed(0)
    return SpeechRecognizer(CHARACTERS, conv_filters=16, lstm_units=[24, 24], chunk_frames=4)
