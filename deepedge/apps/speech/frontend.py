"""The speech front end as Keras layers: raw PCM in, normalised log-mel features out.

Inside the model, so the exported `.tflite` takes audio, not features. `LogMelSpectrogram`
frames the audio with slices and a concatenation (no `tf.signal`), windows it, takes a
discrete Fourier transform, a mel filterbank (a matmul) and a log, then subtracts a per-band
mean and divides by a per-band deviation learnt from training audio (`adapt`). Every op is a
LiteRT builtin; the export keeps this layer in float32 (an 8-bit power spectrum loses the
quiet half of speech) and quantizes the network after it.

The Fourier transform is, by default, one step of Cooley-Tukey written as two small matrix
products and a twiddle multiplication (`dft="factored"`): the same numbers as an FFT to float
rounding, in ops every target takes (FULLY_CONNECTED, MUL, TRANSPOSE), where LiteRT's RFFT2D
has no TFLite Micro kernel and no XNNPACK one. A 512-point frame costs 16x16 and 17x32 complex
matrices (14 KB of float32 weights), not the 512x257 of a plain DFT matrix (1 MB).
"""

import numpy as np

from deepedge.backend import keras
from deepedge.ops.audio import SAMPLE_RATE, mel_filterbank


@keras.saving.register_keras_serializable(package="deepedge")
class LogMelSpectrogram(keras.layers.Layer):
    """Log-mel features of raw audio, normalised per band.

    Frames of `frame_length` samples every `frame_step` samples (a Hann window), an RFFT of
    `frame_length` points, `num_mels` triangular mel filters between `fmin` and `fmax`,
    `log(mel power + 1e-6)`, then `(x - mean) / std` per band with the statistics set by
    `adapt` (0 and 1 until then).

    Args:
        frame_length: int. Samples per frame; a power of two, at most `2 * frame_step`.
            Defaults to `512` (32 ms at 16 kHz).
        frame_step: int. Samples between frames. Defaults to `320` (20 ms).
        num_mels: int. Mel bands. Defaults to `40`.
        sample_rate: int. Defaults to `16000`.
        fmin, fmax: float. Lowest and highest filter edge in Hz. Default `20` and `7600`.
        mel_groups: int. The filterbank is applied in this many blocks of bands, each over
            only the bins it touches (same result, fewer weights). Defaults to `4`.
        utterance_norm: bool. Also subtract each input's own mean over time from every band
            (cepstral mean normalisation: a microphone's or a line's fixed colouring cancels).
            Only for fixed-length inputs such as 1-second keyword clips. Defaults to `False`.
        dft: `"factored"` (two small matrix products, builtins every target runs) or `"rfft"`
            (LiteRT's RFFT2D, which TFLite Micro and XNNPACK do not take). Same features to
            float rounding. Defaults to `"factored"`.

    Input shape:
        `(batch, samples)` float audio in [-1, 1], any length (a trailing part shorter than
        `frame_step` is dropped).

    Output shape:
        `(batch, samples // frame_step - 1, num_mels)`.

    Example:

    >>> LogMelSpectrogram()(np.zeros((1, 16000), "float32")).shape
    (1, 49, 40)
    """

    def __init__(self, frame_length=512, frame_step=320, num_mels=40, sample_rate=SAMPLE_RATE,
                 fmin=20.0, fmax=7600.0, mel_groups=4, utterance_norm=False, dft="factored", **kwargs):
        super().__init__(**kwargs)
        if dft not in ("factored", "rfft"):
            raise ValueError(f"`dft` must be 'factored' or 'rfft'. Received: dft={dft!r}")
        self.dft = dft
        if frame_length & (frame_length - 1) or not frame_step < frame_length <= 2 * frame_step:
            raise ValueError("`frame_length` must be a power of two with frame_step < frame_length <= "
                             f"2 * frame_step. Received: frame_length={frame_length}, frame_step={frame_step}")
        self.frame_length, self.frame_step, self.num_mels = int(frame_length), int(frame_step), int(num_mels)
        self.sample_rate, self.fmin, self.fmax = int(sample_rate), float(fmin), float(fmax)
        self.utterance_norm = bool(utterance_norm)
        self._window = np.hanning(self.frame_length + 1)[:-1].astype(np.float32)
        self._filters = mel_filterbank(self.frame_length // 2 + 1, self.num_mels, self.sample_rate,
                                       self.fmin, self.fmax)
        # The filters are triangles: each band touches a narrow run of bins. Splitting the bands
        # into `mel_groups` runs, each multiplied only by the bins it touches, gives the same
        # result with a quarter of the (float32) weights: 10 KB instead of 40 KB at 512 points.
        self.mel_groups = int(mel_groups)
        self._groups = []
        for bands in np.array_split(np.arange(self.num_mels), max(1, min(self.mel_groups, self.num_mels))):
            bins = np.flatnonzero(self._filters[:, bands].any(axis=1))
            low, high = (int(bins[0]), int(bins[-1]) + 1) if len(bins) else (0, 1)
            self._groups.append((low, high, self._filters[low:high, bands[0]:bands[-1] + 1]))
        self._dft_matrices = factored_dft_matrices(self.frame_length)

    def build(self, input_shape):
        self.mean = self.add_weight(shape=(self.num_mels,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(self.num_mels,), initializer="ones", trainable=False, name="std")

    def num_frames(self, samples):
        return samples // self.frame_step - 1

    def log_mel(self, audio):
        """Un-normalised log-mel power, `(batch, frames, num_mels)`."""
        ops = keras.ops
        length = audio.shape[-1] if audio.shape[-1] is not None else ops.shape(audio)[-1]
        steps = length // self.frame_step
        chunks = ops.reshape(audio[:, :steps * self.frame_step], (-1, steps, self.frame_step))
        frames = ops.concatenate([chunks[:, :-1], chunks[:, 1:, :self.frame_length - self.frame_step]], axis=-1)
        if self.dft == "rfft":
            real, imag = ops.rfft(frames * self._window)
            power = real * real + imag * imag
        else:
            power = factored_power_spectrum(frames * self._window, *self._dft_matrices)
        mel = [ops.matmul(power[..., low:high], weights) for low, high, weights in self._groups]
        mel = mel[0] if len(mel) == 1 else ops.concatenate(mel, axis=-1)
        return ops.log(mel + 1e-6)

    def call(self, audio):
        features = (self.log_mel(audio) - self.mean) / self.std
        if self.utterance_norm:
            features = features - keras.ops.mean(features, axis=1, keepdims=True)
        return features

    def adapt(self, audio, batch_size=256):
        """Sets the per-band mean and deviation from float audio `(N, samples)`."""
        total, total_sq, count = 0.0, 0.0, 0
        for i in range(0, len(audio), batch_size):
            feats = keras.ops.convert_to_numpy(self.log_mel(np.asarray(audio[i:i + batch_size], np.float32)))
            feats = feats.reshape(-1, self.num_mels).astype(np.float64)
            total, total_sq, count = total + feats.sum(0), total_sq + (feats ** 2).sum(0), count + len(feats)
        mean = total / count
        self.mean.assign(mean.astype(np.float32))
        self.std.assign(np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-6)).astype(np.float32))

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[-1] is None else self.num_frames(input_shape[-1])
        return (input_shape[0], frames, self.num_mels)

    def get_config(self):
        return {**super().get_config(), "frame_length": self.frame_length, "frame_step": self.frame_step,
                "num_mels": self.num_mels, "sample_rate": self.sample_rate, "fmin": self.fmin, "fmax": self.fmax,
                "mel_groups": self.mel_groups, "utterance_norm": self.utterance_norm, "dft": self.dft}


