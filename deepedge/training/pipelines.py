"""Input pipelines whose examples numpy code makes afresh every epoch (keyword clips, scenes),
made in worker processes while the model trains.

Python threads do not help here: the rendering holds the interpreter lock for much of its time,
and tf.data's parallel `map` over `tf.numpy_function` made the keyword clips slower than one
thread did on this 2-core machine. Processes forked for each epoch make whole batches side by
side (inheriting the data, nothing copied in) and write them into memory shared with this
process (an anonymous mapping, nothing pickled back), which reads them in order. Each example
depends on its index alone, so the batches are the same however many processes make them, and
a run resumed from `(seed, epoch)` sees the same data.
"""

import collections
import itertools
import math
import mmap
import multiprocessing
import os

import numpy as np

from deepedge.backend import tf

_PIPELINES = {}  # what the processes of each pipeline call and write into; they inherit it when they fork
_KEYS = itertools.count()


class _Slots:
    """Room for `count` batches of `signature`'s arrays in one shared anonymous mapping."""

    def __init__(self, signature, batch_size, count):
        self.shapes = [(batch_size, *spec.shape) for spec in signature]
        self.dtypes = [np.dtype(spec.dtype.as_numpy_dtype) for spec in signature]
        self.sizes = [math.prod(shape) * dtype.itemsize for shape, dtype in zip(self.shapes, self.dtypes)]
        self.memory = mmap.mmap(-1, max(1, count * sum(self.sizes)))

    def arrays(self, slot):
        offset = slot * sum(self.sizes)
        views = []
        for shape, dtype, size in zip(self.shapes, self.dtypes, self.sizes):
            views.append(np.frombuffer(self.memory, dtype, math.prod(shape), offset).reshape(shape))
            offset += size
        return views


def _make_batch(key, start, stop, slot=None):
    """Examples `start` to `stop` stacked; written into `slot` when given (in a worker process)."""
    make, slots = _PIPELINES[key]
    examples = [make(k) for k in range(start, stop)]
    if slot is None:
        return tuple(np.stack(parts) for parts in zip(*examples))
    for view, parts in zip(slots.arrays(slot), zip(*examples)):
        np.stack(parts, out=view[:stop - start])
    return None


def _batches(count, make, signature, batch_size, processes):
    """The batches, made `processes` at a time in forked processes (here, without fork or with one
    process), at most two per process ahead of the consumer."""
    key = next(_KEYS)
    starts = range(0, count, batch_size)
    if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _PIPELINES[key] = (make, None)
        try:
            yield from (_make_batch(key, start, min(start + batch_size, count)) for start in starts)
        finally:
            _PIPELINES.pop(key)
        return
    ahead = 2 * processes
    slots = _Slots(signature, batch_size, ahead + 1)  # one more than in flight: the one being read
    _PIPELINES[key] = (make, slots)
    try:
        make(0)  # here first: what `make` loads on first use (textures, say) the processes then inherit
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            def submit(index, start):
                stop = min(start + batch_size, count)
                return index, stop - start, pool.apply_async(_make_batch, (key, start, stop, index % (ahead + 1)))

            waiting = enumerate(starts)
            pending = collections.deque(submit(*item) for item in itertools.islice(waiting, ahead))
            while pending:
                index, size, done = pending.popleft()
                done.get()
                batch = tuple(view[:size].copy() for view in slots.arrays(index % (ahead + 1)))
                pending.extend(submit(*item) for item in itertools.islice(waiting, 1))
                yield batch
    finally:
        _PIPELINES.pop(key)
        slots.memory.close()


def parallel_batches(count, make, signature, batch_size, processes=None):
    """Batches of the examples `make(0)`, ..., `make(count - 1)` as a tf.data pipeline that makes
    them in worker processes while the model trains, in order, two batches per process ahead.

    Args:
        count: int. Examples in the epoch.
        make: callable `k -> tuple of numpy arrays` matching `signature`. Its result must depend on
            `k` alone (a random generator seeded from `k`, not one shared between examples), and
            it must not run TensorFlow (it runs in forked processes).
        signature: tuple of `tf.TensorSpec`, one example's arrays.
        batch_size: int.
        processes: int. Worker processes. Defaults to the number of cores; 1 makes the batches in
            this process.

    Returns:
        A `tf.data.Dataset` of tuples of batched arrays, tf.data's autotuning off (see
        `ordered_batches`).
    """
    processes = int(processes or os.cpu_count() or 1)
    batched = tuple(tf.TensorSpec((None, *spec.shape), spec.dtype) for spec in signature)
    options = tf.data.Options()
    options.autotune.enabled = False
    return (tf.data.Dataset.from_generator(lambda: _batches(count, make, signature, batch_size, processes),
                                           output_signature=batched)
            .apply(tf.data.experimental.assert_cardinality(math.ceil(count / batch_size)))
            .prefetch(2).with_options(options))


__all__ = ["parallel_batches"]
