"""`AdditiveAttention`: Bahdanau et al.'s attention over a sequence of encoder vectors."""

from deepedge.backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class AdditiveAttention(keras.layers.Layer):
    """Additive ("concat") attention: `score(s, h_j) = v . tanh(W s + U h_j)` (Bahdanau et al. 2015).

    The keys `U h_j` are computed once per source sentence by the caller (a `Dense` over the
    encoder memory), so a decoder step only adds its query and reads the weights.

    Args:
        units: int. Size of the hidden layer of the score.

    Call arguments:
        queries: `(batch, steps, query_dim)` decoder states.
        keys: `(batch, length, units)` projected encoder memory.
        memory: `(batch, length, memory_dim)` encoder outputs the context is mixed from.
        attended: `(batch, length)` 1 for positions to attend, 0 for padding.

    Returns:
        `(context (batch, steps, memory_dim), weights (batch, steps, length))`.

    Example:

    >>> attention = AdditiveAttention(8)
    >>> context, weights = attention(queries, keys, memory, attended)
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.query = keras.layers.Dense(self.units, name="query")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, queries_shape, keys_shape=None, memory_shape=None, attended_shape=None):
        self.query.build(queries_shape)
        self.score.build((*queries_shape[:-1], self.units))
        self.built = True

    def call(self, queries, keys, memory, attended):
        scores = self.score(ops.tanh(ops.expand_dims(self.query(queries), 2) + ops.expand_dims(keys, 1)))[..., 0]
        # Padding gets -1e9: this layer runs in float32 even inside an int8 model (the exporter
        # keeps it there), where a bias that large is exact.
        scores = scores + (ops.expand_dims(ops.cast(attended, scores.dtype), 1) - 1.0) * 1e9
        weights = ops.softmax(scores, axis=-1)
        return ops.matmul(weights, memory), weights

    def compute_output_shape(self, queries_shape, keys_shape, memory_shape, attended_shape):
        return (*queries_shape[:-1], memory_shape[-1]), (*queries_shape[:-1], keys_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
