"""Audio in numpy only: read any WAV, mix down, resample, trim silence, cut into chunks.

Used by the speech data loaders and by the on-device runtime, so nothing here imports
TensorFlow or SciPy. Audio is float32 in [-1, 1] at `SAMPLE_RATE` unless a function says
otherwise.
"""

import struct
from pathlib import Path

import numpy as np

from deepedge.errors import InvalidInputError

SAMPLE_RATE = 16000

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 384_000
"""The sample rates a WAV file may declare: a header claiming 1 Hz would make resampling to
16 kHz allocate 16,000 values per stored sample (a file of kilobytes, gigabytes of memory)."""

MAX_AUDIO_SECONDS = 4 * 3600
"""The longest audio read from a file or produced by `resample`: 4 hours (230 million samples
at 16 kHz). Longer recordings are refused before decoding; cut them into parts first."""

MAX_FLOAT_PEAK = 2.0
"""Float audio is full scale at 1.0. Peaks up to this (resampling ringing, summed noise) are
clipped to [-1, 1]; above it the samples look like int16 values stored as floats (peaks in the
hundreds or thousands), which clipping would destroy, so they are refused."""

MAX_WAV_BYTES = 2 ** 32
"""The largest WAV file read (4 GiB, the most a RIFF file's 32-bit sizes can describe); larger
files are refused before they are read into memory."""


