"""Captioning as the tools see it: captioned scenes, BLEU-1..4, CIDEr-D, object recall and
precision and attention grounding on held-out instances and held-out combinations, the
step-wise export and its card, training by recipe."""

from deepedge.apps.captioning.presets import ARCHITECTURES, TRAINED
from deepedge.apps.family import Family

EVALUATION_SPLITS = ("test", "test_combinations")


class Captioning(Family):
    family = "captioning"
    task_name = "captioning"
    title = "Image captioning"
    keras_classes = ("Captioner",)
    data_names = ("captions",)
    unit = "held-out images (five references each)"
    beam_search = True
    demo_name = "captioning"
    default_model = "scenes_captioner"
    shipped = ("scenes_captioner", "scenes_show_and_tell")
    task_class = "deepedge.apps.captioning.captioner:Captioner"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def commands(self):
        from deepedge.apps.captioning.commands import command

        return [command]

    def load_data(self, name, split):
        from deepedge.data.captions import load_captions

        return load_captions(split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from deepedge.apps.captioning.metrics import caption_report
        from deepedge.progress import progress_bar

        data = self.load_data(data_name, split)
        if limit:
            data = data.take(limit)
        model, kind = self.open_model(path)
        with progress_bar() as progress:
            bar = progress.add_task(f"Captioning {data_name}/{split}", total=len(data))
            hypotheses = model.caption(data.images, beam_width, on_image=lambda n: progress.advance(bar, n))
        report = caption_report(hypotheses, data)
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "unit": "images", "metric": "bleu4", "value": report["bleu4"], **report,
                "decoding": f"beam {beam_width}" if beam_width else "greedy",
                "samples": [{"references": list(r), "caption": h} for r, h in zip(data.captions[:3], hypotheses)]}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        model = self.load_keras(model_path)
        train = self.load_data("captions", "train").take(2000)
        test = self.load_data("captions", "test_combinations")
        data_info = {"name": "captions", "source": test.source, "licence": test.licence,
                     "parity_split": "test_combinations", "test_images": len(test)}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 400, extra_metadata={"data": "captions"},
                            report=lambda folder, meta: self._report(folder, model),
                            card=self.card_info(data_info, command))

    def _report(self, folder, model):
        """What the exported captioner does on both held-out splits: Keras float and int8,
        greedy and beam 3, with object recall and precision and attention grounding; and the
        time of the encoder plus a 12-word caption with beam 3 on one thread."""
        import time

        import numpy as np

        from deepedge.apps.captioning.metrics import caption_report
        from deepedge.progress import progress_bar
        from deepedge.runtime import load

        runtime = load(folder, num_threads=1)
        report = {}
        with progress_bar() as progress:
            for split in EVALUATION_SPLITS:
                data = self.load_data("captions", split)
                report[split] = {}
                for key, captioner, beam in (("keras_greedy", model, None), ("keras_beam3", model, 3),
                                             ("edge_greedy", runtime, None), ("edge_beam3", runtime, 3)):
                    bar = progress.add_task(f"{key} on captions/{split}", total=len(data))
                    hypotheses = captioner.caption(data.images, beam, on_image=lambda n: progress.advance(bar, n))
                    report[split][key] = caption_report(hypotheses, data)
                if runtime.metadata.get("attention"):
                    for key, captioner in (("keras", model), ("edge", runtime)):
                        report[split][f"{key}_grounding"] = round(attention_grounding(captioner, data), 2)
                report[split]["samples"] = [
                    {"references": list(refs)[:2], "int8_beam3": runtime.caption(image, 3)}
                    for image, refs in zip(data.images[:6], data.captions[:6])]
        # speed: the encoder and a 12-word caption with beam 3 (the decoder made to write 12 words)
        test = self.load_data("captions", "test")
        times = []
        for image in test.images[:50].astype(np.float32):
            started = time.perf_counter()
            runtime.caption(image, 3, max_tokens=13)
            times.append(time.perf_counter() - started)
        report["speed"] = {"images": 50, "beam_width": 3, "max_words": 12, "threads": 1,
                           "median_ms": round(1000 * float(np.median(times)), 2),
                           "p90_ms": round(1000 * float(np.percentile(times, 90)), 2)}
        return {"metrics": {"captioning": report}}

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.captioning.demo import run_captioning_demo

        return run_captioning_demo(self, out, limit=limit, console=console)

    def card_sections(self, card):
        c = (card.get("metrics") or {}).get("captioning")
        if not c:
            return []
        lines = []
        for split, title in (("test", "held-out instances"), ("test_combinations", "held-out combinations")):
            r = c[split]
            lines += ["", f"## Captions on {title} ({split}, {r['keras_greedy']['images']} images)", "",
                      "| decoder | BLEU-1 | BLEU-4 | CIDEr-D | object recall | object precision |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for key, label in (("keras_greedy", "Keras float, greedy"), ("keras_beam3", "Keras float, beam 3"),
                               ("edge_greedy", "LiteRT int8, greedy"), ("edge_beam3", "LiteRT int8, beam 3")):
                m = r[key]
                lines.append(f"| {label} | {m['bleu1']:.2f} | {m['bleu4']:.2f} | {m['cider']:.2f} | "
                             f"{m['object_recall']:.1f} | {m['object_precision']:.1f} |")
            if "edge_grounding" in r:
                lines += ["", f"Attention grounding (the attention peak inside the named object, greedy): Keras float "
                          f"{r['keras_grounding']:.1f}%, int8 {r['edge_grounding']:.1f}%."]
            lines += ["", "| references (2 of 5) | int8, beam 3 |", "| --- | --- |"]
            lines += [f"| {' / '.join(x['references'])} | {x['int8_beam3']} |" for x in r["samples"]]
        s = c["speed"]
        lines += ["", f"Speed: the encoder and a {s['max_words']}-word caption with beam {s['beam_width']} in "
                  f"{s['median_ms']:.2f} ms (median of {s['images']} images; p90 {s['p90_ms']:.2f} ms) on one thread."]
        return lines

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.captioning.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation BLEU-4 {report['validation_metric']:.2f} (greedy) in "
                f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, BLEU-4 float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f} "
                f"(held-out combinations), median {meta['latency_us']['median']:.1f} us a decoder step")


def attention_grounding(captioner, data):
    """Percent of object words whose attention peak lies in an object of that kind (greedy,
    one image at a time so that `last_attention` holds that image's steps)."""
    from deepedge.apps.captioning.metrics import grounding

    pairs = []
    for image in data.images:
        words = captioner.caption(image).split()
        pairs.append((words, [step[0] for step in captioner.last_attention]))
    return grounding(pairs, data.objects, captioner.grid_shape, captioner.image_size)
