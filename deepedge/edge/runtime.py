"""The on-device runtime: LiteRT interpreter and numpy only, never TensorFlow or Keras.

`load(path)` reads `model.tflite` and `model.json`, checks that they belong together, and
returns the task's runtime class (`EdgeImageClassifier`, ...) with the same `predict` on
raw inputs as the Keras task. Every input is checked for shape and dtype before it reaches
`set_tensor`, so bad input raises `InvalidInputError` instead of crashing the interpreter.
"""

import numpy as np

from deepedge.edge.metadata import check_tflite_file, read_metadata, resolve_model_paths
from deepedge.edge.preprocess import standardize_images, top_k_labels
from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.quiet import native_output_silenced


def _interpreter(tflite_path, num_threads=1):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        raise ModelFileError("The on-device runtime needs `ai-edge-litert`: "
                             "pip install 'deepedge[edge]'") from e
    check_tflite_file(tflite_path)
    try:
        with native_output_silenced():
            interpreter = Interpreter(model_path=str(tflite_path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        raise ModelFileError(f"LiteRT cannot load {tflite_path}: it is truncated or corrupt ({e}). "
                             "Export it again.") from e
    return interpreter


def tensor_spec(detail):
    scale, zero_point = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero_point)}


def io_metadata(tflite_path):
    """The model's inputs and outputs (name, shape, dtype, quantization) and its signatures."""
    interpreter = _interpreter(tflite_path)
    return {"inputs": [tensor_spec(d) for d in interpreter.get_input_details()],
            "outputs": [tensor_spec(d) for d in interpreter.get_output_details()],
            "signatures": interpreter.get_signature_list()}


def signature_io(tflite_path):
    """`{signature: {"inputs": [spec], "outputs": [spec]}}`, each spec named by its signature key."""
    interpreter = _interpreter(tflite_path)
    result = {}
    for name in interpreter.get_signature_list():
        runner = interpreter.get_signature_runner(name)
        result[name] = {
            "inputs": [{**tensor_spec(d), "name": key} for key, d in sorted(runner.get_input_details().items())],
            "outputs": [{**tensor_spec(d), "name": key} for key, d in sorted(runner.get_output_details().items())],
        }
    return result


def quantize(values, spec):
    """Float values to the tensor's integer type with its scale and zero point (or a cast)."""
    dtype = np.dtype(spec["dtype"])
    if not np.issubdtype(dtype, np.integer) or spec["scale"] == 0:
        return np.asarray(values, dtype)
    info = np.iinfo(dtype)
    q = np.rint(np.asarray(values, np.float32) / spec["scale"]) + spec["zero_point"]
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values, spec):
    if not np.issubdtype(np.dtype(spec["dtype"]), np.integer) or spec["scale"] == 0:
        return np.asarray(values, np.float32)
    return (values.astype(np.float32) - spec["zero_point"]) * spec["scale"]


class EdgeModel:
    """A LiteRT model with its `model.json`: float arrays in, float arrays out, one sample a call.

    Args:
        path: the model folder (or its `.tflite` or `model.json`).
        num_threads: int. Interpreter threads. Defaults to `1`.
    """

    task_name = None

    def __init__(self, path, num_threads=1):
        self.tflite_path, self.json_path = resolve_model_paths(path)
        self.metadata = read_metadata(self.json_path, self.tflite_path)
        self.interpreter = _interpreter(self.tflite_path, num_threads)
        self._inputs = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        actual = [tensor_spec(d) for d in self._inputs]
        for want, have in zip(self.metadata["inputs"], actual):
            if (want["shape"], want["dtype"]) != (have["shape"], have["dtype"]):
                raise ModelFileError(
                    f"{self.json_path} says input {want['name']!r} is {want['dtype']}{want['shape']}, "
                    f"but {self.tflite_path} has {have['dtype']}{have['shape']}. Export again.")
        if len(actual) != len(self.metadata["inputs"]):
            raise ModelFileError(f"{self.json_path} lists {len(self.metadata['inputs'])} inputs, "
                                 f"{self.tflite_path} has {len(actual)}. Export again.")
        self.input_specs = self.metadata["inputs"]
        self.output_specs = self.metadata["outputs"]

    def invoke(self, *inputs):
        """Runs one sample: float inputs shaped like the model's inputs; returns float outputs."""
        if len(inputs) != len(self._inputs):
            raise InvalidInputError(f"The model takes {len(self._inputs)} input(s). Received: {len(inputs)}.")
        for value, detail, spec in zip(inputs, self._inputs, self.input_specs):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(spec["shape"]):
                raise InvalidInputError(f"Input {spec['name']!r} must have shape {tuple(spec['shape'])}. "
                                        f"Received: shape={value.shape}.")
            if not (np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_):
                raise InvalidInputError(f"Input {spec['name']!r} must be numeric. Received: dtype={value.dtype}.")
            self.interpreter.set_tensor(detail["index"], quantize(value, spec))
        self.interpreter.invoke()
        return [dequantize(self.interpreter.get_tensor(d["index"]), s)
                for d, s in zip(self._outputs, self.output_specs)]


