"""The language-modelling family as the tools see it: Jane Austen's novels, perplexity, the
step-wise export and its card, training by recipe, the demo (generation, word vectors)."""

from deepedge.apps.family import Family
from deepedge.apps.language_modelling.presets import ARCHITECTURES, TRAINED


class LanguageModelling(Family):
    family = "language_modelling"
    task_name = "language_model"
    title = "Language modelling"
    keras_classes = ("LSTMLanguageModel", "NPLM")
    data_names = ("austen",)
    unit = "tokens"
    demo_name = "language"
    default_model = "austen_lstm_word"
    shipped = ("austen_lstm_word", "austen_nplm")
    task_class = "deepedge.apps.language_modelling.language_model:LanguageModel"
    architectures = ARCHITECTURES
    recipes = TRAINED
    quantization_aware_training = True  # `deepedge train PRESET --quantization-aware` (recipes with QAT settings)

    def load_data(self, name, split):
        from deepedge.data.text import load_austen

        return load_austen(split)

    def evaluate(self, path, data_name, split="test", limit=None, beam_width=None):
        from rich.console import Console

        corpus = self.load_data(data_name, split)
        if limit:
            corpus = corpus.take(limit)
        model, kind = self.open_model(path)
        with Console(stderr=True).status(f"Measuring perplexity on austen/{split}..."):
            value = model.perplexity(corpus)
        return {"model": str(path), "kind": kind, "data": "austen", "split": split,
                "examples": len(model.tokenizer.encode_paragraphs(corpus.paragraphs)), "unit": "tokens",
                "metric": "perplexity", "value": round(value, 4)}

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        model = self.load_keras(model_path)
        train, test = self.load_data("austen", "train"), self.load_data("austen", "test")
        data_info = {"name": "austen", "source": train.source, "licence": train.licence,
                     "train_words": train.num_words, "test_words": test.num_words}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples, extra_metadata={"data": "austen"},
                            card=self.card_info(data_info, command))

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 2**20:.1f} MiB, perplexity float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                f"median {meta['latency_us']['median']:.1f} us a step")

    def train(self, preset, out, epochs=None, limit=None, distribution=None, quantization_aware=False):
        if quantization_aware:
            from deepedge.apps.language_modelling.recipes import fine_tune_quantization_aware

            _, record = fine_tune_quantization_aware(preset, out, epochs=epochs)
            return (f"Fine-tuned {preset} quantization-aware: validation perplexity (fake-quant) "
                    f"{record['validation_perplexity_fake_quant']:.2f} in {record['training_seconds'] / 60:.1f} min. "
                    f"Saved {out / 'model.keras'} and its ranges; `deepedge export` converts with them.")
        from deepedge.apps.language_modelling.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation perplexity {report['validation_perplexity']:.2f} "
                f"in {report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def commands(self):
        from deepedge.apps.language_modelling.commands import command

        return [command]

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.language_modelling.demo import run_language_demo

        return run_language_demo(self, out, limit=limit, console=console)
