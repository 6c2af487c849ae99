"""deepedge.ops.sources: what a translator's exported encoder reads besides its ids."""

import numpy as np
import pytest

from deepedge.ops.sources import SOURCE_FEEDS, source_feeds, source_length

END = 2


@pytest.mark.parametrize("words", [0, 1, 4, 7])
def test_feeds_reverse_pick_the_end_and_restore_the_order(words):
    steps = 8
    ids = np.full(steps, END, np.int32)
    ids[:words] = np.arange(10, 10 + words)
    feeds = source_feeds(ids, END)
    length = words + 1
    assert source_length(ids, END) == length
    assert feeds["source"].tolist() == [ids.tolist()]
    # the sentence reversed within its length: the end token first, then the words from the last
    assert feeds["source_reversed"][0].tolist() == [END, *range(10 + words - 1, 9, -1)] + [END] * (steps - length)
    # a reversed read's step `length - 1` read the first word: its final state
    assert feeds["source_last"].shape == (1, 1, steps)
    assert feeds["source_last"][0, 0].tolist() == [float(t == length - 1) for t in range(steps)]
    # the order puts the reversed read back: position t gets the step that read it
    read = feeds["source_reversed"][0]
    assert (feeds["source_order"][0] @ read.astype(np.float32)).tolist() == ids.astype(np.float32).tolist()
    assert np.allclose(feeds["source_order"][0].sum(0), 1) and np.allclose(feeds["source_order"][0].sum(1), 1)
    assert feeds["source_mask"][0].tolist() == [1.0] * length + [0.0] * (steps - length)
    assert {k: v.dtype.name for k, v in feeds.items()} == {
        "source": "int32", "source_reversed": "int32", "source_last": "float32", "source_order": "float32",
        "source_mask": "float32"}


def test_a_sentence_without_end_token_fills_the_steps_and_names_pick_feeds():
    ids = np.arange(3, 9)
    assert source_length(ids, END) == 6
    feeds = source_feeds(ids, END, ["source_reversed", "source_last"])
    assert sorted(feeds) == ["source_last", "source_reversed"]
    assert feeds["source_reversed"][0].tolist() == ids[::-1].tolist()
    assert feeds["source_last"][0, 0, -1] == 1.0
    with pytest.raises(KeyError):
        source_feeds(ids, END, ["image"])
    assert set(SOURCE_FEEDS) == set(source_feeds(ids, END))


@pytest.mark.parametrize("ids", [np.array([3.0, 2.0]), np.array([[3, 2]]), np.array([], np.int32), "3 2"])
def test_ids_that_are_not_one_sentence_of_integers_are_refused(ids):
    from deepedge.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="1-D array of integers"):
        source_feeds(ids, END)
