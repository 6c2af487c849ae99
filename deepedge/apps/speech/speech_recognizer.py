"""`SpeechRecognizer`: audio in, characters out, "all the way from acoustics to the sequence of
characters" with a convolutional front, LSTMs and CTC (Graves et al.), streaming on device.

Offline (Keras) the model reads a whole utterance. It is built so that the same weights also
run chunk by chunk with explicit state, and give the same outputs:

- the log-mel front end reads one hop (20 ms) of earlier audio before each chunk (zeros
  before the first), so frame `k` covers the same samples either way;
- the convolution is causal: it sees the two previous frames (zeros at the start);
- the LSTMs are unidirectional, their `h`/`c` carried between chunks.

`edge_signatures()` exports that step (`audio chunk + state -> logits + state`) as one
LiteRT signature; the runtime owns the loop and the CTC decoding (greedy or beam).
"""

import numpy as np

from deepedge.apps.speech.frontend import LogMelSpectrogram, SpecAugment
from deepedge.apps.speech.presets import ASR_ARCHITECTURES, ASR_TRAINED
from deepedge.apps.task import StepwiseExportMixin, Task
from deepedge.backend import keras
from deepedge.ops.audio import SAMPLE_RATE, as_pcm, pad_end
from deepedge.ops.ctc import character_error_rate, greedy_decode
from deepedge.errors import InvalidInputError


