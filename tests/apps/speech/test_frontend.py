"""deepedge.apps.speech.frontend: the log-mel front end and SpecAugment layers."""

import numpy as np
import pytest

from deepedge.ops.audio import SAMPLE_RATE, log_mel_spectrogram


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


@pytest.mark.parametrize("length", [256, 512, 1024])
def test_factored_fourier_transform_gives_the_fft_power_spectrum(length):
    from deepedge.apps.speech.frontend import factored_dft_matrices, factored_power_spectrum
    from deepedge.backend import keras

    frames = np.random.default_rng(length).standard_normal((2, 3, length)).astype(np.float32)
    power = keras.ops.convert_to_numpy(factored_power_spectrum(frames, *factored_dft_matrices(length)))
    expected = np.abs(np.fft.rfft(frames.astype(np.float64))) ** 2
    assert power.shape == (2, 3, length // 2 + 1)
    np.testing.assert_allclose(power, expected, rtol=1e-3, atol=1e-3 * expected.max())


def test_both_fourier_transforms_give_the_same_features_and_only_rfft_needs_rfft2d():
    from deepedge.apps.speech import LogMelSpectrogram
    from deepedge.backend import keras
    from deepedge.export.convert import analyze_ops, convert

    audio = (np.random.default_rng(1).standard_normal((1, 8000)) * 0.1).astype(np.float32)
    factored, rfft = LogMelSpectrogram(), LogMelSpectrogram(dft="rfft")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(factored(audio)), keras.ops.convert_to_numpy(rfft(audio)),
                               atol=1e-4)
    assert factored.get_config()["dft"] == "factored"
    inputs = keras.Input((8000,), batch_size=1)
    ops, _ = analyze_ops(convert(keras.Model(inputs, factored(inputs)), "float32"))
    assert "RFFT2D" not in ops and {"FULLY_CONNECTED", "TRANSPOSE"} <= set(ops) | {"BATCH_MATMUL"}
    with pytest.raises(ValueError, match="dft"):
        LogMelSpectrogram(dft="fft")


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