class EdgeImageClassifier(EdgeModel):
    """On-device image classifier: raw uint8 images in, probabilities or labels out."""

    task_name = "image_classification"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self.image_shape = tuple(self.input_specs[0]["shape"][1:])

    def predict(self, images):
        """Probabilities, shape (N, num_classes), for one image or a batch of raw images."""
        images = standardize_images(images, self.image_shape)
        return np.concatenate([self.invoke(image[None])[0] for image in images])

    def classify(self, images, top_k=1):
        """The `top_k` (class name, probability) pairs for each image, best first."""
        return top_k_labels(self.predict(images), self.class_names, top_k)

    def evaluate_metric(self, data):
        """Accuracy in percent on `data` (`.images`/`.labels`, or an `(images, labels)` tuple)."""
        images, labels = _images_and_labels(data)
        return float(100.0 * np.mean(np.argmax(self.predict(images), axis=-1) == labels))


class EdgeStepModel:
    """A step-wise LiteRT model: named signatures, state carried between calls by the caller.

    `model.json` records each signature's inputs and outputs and the layout of the state
    (`state`: name, shape, dtype, initial value). `step(inputs, state)` checks every input
    against the recorded spec before it reaches the interpreter and returns
    `(outputs, new_state)` as float/int numpy arrays.
    """

    task_name = None

    def __init__(self, path, num_threads=1):
        self.tflite_path, self.json_path = resolve_model_paths(path)
        self.metadata = read_metadata(self.json_path, self.tflite_path)
        if "signature_io" not in self.metadata:
            raise ModelFileError(f"{self.json_path} describes no step-wise signatures. Export again.")
        self.interpreter = _interpreter(self.tflite_path, num_threads)
        self.signatures = self.metadata["signature_io"]
        actual = self.interpreter.get_signature_list()
        if sorted(actual) != sorted(self.signatures):
            raise ModelFileError(f"{self.json_path} lists signatures {sorted(self.signatures)}, "
                                 f"{self.tflite_path} has {sorted(actual)}. Export again.")
        self._runners = {name: self.interpreter.get_signature_runner(name) for name in self.signatures}
        # looked up once here, not on every step of a decode loop
        self._input_specs = {name: {spec["name"]: spec for spec in io["inputs"]} for name, io in self.signatures.items()}
        self._output_specs = {name: {spec["name"]: spec for spec in io["outputs"]} for name, io in self.signatures.items()}
        self.state_layout = self.metadata.get("state", {})

    def initial_state(self, signature="step"):
        return {s["name"]: np.full(s["shape"], s["initial"], s["dtype"]) for s in self.state_layout.get(signature, [])}

    def run(self, signature, **inputs):
        """Runs one signature on named inputs; returns its named outputs."""
        if signature not in self._runners:
            raise InvalidInputError(f"No signature {signature!r}; the model has {sorted(self._runners)}.")
        specs = self._input_specs[signature]
        if sorted(inputs) != sorted(specs):
            raise InvalidInputError(f"Signature {signature!r} takes inputs {sorted(specs)}. Received: {sorted(inputs)}.")
        feeds = {}
        for name, value in inputs.items():
            spec = specs[name]
            value = np.asarray(value)
            if tuple(value.shape) != tuple(spec["shape"]):
                raise InvalidInputError(f"Input {name!r} of {signature!r} must have shape {tuple(spec['shape'])}. "
                                        f"Received: shape={value.shape}.")
            if not np.issubdtype(value.dtype, np.number):
                raise InvalidInputError(f"Input {name!r} must be numeric. Received: dtype={value.dtype}.")
            if np.issubdtype(np.dtype(spec["dtype"]), np.floating) and not np.all(np.isfinite(value)):
                raise InvalidInputError(f"Input {name!r} holds NaN or infinite values.")
            feeds[name] = quantize(value, spec)
        outputs = self._runners[signature](**feeds)
        out_specs = self._output_specs[signature]
        return {name: dequantize(value, out_specs[name]) if name in out_specs else value
                for name, value in outputs.items()}

    def step(self, inputs, state, signature="step"):
        """`(outputs, new_state)`: runs `signature` on `inputs` plus `state`."""
        outputs = self.run(signature, **inputs, **state)
        names = [s["name"] for s in self.state_layout.get(signature, [])]
        new_state = {name: outputs.pop(name) for name in names}
        return outputs, new_state


