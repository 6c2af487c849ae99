"""deepedge.ops.audio: WAV I/O, resampling and silence trimming (numpy only)."""

import numpy as np
import pytest

from deepedge.errors import InvalidInputError
from deepedge.ops.audio import (
    SAMPLE_RATE,
    fit_clip,
    load_audio,
    read_wav,
    resample,
    split_on_silence,
    trim_silence,
    write_wav,
)
from helpers import tone, wav_bytes


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
