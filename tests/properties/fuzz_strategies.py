"""Hypothesis strategies for awkward input, shared by the property tests (tests/properties) and
the fuzzing benchmark (benchmarks/fuzz.py). Only hypothesis, numpy and Pillow: nothing here
imports deepedge, so a strategy draws the same examples whatever the library does with them.

- `junk()`: anything a caller might pass by mistake (None, bools, huge ints, NaN, text, bytes,
  nested lists, dicts); `texts()`: unicode with emoji, control characters, lone surrogates,
  right-to-left marks, empty and blank strings.
- `arrays(near=...)`: numpy arrays of every dtype (ints, floats, bools, complex, strings,
  objects), of random small shapes or shapes near an expected one, filled with ordinary
  values, extremes, NaN or infinities; `inputs(near=...)` adds lists and junk.

File contents and JSON documents are in `fuzz_files`.
"""

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

NUMERIC_DTYPES = ("uint8", "int8", "int16", "uint16", "int32", "int64", "uint64", "float16", "float32", "float64",
                  "bool", "complex64", "complex128")
TEXT_DTYPES = ("<U3", "S3", "object")
DTYPES = NUMERIC_DTYPES + TEXT_DTYPES

AWKWARD_TEXTS = ("", " ", "   ", "\t\n\r\x0b\x0c", "\x00", "\x1b[2J", "\x7f\x80\x9f", "\u200b\u200d", "\ufeff",
                 "\u202eevil", "e\u0301\u0301", "ß", "İı", "ﬁ", "😀", "👩‍👩‍👧‍👦", "🇪🇸🇬🇧", "\U0010ffff", "\ud800",
                 "\udfff lone", "日本語のテキスト", "مرحبا بالعالم", "שָׁלוֹם", "a" * 300, "-- -- --", "'\"'", "...",
                 "\n\n\n", "<unk>", "</p>", "@@", "hola@@ ", "It is a truth.", "hola amigo", "she was 12 years old")

SPECIAL_NUMBERS = (0, 1, -1, 2, 3, 7, 2**31 - 1, 2**31, 2**32 + 5, 2**63, -(2**63), 2**64, 10**30, 0.0, -0.0, 0.5,
                   1.5, 1e-310, 1e308, -1e308, math.inf, -math.inf, math.nan, np.int64(3), np.uint8(255),
                   np.int8(-128), np.float32(0.25), np.float16(math.nan), np.bool_(True), True, False, 1 + 2j)

PATTERNS = ("zeros", "ones", "min", "max", "pixels", "unit", "noise", "nan", "inf", "huge", "tiny")
MAX_VALUES = 300_000  # values in one synthesised array: a 2-second clip, or a few large images


def texts(max_size=30):
    """Unicode text: awkward samples, any code point (surrogates included), or plain words."""
    return st.one_of(st.sampled_from(AWKWARD_TEXTS),
                     st.text(st.characters(exclude_categories=()), max_size=max_size),
                     st.text(" abcdefghijklmnopqrstuvwxyz.,;:'!?-\n\"", max_size=max_size),
                     st.lists(st.sampled_from(AWKWARD_TEXTS), max_size=4).map(" ".join))


def numbers():
    """Ints (small, huge), floats (NaN, infinities, subnormals), numpy scalars, bools, complex."""
    return st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(-5, 300), st.integers(), st.floats())


def scalars():
    return st.one_of(st.none(), st.booleans(), numbers(), texts(8), st.binary(max_size=8),
                     st.sampled_from([Ellipsis, slice(1), b"\xff\xfe", bytearray(b"12")]))


def junk(max_leaves=6):
    """Anything a caller might pass by mistake, nested lists, tuples and dicts included."""
    return st.recursive(scalars(), lambda children: st.one_of(
        st.lists(children, max_size=4), st.tuples(children, children),
        st.dictionaries(st.text(max_size=3), children, max_size=3)), max_leaves=max_leaves)


def is_big_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and abs(int(value)) > 64


def counts(low=-2, high=8):
    """A count argument (`max_tokens`, `beam_width`...): small ints or junk, but never a huge
    positive int, which would be a valid request for hours of work."""
    return st.one_of(st.integers(low, high), junk().filter(lambda v: not is_big_int(v)))


