"""deepedge.layers.subsampling: LeNet-5's trainable subsampling, by hand."""

import numpy as np

from deepedge.backend import keras


def test_subsampling_hand_computed():
    from deepedge.layers import Subsampling

    layer = Subsampling(2, activation="tanh")
    x = np.array([[[[1.0, 0.0], [2.0, 1.0]], [[3.0, -1.0], [-2.0, 0.0]]]], np.float32)  # (1, 2, 2, 2)
    layer.build(x.shape)
    layer.set_weights([np.array([0.5, 2.0], np.float32), np.array([-1.0, 0.25], np.float32)])
    out = keras.ops.convert_to_numpy(layer(x))
    # Window sums: channel0 1+2+3-2 = 4, channel1 0+1-1+0 = 0. Then tanh(sum * coef + bias).
    np.testing.assert_allclose(out, np.tanh([[[[4 * 0.5 - 1.0, 0 * 2.0 + 0.25]]]]), rtol=1e-6)
    assert Subsampling.from_config(layer.get_config()).get_config() == layer.get_config()