def read_wav(source):
    """`(audio, sample_rate)` from a WAV file (path or bytes): float32, shape (samples, channels).

    Reads PCM 8/16/24/32-bit and IEEE float 32/64-bit WAV, any channel count. A file that is
    not a WAV, is cut short or holds no samples raises `InvalidInputError` saying so; so does one
    whose header claims a rate outside `MIN_SAMPLE_RATE`..`MAX_SAMPLE_RATE`, that lasts more than
    `MAX_AUDIO_SECONDS` or is larger than `MAX_WAV_BYTES`, or float samples past `MAX_FLOAT_PEAK`.
    """
    name = "<bytes>"
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        if not (isinstance(source, str) or hasattr(source, "__fspath__")):
            raise InvalidInputError(f"Expected a WAV file's path or its bytes. Received: {type(source).__name__}.")
        name = str(source)
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"No audio file at {name}.")
        if path.stat().st_size > MAX_WAV_BYTES:
            raise InvalidInputError(f"{name} is {path.stat().st_size / 2 ** 30:.1f} GiB, larger than deepedge reads "
                                    f"(deepedge.ops.audio.MAX_WAV_BYTES={MAX_WAV_BYTES}). Cut it into parts, for "
                                    "example `ffmpeg -i input.wav -f segment -segment_time 3600 part%03d.wav`.")
        data = path.read_bytes()
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        raise InvalidInputError(f"{name} is not a WAV file (no RIFF/WAVE header). Convert it to WAV first, "
                                "for example `ffmpeg -i input.mp3 output.wav`.")
    fmt, samples, offset = None, None, 12
    while offset + 8 <= len(data):
        chunk_id, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        body = data[offset + 8:offset + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise InvalidInputError(f"{name} has a corrupt WAV format chunk.")
            code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if code == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real code leads the GUID
                code = struct.unpack("<H", body[24:26])[0]
            fmt = (code, channels, rate, bits)
        elif chunk_id == b"data":
            # Streaming writers (espeak-ng --stdout) put a bogus size: take what is there.
            samples = data[offset + 8:offset + 8 + size] if offset + 8 + size <= len(data) else data[offset + 8:]
            break
        offset += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise InvalidInputError(f"{name} is a corrupt WAV file: it has no {'format' if fmt is None else 'data'} chunk.")
    code, channels, rate, bits = fmt
    if channels < 1 or rate < 1:
        raise InvalidInputError(f"{name} is a corrupt WAV file: {channels} channels at {rate} Hz.")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidInputError(f"{name} declares a sample rate of {rate} Hz; deepedge reads WAV files between "
                                f"{MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz. The header is damaged, or the audio "
                                "needs resampling first, for example `ffmpeg -i input.wav -ar 16000 output.wav`.")
    width = bits // 8
    frame = width * channels
    usable = len(samples) - len(samples) % frame if frame else 0
    if frame and usable // frame > MAX_AUDIO_SECONDS * rate:
        raise InvalidInputError(f"{name} lasts {usable // frame / rate:.0f} s, longer than deepedge.ops.audio."
                                f"MAX_AUDIO_SECONDS={MAX_AUDIO_SECONDS:g} (at most {MAX_AUDIO_SECONDS:g} s). "
                                "Cut it into parts, for example `ffmpeg -i input.wav -f segment -segment_time "
                                "3600 part%03d.wav`.")
    if code == 1 and bits in (8, 16, 24, 32):
        raw = np.frombuffer(samples[:usable], np.uint8)
        if bits == 8:
            audio = (raw.astype(np.float32) - 128.0) / 128.0
        elif bits == 16:
            audio = raw.view("<i2").astype(np.float32) / 32768.0
        elif bits == 24:
            triples = raw.reshape(-1, 3).astype(np.int32)
            ints = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
            audio = (np.where(ints >= 1 << 23, ints - (1 << 24), ints)).astype(np.float32) / float(1 << 23)
        else:
            audio = raw.view("<i4").astype(np.float32) / float(1 << 31)
    elif code == 3 and bits in (32, 64):
        audio = np.frombuffer(samples[:usable], "<f4" if bits == 32 else "<f8").astype(np.float32)
        peak = float(np.abs(audio).max()) if len(audio) and np.all(np.isfinite(audio)) else 0.0
        if peak > MAX_FLOAT_PEAK:
            raise InvalidInputError(f"{name} holds float samples up to {peak:g}, but float WAV samples lie in [-1, 1]: "
                                    "they look like int16 scale stored as floats. Rescale them (divide by 32768), "
                                    "or save the file as 16-bit PCM.")
    else:
        raise InvalidInputError(f"{name} uses WAV format code {code} with {bits}-bit samples; deepedge reads "
                                "PCM (8/16/24/32-bit) and float (32/64-bit). Convert it, for example "
                                "`ffmpeg -i input.wav -acodec pcm_s16le output.wav`.")
    audio = audio.reshape(-1, channels)
    if len(audio) == 0:
        raise InvalidInputError(f"{name} holds no audio samples.")
    if not np.all(np.isfinite(audio)):
        raise InvalidInputError(f"{name} holds NaN or infinite samples.")
    return np.clip(audio, -1.0, 1.0), int(rate)


def write_wav(path, audio, sample_rate=SAMPLE_RATE):
    """Writes mono float audio as 16-bit PCM WAV (atomically)."""
    from deepedge.fileio import atomic_write_bytes

    pcm = (np.clip(np.asarray(audio, np.float32), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1,
                         sample_rate, sample_rate * 2, 2, 16, b"data", len(pcm))
    atomic_write_bytes(path, header + pcm)


def to_mono(audio):
    """Averages the channels of (samples, channels) audio; 1D audio is returned as is."""
    audio = np.asarray(audio, np.float32)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def resample(audio, rate_in, rate_out=SAMPLE_RATE):
    """Band-limited resampling of 1D audio by FFT (zero-padding or truncating the spectrum)."""
    audio = np.asarray(audio, np.float32)
    if rate_in == rate_out or len(audio) == 0:
        return audio
    if rate_in <= 0 or rate_out <= 0:
        raise InvalidInputError(f"Sample rates must be positive. Received: rate_in={rate_in}, rate_out={rate_out}.")
    n_out = max(1, int(round(len(audio) * rate_out / rate_in)))
    if n_out > MAX_AUDIO_SECONDS * rate_out:
        raise InvalidInputError(f"Resampling {len(audio)} samples from {rate_in} Hz to {rate_out} Hz makes {n_out} "
                                f"samples ({n_out / rate_out:.0f} s), longer than deepedge.ops.audio.MAX_AUDIO_SECONDS="
                                f"{MAX_AUDIO_SECONDS:g} s. Check the sample rates, or cut the audio into parts.")
    spectrum = np.fft.rfft(audio)  # pocketfft: any length in O(n log n)
    bins = n_out // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), spectrum.dtype)])
    out = np.fft.irfft(spectrum, n_out) * (n_out / len(audio))
    return out[:n_out].astype(np.float32)


def as_pcm(audio, name="audio"):
    """float32 audio in [-1, 1] from int16 PCM (divided by 32768, exactly) or float samples.

    Float peaks up to `MAX_FLOAT_PEAK` are clipped to [-1, 1]; louder floats (int16 values stored
    as floats) and anything else raise `InvalidInputError` saying how to convert them.
    """
    from deepedge.validation import uniform_batch

    audio = uniform_batch(name, audio, "clip")  # a list of clips of different lengths: a clear error
    if audio.dtype == np.int16:
        return audio.astype(np.float32) / 32768.0
    if not np.issubdtype(audio.dtype, np.floating):
        raise InvalidInputError(f"{name} must be int16 PCM or float samples in [-1, 1]. Received: dtype={audio.dtype}.")
    audio = audio.astype(np.float32)
    if not np.all(np.isfinite(audio)):
        raise InvalidInputError(f"{name} holds NaN or infinite samples.")
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > MAX_FLOAT_PEAK:
        raise InvalidInputError(f"{name} holds float samples up to {peak:g}, but float audio lies in [-1, 1]: it "
                                "looks like int16 scale stored as floats. Divide it by 32768 (`audio / 32768.0`), "
                                "or pass the int16 array itself.")
    return np.clip(audio, -1.0, 1.0)


def pad_end(audio, multiple):
    """1D audio zero-padded at the end to a whole number of `multiple` samples."""
    return np.concatenate([audio, np.zeros((-len(audio)) % multiple, np.float32)])


def standardize_clips(audio, samples, sample_rate=SAMPLE_RATE):
    """`(N, samples)` float32 clips from one clip or a batch of int16/float PCM, checked."""
    audio = as_pcm(audio)
    if audio.size == 0:
        raise InvalidInputError(f"Received an empty batch of audio: shape={audio.shape}. Pass at least one {samples}-sample clip, "
                                f"shape ({samples},) or (N, {samples}).")
    audio = audio[None] if audio.ndim == 1 else audio
    if audio.ndim != 2 or audio.shape[1] != samples:
        raise InvalidInputError(f"Expected {samples}-sample clips ({samples / sample_rate:g} s at {sample_rate} Hz), "
                                f"shape ({samples},) or (N, {samples}). Received: shape={audio.shape}. "
                                "Cut or pad longer audio, or stream it with `detect`.")
    return audio


def load_audio(source, sample_rate=SAMPLE_RATE, min_seconds=0.1):
    """A WAV file (path or bytes) as float32 mono at `sample_rate`; too short a file is an error."""
    audio, rate = read_wav(source)
    audio = np.clip(resample(to_mono(audio), rate, sample_rate), -1.0, 1.0)  # (resampling rings past full scale)
    if len(audio) < min_seconds * sample_rate:
        raise InvalidInputError(f"{source if not isinstance(source, (bytes, bytearray)) else 'The audio'} lasts "
                                f"{len(audio) / sample_rate * 1000:.0f} ms; at least {min_seconds * 1000:.0f} ms "
                                "of audio is needed.")
    return audio


def frame_energy_db(audio, frame=160):
    """RMS level in dB (re full scale) of consecutive `frame`-sample frames."""
    audio = np.asarray(audio, np.float32)
    n = len(audio) // frame
    if n == 0:
        return np.full(1, -120.0, np.float32)
    rms = np.sqrt(np.mean(audio[:n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    return (20.0 * np.log10(rms)).astype(np.float32)


def trim_silence(audio, threshold_db=40.0, frame=160, pad_frames=2):
    """`audio` without its leading and trailing frames quieter than the peak frame by `threshold_db`."""
    energy = frame_energy_db(audio, frame)
    loud = np.flatnonzero(energy > max(energy.max() - threshold_db, -80.0))
    if len(loud) == 0:
        return np.asarray(audio, np.float32)[:0]
    start = max(0, (loud[0] - pad_frames) * frame)
    stop = min(len(audio), (loud[-1] + 1 + pad_frames) * frame)
    return np.asarray(audio, np.float32)[start:stop]


def split_on_silence(audio, threshold_db=35.0, min_gap_s=0.08, min_word_s=0.1, frame=160, sample_rate=SAMPLE_RATE):
    """Cuts audio into words at pauses: a list of `(start, stop)` sample ranges.

    A pause is at least `min_gap_s` of frames quieter than the loudest frame by `threshold_db`;
    a word shorter than `min_word_s` is dropped.
    """
    energy = frame_energy_db(audio, frame)
    loud = energy > max(energy.max() - threshold_db, -80.0)
    segments, start, quiet = [], None, 0
    min_gap = max(1, int(min_gap_s * sample_rate / frame))
    for i, is_loud in enumerate(loud):
        if is_loud:
            start = i if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_gap:
                segments.append((start, i - quiet + 1))
                start, quiet = None, 0
    if start is not None:
        segments.append((start, len(loud) - quiet))
    return [(a * frame, b * frame) for a, b in segments if (b - a) * frame >= min_word_s * sample_rate]


def fit_clip(audio, length=SAMPLE_RATE, offset=None):
    """Places `audio` in a zero clip of `length` samples, centred unless `offset` is given;
    longer audio is cut around its centre."""
    audio = np.asarray(audio, np.float32)
    clip = np.zeros(length, np.float32)
    if len(audio) >= length:
        start = (len(audio) - length) // 2
        return audio[start:start + length].copy()
    offset = (length - len(audio)) // 2 if offset is None else int(np.clip(offset, 0, length - len(audio)))
    clip[offset:offset + len(audio)] = audio
    return clip



def mel_filterbank(num_bins, num_mels, sample_rate=SAMPLE_RATE, fmin=20.0, fmax=7600.0):
    """Triangular mel filters (HTK mel scale), shape (num_bins, num_mels), for an RFFT of
    `2 * (num_bins - 1)` points."""
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), num_mels + 2))
    freqs = np.linspace(0.0, sample_rate / 2.0, num_bins)
    low, centre, high = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    rising = (freqs[:, None] - low) / (centre - low)
    falling = (high - freqs[:, None]) / (high - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def log_mel_spectrogram(audio, frame_length=512, frame_step=320, num_mels=40, sample_rate=SAMPLE_RATE):
    """Log-mel power `(frames, num_mels)` of 1D audio, in numpy: the same frames, window,
    filters and log as the models' `LogMelSpectrogram` layer, before its normalisation."""
    audio = np.asarray(audio, np.float32)
    steps = len(audio) // frame_step
    if steps < 2:
        return np.zeros((0, num_mels), np.float32)
    chunks = audio[:steps * frame_step].reshape(steps, frame_step)
    frames = np.concatenate([chunks[:-1], chunks[1:, :frame_length - frame_step]], axis=1)
    window = np.hanning(frame_length + 1)[:-1].astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    filters = mel_filterbank(frame_length // 2 + 1, num_mels, sample_rate)
    return np.log(power @ filters + 1e-6).astype(np.float32)
