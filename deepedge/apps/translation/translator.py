"""`Translator`: an encoder-decoder LSTM, with or without attention, that exports step-wise.

The encoder reads a sentence of source token ids; the decoder writes target ids one at a
time from its state (and, with attention, from a weighted mix of every encoder position).
`fit` trains with teacher forcing on `[source ids, target ids in] -> target ids out`;
`translate` decodes greedily or by beam search with the same numpy loop the device runs.
On device the model is two signatures of one `.tflite`: `encode(source ids, and what the
runtime computes from them: deepedge.ops.sources) -> memory and the first state` and
`decode_step(token, state, memory) -> (logits, state, attention)`.
"""

import numpy as np

from deepedge.apps.encoder_decoder import EncoderDecoderMixin
from deepedge.apps.task import Task
from deepedge.apps.translation.presets import ARCHITECTURES, TRAINED
from deepedge.backend import keras
from deepedge.errors import InvalidInputError
from deepedge.export.calibration import graph_function, teacher_forced_steps
from deepedge.layers import AdditiveAttention, GatewiseLSTMStep, StepSelect
from deepedge.ops.sources import source_feeds
from deepedge.tokenizers import as_tokenizer, encode_sentences

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class Translator(EncoderDecoderMixin, Task, keras.Model):
    """An LSTM encoder-decoder translator (Sutskever et al.; with attention, Bahdanau et al.).

    Args:
        source_tokenizer, target_tokenizer: `deepedge.tokenizers.Tokenizer`s (or their configs).
        embedding_dim: int. Size of the source and target word vectors.
        units: int. LSTM units of the decoder (and of the encoder; a bidirectional encoder has
            `units // 2` each way).
        attention: bool. Additive attention over the encoder positions. Without it the source
            is read reversed and only the encoder's final state reaches the decoder.
        attention_units: int. Size of the additive attention's hidden layer.
        dropout: float. Dropout on embeddings and decoder outputs in training.
        max_source_length, max_target_length: int. Tokens per sentence, the end token included.

    Call it on `[source ids (batch, max_source_length), target ids in (batch, steps)]`; it returns
    logits `(batch, steps, target vocabulary)`.
    """

    family = "translation"
    task_name = "translation"
    metric_name = "bleu"
    metric_higher_is_better = True
    parity_threshold = 1.0  # BLEU points an int8 export may lose
    # Extra `encode_N` signatures for sentences of up to N - 1 tokens (those of these lengths at
    # most half the model's longest): most sentences are short, and the unrolled encoder of the
    # longest took a fifth of a sentence's time on device. de_en_attention int8, beam 4 on the test
    # split: 5.56 BLEU with `encode_16`, 5.66 without (float 5.86). Measured 2026-12-07, one
    # `encode` call a sentence on one thread: de_en_seq2seq 2.76 ms at 48 steps, es_en_seq2seq
    # 6.49 ms and es_en_attention 5.84 ms at 96, where two verses in three fit in 32 steps.
    edge_short_source_lengths = (16, 32, 48)
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, source_tokenizer, target_tokenizer, embedding_dim=128, units=256, attention=True,
                 attention_units=128, dropout=0.2, max_source_length=48, max_target_length=48, **kwargs):
        super().__init__(**kwargs)
        self.source_tokenizer = as_tokenizer(source_tokenizer, "source_tokenizer")
        self.target_tokenizer = as_tokenizer(target_tokenizer, "target_tokenizer")
        if attention and units % 2:
            raise ValueError(f"A bidirectional encoder splits `units` in two halves. Received: units={units}")
        self.embedding_dim, self.units, self.attention = int(embedding_dim), int(units), bool(attention)
        self.attention_units, self.dropout_rate = int(attention_units), float(dropout)
        self.max_source_length, self.max_target_length = int(max_source_length), int(max_target_length)
        # === Layers ===
        self.source_embedding = keras.layers.Embedding(self.source_tokenizer.vocabulary_size, self.embedding_dim,
                                                       name="source_embedding")
        self.target_embedding = keras.layers.Embedding(self.target_tokenizer.vocabulary_size, self.embedding_dim,
                                                       name="target_embedding")
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="dropout")
        if self.attention:
            half = self.units // 2
            self.encoder = keras.layers.Bidirectional(
                keras.layers.LSTM(half, return_sequences=True, return_state=True, name="encoder_lstm"),
                name="encoder")
            self.encoder.forward_layer.cell.name = "encoder_forward_cell"
            self.encoder.backward_layer.cell.name = "encoder_backward_cell"
            self.initial_h = keras.layers.Dense(self.units, activation="tanh", name="initial_h")
            self.initial_c = keras.layers.Dense(self.units, name="initial_c")
            self.memory_keys = keras.layers.Dense(self.attention_units, use_bias=False, name="attention_keys")
            self.attention_layer = AdditiveAttention(self.attention_units, name="attention")
            self.combine = keras.layers.Dense(self.units, activation="tanh", name="attention_output")
        else:
            self.encoder = keras.layers.LSTM(self.units, return_state=True, name="encoder")
            self.encoder.cell.name = "encoder_cell"
        self.decoder = keras.layers.LSTM(self.units, return_sequences=True, return_state=True, name="decoder")
        self.decoder.cell.name = "decoder_cell"
        self.logits = keras.layers.Dense(self.target_tokenizer.vocabulary_size, name="logits")
        self._compiled_functions = {}

    @property
    def edge_float_layers(self):
        """What stays float32 in the int8 model: the LSTMs' elementwise cell-state updates, the
        encoders' final states and the reorder of the backward read (`StepSelect`: a float
        `BATCH_MATMUL`, which XNNPACK takes and which picks values exactly), with the layer
        that reads the cell state (see `deepedge.layers.recurrent`: an 8-bit cell state loses
        the decoder's word), and the attention's scores and softmax (in int8 a masked softmax
        over a few dozen positions keeps too few distinct weights). Every matrix product with
        weights, and every weight, is int8."""
        cells = ([self.encoder.forward_layer.cell, self.encoder.backward_layer.cell] if self.attention
                 else [self.encoder.cell]) + [self.decoder.cell]
        encoders = cells[:-1]
        return (tuple(f"{cell.name}_state" for cell in cells)
                + tuple(f"{cell.name}_final_{part}" for cell in encoders for part in "hc")
                + (("encoder_order", "initial_c", "attention") if self.attention else ()))

    # === Functional pieces shared by `call` and the step-wise export ===
    def _encode(self, source, training=False):
        """`(memory or None, keys or None, mask bias or None, h, c)` for source ids."""
        source_mask = self._source_mask(source)
        # The padding after the end token is masked: the LSTMs carry their state over it, so
        # the encoding does not depend on how far a sentence is padded (training trims batches).
        if not self.attention:
            reversed_source = ops.flip(source, axis=1)  # Sutskever et al.: the first words are read last
            x = self.dropout(self.source_embedding(reversed_source), training=training)
            _, h, c = self.encoder(x, mask=ops.flip(ops.cast(source_mask, "bool"), axis=1), training=training)
            return None, None, None, h, c
        x = self.dropout(self.source_embedding(source), training=training)
        memory, forward_h, forward_c, backward_h, backward_c = self.encoder(
            x, mask=ops.cast(source_mask, "bool"), training=training)
        return (memory, self.memory_keys(memory), source_mask,
                self.initial_h(ops.concatenate([forward_h, backward_h], axis=-1)),
                self.initial_c(ops.concatenate([forward_c, backward_c], axis=-1)))

    def _source_mask(self, source):
        """1 where the source has a word or its end token, 0 on the padding after it."""
        is_end = ops.cast(ops.equal(source, self.source_tokenizer.end_id), "float32")
        return ops.cast(ops.less_equal(ops.cumsum(is_end, axis=1) - is_end, 0.0), "float32")

    def _token_embedding(self, token):
        return self.target_embedding(token)

    def _output(self, hidden, memory, keys, source_mask, training=False):
        weights = None
        if self.attention:
            context, weights = self.attention_layer(hidden, keys, memory, source_mask)
            hidden = self.combine(ops.concatenate([hidden, context], axis=-1))
        return self.logits(self.dropout(hidden, training=training)), weights

    def build(self, input_shape):
        """Creates every weight by running `call` once on end tokens of the given shapes
        (`[(batch, source length), (batch, steps)]`), so `from_config` + `build` loads weights."""
        (batch, source_length), (_, steps) = (tuple(shape) for shape in input_shape)
        end = self.source_tokenizer.end_id
        self.call([np.full((batch or 1, source_length or self.max_source_length), end, np.int32),
                   np.full((batch or 1, steps or 1), end, np.int32)])
        self.built = True

    def call(self, inputs, training=False):
        source, target_in = inputs
        memory, keys, source_mask, h, c = self._encode(source, training)
        y = self.dropout(self.target_embedding(target_in), training=training)
        hidden, _, _ = self.decoder(y, initial_state=[h, c], training=training)
        return self._output(hidden, memory, keys, source_mask, training)[0]

    # === Training data ===
    def teacher_forcing_data(self, sources, targets):
        """`([source ids, target ids in], target ids out)` for `fit`: the decoder reads the end token
        and then the target, and learns to write the target and then the end token."""
        source_ids = encode_sentences(self.source_tokenizer, sources, self.max_source_length)
        target_ids = encode_sentences(self.target_tokenizer, targets, self.max_target_length, "target")
        end = self.target_tokenizer.end_id
        target_in = np.concatenate([np.full((len(target_ids), 1), end, np.int32), target_ids[:, :-1]], axis=1)
        return [source_ids, target_in], target_ids

    def training_batches(self, x, y, batch_size, rng=None):
        """`fit` batches of teacher-forcing data, each trimmed to its longest sentence.

        Sentences of similar length are batched together (sorted within chunks of 64 batches,
        the batches then shuffled with `rng`), so a batch of short sentences runs a few steps
        instead of `max_source_length`. Each batch carries a sample weight of 1 up to and
        including the target's end token and 0 on the padding after it.

        Returns:
            A `tf.data.Dataset` of `((source, target_in), target_out, weights)`.
        """
        from deepedge.backend import tf

        source, target_in = (np.asarray(a, np.int32) for a in x)
        y = np.asarray(y, np.int32)
        end = self.target_tokenizer.end_id
        weights = (np.cumsum(y == end, axis=1) - (y == end) <= 0).astype(np.float32)
        source_lengths = (np.cumsum(source == self.source_tokenizer.end_id, axis=1) == 0).sum(1) + 1
        target_lengths = weights.sum(1).astype(int)
        key = np.maximum(source_lengths, target_lengths)
        chunk = batch_size * 64
        batches = []
        for start in range(0, len(y), chunk):
            order = start + np.argsort(key[start:start + chunk], kind="stable")
            batches += [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]

        def trimmed(lengths, b, limit):
            return min(limit, -(-int(lengths[b].max()) // 8) * 8)  # a multiple of 8: few distinct shapes

        def generate():
            for b in batches:
                s, t = trimmed(source_lengths, b, source.shape[1]), trimmed(target_lengths, b, y.shape[1])
                yield (source[b, :s], target_in[b, :t]), y[b, :t], weights[b, :t]

        ids = tf.TensorSpec((None, None), tf.int32)
        options = tf.data.Options()
        options.autotune.enabled = False
        dataset = tf.data.Dataset.from_generator(generate, output_signature=(
            (ids, ids), ids, tf.TensorSpec((None, None), tf.float32)))
        return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).with_options(options)

    # === Translating ===
    edge_decoder_rows = 4  # the exported decode_step's batch: beam 4, or 4 sentences greedily
    default_learning_rate = 1e-3  # of `compile()` without an optimizer
    memory_names = ("memory", "keys", "source_mask")

    def translate(self, texts, beam_width=None, length_penalty=1.0, max_tokens=None, on_sentence=None):
        """Translations of one sentence or a list: greedy (many sentences side by side), or beam
        search with `beam_width` (ranked by log-probability / length ** `length_penalty`)."""
        from deepedge.ops.decoding import translate_texts

        return translate_texts(self, texts, beam_width, length_penalty, max_tokens, on_sentence)

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU (sacrebleu) of the translations of `data` (a `ParallelCorpus`), over the
        pairs whose source fits the model (a longer one is refused, never cut short)."""
        from deepedge.apps.translation.metrics import fitting_pairs
        from deepedge.ops.bleu import corpus_bleu

        data, _ = fitting_pairs(self, data)
        return corpus_bleu(self.translate(list(data.sources), beam_width), list(data.targets))

    def count_examples(self, data):
        return int(len(data))

    # === Step-wise export ===
    def edge_signatures(self):
        """`encode` and `decode_step`, the state and the encoder memory laid out for model.json.

        The encoder reads its source ids and what the runtime computes from them
        (`deepedge.ops.sources`: the sentence reversed within its length, a one-hot at its end,
        the order that puts the backward read back, and the decoder's `source_mask`), so the
        graph needs no integer arithmetic and XNNPACK takes every op.

        For each N of `edge_short_source_lengths` up to half `max_source_length`, a shorter
        encoder `encode_N` reads sentences of up to N - 1 tokens (and the end token) in N
        unrolled steps instead of `max_source_length`: most sentences are short, and the
        unrolled encoder is a fifth of the time a sentence takes on device. The runtime picks
        the shortest that holds the sentence and pads its memory (with attention) with masked
        positions; the decoder cannot tell."""
        inputs = self._edge_encoder_inputs(self.max_source_length)
        memory, keys, h, c = self._unrolled_encode(inputs)
        source_mask = keras.Input(shape=(self.max_source_length,), batch_size=1, name="source_mask")
        signatures = self._edge_signatures(list(inputs.values()), (memory, keys, source_mask), h, c,
                                           fed=("source_mask",))
        for short in self.short_source_lengths():
            inputs_short = self._edge_encoder_inputs(short)
            *memory_short, h_short, c_short = self._unrolled_encode(inputs_short)
            outputs = {"h": h_short, "c": c_short}
            if self.attention:
                outputs |= dict(zip(self.memory_names, memory_short))
            signatures[f"encode_{short}"] = {
                "model": keras.Model(list(inputs_short.values()), list(outputs.values()),
                                     name=f"{self.name}_encode_{short}"),
                "inputs": list(inputs_short), "outputs": list(outputs)}
        return signatures

    def short_source_lengths(self):
        """The steps of the exported shorter encoders (`encode_N`), shortest first."""
        return sorted({int(n) for n in self.edge_short_source_lengths or () if 2 * int(n) <= self.max_source_length})

    def _edge_encoder_inputs(self, steps):
        """The exported encoder's inputs over `steps` positions (see `deepedge.ops.sources`)."""
        shapes = {"source": ((steps,), "int32"), "source_reversed": ((steps,), "int32"),
                  "source_last": ((1, steps), "float32"), "source_order": ((steps, steps), "float32")}
        names = ("source", "source_reversed", "source_last", "source_order") if self.attention else (
            "source_reversed", "source_last")
        return {name: keras.Input(shape=shapes[name][0], batch_size=1, dtype=shapes[name][1], name=name)
                for name in names}

    def _unrolled_encode(self, inputs):
        """The encoder as plain cell steps over the fixed source length (no WHILE loop to
        convert): `(memory, keys, h, c)` (`None, None, h, c` without attention).

        It computes what the masked Keras LSTMs compute. A reversed read goes over the sentence
        reversed within its length (the end token first, then the words from the last), with
        the padding after it, so that no step sees a state that is zero in every calibration
        sentence (an int8 tensor with no range, which XNNPACK refuses). The padding only
        changes states nobody reads: a read's final state is picked at the end token, and the
        backward outputs are put back in sentence order, by `StepSelect` (float, exact)."""
        last = inputs["source_last"]

        def read(cell, x, units):
            step = GatewiseLSTMStep(cell)
            h = c = ops.zeros((1, units))
            hs, cs = [], []
            for t in range(x.shape[1]):
                h, c = step(x[:, t], h, c)
                hs.append(h)
                cs.append(c)
            outputs = ops.stack(hs, axis=1)
            return (outputs, StepSelect(name=f"{cell.name}_final_h")(last, outputs)[:, 0],
                    StepSelect(name=f"{cell.name}_final_c")(last, cs)[:, 0])

        reversed_x = self.source_embedding(inputs["source_reversed"])
        if not self.attention:
            _, h, c = read(self.encoder.cell, reversed_x, self.units)
            return None, None, h, c
        half = self.units // 2
        forward_out, fh, fc = read(self.encoder.forward_layer.cell, self.source_embedding(inputs["source"]), half)
        backward_out, bh, bc = read(self.encoder.backward_layer.cell, reversed_x, half)
        backward_in_order = StepSelect(name="encoder_order")(inputs["source_order"], backward_out)
        memory = ops.concatenate([forward_out, backward_in_order], axis=-1)
        return (memory, self.memory_keys(memory), self.initial_h(ops.concatenate([fh, bh], axis=-1)),
                self.initial_c(ops.concatenate([fc, bc], axis=-1)))

    def calibration_samples(self, data, num_samples=400, seed=0, steps_per_sentence=8):
        """Real `(signature, inputs)` pairs for int8 calibration: encoder inputs of training
        sentences, and decoder steps teacher-forced through their whole reference translations,
        `steps_per_sentence` of them spread evenly from the first word to the end token:
        `num_samples` of these, and on top of them the same sentences through each shorter
        encoder that holds them (so adding one changes no other signature's calibration).

        Steps from the whole sentence, not only its first words: a decoder's state and its
        attention context late in a long sentence range wider than at its start (es_en_attention
        calibrated on the first 8 steps lost 2.7 BLEU in int8 on the Bible verses).
        """
        rng = np.random.default_rng(seed)
        signatures = self.edge_signatures()
        encode = graph_function(signatures["encode"]["model"])
        names = signatures["encode"]["outputs"]
        step = graph_function(signatures["decode_step"]["model"])
        rows = self.edge_decoder_rows  # the sentence in every row of the decoder
        samples, shorter = [], []  # the shorter encoders' samples come on top of `num_samples`
        sentences = max(1, num_samples // (steps_per_sentence + 1))
        for i in rng.permutation(len(data)):
            if sentences == 0:
                break
            try:
                source = encode_sentences(self.source_tokenizer, data.sources[i], self.max_source_length)
                target = encode_sentences(self.target_tokenizer, data.targets[i], self.max_target_length, "target")[0]
            except InvalidInputError:  # longer than the model takes: it never sees such a pair
                continue
            sentences -= 1
            end_id = self.source_tokenizer.end_id
            feeds = source_feeds(source[0], end_id)
            encode_inputs = {n: feeds[n] for n in signatures["encode"]["inputs"]}
            if len(samples) < num_samples:  # each shorter encoder that holds the sentence reads it too
                for short in self.short_source_lengths():
                    if np.argmax(source[0] == end_id) < short:
                        short_feeds = source_feeds(source[0, :short], end_id)
                        shorter.append((f"encode_{short}",
                                        {n: short_feeds[n] for n in signatures[f"encode_{short}"]["inputs"]}))
            samples.append(("encode", encode_inputs))
            encoded = encode([encode_inputs[n] for n in signatures["encode"]["inputs"]])
            carried = {n: np.repeat(keras.ops.convert_to_numpy(v), rows, axis=0) for n, v in zip(names, encoded)}
            carried |= {n: np.repeat(feeds[n], rows, axis=0) for n in signatures["decode_step"]["inputs"]
                        if n not in carried and n in feeds}
            end = int(np.argmax(target == self.target_tokenizer.end_id))  # the number of words
            samples += teacher_forced_steps(step, carried, [self.target_tokenizer.end_id, *target[:end]], rows,
                                            steps_per_sentence)
        return samples[:num_samples] + shorter

    def edge_metadata(self):
        return {"source_tokenizer": self.source_tokenizer.get_config(),
                "target_tokenizer": self.target_tokenizer.get_config(),
                "max_source_length": self.max_source_length, "max_target_length": self.max_target_length,
                "attention": self.attention, "architecture": "seq2seq_attention" if self.attention else "seq2seq",
                "memory": ["memory", "keys", "source_mask"] if self.attention else [],
                "params": int(self.count_params())}

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, source_tokenizer=None, target_tokenizer=None, **kwargs):
        """An untrained translator of the architecture preset `name` for the two tokenizers."""
        if source_tokenizer is None or target_tokenizer is None:
            raise ValueError(f"The architecture preset {name!r} needs `source_tokenizer` and `target_tokenizer`.")
        return cls(source_tokenizer, target_tokenizer, **{**ARCHITECTURES[name]["config"], **kwargs}, name=name)

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "source_tokenizer": self.source_tokenizer.get_config(),
                "target_tokenizer": self.target_tokenizer.get_config(), "embedding_dim": self.embedding_dim,
                "units": self.units, "attention": self.attention, "attention_units": self.attention_units,
                "dropout": self.dropout_rate, "max_source_length": self.max_source_length,
                "max_target_length": self.max_target_length}

