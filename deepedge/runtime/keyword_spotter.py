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

    def __init__(self, path, num_threads=1):
        super().__init__(path, num_threads)
        self.class_names = list(self.metadata["labels"])
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
        from deepedge.ops.keywords import UNKNOWN, calibrate_threshold, keyword_report
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
        from deepedge.ops.audio import as_pcm

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
        from deepedge.ops.keywords import detect_stream

        yield from detect_stream(self.window_scores(audio, hop_seconds), self.class_names, self.threshold,
                                 hop_seconds, smoothing=smoothing)
