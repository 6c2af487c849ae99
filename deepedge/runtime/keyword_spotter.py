"""On-device keyword spotter: 16 kHz PCM clips or streams in, keywords out."""

import numpy as np

from deepedge.errors import InvalidInputError
from deepedge.ops.preprocess import top_k_labels
from deepedge.runtime.base import EdgeModel


class EdgeKeywordSpotter(EdgeModel):
    """On-device keyword spotter: 16 kHz PCM in (int16 or float), keywords out.

    The `.tflite` takes raw audio: its log-mel front end runs in float32 inside the model,
    the network after it in int8.
    """

    task_name = "keyword_spotting"
    metadata_fields = {"labels": "strings", "input": "object", "input.sample_rate?": "count", "threshold?": "number"}

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
        self._check_rank(self.input_specs[0], "(1, samples)")
        self._check_rank(self.output_specs[0], "(1, classes)")
        self._check_classes("labels", len(self.class_names), self.output_specs[0])
        self.clip_samples = int(self.input_specs[0]["shape"][-1])
        self.sample_rate = int(self.metadata["input"].get("sample_rate", 16000))
        self.threshold = float(self.metadata.get("threshold", 0.0))

    def predict(self, audio):
        """Class probabilities `(N, num_classes)` for one clip or a batch of clips."""
        from deepedge.ops.audio import standardize_clips

        clips = standardize_clips(audio, self.clip_samples, self.sample_rate)
        return np.concatenate([self.invoke(clip[None])[0] for clip in clips])

    def classify(self, audio, top_k=1):
        """The `top_k` (class name, probability) pairs for each clip, best first."""
        from deepedge.validation import positive_int

        positive_int("top_k", top_k, hint="Pass how many of the best labels to list, 1 or more.")
        return top_k_labels(self.predict(audio), self.class_names, top_k)

    def label(self, audio):
        """One decision per clip, with the calibrated rejection threshold applied."""
        from deepedge.ops.keywords import decide

        return [self.class_names[i] for i in decide(self.predict(audio), self.class_names, self.threshold)]

    def evaluate_metric(self, data):
        """Accuracy in percent (plain argmax) on `.audio`/`.labels` or an `(audio, labels)` tuple."""
        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        return float(100.0 * np.mean(np.argmax(self.predict(audio), -1) == np.asarray(labels)))

    def evaluate_report(self, data, threshold=None):
        """Accuracy, keyword accuracy and false accepts (percent) with the rejection threshold."""
        from deepedge.ops.keywords import keyword_report
        from deepedge.validation import probability

        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        threshold = self.threshold if threshold is None else probability(
            "threshold", threshold, hint="Pass the probability a keyword needs (0 for none), or None for the "
            "model's own.")
        return keyword_report(self.predict(audio), labels, self.class_names, threshold)

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
        from deepedge.ops.keywords import UNKNOWN, calibrate_threshold, keyword_report
        from deepedge.fileio import atomic_write_json
        from deepedge.ops.audio import standardize_clips
        from deepedge.validation import non_negative_float, uniform_batch

        target_false_accepts = non_negative_float("target_false_accepts", target_false_accepts, maximum=100.0,
                                                  hint="Pass the percent of other words allowed through (5.0, say).")
        audio = standardize_clips(audio, self.clip_samples, self.sample_rate)
        labels = uniform_batch("labels", labels, "label")
        if (labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(audio)
                or labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise InvalidInputError(f"Expected one class index in [0, {len(self.class_names)}) per clip. Received: "
                                    f"{len(audio)} clips, labels of shape {labels.shape} and dtype {labels.dtype}. "
                                    "Pass integer class indices, one per clip.")
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

    MIN_HOP_SECONDS = 0.01  # one feature frame: a finer hop only repeats windows

    def window_scores(self, audio, hop_seconds=0.25):
        """Class probabilities of 1-second windows `hop_seconds` apart over a long recording,
        yielded as they are computed (the first once a second of audio is there). The arguments
        are checked when this is called, before the first window."""
        from deepedge.ops.audio import as_pcm
        from deepedge.validation import real

        window = self.clip_samples / self.sample_rate
        hop_seconds = real("hop_seconds", hop_seconds, minimum=self.MIN_HOP_SECONDS, maximum=window,
                           hint=f"Pass the time between windows in seconds, from {self.MIN_HOP_SECONDS:g} to "
                                f"{window:g} (the window); 0.25 is the default.")
        audio = as_pcm(audio)
        if audio.ndim != 1:
            raise InvalidInputError(f"Expected mono audio of shape (samples,). Received: shape={audio.shape}. "
                                    "Mix the channels down first (`audio.mean(axis=1)`).")
        if len(audio) == 0:
            raise InvalidInputError("The recording is empty. Received: 0 samples. Pass at least one sample of audio.")
        if len(audio) < self.clip_samples:
            audio = np.concatenate([audio, np.zeros(self.clip_samples - len(audio), np.float32)])
        hop = max(1, int(round(hop_seconds * self.sample_rate)))
        return (self.invoke(audio[None, start:start + self.clip_samples])[0][0]
                for start in range(0, len(audio) - self.clip_samples + 1, hop))

    def detect(self, audio, hop_seconds=0.25, smoothing=3):
        """Keywords in a long recording as it streams: yields `(time_s, keyword, probability)`.
        The arguments are checked when this is called, before the first window."""
        from deepedge.ops.keywords import detect_stream
        from deepedge.validation import positive_int

        smoothing = positive_int("smoothing", smoothing, hint="Pass how many windows to average (3, say; 1 for none).")
        return detect_stream(self.window_scores(audio, hop_seconds), self.class_names, self.threshold,
                             float(hop_seconds), smoothing=smoothing)