def make_array(shape, dtype, pattern="pixels", seed=0):
    """An array of `shape` and `dtype` filled by `pattern` (see `PATTERNS`), reproducibly."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if dtype.kind in "US":
        words = ["", "1", "a", "😀", "nan"] if dtype.kind == "U" else [b"", b"1", b"a", b"\xff", b"nan"]
        return rng.choice(np.array(words, dtype), size).reshape(shape)
    if dtype.kind == "O":
        values = [None, 1, 2.5, "x", [1], math.nan, b"z"]
        array = np.empty(size, object)
        array[:] = [values[i] for i in rng.integers(0, len(values), size)]
        return array.reshape(shape)
    if dtype.kind == "b":
        return (rng.integers(0, 2, shape) if pattern in ("pixels", "noise") else np.full(shape, pattern != "zeros")
                ).astype(bool)
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        if pattern in ("zeros", "ones", "min", "max"):
            value = {"zeros": 0, "ones": 1, "min": info.min, "max": info.max}[pattern]
            return np.full(shape, value, dtype)
        if pattern == "unit":
            values = rng.uniform(-1, 1, shape)
        elif pattern == "noise":
            values = rng.uniform(float(info.min) / 4, float(info.max) / 4, shape) if dtype.kind in "iu" \
                else rng.standard_normal(shape) * 1000
        elif pattern == "huge":
            values = np.full(shape, 1e30)
        elif pattern == "tiny":
            values = np.full(shape, 1e-40)
        else:  # pixels, and the base of nan / inf
            values = rng.integers(0, 256, shape).astype(np.float64)
        if pattern in ("nan", "inf") and size and dtype.kind in "fc":
            flat = values.reshape(-1)
            flat[rng.integers(0, size, max(1, size // 10))] = math.nan if pattern == "nan" else -math.inf
        if dtype.kind in "iu":
            values = np.clip(values, info.min, info.max)
        return values.astype(dtype)


def shapes_near(shape, batch=True):
    """Shapes close to `shape`: itself, batched, emptied, an axis too long, short or missing."""
    shape = tuple(int(d) for d in shape)
    options = [shape, shape, shape + (1,), shape[:-1], (), (0,), (0,) + shape[1:]]
    if batch:
        options += [(1,) + shape, (2,) + shape, (0,) + shape]
    options += [shape[:i] + (max(0, d + change),) + shape[i + 1:] for i, d in enumerate(shape) for change in (-1, 1)]
    return st.one_of(st.sampled_from(options), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))


@st.composite
def synthesised_arrays(draw, shapes, dtypes=DTYPES, patterns=PATTERNS):
    shape = draw(shapes)
    if int(np.prod(shape, dtype=np.int64)) > MAX_VALUES:
        shape = (0,) + tuple(shape[1:])
    return make_array(shape, draw(st.sampled_from(dtypes)), draw(st.sampled_from(patterns)),
                      draw(st.integers(0, 2**16)))


def small_arrays(dtypes=NUMERIC_DTYPES):
    """Arrays of 0 to 4 axes of up to 4 values, every value hypothesis can draw for the dtype."""
    return hnp.arrays(st.sampled_from(dtypes), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))


def usual_arrays(near, dtypes=("uint8", "float32"), patterns=("pixels", "zeros")):
    """Arrays of one of the shapes `near`, with a usual dtype and usual values: valid input."""
    return st.one_of([synthesised_arrays(st.just(tuple(shape)), dtypes, patterns) for shape in near])


def arrays(near=(), dtypes=DTYPES, valid_dtypes=("uint8", "float32"), valid_patterns=("pixels", "zeros")):
    """Arrays of any dtype and shape: small ones with any values, ones shaped near one of
    `near`, and (a third of them) usual ones (`usual_arrays`)."""
    options = [small_arrays(), hnp.arrays(st.sampled_from(("<U4", "S2")), hnp.array_shapes(max_dims=2, max_side=3))]
    options += [synthesised_arrays(shapes_near(shape), dtypes) for shape in near]
    if near:
        options = [usual_arrays(near, valid_dtypes, valid_patterns)] * (len(options) // 2) + options
    return st.one_of(options)


def inputs(near=(), valid_dtypes=("uint8", "float32"), valid_patterns=("pixels", "zeros"), **kwargs):
    """What a caller may pass for an array argument: arrays (a third of them valid), lists of
    arrays (ragged or not), nested Python lists, and junk."""
    array = arrays(near, valid_dtypes=valid_dtypes, valid_patterns=valid_patterns, **kwargs)
    usual = usual_arrays(near, valid_dtypes, valid_patterns) if near else array
    return st.one_of(usual, array, array, junk(), st.lists(array, max_size=3), array.map(lambda a: a.tolist()))