class EdgeLanguageModel(EdgeStepModel):
    """On-device language model: text in, perplexity and generated text out (LiteRT + numpy only).

    The tokenizer travels in `model.json` and is the same pure-Python code as in training.

    >>> lm = deepedge.edge.load("saved_models/austen_lstm_word")
    >>> lm.generate("It is a truth", max_tokens=30, temperature=0.8, top_k=40, seed=0)
    """

    task_name = "language_model"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        from deepedge.tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_config(self.metadata["tokenizer"])
        self.steps_run = 0
        self.step({"token": np.array([self.tokenizer.end_id], np.int32)}, self.initial_state())  # warm-up
        vocab = self.signatures["step"]["outputs"]
        logits = [spec for spec in vocab if spec["name"] == "logits"]
        if not logits or logits[0]["shape"][-1] != self.tokenizer.vocabulary_size:
            raise ModelFileError(f"{self.json_path}: the model's logits do not match its tokenizer's "
                                 f"{self.tokenizer.vocabulary_size} tokens. Export again.")

    def step_fn(self):
        """`step(token, state) -> (logits, state)` for the decoding loops."""

        def step(token, state):
            self.steps_run += 1
            outputs, state = self.step({"token": np.array([token], np.int32)}, state)
            return outputs["logits"].reshape(-1), state

        return step

    def token_nll(self, ids):
        """Negative log-likelihood of each id, segment by segment as the Keras model measures it."""
        from deepedge.edge.decoding import log_softmax, segment_starts

        ids = np.asarray(ids)
        bounds = list(segment_starts(len(ids))) + [len(ids)]
        step = self.step_fn()
        nll = np.empty(len(ids), np.float64)
        for a, b in zip(bounds[:-1], bounds[1:]):
            state, previous = self.initial_state(), self.tokenizer.end_id
            for i in range(a, b):
                logits, state = step(int(previous), state)
                nll[i] = -log_softmax(logits)[ids[i]]
                previous = ids[i]
        return nll

    def perplexity(self, data):
        """exp(mean NLL) over a corpus (`.paragraphs`), a list of paragraphs, a string or ids."""
        from deepedge.edge.decoding import as_token_ids

        return float(np.exp(self.token_nll(as_token_ids(self.tokenizer, data)).mean()))

    def evaluate_metric(self, data):
        return self.perplexity(data)

    def generate(self, prompt, max_tokens=50, strategy="sample", temperature=1.0, top_k=None, beam_width=None,
                 seed=None):
        """Continues `prompt` until a paragraph end or `max_tokens` tokens.

        Args:
            strategy: `"sample"` or `"greedy"`. Ignored with `beam_width`.
            temperature, top_k: sampling controls (see `deepedge.edge.decoding.Sampler`).
            beam_width: int. Beam search with this many hypotheses instead of sampling.
            seed: int. Makes sampling reproducible.
        """
        from deepedge.edge.decoding import generate_text

        return generate_text(self.tokenizer, self.step_fn(), self.initial_state(), prompt, max_tokens, strategy,
                             temperature, top_k, beam_width, seed)


