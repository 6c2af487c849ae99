"""`ReversibleEmbedding`: one matrix for the input embedding and the output softmax (weight tying)."""

from deepedge.backend import keras

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class ReversibleEmbedding(keras.layers.Embedding):
    """An `Embedding` that also maps vectors back to vocabulary logits with its own matrix.

    `layer(ids)` looks ids up as usual; `layer(vectors, reverse=True)` returns
    `vectors @ embeddings.T + bias`. Tying the two (Press & Wolf 2017; Inan et al. 2017)
    halves a language model's parameters and usually lowers its perplexity. On LiteRT the
    reverse call is one FULLY_CONNECTED op whose weights are the embedding matrix.

    Args:
        input_dim: int. Vocabulary size.
        output_dim: int. Embedding size.
        reverse_bias: bool. Add a learned bias to the logits. Defaults to `True`.
    """

    def __init__(self, input_dim, output_dim, reverse_bias=True, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.reverse_bias = reverse_bias

    def build(self, input_shape=None):
        super().build(input_shape)
        self.bias = (self.add_weight(shape=(self.input_dim,), initializer="zeros", name="reverse_bias")
                     if self.reverse_bias else None)

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = ops.cast(self.embeddings, self.compute_dtype)
        logits = ops.matmul(inputs, ops.transpose(kernel))
        if self.bias is not None:
            logits = logits + ops.cast(self.bias, logits.dtype)
        return logits

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape, reverse=reverse),
                                 dtype=self.compute_dtype)

    # Embedding's own (de)serialisation knows only its quantization variables; store all of ours.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)

    def get_config(self):
        return {**super().get_config(), "reverse_bias": self.reverse_bias}
