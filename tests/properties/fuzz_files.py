"""Hypothesis strategies for file contents and JSON, shared by the property tests and
benchmarks/fuzz.py (hypothesis, numpy and Pillow only; nothing here imports deepedge).

- `wav_files()`, `image_files()`, `npy_files()`: file contents, random, well formed, or built
  with random header fields and then damaged (truncated, bytes flipped).
- `json_values()`, `model_json_documents()`, `json_mutations(document)` with
  `apply_mutations`: JSON for model.json and tokenizer configs.
"""

import copy
import io
import json
import math
import struct
import zlib

import numpy as np
from hypothesis import strategies as st

from fuzz_strategies import PATTERNS, arrays, make_array, texts


WAV_CODES = (1, 1, 3, 3, 0xFFFE, 0, 2, 6, 0x55)
WAV_BITS = (8, 16, 16, 24, 32, 64, 0, 1, 4, 12, 48)
WAV_RATES = (16000, 16000, 8000, 44100, 4000, 384000, 0, 1, 3999, 384001, 2**31, 2**32 - 1)


def _chunk(kind, body, size=None):
    size = len(body) if size is None else size
    return kind + struct.pack("<I", size) + body + (b"\x00" if len(body) % 2 else b"")


@st.composite
def damaged(draw, data):
    """`data` cut short and/or with some bytes replaced (or as it is)."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


def _samples(frames, channels, code, bits, pattern, seed):
    """PCM or float samples of `bits` bits (24 included), as a WAV stores them."""
    count = frames * channels
    if bits == 24:
        return make_array((count,), "<i4", pattern, seed).view(np.uint8).reshape(-1, 4)[:, 1:].tobytes()
    kind = {8: "uint8", 16: "<i2", 32: "<f4" if code == 3 else "<i4", 64: "<f8"}[bits]
    return make_array((count,), kind, pattern, seed).tobytes()


@st.composite
def wav_files(draw, long=False):
    """WAV file contents: random bytes; a well-formed file (PCM 8/16/24/32-bit or float 32/64,
    1 or 2 channels, a usual rate); or a RIFF/WAVE file with random header fields, extra
    chunks, sizes that lie, samples of any width, then perhaps damaged. `long`: only
    well-formed files of at least 1/8 s."""
    kind = draw(st.integers(1, 2) if long else st.integers(0, 5))
    if kind == 0:
        return draw(st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: b"RIFF\0\0\0\0WAVE" + b)))
    if kind <= 2:  # well formed
        code, bits = draw(st.sampled_from([(1, 8), (1, 16), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)]))
        channels, rate = draw(st.integers(1, 2)), draw(st.sampled_from((16000, 8000, 44100, 22050, 4000, 384000)))
    else:
        code = draw(st.one_of(st.sampled_from(WAV_CODES), st.integers(0, 0xFFFF)))
        channels = draw(st.one_of(st.sampled_from((1, 1, 2, 3, 0, 8)), st.integers(0, 0xFFFF)))
        rate = draw(st.one_of(st.sampled_from(WAV_RATES), st.integers(0, 2**32 - 1)))
        bits = draw(st.one_of(st.sampled_from(WAV_BITS), st.integers(0, 0xFFFF)))
    width = max(1, bits // 8)
    fmt = struct.pack("<HHIIHH", code, channels, rate, (rate * channels * width) & 0xFFFFFFFF,
                      (channels * width) & 0xFFFF, bits)
    if code == 0xFFFE:
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", draw(st.sampled_from((1, 3, 2)))) + bytes(14)
    if kind > 2:
        fmt = fmt[:draw(st.sampled_from((len(fmt), len(fmt), 14, 0)))]
    frames = draw(st.integers(rate // 8, rate // 4) if long else
                  st.one_of(st.integers(0, 6000), st.just(rate // 8 if kind <= 2 else 0)))
    if (kind <= 2 or draw(st.booleans())) and bits in (8, 16, 24, 32, 64) and channels <= 8:
        patterns = ("unit", "unit", "zeros", "min", "max") if kind <= 2 else PATTERNS
        samples = _samples(frames, channels, code, bits, draw(st.sampled_from(patterns)), draw(st.integers(0, 999)))
    else:
        samples = draw(st.binary(max_size=600))
    data_size = None if kind <= 2 else draw(st.sampled_from(
        (None, None, 0, 1, 2**32 - 1, len(samples) + 1, max(0, len(samples) - 1))))
    chunks = [_chunk(b"fmt ", fmt), _chunk(b"data", samples, data_size)]
    if draw(st.booleans()):
        chunks.insert(draw(st.integers(0, 1 if kind <= 2 else 2)), _chunk(
            draw(st.sampled_from((b"LIST", b"fact", b"fmt ", b"data") if kind > 2 else (b"LIST", b"fact"))),
            draw(st.binary(max_size=9))))
    if kind > 2 and draw(st.integers(0, 6)) == 0:
        chunks.reverse()
    if kind > 2 and draw(st.integers(0, 8)) == 0:
        chunks.pop(draw(st.integers(0, len(chunks) - 1)))
    body = b"".join(chunks)
    riff = draw(st.sampled_from((b"RIFF", b"RIFF", b"RIFF", b"RF64", b"RIFX"))) if kind > 2 else b"RIFF"
    wave = draw(st.sampled_from((b"WAVE", b"WAVE", b"WAVE", b"AVI "))) if kind > 2 else b"WAVE"
    data = riff + struct.pack("<I", (4 + len(body)) & 0xFFFFFFFF) + wave + body
    return draw(damaged(data)) if kind == 5 else data


PIL_MODES = ("L", "L", "RGB", "RGBA", "LA", "P", "1", "I;16", "I", "F", "CMYK")
PIL_FORMATS = ("PNG", "PNG", "PNG", "BMP", "GIF", "TIFF", "JPEG", "WEBP", "PPM", "TGA", "ICO")


def _png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@st.composite
def crafted_pngs(draw):
    """A PNG assembled by hand: any size, bit depth and colour type in IHDR (most combinations
    invalid), and an IDAT of zlib data or noise."""
    width = draw(st.one_of(st.integers(0, 40), st.sampled_from((2**31 - 1, 2**32 - 1, 70_000))))
    height = draw(st.one_of(st.integers(0, 40), st.sampled_from((2**31 - 1, 1, 70_000))))
    header = struct.pack(">IIBBBBB", width, height, draw(st.sampled_from((1, 2, 4, 8, 16, 0, 3))),
                         draw(st.sampled_from((0, 2, 3, 4, 6, 1, 7))), 0, 0, draw(st.sampled_from((0, 1))))
    raw = draw(st.one_of(st.binary(max_size=200), st.integers(0, 3000).map(bytes)))
    idat = zlib.compress(raw) if draw(st.booleans()) else raw
    chunks = [_png_chunk(b"IHDR", header), _png_chunk(b"IDAT", idat), _png_chunk(b"IEND", b"")]
    if draw(st.booleans()):
        chunks.insert(1, _png_chunk(draw(st.sampled_from((b"PLTE", b"tRNS", b"gAMA", b"iCCP"))),
                                    draw(st.binary(max_size=30))))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


@st.composite
def saved_images(draw):
    """`(format, bytes)` of a small picture Pillow saved in one of its formats and modes."""
    from PIL import Image

    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    mode, fmt = draw(st.sampled_from(PIL_MODES)), draw(st.sampled_from(PIL_FORMATS))
    pixels = make_array((height, width, 3), "uint8", draw(st.sampled_from(("pixels", "zeros", "max"))),
                        draw(st.integers(0, 999)))
    image = Image.fromarray(pixels, "RGB").convert(mode)
    buffer = io.BytesIO()
    try:
        image.save(buffer, fmt)
    except (OSError, ValueError, KeyError, TypeError):  # a mode the format cannot hold
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "PNG")
        fmt = "PNG"
    return fmt, buffer.getvalue()


@st.composite
def image_files(draw):
    """`(suffix, bytes)`: random bytes, a PNG built by hand, or a picture saved by Pillow, which
    is perhaps damaged afterwards."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        prefix = draw(st.sampled_from((b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"GIF89a", b"II*\x00")))
        return ".png", prefix + draw(st.binary(max_size=80))
    if kind == 1:
        return ".png", draw(crafted_pngs())
    fmt, data = draw(saved_images())
    return "." + fmt.lower(), draw(damaged(data)) if kind >= 4 else data


