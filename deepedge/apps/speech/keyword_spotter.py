"""`KeywordSpotter`: raw 1-second audio in, a keyword (or `_silence_` / `_unknown_`) out.

A DS-CNN in the style of "Hello Edge" (Zhang et al. 2017): a strided 10x4 convolution over
the log-mel image, depthwise-separable blocks, average pooling and a softmax, with the
log-mel front end inside the model.
"""

import numpy as np

from deepedge.apps.speech.frontend import LogMelSpectrogram, SpecAugment
from deepedge.apps.speech.presets import KWS_ARCHITECTURES, KWS_TRAINED
from deepedge.apps.task import ClassifierCompileMixin, Task
from deepedge.backend import keras
from deepedge.ops.audio import SAMPLE_RATE, standardize_clips
from deepedge.ops.preprocess import top_k_labels
from deepedge.layers.normalization import FusedBatchNormalization


def dscnn_backbone(input_shape, filters=64, blocks=4, stem_kernel=(10, 4), stem_strides=(2, 2), dropout=0.2,
                   name="dscnn"):
    """The DS-CNN body: features `(frames, bands)` in, a pooled feature vector out."""
    inputs = keras.Input(shape=input_shape, name="features")
    x = keras.layers.Reshape((*input_shape, 1), name="as_image")(inputs)
    x = keras.layers.Conv2D(filters, stem_kernel, strides=stem_strides, padding="same", use_bias=False,
                            name="stem")(x)
    x = FusedBatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    for i in range(blocks):
        x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"block{i}_depthwise")(x)
        x = FusedBatchNormalization(momentum=0.9, name=f"block{i}_depthwise_bn")(x)
        x = keras.layers.ReLU(name=f"block{i}_depthwise_relu")(x)
        x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"block{i}_pointwise")(x)
        x = FusedBatchNormalization(momentum=0.9, name=f"block{i}_pointwise_bn")(x)
        x = keras.layers.ReLU(name=f"block{i}_pointwise_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, x, name=name)


@keras.saving.register_keras_serializable(package="deepedge")
class KeywordSpotter(ClassifierCompileMixin, Task, keras.Model):
    """A keyword spotter that takes 16 kHz PCM and returns class probabilities.

    The model is `LogMelSpectrogram` -> `SpecAugment` (training only) -> DS-CNN -> `Dense`
    softmax over `class_names` (the keywords, then `_silence_` and `_unknown_`).

    Args:
        class_names: list of str.
        clip_samples: int. Samples per clip. Defaults to `16000` (1 s).
        frontend: dict. `LogMelSpectrogram` arguments.
        backbone: dict. `dscnn_backbone` arguments (`filters`, `blocks`, ...).
        spec_augment: dict or None. `SpecAugment` arguments; None for no masking.
        threshold: float. A keyword is reported only when its probability reaches this
            (calibrated on validation data by training); otherwise `_unknown_`.

    Example:

    >>> spotter = KeywordSpotter.from_preset("kws_dscnn")
    >>> spotter.classify(clip)
    [[('seven', 0.98)]]
    """

    family = "speech"
    task_name = "keyword_spotting"
    metric_name = "accuracy"
    metric_higher_is_better = True
    parity_threshold = 1.0  # accuracy points an int8 export may lose
    edge_float_layers = ("log_mel",)  # the front end stays float32 in the int8 model
    architectures = KWS_ARCHITECTURES
    trained = KWS_TRAINED

    def __init__(self, class_names, clip_samples=SAMPLE_RATE, frontend=None, backbone=None, spec_augment=None,
                 threshold=0.0, **kwargs):
        class_names = [str(c) for c in class_names]
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise ValueError(f"`class_names` must hold at least two distinct names. Received: {class_names!r}")
        frontend, backbone = dict(frontend or {}), dict(backbone or {})
        # === Functional Model ===
        inputs = keras.Input(shape=(int(clip_samples),), name="audio")
        log_mel = LogMelSpectrogram(**frontend, name="log_mel")
        x = log_mel(inputs)
        masking = SpecAugment(**spec_augment, name="spec_augment") if spec_augment else None
        if masking is not None:
            x = masking(x)
        body = dscnn_backbone(tuple(x.shape[1:]), **backbone)
        x = body(x)
        outputs = keras.layers.Dense(len(class_names), activation="softmax", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.class_names = class_names
        self.clip_samples = int(clip_samples)
        self.frontend_config, self.backbone_config = frontend, backbone
        self.spec_augment_config = dict(spec_augment) if spec_augment else None
        self.threshold = float(threshold)
        self.log_mel, self.spec_augment, self.body = log_mel, masking, body

    def predict(self, x, batch_size=256, verbose="auto", steps=None, callbacks=None):
        """Class probabilities `(N, num_classes)` for int16 or float clips of `clip_samples`."""
        if not hasattr(x, "element_spec") and not isinstance(x, keras.utils.PyDataset):
            x = standardize_clips(x, self.clip_samples)
        return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def scores(self, audio, batch_size=256):
        """Class probabilities, computed with `model(x)` (fast for small batches)."""
        audio = standardize_clips(audio, self.clip_samples)
        return np.concatenate([keras.ops.convert_to_numpy(self(audio[i:i + batch_size], training=False))
                               for i in range(0, len(audio), batch_size)])

    def classify(self, audio, top_k=1):
        """The `top_k` (class name, probability) pairs for each clip, best first."""
        from deepedge.validation import positive_int

        positive_int("top_k", top_k, hint="Pass how many of the best labels to list, 1 or more.")
        return top_k_labels(self.scores(audio), self.class_names, top_k)

    def label(self, audio):
        """One decision per clip, with the calibrated rejection threshold applied."""
        from deepedge.ops.keywords import decide

        return [self.class_names[i] for i in decide(self.scores(audio), self.class_names, self.threshold)]

    def evaluate_metric(self, data, batch_size=256):
        """Accuracy in percent on `data` (`.audio`/`.labels`, or an `(audio, labels)` tuple)."""
        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        return float(100.0 * np.mean(np.argmax(self.scores(audio, batch_size), -1) == np.asarray(labels)))

    def evaluate_report(self, data, threshold=None):
        """Accuracy, keyword accuracy and false accepts (percent) with the rejection threshold,
        as the on-device spotter's `evaluate_report`."""
        from deepedge.ops.keywords import keyword_report

        audio, labels = (data.audio, data.labels) if hasattr(data, "audio") else data
        return keyword_report(self.scores(audio), labels, self.class_names,
                              self.threshold if threshold is None else threshold)

    def edge_calibration_inputs(self, data):
        """float32 clips for int8 calibration from a `KeywordDataset` or int16/float clips."""
        return None if data is None else standardize_clips(getattr(data, "audio", data), self.clip_samples)

    def edge_metadata(self):
        """Labels, the input's meaning and the rejection threshold, for the on-device runtime."""
        return {"labels": list(self.class_names), "threshold": self.threshold,
                "input": {"kind": "audio", "shape": [self.clip_samples], "sample_rate": SAMPLE_RATE,
                          "range": [-1.0, 1.0],
                          "preprocessing": "log-mel features in the graph (float32), the network after them int8"},
                "params": int(self.count_params())}

    # === Presets ===
    @classmethod
    def from_architecture(cls, name, class_names=None):
        """An untrained spotter of the architecture preset `name` (`"dscnn_s"`); the Speech Commands
        keywords, `_silence_` and `_unknown_` unless `class_names` says otherwise."""
        if class_names is None:
            from deepedge.ops.keywords import KEYWORD_CLASSES

            class_names = KEYWORD_CLASSES
        arch = KWS_ARCHITECTURES[name]
        return cls(class_names, frontend=arch["frontend"], backbone=arch["backbone"],
                   spec_augment=arch.get("spec_augment"))

    # === Config ===
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "class_names": list(self.class_names),
                "clip_samples": self.clip_samples, "frontend": self.frontend_config,
                "backbone": self.backbone_config, "spec_augment": self.spec_augment_config,
                "threshold": self.threshold}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
