"""Glimpse agents as the tools see it: canvases of digits and clutter, accuracy, the step-wise
export with the multiply-accumulates per image on its card, training by recipe."""

import numpy as np

from deepedge.apps.agents.glimpse_presets import ARCHITECTURES, TRAINED
from deepedge.apps.family import Family
from deepedge.data.glimpses import GLIMPSE_DATASETS
from deepedge.errors import InvalidInputError


class GlimpseClassification(Family):
    family = "agents"
    task_name = "glimpse_classification"
    title = "Glimpse agents"
    keras_classes = ("GlimpseAgent",)
    data_names = tuple(GLIMPSE_DATASETS)
    unit = "canvases"
    demo_name = "agents"
    default_model = "glimpse_cluttered"
    shipped = ("glimpse_cluttered", "glimpse_translated", "glimpse_cluttered_100")
    task_class = "deepedge.apps.agents.glimpse_agent:GlimpseAgent"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def load_data(self, name, split):
        from deepedge.data.glimpses import load_canvases

        return load_canvases(name, split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from deepedge.progress import map_in_chunks

        data = self.load_data(data_name, split)
        if limit:
            data = data.take(limit)
        model, kind = self.open_model(path)
        predict = model.predict if kind != "keras_float" else (lambda x: model.predict(x, verbose=0))
        scores = map_in_chunks(predict, data.images, f"Evaluating on {data_name}/{split}")
        accuracy = float(np.mean(np.argmax(scores, -1) == data.labels))
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "metric": "accuracy", "value": round(100.0 * accuracy, 4), "error": round(100.0 * (1 - accuracy), 4)}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        name = self.data_name(model_path, data_name)
        model = self.load_keras(model_path)
        train, test = self.load_data(name, "train"), self.load_data(name, "test")
        data_info = {"name": name, "source": test.source, "licence": test.licence, "train_examples": len(train),
                     "test_examples": len(test)}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 480, extra_metadata={"data": name},
                            card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, test error float "
                f"{100 * (1 - metrics['keras_float']):.2f}% vs {quantization} "
                f"{100 * (1 - metrics[f'litert_{quantization}']):.2f}%, median {meta['latency_us']['median']:.1f} us "
                f"a glimpse")

    def card_sections(self, card):
        macs = card.get("multiply_accumulates")
        if not macs:
            return []
        return ["", "## Cost", "", f"{macs:,} multiply-accumulates per image ({card.get('glimpses')} glimpses), "
                "whatever the canvas's size: the retina reads the same few pixels from any image."]

    def commands(self):
        from deepedge.apps.agents.commands import command

        return [command]

    def play(self, runtime, out, image_path=None, index=0):
        """Runs the agent on a held-out canvas (or a user's grey picture); writes its GIF to `out`."""
        from deepedge.apps.agents.play import play_glimpse

        if image_path:
            from deepedge.ops.preprocess import read_image

            image, truth = read_image(image_path, 1), None
        else:
            data = self.load_data(runtime.metadata["data"], "test")
            if index >= len(data):
                raise InvalidInputError(f"--index must be below {len(data)} (the test canvases). Received: {index}.")
            image, truth = data.images[index], data.class_names[data.labels[index]]
        label, probability, locations = play_glimpse(runtime, image, out)
        path = " -> ".join(f"({y:+.2f}, {x:+.2f})" for y, x in locations)
        return (f"{label} ({probability:.2f})" + (f", truth {truth}" if truth is not None else "")
                + f"; glimpses at {path}. Wrote {out}")

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.agents.demo import run_glimpse_demo

        return run_glimpse_demo(self, out, limit=limit, console=console)

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.agents.glimpse_recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation error {100 * (1 - report['validation_accuracy']):.2f}% in "
                f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")
