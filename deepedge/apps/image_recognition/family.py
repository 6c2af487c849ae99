"""The image-recognition family as the tools see it: Fashion-MNIST (and MNIST, digits) data,
accuracy, the export and its card, training by recipe, predicting a user's picture, the demo."""

import numpy as np

from deepedge.apps.family import Family
from deepedge.apps.image_recognition.presets import ARCHITECTURES, TRAINED
from deepedge.progress import map_in_chunks


class ImageClassification(Family):
    family = "image_recognition"
    task_name = "image_classification"
    title = "Image recognition"
    keras_classes = ("ImageClassifier",)
    data_names = ("fashion_mnist", "mnist_subset", "digits")
    unit = "examples"
    demo_name = "images"
    predict_name = "image"
    default_model = "fashion_edgenet"
    shipped = ("fashion_lenet5", "fashion_edgenet")
    task_class = "deepedge.apps.image_recognition.image_classifier:ImageClassifier"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def load_data(self, name, split):
        from deepedge.data import load_image_dataset

        return load_image_dataset(name, split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        dataset = self.load_data(data_name, split)
        if limit:
            dataset = dataset.take(limit)
        model, kind = self.open_model(path)
        predict = model.predict if kind != "keras_float" else (lambda x: model.predict(x, verbose=0))
        scores = map_in_chunks(predict, dataset.images, f"Evaluating on {dataset.name}/{split}")
        accuracy = float(100.0 * np.mean(np.argmax(scores, -1) == dataset.labels))
        return {"model": str(path), "kind": kind, "data": dataset.name, "split": split,
                "examples": len(dataset), "metric": "accuracy", "value": round(accuracy, 4)}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        name = self.data_name(model_path, data_name)
        classifier = self.load_keras(model_path)
        train, test = self.load_data(name, "train"), self.load_data(name, "test")
        data_info = {"name": name, "source": train.source, "licence": train.licence,
                     "train_examples": len(train), "test_examples": len(test)}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return classifier.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                                 force=force, num_calibration=calibration_samples or 500,
                                 extra_metadata={"data": name}, card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, "
                f"accuracy float {metrics['keras_float']:.2f}% vs {quantization} "
                f"{metrics[f'litert_{quantization}']:.2f}%, median {meta['latency_us']['median']:.1f} us")

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.image_recognition.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation accuracy {100 * report['validation_accuracy']:.2f}% "
                f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def predict_file(self, runtime, file, out=None, top_k=3, console=None):
        from deepedge.ops.preprocess import read_image

        channels = runtime.input_specs[0]["shape"][-1]
        image = read_image(file, channels)
        height, width = runtime.image_shape[:2]
        if image.shape[:2] != (height, width):
            from PIL import Image

            image = np.asarray(Image.fromarray(image[..., 0] if channels == 1 else image).resize(
                (width, height), Image.BILINEAR)).reshape(height, width, channels)
        for label, score in runtime.classify(image, top_k=top_k)[0]:
            console.print(f"{label:>20s}  {score:.3f}")

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.image_recognition.demo import run_image_demo

        return run_image_demo(self, out, limit=limit, console=console)
