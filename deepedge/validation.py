"""Checks of public arguments, shared by the Keras tasks and the on-device runtime (pure Python and numpy).

Each check returns the value in its plain form (a Python `int` or `float`, an array) or raises
`InvalidInputError` saying what was expected, what was received and what to do. Booleans are
never taken for numbers, floats never for integers (`top_k=2.5` is refused, not cut to 2), and
token ids are range-checked before they are narrowed to int32 (`2**32 + 5` is refused, not read
as 5).
"""

import math
import numbers

import numpy as np

from deepedge.errors import InvalidInputError


def describe(value, limit=60):
    """`value`'s repr (cut to `limit` characters) and its type, for an error message."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    kind = type(value).__name__
    return f"{text} ({'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind})"


def is_integer(value):
    """True for Python and numpy integers, False for booleans, floats and anything else."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(name, value, minimum=None, maximum=None, hint=""):
    """`value` as a Python int in [minimum, maximum] (either bound may be None)."""
    if minimum is not None and maximum is not None:
        expected = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        expected = f"an integer of at least {minimum}"
    elif maximum is not None:
        expected = f"an integer of at most {maximum}"
    else:
        expected = "an integer"
    if not is_integer(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidInputError(f"`{name}` must be {expected}. Received: {name}={describe(value)}. "
                                f"{hint or f'Pass {expected}.'}")
    return int(value)


def positive_int(name, value, maximum=None, hint=""):
    """`value` as an int of at least 1 (and at most `maximum`)."""
    return integer(name, value, 1, maximum, hint)


def non_negative_int(name, value, maximum=None, hint=""):
    """`value` as an int of at least 0 (and at most `maximum`)."""
    return integer(name, value, 0, maximum, hint)


def optional_positive_int(name, value, maximum=None, hint=""):
    """None, or `value` as an int of at least 1 (and at most `maximum`)."""
    return None if value is None else positive_int(name, value, maximum, hint or "Pass a positive integer or None.")


def seed(name, value):
    """A seed for `np.random.default_rng`: None, a non-negative int, or a numpy Generator/SeedSequence."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    return integer(name, value, 0, None, "Pass a non-negative integer (the same one gives the same result), "
                                         "or None for a different result each time.")


def real(name, value, minimum=None, maximum=None, above=None, hint=""):
    """`value` as a finite Python float, at least `minimum`, above `above`, at most `maximum`."""
    bounds = []
    if above is not None:
        bounds.append(f"above {above:g}")
    if minimum is not None and maximum is not None:
        bounds.append(f"from {minimum:g} to {maximum:g}")
    elif minimum is not None:
        bounds.append(f"of at least {minimum:g}")
    if maximum is not None and minimum is None:
        bounds.append(f"at most {maximum:g}")
    expected = "a finite number" + (" " + " and ".join(bounds) if bounds else "")
    ok = isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    try:
        number = float(value) if ok else math.nan
    except (OverflowError, ValueError, TypeError):  # an int too large for a float, an odd Real
        number = math.nan
    if (not ok or not math.isfinite(number) or (above is not None and not number > above)
            or (minimum is not None and number < minimum) or (maximum is not None and number > maximum)):
        raise InvalidInputError(f"`{name}` must be {expected}. Received: {name}={describe(value)}. "
                                f"{hint or f'Pass {expected}.'}")
    return number


def finite_float(name, value, hint=""):
    """`value` as a finite float."""
    return real(name, value, hint=hint)


def finite_positive_float(name, value, maximum=None, hint=""):
    """`value` as a finite float above 0 (and at most `maximum`)."""
    return real(name, value, maximum=maximum, above=0.0, hint=hint)


def non_negative_float(name, value, maximum=None, hint=""):
    """`value` as a finite float of at least 0 (and at most `maximum`)."""
    return real(name, value, minimum=0.0, maximum=maximum, hint=hint)


def probability(name, value, hint=""):
    """`value` as a float in [0, 1]."""
    return real(name, value, minimum=0.0, maximum=1.0, hint=hint or "Pass a probability from 0 to 1.")


def one_of(name, value, choices):
    """The one of `choices` that `value` equals (a bool never equals a number)."""
    for choice in choices:
        if isinstance(value, type(choice)) and not isinstance(value, (bool, np.bool_)) and value == choice:
            return choice
    raise InvalidInputError(f"`{name}` must be one of {list(choices)}. Received: {name}={describe(value)}. "
                            f"Pass one of {', '.join(map(repr, choices))}.")


def non_empty(name, value, what="item", hint=""):
    """`value` if it has a length of at least 1."""
    try:
        size = len(value)
    except TypeError:
        raise InvalidInputError(f"`{name}` must be a sequence of {what}s. Received: {name}={describe(value)}. "
                                f"{hint or f'Pass a list or array of {what}s.'}") from None
    if size == 0:
        raise InvalidInputError(f"`{name}` is empty: at least one {what} is needed. Received: {name}={describe(value)}. "
                                f"{hint or f'Pass at least one {what}.'}")
    return value


def uniform_batch(name, value, what="item"):
    """`value` as one numpy array; a list or tuple of arrays must agree in shape (a ragged list is
    refused naming the first shape that differs, not with numpy's "inhomogeneous shape")."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as e:
        error = e
    if isinstance(value, (list, tuple)):
        first = None
        for i, item in enumerate(value):
            try:
                shape = np.shape(item)
            except (ValueError, TypeError):
                raise InvalidInputError(f"Every {what} of `{name}` must be a rectangular array. Received: {name}[{i}] "
                                        f"= {describe(item)}, whose rows differ in length. Pass numpy arrays of one "
                                        "shape.") from None
            first = shape if first is None else first
            if shape != first:
                raise InvalidInputError(f"Every {what} of `{name}` must have the same shape. Received: {name}[0] of "
                                        f"shape {first} but {name}[{i}] of shape {shape}. Pass {what}s of one size "
                                        "(resize or cut them first), or pass them one at a time.")
    raise InvalidInputError(f"`{name}` must be an array of {what}s, or a list of {what}s of one shape. Received: "
                            f"{describe(value)}, which numpy cannot stack ({error}). Pass a numpy array.")


def uniform_images(name, images):
    """`images` as one array; a list of images must agree in shape (see `uniform_batch`)."""
    return uniform_batch(name, images, "image")


def token_ids(name, ids, vocabulary_size, allow_empty=True):
    """`ids` as a flat int32 array of token ids in [0, vocabulary_size).

    Only integers are ids: an integer array, or a (nested) list of Python or numpy ints. Floats,
    booleans and strings are refused, and so is any id outside the vocabulary, checked before
    the ids are narrowed to int32 so that a large id cannot wrap round to a small one.
    """
    what = f"token ids: integers from 0 to {vocabulary_size - 1}"
    if isinstance(ids, np.ndarray) and ids.dtype != object:
        if ids.dtype.kind not in "iu":
            raise InvalidInputError(f"`{name}` must hold {what}. Received: an array of dtype {ids.dtype}. "
                                    "Pass an integer array (for example `ids.astype(np.int64)` of whole numbers), or "
                                    "text for the tokenizer to encode.")
        flat = ids.reshape(-1)
        low, high = (int(flat.min()), int(flat.max())) if flat.size else (0, 0)
    else:
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
            raise InvalidInputError(f"`{name}` must be a sequence of {what}. Received: {describe(ids)}. "
                                    "Pass a list or integer array of ids.")
        try:
            flat = np.asarray(ids, dtype=object).reshape(-1)
        except (ValueError, TypeError) as e:
            raise InvalidInputError(f"`{name}` must be a flat sequence of {what}. Received: {describe(ids)} ({e}). "
                                    "Pass a list or integer array of ids.") from None
        for i, item in enumerate(flat):
            if not is_integer(item):
                raise InvalidInputError(f"`{name}` must hold {what}. Received: element {i} = {describe(item)}. "
                                        "Pass whole-number ids (ints), or text for the tokenizer to encode.")
        low, high = (min(int(x) for x in flat), max(int(x) for x in flat)) if flat.size else (0, 0)
    if not allow_empty and flat.size == 0:
        raise InvalidInputError(f"`{name}` is empty: at least one token id is needed. Received: {describe(ids)}. "
                                "Pass some text or ids.")
    if flat.size and (low < 0 or high >= vocabulary_size):
        raise InvalidInputError(f"Token ids in `{name}` must lie in [0, {vocabulary_size}) (the vocabulary has "
                                f"{vocabulary_size} tokens). Received: ids from {low} to {high}. Pass ids from this "
                                "model's own tokenizer (`model.tokenizer.encode(text)`), or the text itself.")
    return np.array([int(x) for x in flat] if flat.dtype == object else flat, np.int32).reshape(-1)


__all__ = ["describe", "finite_float", "finite_positive_float", "integer", "is_integer", "non_empty",
           "non_negative_float", "non_negative_int", "one_of", "optional_positive_int", "positive_int",
           "probability", "real", "seed", "token_ids", "uniform_batch", "uniform_images"]
