"""deepedge.data.speech.augmentation: noise, reverberation and gain for training clips."""

import numpy as np

from deepedge.ops.audio import SAMPLE_RATE, fit_clip
from helpers import tone


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
