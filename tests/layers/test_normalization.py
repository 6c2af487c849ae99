"""deepedge.layers.normalization: the fused batch norm matches Keras's."""

import numpy as np


def test_fused_batch_norm_matches_keras():
    from deepedge.backend import keras
    from deepedge.layers.normalization import FusedBatchNormalization

    x = np.random.default_rng(0).normal(2.0, 3.0, (4, 6, 5, 3)).astype(np.float32)
    ours, theirs = FusedBatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.gamma.assign([1.0, 2.0, 0.5])
        layer.beta.assign([0.0, 1.0, -1.0])
    np.testing.assert_allclose(ours(x, training=True), theirs(x, training=True), atol=1e-4)
    np.testing.assert_allclose(ours.moving_mean, theirs.moving_mean, atol=1e-5)
    np.testing.assert_allclose(ours.moving_variance, 0.5 + 0.5 * x.var((0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(ours.moving_variance, theirs.moving_variance, rtol=1e-4)
    np.testing.assert_allclose(ours(x, training=False), theirs(x, training=False), atol=1e-4)
