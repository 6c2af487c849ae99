"""deepedge.layers.separable: the depthwise separable convolution block, by hand."""

import numpy as np
import pytest

from deepedge.backend import keras
from deepedge.layers import DepthwiseSeparableConv


def _identity_batch_norm(bn, channels):
    eps = bn.epsilon
    # gamma 1, beta 0, mean 0, variance 1 - eps: inference-mode BN is exactly the identity.
    bn.set_weights([np.ones(channels), np.zeros(channels), np.zeros(channels), np.full(channels, 1.0 - eps)])


def test_hand_computed_output():
    block = DepthwiseSeparableConv(2, kernel_size=3)
    block.build((1, 2, 2, 2))
    depthwise = np.zeros((3, 3, 2, 1), np.float32)
    depthwise[1, 1, 0, 0] = 1.0    # channel 0 passes through
    depthwise[1, 1, 1, 0] = -1.0   # channel 1 is negated, then ReLU clips it to 0
    block.depthwise.set_weights([depthwise])
    block.pointwise.set_weights([np.array([[[[2.0, -1.0], [5.0, 5.0]]]], np.float32)])
    _identity_batch_norm(block.depthwise_bn, 2)
    _identity_batch_norm(block.pointwise_bn, 2)
    x = np.array([[[[1.0, 3.0], [2.0, -4.0]], [[0.0, 1.0], [-1.0, 0.0]]]], np.float32)
    out = keras.ops.convert_to_numpy(block(x, training=False))
    # Depthwise+ReLU: channel0 = relu(x0) = [[1,2],[0,0]]; channel1 = relu(-x1) = [[0,4],[0,0]].
    # Pointwise [c0, c1] @ [[2,-1],[5,5]] then ReLU.
    expected = np.array([[[[2.0, 0.0], [24.0, 18.0]], [[0.0, 0.0], [0.0, 0.0]]]], np.float32)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_strides_halve_resolution():
    block = DepthwiseSeparableConv(16, strides=2)
    assert block(np.zeros((3, 28, 28, 8), np.float32)).shape == (3, 14, 14, 16)
    assert block.compute_output_shape((3, 28, 28, 8)) == (3, 14, 14, 16)


def test_config_round_trip():
    block = DepthwiseSeparableConv(12, kernel_size=5, strides=2, batch_norm_momentum=0.9, name="b")
    clone = DepthwiseSeparableConv.from_config(block.get_config())
    assert clone.get_config() == block.get_config()


@pytest.mark.parametrize("kwargs", [{"filters": 0}, {"filters": 4, "strides": 0}, {"filters": 2.5}])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError, match="Received"):
        DepthwiseSeparableConv(**kwargs)
