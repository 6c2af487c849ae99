"""deepedge.apps.captioning.recipes.reader_epochs: the encoder stage's recoloured and zoomed images,
made in worker processes, are the batches the arrays of `recoloured_and_zoomed` give."""

import numpy as np

from deepedge.data.captions import load_captions, recoloured_and_zoomed


class _Model:  # what `reader_epochs` reads of a captioner
    grid_shape = (6, 6)


def test_the_streamed_epoch_is_the_arrays_epoch_from_the_same_rng(tmp_path, monkeypatch):
    from deepedge.apps.captioning.recipes import reader_epochs

    monkeypatch.setenv("DEEPEDGE_CACHE", str(tmp_path))
    train = load_captions("train", 40, size=48)
    epoch_dataset, _ = reader_epochs(_Model(), train)
    batches = list(epoch_dataset(np.random.default_rng([5, 2]), 16).as_numpy_iterator())
    assert [len(images) for images, _ in batches] == [16, 16, 8]

    rng = np.random.default_rng([5, 2])  # as the recipe drew each epoch before it streamed them
    images, maps = recoloured_and_zoomed(train, _Model.grid_shape, rng)
    order = rng.permutation(len(images))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), images[order])
    np.testing.assert_array_equal(np.concatenate([b[1][0] for b in batches]), maps[order][..., 0])
    np.testing.assert_array_equal(np.concatenate([b[1][1] for b in batches]), maps[order][..., 1])
    assert (maps[..., 1] == -1).any() and not np.array_equal(images, train.images)  # recoloured and zoomed
