"""`ToyDigitsClassifier`: a two-layer classifier of the real 8x8 digits, the smallest Keras task."""

import numpy as np

from deepedge.apps.task import ClassifierCompileMixin, Task
from deepedge.backend import keras

ARCHITECTURES = {"toy_mlp": {"description": "8x8 digits -> Dense(16, relu) -> softmax", "units": 16}}
TRAINED = {"toy_digits": {"description": "toy_mlp trained on the 8x8 digits", "architecture": "toy_mlp",
                          "data": "digits", "recipe": {"epochs": 30, "seed": 0}}}


@keras.saving.register_keras_serializable(package="deepedge_toy")
class ToyDigitsClassifier(ClassifierCompileMixin, Task, keras.Model):
    family = "toy"
    task_name = "toy_digits"
    metric_name = "accuracy"
    parity_threshold = 2.0
    architectures = ARCHITECTURES
    trained = TRAINED

    def __init__(self, class_names, units=16, **kwargs):
        inputs = keras.Input(shape=(8, 8, 1), name="images")
        x = keras.layers.Rescaling(1 / 16.0)(inputs)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(units, activation="relu")(x)
        outputs = keras.layers.Dense(len(class_names), activation="softmax", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.class_names, self.units = list(class_names), int(units)

    @classmethod
    def from_architecture(cls, name, class_names=None):
        return cls(class_names, units=ARCHITECTURES[name]["units"])

    def evaluate_metric(self, data):
        scores = keras.ops.convert_to_numpy(self(data.images.astype(np.float32), training=False))
        return float(100.0 * np.mean(np.argmax(scores, -1) == data.labels))

    def edge_metadata(self):
        return {"labels": self.class_names, "input": {"kind": "image", "shape": [8, 8, 1]},
                "params": int(self.count_params())}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "class_names": self.class_names, "units": self.units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