@keras.saving.register_keras_serializable(package="deepedge")
class CTCLoss(keras.losses.Loss):
    """CTC loss over logits `(batch, time, classes)` with the blank at index 0.

    Labels are `(batch, max_label_length)` int class indices (1..), padded with 0; every
    output step of the model counts (padding audio is silence, which CTC labels blank).
    """

    def __init__(self, name="ctc", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ops = keras.ops
        y_true = ops.cast(y_true, "int32")
        label_length = ops.sum(ops.cast(y_true > 0, "int32"), axis=-1)
        batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
        output_length = ops.ones((batch,), "int32") * steps
        return ops.ctc_loss(y_true, ops.log_softmax(y_pred, axis=-1), label_length, output_length, mask_index=0)


@keras.saving.register_keras_serializable(package="deepedge")
class SpeechRecognizer(StepwiseExportMixin, Task, keras.Model):
    """A streaming CTC speech recogniser: 16 kHz PCM in, per-step character logits out.

    Args:
        characters: str or list of str. The alphabet (index 0 is CTC's blank, so character
            `i` is class `i + 1`).
        frontend: dict. `LogMelSpectrogram` arguments.
        conv_filters: int. Channels of the causal stride-2 convolution.
        lstm_units: list of int. One unidirectional LSTM layer per entry.
        dropout: float. Dropout between layers in training.
        spec_augment: dict or None. `SpecAugment` arguments.
        chunk_frames: int. Front-end frames (`frame_step` samples each: 20 ms by default,
            16 ms in `ctc_lstm3`) per streaming step. Defaults to `8`.
        time_stride: int, 1 or 2. Stride of the convolution: one output step per 1 or 2
            frames (20 or 40 ms by default).
            CTC needs at least one step per character (more for doubled letters), and fast
            speech runs near 20 characters a second. Defaults to `1`.
        cell_clip: float or None. The streaming step (what is exported) bounds each LSTM's
            cell state to [-cell_clip, cell_clip]: trained cells drift far outside the +-1 of
            their outputs, and int8 would give the state coarse steps (README: the bounds
            measured). The offline Keras model is not bounded. Defaults to `10.0`; `None`
            turns it off.
    """

    family = "speech"
    task_name = "speech_recognition"
    metric_name = "cer"
    metric_higher_is_better = False
    step_input, step_output = "audio", "logits"
    parity_threshold = 1.5  # CER points an int8 export may lose
    # The front end and the output layer stay float32: CTC's blank/character margins are small
    # against the logits' range (the card and README give the measured cost).
    edge_float_layers = ("log_mel", "logits")
    architectures = ASR_ARCHITECTURES
    trained = ASR_TRAINED

    def __init__(self, characters, frontend=None, conv_filters=128, lstm_units=(192, 192), dropout=0.1,
                 spec_augment=None, chunk_frames=8, time_stride=1, cell_clip=10.0, **kwargs):
        characters = list(characters)
        if len(set(characters)) != len(characters) or not characters:
            raise ValueError(f"`characters` must be distinct. Received: {characters!r}")
        if time_stride not in (1, 2) or chunk_frames < 2 or chunk_frames % time_stride:
            raise ValueError("`time_stride` must be 1 or 2 and `chunk_frames` (>= 2) a multiple of it. "
                             f"Received: time_stride={time_stride}, chunk_frames={chunk_frames}")
        if cell_clip is not None and not float(cell_clip) > 0:
            raise ValueError(f"`cell_clip` must be a positive float or None. Received: cell_clip={cell_clip!r}")
        frontend = dict(frontend or {})
        lstm_units = [int(u) for u in (lstm_units if not np.isscalar(lstm_units) else [lstm_units])]
        # Under a mixed (bfloat16) policy the front end and the logits CTC reads stay float32.
        log_mel = LogMelSpectrogram(**frontend, name="log_mel", dtype="float32")
        masking = SpecAugment(**spec_augment, name="spec_augment") if spec_augment else None
        conv = keras.layers.Conv1D(conv_filters, 3, strides=time_stride, activation="relu", name="conv")
        drop = keras.layers.Dropout(dropout, name="dropout")
        lstms = [keras.layers.LSTM(u, return_sequences=True, name=f"lstm_{i}") for i, u in enumerate(lstm_units)]
        for i, lstm in enumerate(lstms):
            lstm.cell.name = f"lstm_{i}_cell"
        head = keras.layers.Dense(len(characters) + 1, name="logits", dtype="float32")
        # === Functional Model (offline) ===
        inputs = keras.Input(shape=(None,), name="audio")
        hop = log_mel.frame_step
        padded = keras.layers.ZeroPadding1D((hop, 0), name="audio_context")(keras.layers.Reshape((-1, 1))(inputs))
        x = log_mel(keras.layers.Reshape((-1,))(padded))
        if masking is not None:
            x = masking(x)
        x = keras.layers.ZeroPadding1D((2, 0), name="feature_context")(x)
        x = conv(x)
        for lstm in lstms:
            x = lstm(drop(x))
        outputs = head(drop(x))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.characters = characters
        self.frontend_config = frontend
        self.conv_filters, self.lstm_units, self.dropout_rate = int(conv_filters), lstm_units, float(dropout)
        self.spec_augment_config = dict(spec_augment) if spec_augment else None
        self.chunk_frames, self.time_stride = int(chunk_frames), int(time_stride)
        self.cell_clip = None if cell_clip is None else float(cell_clip)
        self.log_mel, self.spec_augment, self.conv, self.lstms, self.head = log_mel, masking, conv, lstms, head

    @property
    def hop(self):
        return self.log_mel.frame_step

    @property
    def chunk_samples(self):
        return self.chunk_frames * self.hop

    def compile(self, optimizer="auto", loss="auto", metrics=None, **kwargs):
        """Compiles with AdamW (clipped gradients) and the CTC loss unless told otherwise."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(1e-3, weight_decay=1e-4, clipnorm=5.0)
        if loss == "auto":
            loss = CTCLoss()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    # === Text ===
    def encode_text(self, text):
        """Class indices (1..) of a transcript; characters outside the alphabet are an error."""
        index = {c: i + 1 for i, c in enumerate(self.characters)}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise InvalidInputError(f"Characters {unknown} are not in the recogniser's alphabet "
                                    f"{''.join(self.characters)!r}. Normalise the text first "
                                    "(`deepedge.data.speech.normalise_transcript`).")
        return [index[c] for c in text]

    def labels(self, texts, max_length=None):
        """`(N, max_length)` int32 labels, padded with 0 (the blank)."""
        encoded = [self.encode_text(t) for t in texts]
        width = max_length or max(1, max(len(e) for e in encoded))
        out = np.zeros((len(encoded), width), np.int32)
        for i, e in enumerate(encoded):
            out[i, :len(e)] = e[:width]
        return out

    # === Recognition ===
    def logits(self, audio):
        """Per-step logits `(steps, classes)` of one utterance (float or int16 PCM, 1D)."""
        audio = as_pcm(audio, "audio")
        if audio.ndim != 1:
            raise InvalidInputError(f"Expected one mono utterance of shape (samples,). Received: shape={audio.shape}.")
        if len(audio) == 0:
            raise InvalidInputError("The recording is empty. Received: 0 samples. Pass at least one sample of audio.")
        return keras.ops.convert_to_numpy(self(pad_end(audio, self.chunk_samples)[None], training=False))[0]

    def transcribe(self, audio, beam_width=None, language_model=None):
        """The CTC transcript of one utterance: greedy, or prefix beam search with `beam_width`
        (joined by a `deepedge.ops.charlm.CharLanguageModel` if given)."""
        from deepedge.validation import optional_positive_int

        if not optional_positive_int("beam_width", beam_width, hint="Pass how many prefixes to keep (16, say), "
                                     "or None for greedy decoding."):
            return greedy_decode(self.logits(audio), self.characters)
        from deepedge.ops.ctc import beam_decode

        return beam_decode(self.logits(audio), self.characters, beam_width, language_model=language_model)

    def batch_logits(self, utterances, batch_size=32, bucket_seconds=1.0):
        """Logits of many utterances, batched: each padded to a whole number of `bucket_seconds`
        (few shapes, so few retraces), cut back to its own length of steps."""
        bucket = int(round(bucket_seconds * SAMPLE_RATE / self.chunk_samples)) * self.chunk_samples
        groups = {}
        for i, audio in enumerate(utterances):
            groups.setdefault(-(-max(1, len(audio)) // bucket) * bucket, []).append(i)
        out = [None] * len(utterances)
        for length, members in sorted(groups.items()):
            for start in range(0, len(members), batch_size):
                rows = members[start:start + batch_size]
                x = np.zeros((len(rows), length), np.float32)
                for r, i in enumerate(rows):
                    x[r, :len(utterances[i])] = as_pcm(utterances[i], "audio")
                logits = super().predict(x, batch_size=len(rows), verbose=0)
                for r, i in enumerate(rows):
                    steps = -(-len(utterances[i]) // self.chunk_samples) * self.chunk_frames // self.time_stride
                    out[i] = logits[r, :steps]
        return out

    def evaluate_metric(self, data, limit=None):
        """Character error rate in percent (greedy decoding) on a `SentenceDataset`."""
        count = len(data) if limit is None else min(limit, len(data))
        logits = self.batch_logits([data.waveform(i) for i in range(count)])
        return character_error_rate(data.texts[:count], [greedy_decode(x, self.characters) for x in logits])

    # === Streaming export ===
    def state_spec(self):
        """[(name, shape, dtype, initial value)] of the state one streaming step carries."""
        spec = [("audio_context", (1, self.hop), np.float32, 0.0),
                ("feature_context", (1, 2, self.log_mel.num_mels), np.float32, 0.0)]
        for i, units in enumerate(self.lstm_units):
            spec += [(f"h{i}", (1, units), np.float32, 0.0), (f"c{i}", (1, units), np.float32, 0.0)]
        return spec

    def step_model(self):
        """A batch-1 model `[audio chunk, *state] -> [logits, *state]` sharing these weights."""
        ops = keras.ops
        chunk = keras.Input(shape=(self.chunk_samples,), batch_size=1, name="audio")
        states = [keras.Input(shape=shape[1:], batch_size=1, name=name) for name, shape, *_ in self.state_spec()]
        audio = ops.concatenate([states[0], chunk], axis=1)
        frames = self.log_mel(audio)  # chunk_frames frames
        x = self.conv(ops.concatenate([states[1], frames], axis=1))  # chunk_frames / time_stride steps
        new_states = [chunk[:, -self.hop:], frames[:, -2:]]
        steps = [x[:, t] for t in range(self.chunk_frames // self.time_stride)]
        for i, lstm in enumerate(self.lstms):
            h, c = states[2 + 2 * i], states[3 + 2 * i]
            outputs = []
            for x_t in steps:
                h, c = self._cell_step(lstm.cell, x_t, h, c)
                outputs.append(h)
            steps = outputs
            new_states += [h, c]
        logits = self.head(ops.stack(steps, axis=1))
        return keras.Model([chunk] + states, [logits] + new_states, name=f"{self.name}_step")

    def _cell_step(self, cell, x, h, c):
        """One step of a Keras `LSTMCell` (same weights and gate order i, f, c, o), with the
        cell state bounded by `cell_clip` before it reaches the output and the next step (a
        quantization-aware cell computes its own step, `deepedge.training.fake_quant.LSTMCell`)."""
        from deepedge.training.fake_quant import QuantizeAwareMixin

        if isinstance(cell, QuantizeAwareMixin):
            # quantization-aware training: the cell rounds what the int8 step will round, and its
            # trained cell-state range bounds the state as `cell_clip` does in float
            h, (_, c) = cell(x, [h, c])
            return h, c
        ops = keras.ops
        z = ops.matmul(x, cell.kernel) + ops.matmul(h, cell.recurrent_kernel) + cell.bias
        i, f, g, o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        if self.cell_clip is not None:
            c = ops.clip(c, -self.cell_clip, self.cell_clip)
        return ops.sigmoid(o) * ops.tanh(c), c

    def _keras_steps(self, audio, model):
        """Runs the step `model` over one utterance chunk by chunk: yields `(chunk, state before
        it, logits)`."""
        names = [name for name, *_ in self.state_spec()]
        state = self.initial_state()
        audio = pad_end(as_pcm(audio, "audio"), self.chunk_samples)
        for start in range(0, len(audio), self.chunk_samples):
            chunk = audio[None, start:start + self.chunk_samples]
            result = [keras.ops.convert_to_numpy(r) for r in model([chunk] + [state[n] for n in names],
                                                                   training=False)]
            yield chunk, state, result[0][0]
            state = dict(zip(names, result[1:]))

    def stream_logits(self, audio):
        """Logits of one utterance computed chunk by chunk with the step model (Keras; for checks)."""
        return np.concatenate([logits for _, _, logits in self._keras_steps(audio, self.step_model())])

    def calibration_samples(self, data, num_samples=150, seed=0):
        """Real `(signature, inputs)` pairs for int8 calibration: Keras steps through training speech.

        Fewer steps calibrate tighter ranges for the LSTM states (asr_ctc on the test set: 1,500
        steps lost 2.71 CER points to int8, 400 lost 2.20, 150 lost 1.65, 80 lost 1.77).
        """
        model = self.step_model()
        rng = np.random.default_rng(seed)
        samples = []
        while len(samples) < num_samples:
            for chunk, state, _ in self._keras_steps(data.waveform(int(rng.integers(len(data)))), model):
                samples.append(("step", {self.step_input: chunk, **state}))
        return samples[:num_samples]

    def edge_metadata(self):
        return {"labels": ["<blank>"] + list(self.characters), "characters": list(self.characters),
                "input": {"kind": "audio_stream", "chunk_samples": self.chunk_samples, "sample_rate": SAMPLE_RATE,
                          "range": [-1.0, 1.0], "hop_samples": self.hop,
                          "preprocessing": "log-mel features in the graph (float32), conv + LSTMs int8"},
                "params": int(self.count_params())}

    def count_examples(self, data):
        return int(len(data.texts))

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, characters=None):
        """An untrained recogniser of the architecture preset `name` (`"ctc_lstm3"`) writing `characters`."""
        if characters is None:
            raise ValueError(f"The architecture preset {name!r} needs `characters` (the alphabet it writes).")
        return cls(characters, **ASR_ARCHITECTURES[name]["config"])

    # === Config ===
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "characters": list(self.characters),
                "frontend": self.frontend_config, "conv_filters": self.conv_filters, "lstm_units": self.lstm_units,
                "dropout": self.dropout_rate, "spec_augment": self.spec_augment_config,
                "chunk_frames": self.chunk_frames, "time_stride": self.time_stride, "cell_clip": self.cell_clip}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
