"""deepedge.apps.speech.recipes.keyword_epochs: the spotter's clips, rendered afresh each epoch in
worker processes, the same from the same `(seed, epoch)`."""

import numpy as np
import pytest

from deepedge.apps.speech.recipes import keyword_epochs
from deepedge.data.speech import SpeechAugmentation
from deepedge.data.speech.keywords import render_clip


def _epoch(train, augmentation, seed, epoch):
    batches = list(keyword_epochs(train, augmentation)(np.random.default_rng([seed, epoch]), 16).as_numpy_iterator())
    return np.concatenate([clips for clips, _ in batches]), np.concatenate([labels for _, labels in batches])


def test_each_epoch_renders_every_utterance_once_from_seed_and_epoch(tiny_keywords):
    train = tiny_keywords["train"]
    augmentation = SpeechAugmentation()
    clips, labels = _epoch(train, augmentation, 3, 0)
    again, _ = _epoch(train, augmentation, 3, 0)
    np.testing.assert_array_equal(clips, again)  # a resumed run renders the same clips
    assert clips.shape == (len(train), 16000) and clips.dtype == np.float32
    assert sorted(labels.tolist()) == sorted(train.labels.tolist())

    rng = np.random.default_rng([3, 0])  # what the epoch draws: the order, then the clips' seed
    order, seed = rng.permutation(len(train)), int(rng.integers(1, 2 ** 31))
    np.testing.assert_array_equal(labels, train.labels[order])
    for k in (0, len(train) // 2, len(train) - 1):
        expected = render_clip(train.utterances, int(order[k]), np.random.default_rng([seed, k]), augmentation)
        np.testing.assert_array_equal(clips[k], expected)

    other, other_labels = _epoch(train, augmentation, 3, 1)
    assert not np.array_equal(other_labels, labels) and not np.allclose(other, clips)


@pytest.mark.slow
def test_the_spotter_recipe_trains_on_the_streamed_clips(tiny_keywords, tmp_path, monkeypatch):
    """`train_preset("kws_dscnn")` end to end on the tiny keyword set: one epoch from the
    streamed clips, the record of how it trained in training.json."""
    import json

    from deepedge.apps.speech import recipes

    monkeypatch.setattr(recipes, "load_keywords", lambda split, *a, **k: tiny_keywords[split])
    monkeypatch.setattr(recipes, "load_neural_keywords", lambda split, *a, **k: tiny_keywords[split].take(22))
    model, report = recipes.train_preset("kws_dscnn", tmp_path, epochs=1, limit=4, verbose=False)
    assert len(report["history"]["loss"]) == 1 and np.isfinite(report["history"]["loss"][0])
    assert report["train_examples"] == len(tiny_keywords["train"]) + 22
    record = json.loads((tmp_path / "training.json").read_text())["distribution"]
    assert record["replicas"] == 1 and record["precision"] == "float32" and record["jit_compile"] is False