def factored_dft_matrices(length):
    """The constants of a `length`-point real DFT as one Cooley-Tukey step, `length = n1 * n2`:
    `(inner, twiddle_real, twiddle_imag, outer)`. `inner` (n1, 2 n1) takes the n1-point DFTs
    (real and imaginary parts side by side), the twiddles (n2, n1) turn them, and `outer`
    (2 n2, 2 k2) takes the n2-point DFTs, only as far as bin `length / 2` needs (k2 = n2/2 + 1)."""
    n1 = 2 ** (int(np.log2(length)) // 2)
    n2 = length // n1
    k2 = n2 // 2 + 1
    angle = 2 * np.pi * np.outer(np.arange(n1), np.arange(n1)) / n1
    inner = np.concatenate([np.cos(angle).T, -np.sin(angle).T], axis=1)
    twiddle = 2 * np.pi * np.outer(np.arange(n2), np.arange(n1)) / length
    angle = 2 * np.pi * np.outer(np.arange(n2), np.arange(k2)) / n2
    cos, sin = np.cos(angle), np.sin(angle)
    outer = np.block([[cos, -sin], [sin, cos]])
    return tuple(m.astype(np.float32) for m in (inner, np.cos(twiddle), -np.sin(twiddle), outer))


def factored_power_spectrum(frames, inner, twiddle_real, twiddle_imag, outer):
    """`|rfft(frames)|^2`, `(..., length / 2 + 1)`, from `factored_dft_matrices(length)`.

    With `x[a, b] = frames[n2 a + b]`, bin `k = c + n1 d` is the n2-point DFT over `b` of the
    n1-point DFTs over `a`, each turned by `exp(-2 pi i b c / length)` (Cooley and Tukey 1965)."""
    ops = keras.ops
    n1, n2, k2 = inner.shape[0], twiddle_real.shape[0], outer.shape[1] // 2
    length = n1 * n2
    lead = tuple(ops.shape(frames)[i] if d is None else d for i, d in enumerate(frames.shape[:-1]))
    x = ops.reshape(frames, (-1, n1, n2))
    y = ops.matmul(ops.transpose(x, (0, 2, 1)), inner)  # (., n2, 2 n1): DFTs over a, for each b
    y_real, y_imag = y[..., :n1], y[..., n1:]
    z_real = y_real * twiddle_real - y_imag * twiddle_imag
    z_imag = y_real * twiddle_imag + y_imag * twiddle_real
    z = ops.concatenate([ops.transpose(z_real, (0, 2, 1)), ops.transpose(z_imag, (0, 2, 1))], axis=-1)
    spectrum = ops.matmul(z, outer)  # (., n1, 2 k2): bin c + n1 d at [c, d]
    power = spectrum[..., :k2] * spectrum[..., :k2] + spectrum[..., k2:] * spectrum[..., k2:]
    power = ops.reshape(ops.transpose(power, (0, 2, 1)), (-1, n1 * k2))[:, :length // 2 + 1]
    return ops.reshape(power, lead + (length // 2 + 1,))


@keras.saving.register_keras_serializable(package="deepedge")
class SpecAugment(keras.layers.Layer):
    """SpecAugment (Park et al. 2019) masking, in training only: zeroes random bands and frames.

    Features are normalised, so a zero is the band's mean. Optionally, before masking, each
    example's bands are warped (a vocal tract length change: band `b` reads band `b * a` for
    a random `a` in `1 +- band_warp`) and tilted (a random smooth curve of up to `tilt`
    standard deviations added across the bands: a microphone's or a line's colour). At
    inference (and in the exported model) this layer is the identity and adds no ops.

    Args:
        freq_masks: int. Bands masked per example. Defaults to `2`.
        max_freq_width: int. Widest frequency mask. Defaults to `6`.
        time_masks: int. Frame spans masked per example. Defaults to `2`.
        max_time_width: int. Widest time mask. Defaults to `6`.
        band_warp: float. Largest relative warp of the band axis. Defaults to `0.0` (off).
        tilt: float. Largest slope and bow, in normalised units, of the random curve added
            across the bands. Defaults to `0.0` (off).
        seed: int or None.

    Input shape:
        `(batch, frames, bands)`.
    """

    def __init__(self, freq_masks=2, max_freq_width=6, time_masks=2, max_time_width=6, band_warp=0.0, tilt=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(band_warp) < 0.5 or float(tilt) < 0.0:
            raise ValueError(f"`band_warp` must be in [0, 0.5) and `tilt` at least 0. Received: "
                             f"band_warp={band_warp!r}, tilt={tilt!r}")
        self.freq_masks, self.max_freq_width = int(freq_masks), int(max_freq_width)
        self.time_masks, self.max_time_width = int(time_masks), int(max_time_width)
        self.band_warp, self.tilt = float(band_warp), float(tilt)
        self.seed = seed
        self.active = True  # recalibrating batch norm turns masking off
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _mask(self, batch, size, count, width):
        ops = keras.ops
        positions = ops.arange(size, dtype="float32")[None, :]
        keep = ops.ones((batch, size))
        for _ in range(count):
            w = keras.random.uniform((batch, 1), 0, width + 1, seed=self.seed_generator)
            w = ops.floor(w)
            start = ops.floor(keras.random.uniform((batch, 1), 0, 1, seed=self.seed_generator) * (size - w + 1))
            inside = ops.logical_and(positions >= start, positions < start + w)
            keep = keep * (1.0 - ops.cast(inside, "float32"))
        return keep

    def _warp_and_tilt(self, features, batch, frames, bands):
        ops = keras.ops
        if self.band_warp:
            factor = keras.random.uniform((batch, 1), 1.0 - self.band_warp, 1.0 + self.band_warp,
                                          seed=self.seed_generator)
            source = ops.clip(ops.arange(bands, dtype="float32")[None, :] * factor, 0.0, bands - 1.0)
            low = ops.minimum(ops.floor(source), bands - 2.0)
            frac = (source - low)[:, None, :]
            low = ops.broadcast_to(ops.cast(low, "int32")[:, None, :], (batch, frames, bands))
            features = ((1.0 - frac) * ops.take_along_axis(features, low, axis=2)
                        + frac * ops.take_along_axis(features, low + 1, axis=2))
        if self.tilt:
            position = ops.linspace(-1.0, 1.0, bands)[None, :]
            slope = keras.random.uniform((batch, 1), -self.tilt, self.tilt, seed=self.seed_generator)
            bow = keras.random.uniform((batch, 1), -self.tilt, self.tilt, seed=self.seed_generator)
            features = features + (slope * position + bow * (1.0 - 2.0 * position ** 2))[:, None, :]
        return features

    def call(self, features, training=None):
        if not training or not self.active:
            return features
        dtype = features.dtype  # bfloat16 under mixed precision: the masks and warps work in float32
        features = keras.ops.cast(features, "float32")
        batch = keras.ops.shape(features)[0]
        frames, bands = features.shape[1], features.shape[2]
        if self.band_warp or self.tilt:
            features = self._warp_and_tilt(features, batch, frames, bands)
        keep_t = self._mask(batch, frames, self.time_masks, self.max_time_width)
        keep_f = self._mask(batch, bands, self.freq_masks, self.max_freq_width)
        return keras.ops.cast(features * keep_t[:, :, None] * keep_f[:, None, :], dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "freq_masks": self.freq_masks, "max_freq_width": self.max_freq_width,
                "time_masks": self.time_masks, "max_time_width": self.max_time_width, "band_warp": self.band_warp,
                "tilt": self.tilt, "seed": self.seed}
