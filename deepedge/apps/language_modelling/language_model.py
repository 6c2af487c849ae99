"""Language models: Bengio's neural probabilistic LM and LSTM LMs, with step-wise edge export.

Both are Keras models over token ids that return next-token logits, carry their tokenizer
in their config (so a `.keras` file is the whole model), and describe a `step` signature
for `deepedge.edge.export`: one token in, logits and the new state out.
"""

import math

import numpy as np

from deepedge.apps.language_modelling.presets import ARCHITECTURES, TRAINED
from deepedge.apps.task import StepwiseExportMixin, Task
from deepedge.backend import keras
from deepedge.ops.decoding import as_token_ids, generate_text, log_softmax, segment_starts
from deepedge.errors import InvalidInputError
from deepedge.layers import ReversibleEmbedding
from deepedge.tokenizers import as_tokenizer

ops = keras.ops


class LanguageModel(StepwiseExportMixin, Task, keras.Model):
    """What every deepedge language model shares: tokenizer, perplexity, generation, step export."""

    family = "language_modelling"
    task_name = "language_model"
    step_input, step_output = "token", "logits"
    metric_name = "perplexity"
    metric_higher_is_better = False
    parity_threshold = 3.0  # percent of the float perplexity an int8 export may add
    parity_relative = True
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, tokenizer, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer = as_tokenizer(tokenizer)
        self.vocabulary_size = tokenizer.vocabulary_size

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """`compile` with deepedge defaults: AdamW (clipped) and sparse cross-entropy on logits."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4, clipnorm=1.0)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    # --- step-wise interface (subclasses) ---
    def step_model(self):
        """A batch-1 functional model `[token, *state] -> [logits, *state]` sharing these weights."""
        raise NotImplementedError

    def state_spec(self):
        """[(name, shape, dtype, initial value)] of the state the step carries."""
        raise NotImplementedError

    def keras_step_fn(self):
        """`step(token, state) -> (logits, state)` running the Keras step model as a graph."""
        from deepedge.export.calibration import graph_function

        names = [name for name, *_ in self.state_spec()]
        run = graph_function(self.step_model())

        def step(token, state):
            outputs = run([np.array([token], np.int32)] + [np.asarray(state[n]) for n in names])
            outputs = [np.asarray(o) for o in outputs]
            return outputs[0].reshape(-1), dict(zip(names, outputs[1:]))

        return step

    def calibration_samples(self, data, num_samples=2000, seed=0, run_length=50):
        """Real `(signature, inputs)` pairs for int8 calibration: Keras steps over training text.

        The states come from many short runs of `run_length` tokens read from a fresh state
        at random places in the text. Short runs calibrate tighter ranges than long ones: the
        rare large cell states of long runs widen the int8 steps for every state (measured:
        austen_lstm_word lost 3.05% of its perplexity with runs of 250 tokens, 1.4% with 50).
        """
        step = self.keras_step_fn()
        samples = []
        for run in self._calibration_runs(data, num_samples, seed, run_length):
            state = self.initial_state()
            for token in run:
                samples.append(("step", {"token": np.array([token], np.int32), **state}))
                _, state = step(int(token), state)
        return samples[:num_samples]

    def _calibration_runs(self, data, num_samples, seed, run_length):
        """The stretches of `run_length` tokens of `data` that calibration reads, each from a
        fresh state: enough for `num_samples` steps, at places drawn with `seed`."""
        ids = as_token_ids(self.tokenizer, data)
        starts = np.random.default_rng(seed).integers(0, max(1, len(ids) - run_length - 1),
                                                      max(1, -(-num_samples // run_length)))
        return [ids[start: start + run_length] for start in starts]

    @classmethod
    def from_architecture(cls, name, tokenizer=None, **kwargs):
        """An untrained model of the architecture preset `name` (`"lstm_word"`, `"lstm_char"`,
        `"nplm"`) for `tokenizer`; `kwargs` override the preset's configuration."""
        if tokenizer is None:
            raise InvalidInputError(f"The architecture preset {name!r} needs a tokenizer.")
        spec = ARCHITECTURES[name]
        return globals()[spec["class"]](tokenizer, **{**spec["config"], **kwargs}, name=name)

    def count_examples(self, data):
        return int(len(as_token_ids(self.tokenizer, data)))

    def edge_metadata(self):
        return {"tokenizer": self.tokenizer.get_config(), "vocabulary_size": self.vocabulary_size,
                "architecture": type(self).__name__, "params": int(self.count_params())}

    # --- metric ---
    def perplexity(self, data, batch_size=64):
        """exp(mean negative log-likelihood) of `data`'s tokens (see `token_nll`)."""
        from deepedge.validation import positive_int

        batch_size = positive_int("batch_size", batch_size, hint="Pass how many segments to run at once (64, say).")
        nll = self.token_nll(as_token_ids(self.tokenizer, data, allow_empty=False), batch_size=batch_size)
        return float(math.exp(nll.mean()))

    def evaluate_metric(self, data):
        return self.perplexity(data)

    # --- generation ---
    def generate(self, prompt, max_tokens=50, strategy="sample", temperature=1.0, top_k=None, beam_width=None,
                 seed=None):
        """Continues `prompt` with the Keras model (the on-device runtime has the same method)."""
        return generate_text(self.tokenizer, self.keras_step_fn(), self.initial_state(), prompt, max_tokens,
                             strategy, temperature, top_k, beam_width, seed)

    def get_config(self):
        return {"tokenizer": self.tokenizer.get_config(), "name": self.name}


