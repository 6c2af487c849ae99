"""Resource bombs (issue 23, item 5): a small file that claims a huge sample rate ratio, duration or
picture is refused from its header, quickly and before anything large is allocated; damaged
image files give an `InvalidInputError`, never a Pillow traceback."""

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from deepedge.errors import InvalidInputError
from deepedge.ops import audio as audio_ops
from deepedge.ops import preprocess
from deepedge.ops.audio import SAMPLE_RATE, load_audio, read_wav, resample
from deepedge.ops.preprocess import read_image
from deepedge.runtime.captioner import prepare_image
from helpers import tone, wav_bytes


def wav_header(rate, data):
    """A mono 16-bit PCM WAV whose format chunk says `rate` Hz."""
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1, rate,
                       (rate * 2) & 0xFFFFFFFF, 2, 16, b"data", len(data)) + data


def png_claiming(width, height, bit_depth=1, colour_type=0, idat=b""):
    """A PNG of a few dozen bytes whose header claims `width` x `height` pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(idat))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("rate", [1, 100, 3999, 384_001, 4_000_000_000])
def test_a_wav_claiming_an_absurd_sample_rate_is_refused_at_once(tmp_path, rate):
    path = tmp_path / "bomb.wav"
    path.write_bytes(wav_header(rate, np.zeros(4000, "<i2").tobytes()))  # 8 KB
    started = time.perf_counter()
    with pytest.raises(InvalidInputError, match=rf"{rate} Hz.*between 4000 and 384000 Hz"):
        load_audio(path)
    assert time.perf_counter() - started < 1.0


def test_sane_rates_still_load_and_long_audio_is_bounded(monkeypatch):
    for rate in (4000, 8000, 44100, 384_000):
        audio = load_audio(wav_bytes(tone(300, 0.5, rate), rate))
        assert audio.shape == (SAMPLE_RATE // 2,)
    monkeypatch.setattr(audio_ops, "MAX_AUDIO_SECONDS", 1.0)
    with pytest.raises(InvalidInputError, match=r"lasts 2 s.*at most 1 s"):
        read_wav(wav_bytes(np.zeros(2 * 8000), 8000))


def test_resampling_to_a_huge_output_is_refused_before_allocating():
    started = time.perf_counter()
    with pytest.raises(InvalidInputError, match=r"Resampling 100000 samples from 1 Hz.*MAX_AUDIO_SECONDS"):
        resample(np.zeros(100_000, np.float32), 1, SAMPLE_RATE)  # 1.6 billion samples
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("width, height", [(60_000, 60_000), (10_000, 10_000), (8_000, 8_000)])
def test_a_png_claiming_a_huge_picture_is_refused(tmp_path, width, height):
    # 60000^2 trips Pillow's DecompressionBombError, 10000^2 its warning, 8000^2 only deepedge's cap.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    assert path.stat().st_size < 100
    started = time.perf_counter()
    for read in (lambda: read_image(path, 1), lambda: read_image(path, 3), lambda: prepare_image(path, 64),
                 lambda: prepare_image(path.read_bytes(), 64)):
        with pytest.raises(InvalidInputError, match=rf"({width}x{height}|{width * height}) pixels.*MAX_IMAGE_PIX"):
            read()
    assert time.perf_counter() - started < 1.0


def test_the_pixel_cap_is_a_documented_setting(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "small.png")
    assert read_image(tmp_path / "small.png", 1).shape == (20, 30, 1)
    monkeypatch.setattr(preprocess, "MAX_IMAGE_PIXELS", 500)
    with pytest.raises(InvalidInputError, match="30x20 pixels"):
        read_image(tmp_path / "small.png", 1)
    np.save(tmp_path / "big.npy", np.zeros((20, 30), np.uint8))
    with pytest.raises(InvalidInputError, match="30x20 pixels"):
        read_image(tmp_path / "big.npy", 1)


def test_a_npy_header_claiming_a_huge_array_is_refused(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|u1", "fortran_order": False, "shape": (60_000, 60_000)})
    (tmp_path / "bomb.npy").write_bytes(buffer.getvalue() + b"\x00" * 100)
    started = time.perf_counter()
    with pytest.raises(InvalidInputError):
        read_image(tmp_path / "bomb.npy", 1)
    assert time.perf_counter() - started < 1.0


@pytest.mark.filterwarnings("ignore:Tag data larger than file")  # Pillow's note on damaged TIFF tags
def test_damaged_image_files_never_give_a_pillow_traceback(tmp_path):
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    files = {}
    for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF"):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, fmt)
        files[fmt] = buffer.getvalue()
    path = tmp_path / "damaged"
    for fmt, data in files.items():
        damaged = [data[:n] for n in range(0, len(data), max(1, len(data) // 40))]
        for _ in range(40):
            flipped = bytearray(data)
            flipped[rng.integers(8, len(data))] ^= int(rng.integers(1, 256))
            damaged.append(bytes(flipped))
        for data_ in damaged:
            path.write_bytes(data_)
            for read in (lambda: read_image(path, 1), lambda: prepare_image(path, 16)):
                try:
                    read()
                except InvalidInputError:
                    pass
    path.write_bytes(files["PNG"][: len(files["PNG"]) // 2])
    with pytest.raises(InvalidInputError, match="not an image Pillow can read"):
        read_image(path, 1)
    with pytest.raises(InvalidInputError, match="not a readable image"):
        prepare_image(path, 16)
