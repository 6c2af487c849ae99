"""What a translator's exported encoder reads besides the source ids, computed from them.

An encoder that reads a sentence backwards, picks its final state at the sentence's end and
puts the backward states back in sentence order needs the sentence's length. In a graph that
is integer arithmetic (EQUAL, CUMSUM, SELECT) and GATHERs by computed indices, which XNNPACK
does not take; so the runtimes compute these few numbers from the ids, with numpy, and the
encoder only multiplies by them (a float `BATCH_MATMUL`, which XNNPACK takes):

- `source`: the ids as given, `(1, steps)`: the sentence, its end token, end tokens after.
- `source_reversed`: the sentence reversed within its length (the end token first, then the
  words from the last), the padding after it, `(1, steps)`.
- `source_last`: one-hot at the end token, `(1, 1, steps)`: picks a read's final state.
- `source_order`: the permutation `(1, steps, steps)` that puts a reversed read's outputs back
  in sentence order (row `t` has its 1 at the step that read position `t`).
- `source_mask`: 1 through the end token, 0 on the padding after it, `(1, steps)`.

The export calibrates with these, the Python runtime (`deepedge.runtime.translator`) feeds
them, and the browser page computes the same in `web/static/panels/sequences.js`.
"""

import numpy as np

from deepedge.errors import InvalidInputError

SOURCE_FEEDS = ("source", "source_reversed", "source_last", "source_order", "source_mask")


def source_length(ids, end_id):
    """Tokens up to and including the first end token (all of them without one)."""
    ends = np.flatnonzero(np.asarray(ids) == end_id)
    return int(ends[0]) + 1 if len(ends) else len(ids)


def source_feeds(ids, end_id, names=SOURCE_FEEDS):
    """`{name: array}` for one sentence of ids `(steps,)`, each with its batch axis of one.
    Raises `InvalidInputError` unless `ids` is a 1-D array of integers (the lookups then check
    that each is in the vocabulary)."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or not len(ids):
        raise InvalidInputError(f"A sentence's source ids must be a non-empty 1-D array of integers. Received: "
                                f"shape={ids.shape}, dtype={ids.dtype}.")
    steps = len(ids)
    length = source_length(ids, end_id)
    positions = np.arange(steps)
    within = np.where(positions < length, length - 1 - positions, positions)  # its own inverse
    make = {"source": lambda: ids[None], "source_reversed": lambda: ids[within][None],
            "source_last": lambda: (positions == length - 1).astype(np.float32)[None, None],
            "source_order": lambda: (within[:, None] == positions).astype(np.float32)[None],
            "source_mask": lambda: (positions < length).astype(np.float32)[None]}
    return {name: make[name]() for name in names}


__all__ = ["SOURCE_FEEDS", "source_feeds", "source_length"]