@keras.saving.register_keras_serializable(package="deepedge")
class LSTMLanguageModel(LanguageModel):
    """An LSTM language model: embedding -> LSTM layers -> (projection) -> softmax over the vocabulary.

    Args:
        tokenizer: a `WordTokenizer` or `CharTokenizer` (or its config).
        embedding_dim: int. Size of the token vectors.
        lstm_units: int or list of int. One LSTM layer per entry.
        dropout: float. Dropout on the embeddings and on every LSTM's output.
        tie_weights: bool. Share the embedding matrix with the output layer; the last
            LSTM's output is projected to `embedding_dim` first. Defaults to `True`.

    Call it on int token ids `(batch, time)`; it returns next-token logits `(batch, time, vocabulary)`.
    """

    def __init__(self, tokenizer, embedding_dim=256, lstm_units=(1024,), dropout=0.4, tie_weights=True, **kwargs):
        super().__init__(tokenizer, **kwargs)
        self.embedding_dim = int(embedding_dim)
        self.lstm_units = [int(lstm_units)] if np.isscalar(lstm_units) else [int(u) for u in lstm_units]
        self.dropout_rate = float(dropout)
        self.tie_weights = bool(tie_weights)
        self.embedding = ReversibleEmbedding(self.vocabulary_size, self.embedding_dim,
                                             reverse_bias=True, name="embedding")
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="dropout")
        self.lstms = [keras.layers.LSTM(units, return_sequences=True, return_state=True, name=f"lstm_{i}")
                      for i, units in enumerate(self.lstm_units)]
        for i, lstm in enumerate(self.lstms):
            lstm.cell.name = f"lstm_{i}_cell"  # unique op names in the step model
        if self.tie_weights:
            self.projection = (keras.layers.Dense(self.embedding_dim, name="projection")
                               if self.lstm_units[-1] != self.embedding_dim else None)
            self.output_layer = None
        else:
            self.projection = None
            self.output_layer = keras.layers.Dense(self.vocabulary_size, name="logits")

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.embedding.build(shape)
        x = (*shape, self.embedding_dim)
        for lstm, units in zip(self.lstms, self.lstm_units):
            lstm.build(x)
            x = (*shape, units)
        if self.projection is not None:
            self.projection.build(x)
        if self.output_layer is not None:
            self.output_layer.build(x)
        self.built = True

    def _head(self, x):
        if self.projection is not None:
            x = self.projection(x)
        return self.embedding(x, reverse=True) if self.tie_weights else self.output_layer(x)

    def call(self, tokens, training=False):
        return self.call_with_state(tokens, None, training=training)[0]

    def call_with_state(self, tokens, states, training=False):
        """`(logits, states)` for `tokens`, starting from `states` ([(h, c)] per layer, or None)."""
        x = self.dropout(self.embedding(tokens), training=training)
        new_states = []
        for i, lstm in enumerate(self.lstms):
            x, h, c = lstm(x, initial_state=None if states is None else list(states[i]), training=training)
            new_states.append((h, c))
            x = self.dropout(x, training=training)
        return self._head(x), new_states

    def token_nll(self, ids, batch_size=None, chunk=128):
        """Negative log-likelihood of each id, predicted from all before it within its segment.

        The stream is cut into `segments_for(len(ids))` equal parts, run side by side with the
        LSTM state carried through each part (see `segment_starts`).
        """
        from deepedge.backend import tf

        starts = segment_starts(len(ids))
        bounds = list(starts) + [len(ids)]
        width = max(b - a for a, b in zip(bounds[:-1], bounds[1:]))
        width = -(-width // chunk) * chunk
        inputs = np.full((len(starts), width), self.tokenizer.end_id, np.int32)
        targets = np.zeros((len(starts), width), np.int32)
        for row, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            inputs[row, 1: b - a] = ids[a: b - 1]
            targets[row, : b - a] = ids[a:b]
        run = tf.function(lambda x, s: self.call_with_state(x, s), reduce_retracing=True)
        states = [(tf.zeros((len(starts), u)), tf.zeros((len(starts), u))) for u in self.lstm_units]
        nll = np.zeros_like(targets, dtype=np.float64)
        for start in range(0, width, chunk):
            logits, states = run(inputs[:, start: start + chunk], states)
            logp = log_softmax(np.asarray(logits, np.float32))
            picked = np.take_along_axis(logp, targets[:, start: start + chunk, None], axis=-1)[..., 0]
            nll[:, start: start + chunk] = -picked
        return np.concatenate([nll[row, : b - a] for row, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))])

    def state_spec(self):
        spec = []
        for i, units in enumerate(self.lstm_units):
            spec += [(f"h{i}", (1, units), np.float32, 0.0), (f"c{i}", (1, units), np.float32, 0.0)]
        return spec

    def step_model(self):
        token = keras.Input(shape=(), batch_size=1, dtype="int32", name="token")
        states = [keras.Input(shape=shape[1:], batch_size=1, name=name) for name, shape, *_ in self.state_spec()]
        x = self.embedding(token)
        new_states = []
        for i, lstm in enumerate(self.lstms):
            x, (h, c) = lstm.cell(x, [states[2 * i], states[2 * i + 1]])
            new_states += [h, c]
        return keras.Model([token] + states, [self._head(x)] + new_states, name=f"{self.name}_step")

    def get_config(self):
        return {**super().get_config(), "embedding_dim": self.embedding_dim, "lstm_units": self.lstm_units,
                "dropout": self.dropout_rate, "tie_weights": self.tie_weights}


