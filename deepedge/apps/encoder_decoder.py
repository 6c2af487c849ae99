"""`EncoderDecoderMixin`: the batched decoder a translator and a captioner share.

A task mixes it in before `Task` and defines `_encode(inputs) -> (*memory, h, c)` (the
memory its decoder reads at every step: encoder outputs, attention keys, a mask; `None`s
without attention), `_output(hidden, *memory) -> (logits, attention weights or None)`,
`_token_embedding(token ids)` and an LSTM `decoder` layer. The mixin gives it the decoder step
(`_decode_step`, also what the step-wise export converts), graph-compiled encode and step
functions, and `start`, the contract of `deepedge.ops.decoding.decode_batched`, which drives
Keras and the on-device runtime alike.
"""

import numpy as np

from deepedge.backend import keras

ops = keras.ops


class EncoderDecoderMixin:
    decoder_rows = None  # Keras decodes any number of rows at once
    edge_decoder_rows = 4  # the exported decode_step's batch
    memory_names = ()  # what `_encode` returns before `h, c`, in order (the export's names)
    default_learning_rate = 1e-3
    last_attention = ()

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """AdamW (clipped) and a cross-entropy on logits; the batches' sample weights keep the
        padding after each end token out of the loss."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(self.default_learning_rate, weight_decay=1e-4, clipnorm=1.0)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def _decode_step(self, token, h, c, *memory, cell_step=None):
        """One decoder step: `(logits, h, c, attention weights or None)` for token ids `(rows,)`.
        `cell_step` computes the LSTM step for an export (a `GatewiseLSTMStep`); by default the
        Keras cell does."""
        x = self._token_embedding(token)
        if cell_step is None:
            _, (h_next, c_next) = self.decoder.cell(x, [h, c])
        else:
            h_next, c_next = cell_step(x, h, c)
        logits, weights = self._output(ops.expand_dims(h_next, 1), *memory)
        return logits[:, 0], h_next, c_next, None if weights is None else weights[:, 0]

    def _compiled(self):
        """The encoder and the decoder step as graph functions (an eager step costs milliseconds)."""
        if not self._compiled_functions:  # a dict the task makes in `__init__`
            from deepedge.backend import tf

            self._compiled_functions["encode"] = tf.function(self._encode, reduce_retracing=True)
            self._compiled_functions["step"] = tf.function(self._decode_step, reduce_retracing=True)
        return self._compiled_functions["encode"], self._compiled_functions["step"]

    def start(self, inputs, rows):
        """`(step, state)` decoding `inputs` (source ids, images) in the first of `rows` rows:
        `step(tokens (rows,), state) -> (logits (rows, vocabulary), state)`. After each step
        `last_attention` gains the step's attention weights `(rows, positions)`, with attention."""
        inputs = np.asarray(inputs)
        if len(inputs) < rows:
            inputs = np.concatenate([inputs, np.repeat(inputs[-1:], rows - len(inputs), axis=0)])
        encode, decode = self._compiled()
        *memory, h, c = encode(inputs)
        self.last_attention = []

        def step(tokens, state):
            logits, h, c, weights = decode(np.asarray(tokens, np.int32), state["h"], state["c"], *memory)
            if weights is not None:
                self.last_attention.append(weights.numpy())
            return logits.numpy(), {"h": h.numpy(), "c": c.numpy()}

        return step, {"h": h.numpy(), "c": c.numpy()}


    def _edge_signatures(self, encoder_inputs, memory, h, c, fed=()):
        """`encode` (`encoder_inputs` -> h, c and, with attention, the memory) and a `decode_step`
        over `edge_decoder_rows` rows, with the LSTM step laid out for int8 (`GatewiseLSTMStep`).

        Args:
            encoder_inputs: a Keras input, or a list of them.
            memory: what `_encode` returns before `h, c` (`memory_names`).
            fed: names of memory entries the runtime computes itself (a translator's
                `source_mask`, see `deepedge.ops.sources`): `decode_step` takes them, `encode`
                does not give them (their entry in `memory` is a Keras input of their shape).
        """
        from deepedge.layers import GatewiseLSTMStep

        decoder_reads = {"h": h, "c": c}
        if self.attention:
            decoder_reads |= dict(zip(self.memory_names, memory))
        encode_outputs = {name: value for name, value in decoder_reads.items() if name not in fed}
        encoder_inputs = encoder_inputs if isinstance(encoder_inputs, (list, tuple)) else [encoder_inputs]
        encode = keras.Model(encoder_inputs, list(encode_outputs.values()), name=f"{self.name}_encode")
        rows = self.edge_decoder_rows
        token = keras.Input(shape=(), batch_size=rows, dtype="int32", name="token")
        carried = {name: keras.Input(shape=tuple(value.shape[1:]), batch_size=rows, name=name)
                   for name, value in decoder_reads.items()}
        logits, h_next, c_next, weights = self._decode_step(
            token, carried["h"], carried["c"], *[carried.get(name) for name in self.memory_names],
            cell_step=GatewiseLSTMStep(self.decoder.cell))
        step_outputs = [logits, h_next, c_next] + ([weights] if self.attention else [])
        decode_step = keras.Model([token, *carried.values()], step_outputs, name=f"{self.name}_decode_step")
        state = [{"name": n, "shape": [rows, self.units], "dtype": "float32", "initial": 0.0} for n in ("h", "c")]
        # decode_step first: the exporter times the first signature, and the decoder's step is the hot loop
        return {
            "decode_step": {"model": decode_step, "inputs": ["token", *carried],
                            "outputs": ["logits", "h", "c"] + (["attention"] if self.attention else []),
                            "state": state},
            "encode": {"model": encode, "inputs": [tensor.name for tensor in encoder_inputs],
                       "outputs": list(encode_outputs)},
        }


__all__ = ["EncoderDecoderMixin"]
