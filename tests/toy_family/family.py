"""The toy family's interface: what `deepedge info`, `train`, `evaluate`, `export` and `demo` call."""

from pathlib import Path

import numpy as np

from deepedge.apps.family import Family


class ToyDigits(Family):
    family = "toy"
    task_name = "toy_digits"
    title = "Toy digits"
    keras_classes = ("ToyDigitsClassifier",)
    data_names = ("digits",)
    demo_name = "toy"
    model_dir = None  # the test points the demo at its trained model
    task_class = "toy_family.toy_classifier:ToyDigitsClassifier"
    architectures = {"toy_mlp": {"description": "8x8 digits -> Dense(16, relu) -> softmax"}}
    recipes = {"toy_digits": {"description": "toy_mlp trained on the 8x8 digits", "architecture": "toy_mlp",
                              "data": "digits", "recipe": {"epochs": 30, "seed": 0}}}

    def load_data(self, name, split):
        from deepedge.data import load_digits

        return load_digits(split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        data = self.load_data(data_name, split)
        model, kind = self.open_model(path)
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "metric": "accuracy", "value": round(model.evaluate_metric(data), 4)}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None):
        model = self.load_keras(model_path)
        train, test = self.load_data("digits", "train"), self.load_data("digits", "test")
        return model.export(out, quantization=quantization, calibration_data=train, evaluation_data=test,
                            force=force, extra_metadata={"data": "digits"},
                            card=self.card_info({"name": "digits", "source": train.source}, "toy export"))

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.backend import keras
        from deepedge.training import Distribution

        distribution = distribution or Distribution()
        distribution.check_supported("The toy family's `fit`", ("default", "mirrored", "tpu"))
        recipe = self.recipes[preset]["recipe"]
        keras.utils.set_random_seed(recipe["seed"])
        train = self.load_data("digits", "train")
        with distribution.scope(recipe):
            model = self.keras_task().from_preset("toy_mlp", class_names=train.class_names)
            model.compile(optimizer=keras.optimizers.Adam(1e-2), **distribution.compile_options)
        model.fit(train.images.astype(np.float32), train.labels, epochs=epochs or recipe["epochs"], verbose=0)
        Path(out).mkdir(parents=True, exist_ok=True)
        model.save(Path(out) / "model.keras")
        return f"Trained {preset} into {out}"

    def demo(self, out, limit=None, console=None):
        from deepedge.runtime import load

        runtime = load(self.model_dir)
        accuracy = runtime.evaluate_metric(self.load_data("digits", "test"))
        console.print(f"toy digits on device: accuracy {accuracy:.2f}%")
        return [{"model": "toy", "accuracy": accuracy}]
