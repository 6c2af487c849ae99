"""deepedge.training.batchnorm: recalibrating batch norm statistics after training."""

import numpy as np

from deepedge.apps import ImageClassifier
from deepedge.apps.image_recognition import EdgeNetBackbone
from deepedge.backend import keras
from deepedge.training import recalibrate_batch_norm


def test_batch_norm_recalibration_rescues_a_high_momentum_model(digits):
    """The keras.applications MobileNetV3 trap: BN momentum 0.999 after a short training run."""
    train, test = digits["train"], digits["test"]
    keras.utils.set_random_seed(3)
    backbone = EdgeNetBackbone(image_shape=(8, 8, 1), stem_filters=8, block_filters=(16, 24),
                               block_strides=(2, 1), batch_norm_momentum=0.999)
    model = ImageClassifier(backbone, train.class_names)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(train.images.astype(np.float32), train.labels, batch_size=32, epochs=4, verbose=False)
    before = model.evaluate_metric(test)
    assert recalibrate_batch_norm(model, train.images) == 5  # stem + 2 blocks x 2
    after = model.evaluate_metric(test)
    assert before < 40.0 and after > 75.0, (before, after)
