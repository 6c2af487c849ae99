"""deepedge.training.pipelines: batches made in worker processes, the same as made in order here."""

import os

import numpy as np
import pytest

from deepedge.backend import tf
from deepedge.training import parallel_batches

SIGNATURE = (tf.TensorSpec((3,), tf.float32), tf.TensorSpec((), tf.int64))


def _example(k):
    """Example `k`: three numbers from a generator seeded by `k` alone, and `k`."""
    return np.random.default_rng([7, int(k)]).standard_normal(3).astype(np.float32), np.int64(k)


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_the_batches_are_the_examples_in_order_whatever_the_processes(processes):
    batches = list(parallel_batches(11, _example, SIGNATURE, 4, processes=processes).as_numpy_iterator())
    assert [len(labels) for _, labels in batches] == [4, 4, 3]  # the last one partial
    values = np.concatenate([x for x, _ in batches])
    np.testing.assert_array_equal(np.concatenate([k for _, k in batches]), np.arange(11))
    np.testing.assert_array_equal(values, np.stack([_example(k)[0] for k in range(11)]))


def test_worker_processes_make_the_batches_and_an_abandoned_epoch_stops_them():
    import gc
    import multiprocessing
    import time

    signature = (tf.TensorSpec((), tf.int64),)
    dataset = parallel_batches(40, lambda k: (np.int64(os.getpid()),), signature, 2, processes=2)
    assert int(dataset.cardinality()) == 20
    makers = {int(pid) for (batch,) in dataset.as_numpy_iterator() for pid in batch}
    assert os.getpid() not in makers and 1 <= len(makers) <= 2
    iterator = iter(dataset)
    next(iterator)
    assert multiprocessing.active_children()  # the epoch's pool, making the next batches
    del iterator  # an epoch abandoned after one batch (an interrupted fit): its processes end
    gc.collect()
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()


def test_the_pipeline_trains_a_model_through_fit():
    from deepedge.backend import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(11)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(parallel_batches(11, _example, SIGNATURE, 4, processes=2), epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()


def test_an_error_in_a_worker_reaches_the_consumer_with_its_message():
    def broken(k):
        if k == 5:
            raise ValueError("example 5 is broken")
        return _example(k)

    with pytest.raises(Exception, match="example 5 is broken"):
        list(parallel_batches(11, broken, SIGNATURE, 2, processes=2).as_numpy_iterator())
