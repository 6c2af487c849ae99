"""deepedge.data.speech.sentences: spoken Austen sentences with transcripts and phonemes."""

import numpy as np


def test_sentences_have_transcripts_phonemes_and_held_out_chapters():
    from deepedge.data.speech import CHARACTERS, austen_sentences, load_sentences

    data = load_sentences("validation", 3)
    assert len(data) == 3 and all(set(t) <= set(CHARACTERS) for t in data.texts)
    assert all(len(p) > 3 for p in data.phonemes) and data.waveform(0).dtype == np.float32
    assert not set(austen_sentences("train")[:2000]) & set(austen_sentences("test"))