@keras.saving.register_keras_serializable(package="deepedge")
class NPLM(LanguageModel):
    """Bengio et al.'s neural probabilistic language model (2003).

    The `context_size` previous tokens are embedded (one shared table), concatenated, passed
    through a tanh hidden layer and a softmax over the vocabulary; with
    `direct_connections=True` the concatenated embeddings also feed the softmax directly
    (the paper's W matrix).

    Args:
        tokenizer: a `WordTokenizer` (or its config).
        context_size: int. Number of previous tokens (n - 1 of an n-gram).
        embedding_dim: int.
        hidden_units: int.
        direct_connections: bool. Defaults to `False`.
        dropout: float. Dropout on the concatenated embeddings and the hidden layer.

    Call it on int contexts `(batch, context_size)`, oldest first; it returns logits `(batch, vocabulary)`.
    """

    def __init__(self, tokenizer, context_size=4, embedding_dim=128, hidden_units=512, direct_connections=False,
                 dropout=0.2, **kwargs):
        super().__init__(tokenizer, **kwargs)
        self.context_size = int(context_size)
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = int(hidden_units)
        self.direct_connections = bool(direct_connections)
        self.dropout_rate = float(dropout)
        self.embedding = keras.layers.Embedding(self.vocabulary_size, self.embedding_dim, name="embedding")
        self.flatten = keras.layers.Reshape((self.context_size * self.embedding_dim,), name="concatenate")
        self.dropout = keras.layers.Dropout(self.dropout_rate, name="dropout")
        self.hidden = keras.layers.Dense(self.hidden_units, activation="tanh", name="hidden")
        self.output_layer = keras.layers.Dense(self.vocabulary_size, name="logits")
        self.direct = (keras.layers.Dense(self.vocabulary_size, use_bias=False, name="direct")
                       if self.direct_connections else None)

    def build(self, input_shape):
        batch = input_shape[0]
        self.embedding.build(input_shape)
        flat = (batch, self.context_size * self.embedding_dim)
        self.hidden.build(flat)
        self.output_layer.build((batch, self.hidden_units))
        if self.direct is not None:
            self.direct.build(flat)
        self.built = True

    def call(self, context, training=False):
        x = self.dropout(self.flatten(self.embedding(context)), training=training)
        logits = self.output_layer(self.dropout(self.hidden(x), training=training))
        if self.direct is not None:
            logits = logits + self.direct(x)
        return logits

    def contexts(self, ids):
        """`(contexts, targets)`: each id with the `context_size` ids before it (end tokens before the start)."""
        padded = np.concatenate([np.full(self.context_size, self.tokenizer.end_id), ids]).astype(np.int32)
        windows = np.lib.stride_tricks.sliding_window_view(padded, self.context_size)[: len(ids)]
        return np.ascontiguousarray(windows), np.asarray(ids, np.int32)

    def token_nll(self, ids, batch_size=1024):
        """Negative log-likelihood of each id from the ids before it, segments as in `segment_starts`."""
        bounds = list(segment_starts(len(ids))) + [len(ids)]
        pieces = [self.contexts(ids[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        contexts = np.concatenate([c for c, _ in pieces])
        targets = np.concatenate([t for _, t in pieces])
        nll = np.empty(len(ids), np.float64)
        for start in range(0, len(ids), batch_size):
            logp = log_softmax(np.asarray(self(contexts[start: start + batch_size]), np.float32))
            nll[start: start + batch_size] = -logp[np.arange(len(logp)), targets[start: start + batch_size]]
        return nll

    def state_spec(self):
        return [("context", (1, self.context_size), np.int32, float(self.tokenizer.end_id))]

    def step_model(self):
        """`context -> logits`: the window of the last `context_size` ids, the new token last.

        The runtime shifts each token into the window itself (model.json's state entry says
        `"shift": "token"`), so the step holds no int32 arithmetic and its embedding lookup reads
        the window straight from its input: the export lifts that lookup into the runtime and
        XNNPACK takes every op left (`deepedge.export.lookups`)."""
        context = keras.Input(shape=(self.context_size,), batch_size=1, dtype="int32", name="context")
        return keras.Model(context, self(context), name=f"{self.name}_step")

    def _shift(self, context, token):
        return np.concatenate([np.asarray(context)[:, 1:], np.array([[token]], np.int32)], axis=1)

    def edge_signatures(self):
        state = [{"name": "context", "shape": [1, self.context_size], "dtype": "int32",
                  "initial": float(self.tokenizer.end_id), "shift": self.step_input}]
        return {"step": {"model": self.step_model(), "inputs": ["context"], "outputs": [self.step_output],
                         "state": state}}

    def keras_step_fn(self):
        model = self.step_model()

        def step(token, state):
            context = self._shift(state["context"], token)
            return np.asarray(model(context, training=False)).reshape(-1), {"context": context}

        return step

    def calibration_samples(self, data, num_samples=2000, seed=0, run_length=50):
        """Windows of training text, as the step reads them (the token already shifted in): the
        same runs as the recurrent models' (`LanguageModel.calibration_samples`), but the state
        is the window itself, so no step runs to make them."""
        samples = []
        for run in self._calibration_runs(data, num_samples, seed, run_length):
            context = self.initial_state()["context"]
            for token in run:
                context = self._shift(context, int(token))
                samples.append(("step", {"context": context}))
        return samples[:num_samples]

    def get_config(self):
        return {**super().get_config(), "context_size": self.context_size, "embedding_dim": self.embedding_dim,
                "hidden_units": self.hidden_units, "direct_connections": self.direct_connections,
                "dropout": self.dropout_rate}
