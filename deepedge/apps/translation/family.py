"""Translation as the tools see it: parallel corpora, BLEU and chrF overall and by source length,
the step-wise export and its card, training by recipe."""

import dataclasses

from deepedge.apps.family import Family
from deepedge.apps.translation.presets import ARCHITECTURES, TRAINED

LENGTH_BUCKETS = ((1, 10), (11, 20), (21, 30), (31, None))  # source words, as in Bahdanau et al. Fig. 2


def bucket_name(low, high):
    return f"{low}-{high}" if high else f"{low}+"


def translation_report(hypotheses, data):
    """BLEU and chrF of `hypotheses` against `data.targets`, overall and by source length in words."""
    from deepedge.ops.bleu import corpus_bleu, corpus_chrf

    report = {"bleu": round(corpus_bleu(hypotheses, data.targets), 2),
              "chrf": round(corpus_chrf(hypotheses, data.targets), 2), "by_source_length": {}}
    lengths = [len(s.split()) for s in data.sources]
    for low, high in LENGTH_BUCKETS:
        chosen = [i for i, n in enumerate(lengths) if n >= low and (high is None or n <= high)]
        if chosen:
            report["by_source_length"][bucket_name(low, high)] = {
                "pairs": len(chosen), "bleu": round(corpus_bleu([hypotheses[i] for i in chosen],
                                                                [data.targets[i] for i in chosen]), 2)}
    return report


class Translation(Family):
    family = "translation"
    task_name = "translation"
    title = "Translation"
    keras_classes = ("Translator",)
    data_names = ("de_en", "es_en")
    unit = "sentence pairs held out from training"
    beam_search = True
    task_class = "deepedge.apps.translation.translator:Translator"
    architectures = ARCHITECTURES
    recipes = TRAINED

    def commands(self):
        from deepedge.apps.translation.commands import command

        return [command]

    def load_data(self, name, split):
        from deepedge.data.translation import load_parallel

        return load_parallel(name, split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from deepedge.progress import progress_bar

        data = self.load_data(data_name, split)
        if limit:
            data = data.take(limit)
        model, kind = self.open_model(path)
        data, skipped = self.fitting(model, data)
        hypotheses = []
        with progress_bar() as progress:
            bar = progress.add_task(f"Translating {data_name}/{split}", total=len(data))
            for source in data.sources:
                hypotheses.append(model.translate(source, beam_width))
                progress.advance(bar)
        report = translation_report(hypotheses, data)
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "skipped_too_long": skipped, "unit": "sentence pairs", "metric": "bleu", "value": report["bleu"],
                "chrf": report["chrf"],
                "by_source_length": report["by_source_length"],
                "decoding": f"beam {beam_width}" if beam_width else "greedy",
                "samples": [{"source": s, "reference": r, "translation": h}
                            for s, r, h in zip(data.sources[:3], data.targets[:3], hypotheses)]}

    @staticmethod
    def fitting(model, data):
        """`(the pairs of data whose source fits the model, how many did not)`: a sentence longer
        than the model's maximum is refused by `translate`, never cut short."""
        limit = model.max_source_length
        keep = [i for i, s in enumerate(data.sources) if len(model.source_tokenizer.encode(s)) < limit]
        fitted = dataclasses.replace(data, sources=tuple(data.sources[i] for i in keep),
                                     targets=tuple(data.targets[i] for i in keep),
                                     groups=tuple(data.groups[i] for i in keep))
        return fitted, len(data) - len(keep)

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None):
        name = self.data_name(model_path, data_name)
        model = self.load_keras(model_path)
        train, (test, skipped) = self.load_data(name, "train"), self.fitting(model, self.load_data(name, "test"))
        data_info = {"name": name, "source": test.source, "licence": test.licence, "train_pairs": len(train),
                     "test_pairs": len(test),
                     "test_pairs_too_long": skipped}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 400, extra_metadata={"data": name},
                            card=self.card_info(data_info, command))

    def train(self, preset, out, epochs=None, limit=None):
        from deepedge.apps.translation.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit)
        return (f"Trained {preset}: validation BLEU {report['validation_metric']:.2f} (greedy, 300 pairs) in "
                f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, BLEU float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                f"median {meta['latency_us']['median']:.1f} us a decoder step")
