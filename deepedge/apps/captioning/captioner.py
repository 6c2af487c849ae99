"""`Captioner`: a ConvNet reads the image, an LSTM writes the caption (the review's Fig. 3).

The encoder (an `EdgeNetBackbone` without its pooling) turns an RGB image into a grid of
feature vectors. Without attention (`show_and_tell`, Vinyals et al. 2014) their mean becomes
the decoder's initial state and nothing else of the image reaches it. With attention
(`show_attend_tell`, Xu et al. 2015) every step also mixes the grid by additive attention
weights, and training adds the doubly stochastic penalty `lambda * sum_i (1 - sum_t a_ti)^2`
(every place looked at over the caption). The attention is queried with the decoder's new
state and mixed into its output (as in our translator; Xu et al. query the previous state and
feed the context into the LSTM): one decode step is the same exportable graph in both families.

`fit` trains with teacher forcing on `[images, caption ids in] -> caption ids out`; `caption`
decodes greedily or by beam search with the loop the device runs. On device the model is
two signatures of one `.tflite`: `encode(image) -> memory and the first state` and
`decode_step(token, state, memory) -> (logits, state, attention over the grid)`.
"""

import numpy as np

from deepedge.apps.captioning.presets import ARCHITECTURES, TRAINED
from deepedge.apps.encoder_decoder import EncoderDecoderMixin
from deepedge.apps.task import Task
from deepedge.backend import keras
from deepedge.errors import InvalidInputError
from deepedge.export.calibration import graph_function, teacher_forced_steps
from deepedge.layers import AdditiveAttention
from deepedge.tokenizers import as_tokenizer, encode_sentences

ops = keras.ops


