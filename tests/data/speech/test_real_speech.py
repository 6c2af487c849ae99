"""deepedge.data.speech.real_speech: real recordings (ALSA's test words, Asterisk's prompts)."""

import numpy as np

from deepedge.ops.audio import SAMPLE_RATE


def test_real_alsa_speech_is_cut_into_words():
    from deepedge.data.speech import KEYWORD_CLASSES, load_alsa_speech

    real = load_alsa_speech()
    names = [KEYWORD_CLASSES[label] for label in real.labels]
    assert names.count("left") == 3 and names.count("right") == 3 and names.count("_silence_") == 1
    assert names.count("_unknown_") == 10 and real.audio.shape == (17, SAMPLE_RATE)


def test_real_telephone_speech_from_asterisk_prompts():
    """Asterisk's prompts: one real speaker; digits and "no" are keywords, numbers in sentence
    transcripts are spelled out as they are spoken."""
    from deepedge.data.speech import CHARACTERS, KEYWORD_CLASSES, KEYWORDS, load_asterisk_keywords, \
        load_asterisk_sentences

    words = load_asterisk_keywords()
    names = [KEYWORD_CLASSES[label] for label in words.labels]
    assert sorted(n for n in names if n in KEYWORDS) == sorted([*KEYWORDS[10:], "no"])  # zero .. nine, no
    assert names.count("_silence_") == 1 and names.count("_unknown_") > 200
    assert words.audio.shape == (len(names), SAMPLE_RATE) and words.audio.dtype == np.int16
    sentences = load_asterisk_sentences()
    assert len(sentences) > 250 and all(set(t) <= set(CHARACTERS) and " " in t for t in sentences.texts)
    assert "press one to switch to record mode" in " | ".join(sentences.texts)
    assert all(len(sentences.waveform(i)) > 0.3 * SAMPLE_RATE for i in range(len(sentences)))
    short = load_asterisk_sentences(max_seconds=2.0)
    assert 0 < len(short) < len(sentences)
