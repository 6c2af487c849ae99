"""deepedge.data.speech.keywords: synthesised keyword clips, their labels, cache and renderings
(`tiny_keywords` in tests/conftest.py)."""

import numpy as np

from deepedge.ops.audio import SAMPLE_RATE


def test_unknown_words_exclude_keywords_and_differ_between_splits():
    from deepedge.data.speech import KEYWORDS, unknown_words

    train, test = set(unknown_words("train")), set(unknown_words("test"))
    assert len(train) >= 300 and len(test) >= 100
    assert not (train | test) & set(KEYWORDS) and not train & test
    assert "know" not in train | test and "to" not in train | test  # homophones of no / two


def test_keyword_data_covers_every_class_with_labelled_clips(tiny_keywords):
    from deepedge.data.speech import KEYWORD_CLASSES

    train = tiny_keywords["train"]
    assert train.audio.shape == (len(train), SAMPLE_RATE) and train.audio.dtype == np.int16
    assert set(np.unique(train.labels)) == set(range(len(KEYWORD_CLASSES)))
    for i in np.flatnonzero(train.labels < 20)[:10]:
        assert train.utterances.texts[i] == KEYWORD_CLASSES[train.labels[i]]
        assert np.abs(train.audio[i]).max() > 1000  # speech, not silence
    subset = train.take(10)
    assert len(subset) == 10 and len(subset.utterances) == 10


def test_keyword_data_is_cached_and_reloads_identically(tiny_keywords):
    from deepedge.data.speech import load_keywords

    again = load_keywords("train", per_keyword=4)
    assert np.array_equal(again.audio, tiny_keywords["train"].audio)
    assert again.speakers == tiny_keywords["train"].speakers


def test_join_keywords_keeps_every_utterance_and_its_label(tiny_keywords):
    from deepedge.data.speech import join_keywords

    train, validation = tiny_keywords["train"], tiny_keywords["validation"]
    joined = join_keywords(train, validation.utterances)
    assert len(joined) == len(train) + len(validation) and joined.audio.shape[1] == SAMPLE_RATE
    assert np.array_equal(joined.labels[len(train):], validation.labels)
    last = len(joined) - 1
    assert np.array_equal(joined.utterances.waveform(last), validation.utterances.waveform(len(validation) - 1))
    assert joined.speakers[:len(train)] == train.speakers


def test_rendered_training_clips_change_every_epoch_but_repeat_per_seed(tiny_keywords):
    from deepedge.data.speech import SpeechAugmentation

    train = tiny_keywords["train"]
    a = train.clips(np.random.default_rng(1), SpeechAugmentation())
    b = train.clips(np.random.default_rng(1), SpeechAugmentation())
    c = train.clips(np.random.default_rng(2), SpeechAugmentation())
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == (len(train), SAMPLE_RATE) and np.abs(a).max() <= 1.0