class EdgeSceneLabeller(EdgeModel):
    """On-device scene labeller: raw images of any size in, a class for every pixel out.

    The LiteRT model takes one square tile (`tile` pixels). An image of that size runs in
    one call; a smaller one is mirrored out to it; a larger one is cut into tiles that
    overlap by `margin` pixels, and only each tile's centre is kept (`tiled_predict`).
    `SceneLabeller.predict(..., tiled=True)` does the same in Keras.
    """

    task_name = "scene_labelling"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self.palette = [tuple(c) for c in self.metadata["palette"]]
        self.metric_name = self.metadata.get("metric_name", "mean_iou")
        _, self.tile, _, self.channels = self.input_specs[0]["shape"]
        self.margin = int(self.metadata["input"].get("tile_margin", self.tile // 8))

    def _predict_tile(self, tile):
        return self.invoke(tile[None])[0][0]

    def predict(self, images):
        """Per-pixel class probabilities (N, H, W, num_classes) for one image or a batch."""
        from deepedge.edge.dense import standardize_dense_images, tiled_predict

        images = standardize_dense_images(images, self.channels)
        return np.stack([tiled_predict(image, self._predict_tile, self.tile, self.margin) for image in images])

    def label(self, images):
        """Label maps: uint8 (H, W) for one image, (N, H, W) for a batch."""
        array = np.asarray(images)
        single = array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == self.channels)
        labels = np.argmax(self.predict(images), -1).astype(np.uint8)
        return labels[0] if single else labels

    def confusion(self, data):
        """The confusion matrix (true rows, predicted columns) over every pixel of `data`."""
        from deepedge.edge.dense import as_images_and_masks, confusion_matrix

        images, masks = as_images_and_masks(data)
        total = np.zeros((len(self.class_names),) * 2, np.int64)
        for image, mask in zip(images, masks):
            total += confusion_matrix(self.label(image[None])[0], mask, len(self.class_names))
        return total

    def evaluate_metric(self, data):
        """The model's metric (`metric_name`: mean or foreground IoU), in percent."""
        from deepedge.edge.dense import metric_from_confusion

        return metric_from_confusion(self.confusion(data), self.metric_name)

    def evaluate_scores(self, data):
        """Pixel accuracy, mean IoU and IoU per class (fractions)."""
        from deepedge.edge.dense import segmentation_scores

        return segmentation_scores(self.confusion(data), self.class_names)

    def overlay(self, image, alpha=0.5):
        """`(label_map, rgb)`: the labels of one image and the image painted with them."""
        from deepedge.edge.dense import overlay

        labels = self.label(image)
        if labels.ndim != 2:
            raise InvalidInputError(f"`overlay` takes one image. Received a batch of {len(labels)}.")
        return labels, overlay(image, labels, self.palette, alpha)


class EdgeKeywordSpotter(EdgeModel):
    """On-device keyword spotter: 16 kHz PCM in (int16 or float), keywords out.

    The `.tflite` takes raw audio: its log-mel front end runs in float32 inside the model,
    the network after it in int8.
    """

    task_name = "keyword_spotting"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self.clip_samples = int(self.input_specs[0]["shape"][-1])
        self.sample_rate = int(self.metadata["input"].get("sample_rate", 16000))
        self.threshold = float(self.metadata.get("threshold", 0.0))

    def predict(self, audio):
        """Class probabilities `(N, num_classes)` for one clip or a batch of clips."""
        from deepedge.edge.audio import standardize_clips

        clips = standardize_clips(audio, self.clip_samples, self.sample_rate)
        return np.concatenate([self.invoke(clip[None])[0] for clip in clips])

    def classify(self, audio, top_k=1):
        """The `top_k` (class name, probability) pairs for each clip, best first."""
        return top_k_labels(self.predict(audio), self.class_names, top_k)

    def label(self, audio):
        """One decision per clip, with the calibrated rejection threshold applied."""
        from deepedge.edge.keywords import decide

        return [self.class_names[i] for i in decide(self.predict(audio), self.class_names, self.threshold)]

    def evaluate_metric(self, data):
        """Accuracy in percent (plain argmax) on `.audio`/`.labels` or an `(audio, labels)` tuple."""
        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        return float(100.0 * np.mean(np.argmax(self.predict(audio), -1) == np.asarray(labels)))

    def evaluate_report(self, data, threshold=None):
        """Accuracy, keyword accuracy and false accepts (percent) with the rejection threshold."""
        from deepedge.edge.keywords import keyword_report

        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        return keyword_report(self.predict(audio), labels, self.class_names,
                              self.threshold if threshold is None else threshold)

    def calibrate(self, audio, labels, target_false_accepts=5.0, save=False):
        """Sets the rejection threshold from a deployment's own labelled recordings (its
        speakers, microphone and room): the lowest threshold, in steps of 0.01, that takes at
        most `target_false_accepts` percent of the recorded other words (`_unknown_`) for
        keywords. With `save`, writes it into `model.json` (atomically) with a note of the data.

        Args:
            audio: 1-second clips `(N, samples)`, int16 or float (`load_keyword_folder` reads
                a folder of them).
            labels: class indices `(N,)`; the other words as `_unknown_`.
            target_false_accepts: float. Percent of the other words allowed through.
            save: bool.

        Returns:
            `{"threshold", "previous", "before", "after"}`: the reports (`keyword_report`) on the
            same clips with the previous and the new threshold.
        """
        from deepedge.edge.keywords import UNKNOWN, calibrate_threshold, keyword_report
        from deepedge.fileio import atomic_write_json

        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(audio) or labels.min() < 0 or labels.max() >= len(self.class_names):
            raise InvalidInputError(f"Expected one class index in [0, {len(self.class_names)}) per clip. Received: "
                                    f"{len(audio)} clips, labels of shape {labels.shape}.")
        if not (labels == self.class_names.index(UNKNOWN)).any():
            raise InvalidInputError("Calibration needs recordings of words that are not keywords (`_unknown_`): "
                                    "the threshold is set by how many of them it lets through.")
        scores = self.predict(audio)
        previous = self.threshold
        self.threshold = calibrate_threshold(scores, labels, self.class_names, target_false_accepts, step=0.01)
        result = {"threshold": self.threshold, "previous": previous,
                  "before": keyword_report(scores, labels, self.class_names, previous),
                  "after": keyword_report(scores, labels, self.class_names, self.threshold)}
        if save:
            self.metadata["threshold"] = self.threshold
            self.metadata["threshold_calibration"] = {"clips": int(len(labels)),
                                                      "target_false_accepts": float(target_false_accepts),
                                                      "previous": previous}
            atomic_write_json(self.json_path, self.metadata)
        return result

    def window_scores(self, audio, hop_seconds=0.25):
        """Class probabilities of 1-second windows `hop_seconds` apart over a long recording,
        yielded as they are computed (the first once a second of audio is there)."""
        from deepedge.edge.audio import as_pcm

        audio = as_pcm(audio)
        if audio.ndim != 1:
            raise InvalidInputError(f"Expected mono audio of shape (samples,). Received: shape={audio.shape}.")
        if len(audio) < self.clip_samples:
            audio = np.concatenate([audio, np.zeros(self.clip_samples - len(audio), np.float32)])
        hop = max(1, int(round(hop_seconds * self.sample_rate)))
        for start in range(0, len(audio) - self.clip_samples + 1, hop):
            yield self.invoke(audio[None, start:start + self.clip_samples])[0][0]

    def detect(self, audio, hop_seconds=0.25, smoothing=3):
        """Keywords in a long recording as it streams: yields `(time_s, keyword, probability)`."""
        from deepedge.edge.keywords import detect_stream

        yield from detect_stream(self.window_scores(audio, hop_seconds), self.class_names, self.threshold,
                                 hop_seconds, smoothing=smoothing)


class EdgeSpeechRecognizer(EdgeStepModel):
    """On-device streaming recogniser: audio chunks in, state carried, characters out.

    The `.tflite` holds one `step` signature: a chunk of `chunk_samples` of 16 kHz audio plus
    the state (the previous hop of audio, two feature frames, each LSTM's h and c) in,
    per-step character logits plus the new state out. This class owns the loop and the CTC
    decoding, so a long recording is transcribed while it streams.
    """

    task_name = "speech_recognition"

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.characters = list(self.metadata["characters"])
        self.chunk_samples = int(self.metadata["input"]["chunk_samples"])
        self.sample_rate = int(self.metadata["input"].get("sample_rate", 16000))
        self._language_model = None

    @property
    def language_model(self):
        """The character language model exported beside the recogniser (`language_model.npz`, see
        `deepedge.edge.charlm`), which beam search uses; `None` if there is none."""
        info = self.metadata.get("language_model")
        if info is None:
            return None
        if self._language_model is None:
            import hashlib

            from deepedge.edge.charlm import CharLanguageModel

            path = self.json_path.with_name(info["file"])
            if not path.is_file():
                raise ModelFileError(f"{self.json_path} lists a language model {info['file']}, but there is no "
                                     f"{path}. Copy the whole model folder, or export again.")
            if hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
                raise ModelFileError(f"{path} does not match {self.json_path} (checksum differs). Export again.")
            self._language_model = CharLanguageModel.load(path)
        return self._language_model

    def _audio(self, audio):
        from deepedge.edge.audio import as_pcm

        audio = as_pcm(audio, "audio")
        if audio.ndim != 1:
            raise InvalidInputError(f"Expected one mono recording of shape (samples,). Received: shape={audio.shape}.")
        return audio

    def stream(self, audio):
        """Yields `(seconds of audio consumed, logits of the chunk)` chunk by chunk."""
        from deepedge.edge.audio import pad_end

        audio = pad_end(self._audio(audio), self.chunk_samples)
        state = self.initial_state()
        for start in range(0, len(audio), self.chunk_samples):
            outputs, state = self.step({"audio": audio[None, start:start + self.chunk_samples]}, state)
            yield (start + self.chunk_samples) / self.sample_rate, outputs["logits"][0]

    def logits(self, audio):
        """Per-step logits `(steps, classes)` of a whole recording, computed as it streams."""
        return np.concatenate([logits for _, logits in self.stream(audio)])

    def transcribe(self, audio, beam_width=None, use_language_model=True):
        """The transcript: greedy CTC decoding, or prefix beam search with `beam_width`, joined by
        the exported character language model unless `use_language_model=False`."""
        return self.decode(self.logits(audio), beam_width, use_language_model)

    def decode(self, logits, beam_width=None, use_language_model=True):
        """Transcript of per-step `logits` (from `logits` or `stream`); see `transcribe`."""
        from deepedge.edge.ctc import beam_decode, greedy_decode

        if not beam_width:
            return greedy_decode(logits, self.characters)
        language_model = self.language_model if use_language_model else None
        return beam_decode(logits, self.characters, beam_width, language_model=language_model)

    def transcribe_stream(self, audio):
        """Yields `(seconds, text so far)` after every chunk: greedy decoding as the audio arrives."""
        from deepedge.edge.ctc import GreedyStream

        decoder = GreedyStream(self.characters)
        for seconds, logits in self.stream(audio):
            yield seconds, decoder.push(logits)

    def evaluate_metric(self, data, limit=None, beam_width=None, use_language_model=True):
        """Character error rate in percent on a `SentenceDataset` (greedy unless `beam_width`)."""
        from deepedge.edge.ctc import character_error_rate

        count = len(data) if limit is None else min(limit, len(data))
        hypotheses = [self.transcribe(data.audio(i), beam_width, use_language_model) for i in range(count)]
        return character_error_rate(data.texts[:count], hypotheses)


def _images_and_labels(data):
    if hasattr(data, "images"):
        return data.images, np.asarray(data.labels)
    images, labels = data
    return images, np.asarray(labels)


RUNTIMES = {cls.task_name: cls for cls in (EdgeImageClassifier, EdgeLanguageModel, EdgeSceneLabeller,
                                           EdgeKeywordSpotter, EdgeSpeechRecognizer)}


def load(path, num_threads=1):
    """Loads an exported model folder as its task's on-device runtime."""
    _, json_path = resolve_model_paths(path)
    task = read_metadata(json_path).get("task")
    if task not in RUNTIMES:
        raise ModelFileError(f"{json_path} is a {task!r} model; this deepedge runs {sorted(RUNTIMES)}.")
    return RUNTIMES[task](path, num_threads=num_threads)