@st.composite
def npy_files(draw):
    """`.npy` file contents: a saved array of any dtype (objects pickled), perhaps damaged, or a
    header claiming any shape and dtype."""
    if draw(st.booleans()):
        array = draw(arrays(near=[(8, 8), (8, 8, 3)]))
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=True)
        data = buffer.getvalue()
        return draw(damaged(data)) if draw(st.integers(0, 2)) == 0 else data
    shape = tuple(draw(st.lists(st.one_of(st.integers(0, 9), st.sampled_from((60_000, 2**40))), max_size=3)))
    descr = draw(st.sampled_from(("|u1", "<f4", "<i8", "|b1", "<c8", "|O", "<U2", "|V3", ">f8")))
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": draw(st.booleans()),
                                                  "shape": shape})
    return buffer.getvalue() + draw(st.binary(max_size=100))


# === JSON ===

MODEL_JSON_KEYS = ("format_version", "task", "inputs", "outputs", "tflite_sha256", "signatures", "signature_io",
                   "state", "labels", "name", "shape", "dtype", "scale", "zero_point", "tokenizer", "kind",
                   "vocabulary", "input", "quantization", "initial", "characters", "palette", "glimpses")
TASKS = ("image_classification", "language_model", "scene_labelling", "keyword_spotting", "speech_recognition",
         "translation", "captioning", "glimpse_classification", "q_learning", "", "nonsense")


