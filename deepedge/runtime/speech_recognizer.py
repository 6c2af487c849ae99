"""On-device streaming speech recogniser: audio chunks in, state carried, characters out."""

import numpy as np

from deepedge.errors import InvalidInputError, ModelFileError
from deepedge.runtime.base import EdgeStepModel
from deepedge.runtime.metadata_checks import REEXPORT, check_fields


class EdgeSpeechRecognizer(EdgeStepModel):
    """On-device streaming recogniser: audio chunks in, state carried, characters out.

    The `.tflite` holds one `step` signature: a chunk of `chunk_samples` of 16 kHz audio plus
    the state (the previous hop of audio, two feature frames, each LSTM's h and c) in,
    per-step character logits plus the new state out. This class owns the loop and the CTC
    decoding, so a long recording is transcribed while it streams.
    """

    task_name = "speech_recognition"
    metadata_fields = {"characters": "strings", "input": "object", "input.chunk_samples": "count",
                       "input.sample_rate?": "count"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.characters = list(self.metadata["characters"])
        if "logits" not in self._output_specs.get("step", {}):
            raise ModelFileError(f"{self.json_path}: a speech recogniser has a `step` signature with `logits` among "
                                 f"its outputs. Received: {sorted(self.signatures)}. Export again.")
        self._check_classes("characters", len(self.characters), self._output_specs["step"]["logits"], extra=1)
        self.chunk_samples = int(self.metadata["input"]["chunk_samples"])
        self.sample_rate = int(self.metadata["input"].get("sample_rate", 16000))
        self._language_model = None
        if "language_model" in self.metadata:  # checked at load, read at the first beam search
            check_fields(self.metadata, {"language_model": "object", "language_model.file": "text",
                                         "language_model.sha256": "text"}, self.json_path, "beam search")
            name = self.metadata["language_model"]["file"]
            if name in ("", ".", "..") or "/" in name or "\\" in name:
                raise ModelFileError(f"{self.json_path}: `language_model.file` must name a file beside model.json. "
                                     f"Received: {name!r}. {REEXPORT}")

    @property
    def language_model(self):
        """The character language model exported beside the recogniser (`language_model.npz`, see
        `deepedge.ops.charlm`), which beam search uses; `None` if there is none."""
        info = self.metadata.get("language_model")
        if info is None:
            return None
        if self._language_model is None:
            import hashlib

            from deepedge.ops.charlm import CharLanguageModel

            path = self.json_path.with_name(info["file"])
            if not path.is_file():
                raise ModelFileError(f"{self.json_path} lists a language model {info['file']}, but there is no "
                                     f"{path}. Copy the whole model folder, or export again.")
            if hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
                raise ModelFileError(f"{path} does not match {self.json_path} (checksum differs). Export again.")
            self._language_model = CharLanguageModel.load(path)
        return self._language_model

    def _audio(self, audio):
        """The recording as one array, shape checked; its samples are checked (and converted to
        float32) chunk by chunk as it streams, so a long recording is never copied whole."""
        from deepedge.ops.audio import as_pcm
        from deepedge.validation import uniform_batch

        audio = uniform_batch("audio", audio, "sample")
        if audio.ndim == 1 and audio.dtype != np.int16:
            as_pcm(audio[:1], "audio")  # a wrong dtype is refused before anything streams
        if audio.ndim != 1:
            raise InvalidInputError(f"Expected one mono recording of shape (samples,). Received: shape={audio.shape}.")
        if len(audio) == 0:
            raise InvalidInputError("The recording is empty. Received: 0 samples. Pass at least one sample of audio.")
        return audio

    def stream(self, audio):
        """Yields `(seconds of audio consumed, logits of the chunk)` chunk by chunk."""
        from deepedge.ops.audio import as_pcm, pad_end

        audio = self._audio(audio)
        state = self.initial_state()
        for start in range(0, len(audio), self.chunk_samples):
            chunk = pad_end(as_pcm(audio[start:start + self.chunk_samples], "audio"), self.chunk_samples)
            outputs, state = self.step({"audio": chunk[None]}, state)
            yield (start + self.chunk_samples) / self.sample_rate, outputs["logits"][0]

    def logits(self, audio):
        """Per-step logits `(steps, classes)` of a whole recording, computed as it streams."""
        return np.concatenate([logits for _, logits in self.stream(audio)])

    def transcribe(self, audio, beam_width=None, use_language_model=True):
        """The transcript: greedy CTC decoding, or prefix beam search with `beam_width`, joined by
        the exported character language model unless `use_language_model=False`. Decoded as the
        audio streams: time and memory per second of audio stay the same however long it is."""
        decoder = self._decoder(beam_width, use_language_model)
        for _, logits in self.stream(audio):
            decoder.advance(logits)
        return decoder.finish() if beam_width else decoder.text

    def _decoder(self, beam_width, use_language_model):
        from deepedge.ops.ctc import BeamStream, GreedyStream
        from deepedge.validation import optional_positive_int

        if optional_positive_int("beam_width", beam_width, hint="Pass how many prefixes to keep (16, say), "
                                 "or None for greedy decoding."):
            language_model = self.language_model if use_language_model else None
            return BeamStream(self.characters, beam_width, language_model=language_model)
        return GreedyStream(self.characters)

    def decode(self, logits, beam_width=None, use_language_model=True):
        """Transcript of per-step `logits` (from `logits` or `stream`); see `transcribe`."""
        from deepedge.ops.ctc import beam_decode, greedy_decode
        from deepedge.validation import optional_positive_int

        if not optional_positive_int("beam_width", beam_width, hint="Pass how many prefixes to keep (16, say), "
                                     "or None for greedy decoding."):
            return greedy_decode(logits, self.characters)
        language_model = self.language_model if use_language_model else None
        return beam_decode(logits, self.characters, beam_width, language_model=language_model)

    def transcribe_stream(self, audio, beam_width=None, use_language_model=True, final=False):
        """Yields `(seconds, text so far)` after every chunk, decoding as the audio arrives: greedy,
        or prefix beam search with `beam_width` (and the language model unless
        `use_language_model=False`). With `final`, the last item's text has the end of the
        sentence scored (it equals `transcribe`)."""
        decoder = self._decoder(beam_width, use_language_model)
        seconds = 0.0
        for seconds, logits in self.stream(audio):
            text = decoder.push(logits)
            yield seconds, text
        if final and beam_width:
            yield seconds, decoder.finish()

    def evaluate_metric(self, data, limit=None, beam_width=None, use_language_model=True):
        """Character error rate in percent on a `SentenceDataset` (greedy unless `beam_width`)."""
        from deepedge.ops.ctc import character_error_rate

        count = len(data) if limit is None else min(limit, len(data))
        hypotheses = [self.transcribe(data.waveform(i), beam_width, use_language_model) for i in range(count)]
        return character_error_rate(data.texts[:count], hypotheses)
