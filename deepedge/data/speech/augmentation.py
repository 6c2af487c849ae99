"""What real microphones do to speech: noise, rooms and telephone lines, for 1-second training clips."""

import dataclasses
import functools

import numpy as np

from deepedge.ops.audio import SAMPLE_RATE, fit_clip


def coloured_noise(rng, n, colour):
    """White, pink (1/f) or brown (1/f^2) noise of unit RMS."""
    white = rng.standard_normal(n).astype(np.float32)
    if colour == "white":
        return white
    spectrum = np.fft.rfft(white)
    spectrum /= _noise_slope(n, colour)
    noise = np.fft.irfft(spectrum, n).astype(np.float32)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-9)


@functools.lru_cache(maxsize=8)
def _noise_slope(n, colour):
    """What pink or brown noise's spectrum is divided by: f^0.5 or f, from 20 Hz (kept: every
    training clip's noise needs the same one)."""
    slope = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 20.0) ** (0.5 if colour == "pink" else 1.0)
    slope.setflags(write=False)  # (shared by every call)
    return slope


def _room_impulse(rng):
    """A synthetic room: direct path, then exponentially decaying noise (RT60 0.15-0.8 s)."""
    rt60 = rng.uniform(0.15, 0.8)
    n = int(min(rt60, 0.5) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60) * rng.uniform(0.1, 0.5)
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0
    tail[0] = 1.0
    return tail.astype(np.float32)


def _convolve(audio, kernel):
    n = len(audio) + len(kernel) - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(kernel, size), size)[:len(audio)]
    return out.astype(np.float32)


def _telephone(audio, rng):
    """Band-limited to 300-3400 Hz, as a phone line; sometimes mu-law companded to 8 bits."""
    spectrum = np.fft.rfft(audio)
    f, floored = _frequencies(len(audio))
    low, high = rng.uniform(200, 400), rng.uniform(3000, 3600)
    gain = 1.0 / (1.0 + (low / floored) ** 8) / (1.0 + (f / high) ** 8)
    out = np.fft.irfft(spectrum * gain, len(audio)).astype(np.float32)
    if rng.random() < 0.5:
        mu = 255.0
        peak = np.abs(out).max() + 1e-9
        y = np.sign(out / peak) * np.log1p(mu * np.abs(out / peak)) / np.log1p(mu)
        y = np.round(y * 127) / 127
        out = (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu * peak).astype(np.float32)
    return out


@functools.lru_cache(maxsize=8)
def _frequencies(n):
    """The bins' frequencies of an `n`-sample rfft, and the same floored at 1 Hz."""
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    floored = np.maximum(f, 1.0)
    f.setflags(write=False)  # (shared by every call)
    floored.setflags(write=False)
    return f, floored


@dataclasses.dataclass
class SpeechAugmentation:
    """What real microphones do to speech, applied to 1-second training clips.

    Args:
        speed: (low, high) speed factors (tempo and pitch together). Defaults to `(0.85, 1.15)`.
        noise_probability: float. Chance of added noise. Defaults to `0.8`.
        snr_db: (low, high) signal-to-noise ratio of added noise in dB. Defaults to `(0, 30)`.
        reverb_probability: float. Chance of a synthetic room. Defaults to `0.3`.
        telephone_probability: float. Chance of a phone-line band. Defaults to `0.15`.
        gain_db: (low, high) peak level in dB re full scale. Defaults to `(-35, -1)`.
        noise_kinds: the noises drawn from: `"white"`, `"pink"`, `"brown"` and `"babble"`
            (other utterances of the same set, 3 to 6 at once).
    """

    speed: tuple = (0.85, 1.15)
    noise_probability: float = 0.8
    snr_db: tuple = (0.0, 30.0)
    reverb_probability: float = 0.3
    telephone_probability: float = 0.15
    gain_db: tuple = (-35.0, -1.0)
    noise_kinds: tuple = ("white", "pink", "brown", "babble")

    def noise(self, rng, n, babble_source=None):
        kinds = [k for k in self.noise_kinds if k != "babble" or babble_source is not None] or ["white"]
        kind = kinds[rng.integers(len(kinds))]
        if kind != "babble":
            return coloured_noise(rng, n, kind)
        mix = np.zeros(n, np.float32)
        for _ in range(rng.integers(3, 7)):
            word = babble_source.waveform(rng.integers(len(babble_source)))
            if len(word):
                mix += fit_clip(word, n, offset=rng.integers(-len(word) // 2, n))
        return mix / (np.sqrt(np.mean(mix ** 2)) + 1e-9)

    def __call__(self, speech, rng, babble_source=None):
        """Augments one clip of placed speech (float32, 1 second)."""
        clip = speech
        if rng.random() < self.reverb_probability:
            clip = _convolve(clip, _room_impulse(rng))
        if rng.random() < self.telephone_probability:
            clip = _telephone(clip, rng)
        peak = np.abs(clip).max()
        if peak > 0:
            clip = clip / peak * 10 ** (rng.uniform(*self.gain_db) / 20)
        if rng.random() < self.noise_probability:
            power = np.mean(clip[np.abs(clip) > 0.05 * np.abs(clip).max()] ** 2) if peak > 0 else 1e-6
            noise = self.noise(rng, len(clip), babble_source)
            clip = clip + noise * np.sqrt(power / 10 ** (rng.uniform(*self.snr_db) / 10))
        return np.clip(clip, -1.0, 1.0).astype(np.float32)


CONDITIONS = {
    "clean": None,
    "babble, 10 dB SNR": SpeechAugmentation((1, 1), 1.0, (10, 10), 0.0, 0.0, (-6, -6), ("babble",)),
    "white noise, 5 dB SNR": SpeechAugmentation((1, 1), 1.0, (5, 5), 0.0, 0.0, (-6, -6), ("white",)),
    "telephone band": SpeechAugmentation((1, 1), 0.0, (30, 30), 0.0, 1.0, (-6, -6)),
    "reverberant room": SpeechAugmentation((1, 1), 0.0, (30, 30), 1.0, 0.0, (-6, -6)),
    "fast / slow speech (x0.8-1.25)": SpeechAugmentation((0.8, 1.25), 0.0, (30, 30), 0.0, 0.0, (-6, -6)),
}


def silence_clip(rng, augmentation, utterances):
    """One second of background only, at -70 to -25 dB: coloured noise, or `augmentation`'s noise
    (babble from `utterances` three times in ten)."""
    level = 10 ** (rng.uniform(-70, -25) / 20)
    if augmentation is None:
        return coloured_noise(rng, SAMPLE_RATE, ("white", "pink", "brown")[rng.integers(3)]) * level
    return augmentation.noise(rng, SAMPLE_RATE, utterances if rng.random() < 0.3 else None) * level


__all__ = ["CONDITIONS", "SpeechAugmentation", "coloured_noise", "silence_clip"]