def json_values(max_leaves=10):
    """JSON values (NaN and infinities included: Python's json reads them), keys often model.json's."""
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 300), st.floats(),
                       texts(10), st.sampled_from(TASKS + ("float32", "int8", "uint8", "bool", "word", "char")))
    keys = st.one_of(st.sampled_from(MODEL_JSON_KEYS), st.text(max_size=5))
    return st.recursive(leaves, lambda children: st.one_of(st.lists(children, max_size=4),
                                                           st.dictionaries(keys, children, max_size=5)),
                        max_leaves=max_leaves)


def tensor_specs():
    spec = st.fixed_dictionaries({"name": texts(6), "shape": st.lists(st.integers(-1, 30), max_size=4),
                                  "dtype": st.sampled_from(("float32", "int8", "uint8", "bool", "float64", "x")),
                                  "scale": st.one_of(st.floats(), st.integers(-1, 2)),
                                  "zero_point": st.one_of(st.integers(-300, 300), st.floats())})
    return st.lists(st.one_of(spec, json_values(4)), max_size=3)


def model_json_documents():
    """A model.json as text: any JSON value, one shaped like model.json with random fields,
    invalid UTF-8, or a deeply nested array."""
    plausible = st.fixed_dictionaries(
        {"format_version": st.one_of(st.just(1), json_values(2)),
         "task": st.one_of(st.sampled_from(TASKS), json_values(2)),
         "tflite_sha256": st.one_of(st.just("0" * 64), json_values(2)),
         "inputs": st.one_of(tensor_specs(), json_values(3)), "outputs": st.one_of(tensor_specs(), json_values(3))},
        optional={key: json_values(6) for key in ("signatures", "signature_io", "state", "labels", "quantization")})
    as_text = st.one_of(json_values(), plausible, plausible).map(lambda d: json.dumps(d, ensure_ascii=False))
    raw = st.one_of(st.binary(max_size=40).map(lambda b: b.decode("latin-1")), st.integers(1, 100_000).map(
        lambda n: "[" * n + "]" * n), st.just('{"format_version": 1, "task": '), st.just("\ufeff{}"))
    return st.one_of(as_text, as_text, as_text, raw)


def _paths(value, prefix=(), depth=0):
    """Paths to the values inside a JSON document (the first three and the last item of lists)."""
    yield prefix
    if depth > 6:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,), depth + 1)
    elif isinstance(value, list):
        for index in sorted({*range(min(3, len(value))), len(value) - 1} - {-1}):
            yield from _paths(value[index], prefix + (index,), depth + 1)


def _nudges(value):
    """Values close to `value` in kind: off by one, of another type, emptied, NaN..."""
    if isinstance(value, bool):
        return [not value, 0, "true", None]
    if isinstance(value, (int, float)):
        return [value + 1, value - 1, -value, 0, 0.0, math.nan, math.inf, -math.inf, 1e308, 2**63, float(value) + 0.5,
                str(value), None, True, [value]]
    if isinstance(value, str):
        return ["", value + "x", value.upper(), value[:-1], "😀" + value, 1, None, [value]]
    if isinstance(value, list):
        return [[], value[:-1], value + value[-1:], value[::-1], value * 2, {}, None, [value], "list"]
    if isinstance(value, dict):
        return [{}, [], None, dict(list(value.items())[:-1])]
    return [0, "", [], {}]


def _get(document, path):
    for key in path:
        document = document[key]
    return document


@st.composite
def json_mutations(draw, document, max_mutations=3):
    """A short list of edits of `document`, for `apply_mutations`: `("set", path, value)`,
    `("delete", path)` or `("add", path, key, value)`. Values are nudges of the old one or any JSON."""
    paths = list(_paths(document))
    mutations = []
    for _ in range(draw(st.integers(1, max_mutations))):
        path = draw(st.sampled_from(paths))
        old = _get(document, path)
        op = draw(st.sampled_from(("set", "set", "set", "delete", "add")) if path else st.just("add"))
        if op == "set":
            value = draw(st.one_of(st.sampled_from(_nudges(old)), st.sampled_from(_nudges(old)), json_values(6)))
            mutations.append(("set", path, value))
        elif op == "delete":
            mutations.append(("delete", path))
        elif isinstance(old, dict):
            mutations.append(("add", path, draw(st.sampled_from(MODEL_JSON_KEYS)), draw(json_values(4))))
        else:
            mutations.append(("set", path, draw(json_values(6))))
    return mutations


def apply_mutations(document, mutations):
    """A copy of `document` with `mutations` (from `json_mutations`) made; an edit whose path
    an earlier one removed is skipped."""
    document = copy.deepcopy(document)
    for mutation in mutations:
        op, path = mutation[0], mutation[1]
        try:
            value = copy.deepcopy(mutation[-1])  # (a nudge may hold a part of the original document)
            if op == "add":
                target = _get(document, path)
                if isinstance(target, dict):
                    target[mutation[2]] = value
            elif not path:
                document = value if op == "set" else document
            elif op == "set":
                _get(document, path[:-1])[path[-1]] = value
            else:
                del _get(document, path[:-1])[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
    return document