@keras.saving.register_keras_serializable(package="deepedge")
class Captioner(EncoderDecoderMixin, Task, keras.Model):
    """An image captioner: ConvNet encoder, LSTM decoder, optional soft attention over the grid.

    Args:
        tokenizer: a `deepedge.tokenizers.Tokenizer` of the caption words (or its config).
        image_size: int. Height and width of the RGB images the model reads (0-255 values).
        encoder: dict. `EdgeNetBackbone` arguments (filters and strides); the grid it returns
            is what attention looks at.
        embedding_dim: int. Size of the word vectors.
        units: int. LSTM units of the decoder.
        attention: bool. Soft attention over the feature grid (Show, Attend and Tell).
        attention_units: int. Size of the additive attention's hidden layer.
        dropout: float. Dropout on the word vectors and the decoder's output in training.
        max_caption_length: int. Tokens per caption, the end token included.
        attention_regularization: float. Weight of the doubly stochastic penalty.
        attention_style: `"luong"`: the new state queries the grid and the context is mixed
            into the output (as in our translator); `"xu"`: the previous state queries the grid
            and the context enters the LSTM with the word and is mixed into the output (Xu et al.).
        word_dropout: float. In training, the probability that a word the decoder reads (every
            input token after the first) is replaced by the unknown token (Bowman et al. 2016's
            word dropout), so the next word must come from the image rather than from the words
            before it: a model that always reads "red" before "shirt" otherwise never says "red
            dress" even when it sees one. Decoding never writes the unknown token.
        train_encoder: bool. Whether `fit` trains the encoder too. The trained presets first
            teach the encoder to read the scene's object maps, then keep it fixed while the
            decoder learns (as Xu et al. kept their ImageNet-trained VGG fixed).

    Call it on `[images (batch, size, size, 3), caption ids in (batch, steps)]`; it returns
    logits `(batch, steps, vocabulary)`.
    """

    family = "captioning"
    task_name = "captioning"
    metric_name = "bleu4"
    metric_higher_is_better = True
    parity_threshold = 1.0  # BLEU-4 points an int8 export may lose
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, tokenizer, image_size=64, encoder=None, embedding_dim=64, units=256, attention=True,
                 attention_units=128, dropout=0.2, max_caption_length=20, attention_regularization=0.0,
                 train_encoder=True, attention_style="luong", word_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        from deepedge.apps.image_recognition.backbones import EdgeNetBackbone

        self.tokenizer = tokenizer = as_tokenizer(tokenizer)
        self.image_size, self.embedding_dim, self.units = int(image_size), int(embedding_dim), int(units)
        self.attention, self.attention_units = bool(attention), int(attention_units)
        self.dropout_rate, self.max_caption_length = float(dropout), int(max_caption_length)
        self.attention_regularization = float(attention_regularization)
        self.train_encoder = bool(train_encoder)
        self.word_dropout = float(word_dropout)
        if not 0.0 <= self.word_dropout < 1.0:
            raise InvalidInputError(f"`word_dropout` must be in [0, 1). Received: {word_dropout!r}.")
        if attention_style not in ("luong", "xu"):
            raise InvalidInputError(f"`attention_style` must be 'luong' or 'xu'. Received: {attention_style!r}.")
        self.attention_style = attention_style
        self.feeds_context = self.attention and attention_style == "xu"
        # lists, as a saved config reads them back
        self.encoder_config = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in (encoder or {}).items()}
        # === Layers ===
        self.encoder = EdgeNetBackbone(image_shape=(self.image_size, self.image_size, 3), pooling=None,
                                       name="encoder", **self.encoder_config)
        self.encoder.trainable = self.train_encoder
        grid = self.encoder.output_shape
        self.grid_shape = (int(grid[1]), int(grid[2]))
        self.initial_h = keras.layers.Dense(self.units, activation="tanh", name="initial_h")
        self.initial_c = keras.layers.Dense(self.units, name="initial_c")
        if self.attention:
            self.memory_keys = keras.layers.Dense(self.attention_units, use_bias=False, name="attention_keys")
            self.attention_layer = AdditiveAttention(self.attention_units, name="attention")
            self.combine = keras.layers.Dense(self.units, activation="tanh", name="attention_output")
        self.word_embedding = keras.layers.Embedding(tokenizer.vocabulary_size, self.embedding_dim,
                                                     name="word_embedding")
        self.decoder = keras.layers.LSTM(self.units, return_sequences=True, return_state=True, name="decoder")
        self.decoder.cell.name = "decoder_cell"
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="dropout")
        self.logits = keras.layers.Dense(tokenizer.vocabulary_size, name="logits")
        if self.word_dropout:
            self.word_dropout_seed = keras.random.SeedGenerator(2016, name="word_dropout_seed")
        self._compiled_functions = {}

    @property
    def edge_float_layers(self):
        """What stays float32 in the int8 model: the decoder's elementwise cell-state update and
        the layer that makes the first cell state (`deepedge.layers.recurrent`), and the
        attention's scores and softmax. Every convolution, matrix product and weight is int8."""
        return ("decoder_cell_state", "initial_c") + (("attention",) if self.attention else ())

    # === Functional pieces shared by `call`, `caption` and the export ===
    def _encode(self, images, training=False):
        """`(memory or None, keys or None, h, c)` for images `(batch, size, size, 3)` of 0-255 values."""
        grid = self.encoder(ops.divide(ops.cast(images, "float32"), 255.0), training=training)
        memory = ops.reshape(grid, (-1, self.grid_shape[0] * self.grid_shape[1], grid.shape[-1]))
        summary = ops.mean(memory, axis=1)
        h, c = self.initial_h(summary), self.initial_c(summary)
        if not self.attention:
            return None, None, h, c
        return memory, self.memory_keys(memory), h, c

    def _token_embedding(self, token):
        return self.word_embedding(token)

    def _output(self, hidden, memory, keys, training=False):
        weights = None
        if self.attention:
            everywhere = ops.ones(ops.shape(keys)[:2])
            context, weights = self.attention_layer(hidden, keys, memory, everywhere)
            hidden = self.combine(ops.concatenate([hidden, context], axis=-1))
        return self.logits(self.dropout(hidden, training=training)), weights

    def _attend(self, h, memory, keys):
        """`(context (rows, depth), weights (rows, places))` of the grid queried by states `h`."""
        context, weights = self.attention_layer(ops.expand_dims(h, 1), keys, memory, ops.ones(ops.shape(keys)[:2]))
        return context[:, 0], weights[:, 0]

    def _fed_step(self, x, h, c, memory, keys, cell_step=None, training=False):
        """Xu et al.'s step: the previous state `h` queries the grid, the context enters the LSTM
        beside the word vector `x`, and the new state and the context make the output."""
        context, weights = self._attend(h, memory, keys)
        x = ops.concatenate([x, context], axis=-1)
        if cell_step is None:
            _, (h, c) = self.decoder.cell(x, [h, c], training=training)
        else:
            h, c = cell_step(x, h, c)
        hidden = self.combine(ops.concatenate([h, context], axis=-1))
        return self.logits(self.dropout(hidden, training=training)), h, c, weights

    def _decode_fed(self, y, h, c, memory, keys, training):
        """Teacher-forced logits and attention `(batch, steps, ...)` of the Xu-style decoder,
        one step at a time (each step's query is the state the previous step made)."""
        if not self.decoder.built:
            self.decoder.build((None, None, self.embedding_dim + memory.shape[-1]))
        logits, weights = [], []
        for t in range(y.shape[1]):
            step_logits, h, c, step_weights = self._fed_step(y[:, t], h, c, memory, keys, training=training)
            logits.append(step_logits)
            weights.append(step_weights)
        return ops.stack(logits, axis=1), ops.stack(weights, axis=1)

    def _decode_step(self, token, h, c, *memory, cell_step=None):
        if not self.feeds_context:
            return super()._decode_step(token, h, c, *memory, cell_step=cell_step)
        return self._fed_step(self._token_embedding(token), h, c, *memory, cell_step=cell_step)

    def build(self, input_shape):
        """Creates every weight by running `call` once on black images and end tokens."""
        (batch, *_), (_, steps) = (tuple(shape) for shape in input_shape)
        self.call([np.zeros((batch or 1, self.image_size, self.image_size, 3), np.float32),
                   np.full((batch or 1, steps or 1), self.tokenizer.end_id, np.int32)])
        self.built = True

    def call(self, inputs, training=False):
        images, tokens_in = inputs
        memory, keys, h, c = self._encode(images, training)
        words_in = tokens_in
        if training and self.word_dropout:
            dropped = keras.random.uniform(ops.shape(tokens_in), seed=self.word_dropout_seed) < self.word_dropout
            dropped = ops.logical_and(dropped, (ops.arange(ops.shape(tokens_in)[1]) > 0)[None])
            words_in = ops.where(dropped, self.tokenizer.unknown_id, tokens_in)
        y = self.dropout(self.word_embedding(words_in), training=training)
        if self.feeds_context:
            logits, weights = self._decode_fed(y, h, c, memory, keys, training)
        else:
            hidden, _, _ = self.decoder(y, initial_state=[h, c], training=training)
            logits, weights = self._output(hidden, memory, keys, training)
        if training and self.attention and self.attention_regularization:
            # Xu et al.'s doubly stochastic penalty over the steps that write the caption (its
            # words and its end token: the first step, and every step that reads a word)
            steps = ops.arange(ops.shape(tokens_in)[1])
            writing = ops.cast(ops.logical_or(ops.equal(steps, 0)[None], ops.not_equal(tokens_in, self.tokenizer.end_id)),
                               weights.dtype)
            coverage = ops.sum(weights * writing[..., None], axis=1)  # (batch, places)
            self.add_loss(self.attention_regularization * ops.mean(ops.sum(ops.square(1.0 - coverage), axis=-1)))
        return logits

    # === Training data ===
    def teacher_forcing_data(self, images, captions):
        """`([images, caption ids in], caption ids out)` for `fit`: one caption per image; the
        decoder reads the end token and then the caption, and learns to write the caption and
        then the end token."""
        images = self._check_images(images)
        ids = encode_sentences(self.tokenizer, list(captions), self.max_caption_length, "caption")
        end = self.tokenizer.end_id
        tokens_in = np.concatenate([np.full((len(ids), 1), end, np.int32), ids[:, :-1]], axis=1)
        return [images, tokens_in], ids

    def training_batches(self, x, y, batch_size, rng=None):
        """`fit` batches `((images, ids in), ids out, weights)` with a sample weight of 1 up to
        and including each caption's end token and 0 on the padding after it."""
        from deepedge.backend import tf

        images, tokens_in = x
        y = np.asarray(y, np.int32)
        end = self.tokenizer.end_id
        weights = (np.cumsum(y == end, axis=1) - (y == end) <= 0).astype(np.float32)
        options = tf.data.Options()
        options.autotune.enabled = False
        return tf.data.Dataset.from_tensor_slices(
            ((np.asarray(images), np.asarray(tokens_in, np.int32)), y, weights)  # uint8 images: cast in the model
        ).batch(batch_size).with_options(options)

    # === Captioning ===
    edge_decoder_rows = 3  # the exported decode_step's batch: beam 3, or 3 images greedily
    default_learning_rate = 2e-3  # of `compile()` without an optimizer
    memory_names = ("memory", "keys")

    def _check_images(self, images):
        from deepedge.validation import uniform_images

        images = uniform_images("images", images)
        if images.ndim == 3:
            images = images[None]
        expected = (self.image_size, self.image_size, 3)
        if images.ndim != 4 or images.shape[1:] != expected or images.dtype.kind not in "uif":
            raise InvalidInputError(f"Expected RGB images of shape (batch, {expected[0]}, {expected[1]}, 3) with 0-255 "
                                    f"values (`deepedge.runtime.captioner.prepare_image` resizes any picture). "
                                    f"Received: shape {images.shape}, dtype {images.dtype}.")
        return images

    def caption(self, images, beam_width=None, length_penalty=1.0, max_tokens=None, on_image=None):
        """Captions of one image `(size, size, 3)` or a batch: greedy (many images side by
        side), or beam search with `beam_width`. After a greedy call on one image,
        `last_attention` holds the attention weights of each step, `(rows, places)`."""
        from deepedge.ops.decoding import decode_batched, decoding_options, plain_text
        from deepedge.validation import uniform_images

        beam_width, length_penalty, max_tokens = decoding_options(beam_width, length_penalty, max_tokens,
                                                                  self.max_caption_length, self.decoder_rows)
        images = uniform_images("images", images)
        single = images.ndim == 3
        images = self._check_images(images).astype(np.float32)
        ids = decode_batched(self, images, self.tokenizer.end_id, max_tokens,
                             beam_width, length_penalty, (self.tokenizer.unknown_id,), on_image)
        texts = [plain_text(self.tokenizer, t) for t in ids]
        return texts[0] if single else texts

    def predict(self, x, beam_width=None, **kwargs):
        """`caption` for images (Keras's `predict` would need the caption it is to write)."""
        return self.caption(x, beam_width)

    def evaluate_metric(self, data, beam_width=None):
        """Corpus BLEU-4 (sacrebleu, every reference) of the captions of `data` (a `CaptionDataset`)."""
        from deepedge.apps.captioning.metrics import bleu

        return bleu(self.caption(data.images, beam_width), data.captions)[4]

    def count_examples(self, data):
        return int(len(data))

    # === Step-wise export ===
    def edge_signatures(self):
        """`encode` and `decode_step`, the state and the image memory laid out for model.json."""
        image = keras.Input(shape=(self.image_size, self.image_size, 3), batch_size=1, name="image")
        memory, keys, h, c = self._encode(image)
        return self._edge_signatures(image, (memory, keys), h, c)

    def calibration_samples(self, data, num_samples=400, seed=0, steps_per_caption=8):
        """Real `(signature, inputs)` pairs for int8 calibration: training images for the
        encoder, and decoder steps teacher-forced through one of each image's references."""
        rng = np.random.default_rng(seed)
        signatures = self.edge_signatures()
        encode, step = (graph_function(signatures[name]["model"]) for name in ("encode", "decode_step"))
        names = signatures["encode"]["outputs"]
        rows = self.edge_decoder_rows
        samples = []
        for i in rng.permutation(len(data))[: max(1, num_samples // (steps_per_caption + 1))]:
            image = data.images[i:i + 1].astype(np.float32)
            samples.append(("encode", {"image": image}))
            carried = {n: np.repeat(keras.ops.convert_to_numpy(v), rows, axis=0) for n, v in zip(names, encode(image))}
            refs = data.captions[i]
            words = self.tokenizer.encode(refs[rng.integers(len(refs))])[: self.max_caption_length - 1]
            samples += teacher_forced_steps(step, carried, [self.tokenizer.end_id, *words], rows, steps_per_caption)
        return samples[:num_samples]

    def edge_metadata(self):
        return {"tokenizer": self.tokenizer.get_config(), "image_size": self.image_size,
                "grid": list(self.grid_shape), "max_caption_length": self.max_caption_length,
                "attention": self.attention, "attention_style": self.attention_style,
                "architecture": "show_attend_tell" if self.attention else "show_and_tell",
                "memory": ["memory", "keys"] if self.attention else [], "params": int(self.count_params())}

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, tokenizer=None, **kwargs):
        """An untrained captioner of the architecture preset `name` for `tokenizer`."""
        if tokenizer is None:
            raise InvalidInputError(f"The architecture preset {name!r} needs a `tokenizer`.")
        return cls(tokenizer, **{**ARCHITECTURES[name]["config"], **kwargs}, name=name)

    # === Config ===
    def get_config(self):
        return {**super().get_config(), "tokenizer": self.tokenizer.get_config(), "image_size": self.image_size,
                "encoder": self.encoder_config, "embedding_dim": self.embedding_dim, "units": self.units,
                "attention": self.attention, "attention_units": self.attention_units, "dropout": self.dropout_rate,
                "max_caption_length": self.max_caption_length,
                "attention_regularization": self.attention_regularization, "train_encoder": self.train_encoder,
                "attention_style": self.attention_style, "word_dropout": self.word_dropout}
