"""LeNet-5's subsampling layer (LeCun et al. 1998, S2 and S4)."""

from deepedge.backend import keras


@keras.saving.register_keras_serializable(package="deepedge")
class Subsampling(keras.layers.Layer):
    """Sums each non-overlapping `pool_size` x `pool_size` window, multiplies by a trainable
    coefficient and adds a trainable bias (one of each per feature map), then applies an
    activation: the S2/S4 layers of LeNet-5.

    Args:
        pool_size: int. Window size and stride. Defaults to `2`.
        activation: activation applied last. Defaults to `None` (identity).

    Input shape:
        4D tensor `(batch, height, width, channels)`.

    Output shape:
        4D tensor `(batch, height // pool_size, width // pool_size, channels)`.

    Example:

    >>> layer = Subsampling()
    >>> layer(np.ones((1, 4, 4, 3))).shape   # coefficient 1, bias 0: each output is 4.0
    (1, 2, 2, 3)
    """

    def __init__(self, pool_size=2, activation=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"`pool_size` must be a positive int. Received: pool_size={pool_size!r}")
        self.pool_size = pool_size
        self.activation = keras.activations.get(activation)
        self.pool = keras.layers.AveragePooling2D(pool_size)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.coefficient = self.add_weight(shape=(channels,), initializer="ones", name="coefficient")
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")

    def call(self, inputs):
        # The window mean times pool_size**2 is the window sum.
        summed = self.pool(inputs) * float(self.pool_size ** 2)
        return self.activation(summed * self.coefficient + self.bias)

    def compute_output_shape(self, input_shape):
        return self.pool.compute_output_shape(input_shape)

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size,
                "activation": keras.activations.serialize(self.activation)}
