"""The scene-labelling family as the tools see it: composed scenes and the nuclei strip, IoU,
the export with IoU per class on its card, training by recipe, labelling a user's picture, the demo."""

from pathlib import Path

import numpy as np

from deepedge.apps.family import Family
from deepedge.apps.scene_labelling.presets import ARCHITECTURES, TRAINED


class SceneLabelling(Family):
    family = "scene_labelling"
    task_name = "scene_labelling"
    title = "Scene labelling"
    keras_classes = ("SceneLabeller",)
    data_names = ("scenes", "nuclei")
    unit = "images, every pixel counted"
    demo_name = "scene"
    predict_name = "scene"
    default_model = "scenes_labeller"
    shipped = ("scenes_labeller", "nuclei_labeller")
    task_class = "deepedge.apps.scene_labelling.scene_labeller:SceneLabeller"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def load_data(self, name, split):
        from deepedge.data.scenes import load_segmentation_dataset

        return load_segmentation_dataset(name, split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from deepedge.apps.scene_labelling.demo import segmentation_scores_with_progress
        from deepedge.ops.dense import metric_from_confusion

        dataset = self.load_data(data_name, split)
        if limit:
            dataset = dataset.take(limit)
        model, kind = self.open_model(path)
        scores, confusion = segmentation_scores_with_progress(model, dataset, f"Labelling {data_name}/{split}")
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(dataset),
                "unit": "images", "metric": model.metric_name,
                "value": round(metric_from_confusion(confusion, model.metric_name), 4),
                "pixel_accuracy": round(100 * scores["pixel_accuracy"], 4), "iou": scores["iou"]}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        from deepedge.data.scenes import load_nuclei, load_scenes

        name = self.data_name(model_path, data_name)
        model = self.load_keras(model_path)
        calibration_samples = calibration_samples or 200
        if name == "scenes":
            train = load_scenes("train", calibration_samples, seed=7)  # scenes no training epoch drew
            test = load_scenes("test")
        else:
            train = load_nuclei("train", tile=model.export_size, stride=model.export_size // 4)
            test = load_nuclei("test")

        def per_class_report(folder, meta):
            from deepedge.runtime import load

            per_class = {"keras_float": model.evaluate_scores(test, tiled=True),
                         f"litert_{quantization}": load(folder).evaluate_scores(test)}
            if test.images.shape[1:3] != model.edge_input_shape[:2]:  # larger than a tile: also whole
                per_class["keras_float_whole_image"] = model.evaluate_scores(test)
            return {"metrics": {"scores": per_class}}

        data_info = {"name": name, "source": test.source, "licence": test.licence,
                     "test_images": len(test), "test_image_size": list(test.images.shape[1:3])}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples, latency_runs=200,
                            extra_metadata={"data": name}, report=per_class_report,
                            card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        tile = meta["inputs"][0]["shape"][1]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, {metrics['metric']} float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                f"median {meta['latency_us']['median'] / 1000:.2f} ms per {tile}x{tile} tile")

    def card_sections(self, card):
        scores = (card.get("metrics") or {}).get("scores")
        if not scores:
            return []
        kinds = list(scores)
        lines = ["", "## IoU per class (test split)", "", "| class | " + " | ".join(kinds) + " |",
                 "| --- |" + " ---: |" * len(kinds)]
        for name in scores[kinds[0]]["iou"]:
            values = [scores[k]["iou"].get(name) for k in kinds]
            lines.append(f"| {name} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in values) + " |")
        lines.append("| **mean IoU** | " + " | ".join(f"**{scores[k]['mean_iou']:.3f}**" for k in kinds) + " |")
        lines.append("| pixel accuracy | " + " | ".join(f"{scores[k]['pixel_accuracy']:.3f}" for k in kinds) + " |")
        return lines

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.scene_labelling.recipes import train_preset

        model, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation {model.metric_name.replace('_', ' ')} "
                f"{report['validation_metric']:.2f} in {report['training_seconds'] / 60:.1f} min. "
                f"Saved {out / 'model.keras'}")

    def predict_file(self, runtime, file, out=None, top_k=3, console=None):
        import time

        from PIL import Image
        from rich.table import Table

        from deepedge.fileio import atomic_path
        from deepedge.ops.preprocess import read_image

        image = read_image(file, runtime.input_specs[0]["shape"][-1])
        started = time.perf_counter()
        labels, painted = runtime.overlay(image)
        seconds = time.perf_counter() - started
        table = Table(title=f"{Path(file).name}: {image.shape[1]}x{image.shape[0]} pixels, labelled on device "
                            f"in {seconds * 1000:.0f} ms")
        table.add_column("class")
        table.add_column("pixels %", justify="right")
        shares = np.bincount(labels.ravel(), minlength=len(runtime.class_names)) / labels.size
        for name, share in sorted(zip(runtime.class_names, shares), key=lambda t: -t[1]):
            if share > 0:
                table.add_row(name, f"{100 * share:.1f}")
        console.print(table)
        out = Path(out) if out else Path(file).with_name(Path(file).stem + "_labels.png")
        with atomic_path(out) as tmp:
            Image.fromarray(painted).save(tmp, format="PNG")
        console.print(f"wrote {out}")

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.scene_labelling.demo import run_scene_demo

        return run_scene_demo(self, out, limit=limit, console=console)
