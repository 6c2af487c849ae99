"""Shared fixtures: a small classifier trained on the real 8x8 digits, and its int8 export."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def digits():
    from deepedge.data import load_digits

    return {split: load_digits(split) for split in ("train", "validation", "test")}


def build_tiny_classifier(class_names, seed=0):
    from deepedge.apps import ImageClassifier
    from deepedge.apps.image_recognition import EdgeNetBackbone
    from deepedge.backend import keras

    keras.utils.set_random_seed(seed)
    backbone = EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=8, block_filters=(16, 24),
                               block_strides=(2, 1))
    return ImageClassifier(backbone, class_names)


@pytest.fixture(scope="session")
def trained_digits_classifier(digits):
    """An edge net trained for a few seconds on the 8x8 digits (about 90% test accuracy)."""
    from deepedge.backend import keras
    from deepedge.training import recalibrate_batch_norm

    train = digits["train"]
    model = build_tiny_classifier(train.class_names)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=15, verbose=0)
    recalibrate_batch_norm(model, train.images)
    return model


@pytest.fixture(scope="session")
def exported_int8(trained_digits_classifier, digits, tmp_path_factory):
    """The trained digits classifier exported to int8 (folder with model.tflite and model.json)."""
    path = tmp_path_factory.mktemp("export") / "digits_int8"
    trained_digits_classifier.export(path, calibration_data=digits["train"], evaluation_data=digits["test"],
                                     max_drop=3.0, extra_metadata={"data": "digits"})
    return path
