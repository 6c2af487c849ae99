"""Translation as the tools see it: parallel corpora, BLEU and chrF overall and by source length,
the step-wise export and its card, training by recipe."""


from deepedge.apps.family import Family
from deepedge.apps.translation.metrics import fitting_pairs, translation_report
from deepedge.apps.translation.presets import ARCHITECTURES, TRAINED


LEXICONS = {"de_en": "de_en_lexicon"}  # word and phrase pairs a data set's translators may also train on


class Translation(Family):
    family = "translation"
    task_name = "translation"
    title = "Translation"
    keras_classes = ("Translator",)
    data_names = ("de_en", "es_en", "messages_de_en", "messages_es_en")
    unit = "sentence pairs held out from training"
    beam_search = True
    demo_name = "translation"
    default_model = "de_en_attention"
    shipped = ("de_en_attention", "de_en_seq2seq", "es_en_attention", "es_en_seq2seq")
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
        with progress_bar() as progress:
            bar = progress.add_task(f"Translating {data_name}/{split}", total=len(data))
            hypotheses = model.translate(list(data.sources), beam_width,
                                         on_sentence=lambda n: progress.advance(bar, n))
        report = translation_report(hypotheses, data)
        return {"model": str(path), "kind": kind, "data": data_name, "split": split, "examples": len(data),
                "skipped_too_long": skipped, "unit": "sentence pairs", "metric": "bleu", "value": report["bleu"],
                "chrf": report["chrf"],
                "by_source_length": report["by_source_length"],
                "decoding": f"beam {beam_width}" if beam_width else "greedy",
                "samples": [{"source": s, "reference": r, "translation": h}
                            for s, r, h in zip(data.sources[:3], data.targets[:3], hypotheses)]}

    fitting = staticmethod(fitting_pairs)

    def export(self, model_path, out, quantization="int8", force=False, data_name=None, calibration_samples=None, budgets=None):
        name = self.data_name(model_path, data_name)
        model = self.load_keras(model_path)
        train, (test, skipped) = self.load_data(name, "train"), self.fitting(model, self.load_data(name, "test"))
        data_info = {"name": name, "source": test.source, "licence": test.licence, "train_pairs": len(train),
                     "test_pairs": len(test),
                     "test_pairs_too_long": skipped}
        command = f"deepedge export {model_path} --out {out} --quantization {quantization}"
        return model.export(out, quantization=quantization, **(budgets or {}), calibration_data=train, evaluation_data=test,
                            force=force, num_calibration=calibration_samples or 400, extra_metadata={"data": name},
                            report=lambda folder, meta: self._report(folder, model, name, train, test),
                            card=self.card_info(data_info, command))

    def _report(self, folder, model, name, train, test):
        """What the exported translator does on the test split: greedy and beam 4 by source length
        for Keras and int8, target tokens per second of the int8 beam 4 pass on one thread, the
        word-for-word baseline, and held-out program messages from another domain."""
        import time

        from deepedge.apps.translation.baseline import WordForWordTranslator
        from deepedge.data.translation import PARALLEL_DATASETS
        from deepedge.errors import DataNotFoundError
        from deepedge.ops.decoding import target_tokens
        from deepedge.progress import progress_bar
        from deepedge.runtime import load

        runtime = load(folder, num_threads=1)
        sources = list(test.sources)
        results, seconds = {}, {}
        with progress_bar() as progress:
            for key, translator, beam in (("keras_greedy", model, None), ("keras_beam4", model, 4),
                                          ("edge_greedy", runtime, None), ("edge_beam4", runtime, 4)):
                bar = progress.add_task(f"{key} on {name}/test", total=len(sources))
                started = time.perf_counter()
                results[key] = translator.translate(sources, beam, on_sentence=lambda n: progress.advance(bar, n))
                seconds[key] = time.perf_counter() - started
        tokens = target_tokens(runtime.target_tokenizer, results["edge_beam4"])
        baseline = WordForWordTranslator.from_corpora(train)
        translation = {key: translation_report(hypotheses, test) for key, hypotheses in results.items()}
        translation["baseline_word_for_word"] = translation_report(baseline.translate(sources), test)
        if name in LEXICONS:  # the same counting over the dictionary's entries as well
            with_lexicon = WordForWordTranslator.from_corpora(train, self.load_data(LEXICONS[name], "train"),
                                                              source_vocabulary=200_000, target_vocabulary=200_000)
            translation["baseline_with_lexicon"] = translation_report(with_lexicon.translate(sources), test)
        translation["speed"] = {"sentences": len(sources), "target_tokens": tokens,
                                "seconds": round(seconds["edge_beam4"], 3),
                                "tokens_per_second": round(tokens / seconds["edge_beam4"], 1), "beam_width": 4,
                                "threads": 1, "decoder_rows": runtime.decoder_rows}
        translation["samples"] = [{"source": s, "reference": r, "int8_beam4": h}
                                  for s, r, h in list(zip(sources, test.targets, results["edge_beam4"]))[:6]]
        other = f"messages_{name}"  # the same languages' program messages, never trained on
        if other in PARALLEL_DATASETS:
            try:
                messages, skipped = self.fitting(runtime, self.load_data(other, "test"))
            except DataNotFoundError as e:  # no catalogues on this system: the card says so
                translation["out_of_domain"] = {"data": other, "error": str(e)}
            else:
                hypotheses = runtime.translate(list(messages.sources), 4)
                translation["out_of_domain"] = {
                    "data": other, "source": messages.source, "pairs": len(messages), "skipped_too_long": skipped,
                    **translation_report(hypotheses, messages),
                    "baseline_bleu": translation_report(baseline.translate(list(messages.sources)), messages)["bleu"],
                    "samples": [{"source": s, "reference": r, "int8_beam4": h}
                                for s, r, h in list(zip(messages.sources, messages.targets, hypotheses))[:4]]}
        return {"metrics": {"translation": translation}}

    def demo(self, out, limit=None, console=None):
        from deepedge.apps.translation.demo import run_translation_demo

        return run_translation_demo(self, out, limit=limit, console=console)

    def card_sections(self, card):
        t = (card.get("metrics") or {}).get("translation")
        if not t:
            return []
        lines = ["", "## Translation quality (test split, sacrebleu BLEU / chrF)", "",
                 "| decoder | BLEU | chrF | " + " | ".join(f"BLEU {b}" for b in t["keras_greedy"]["by_source_length"])
                 + " |", "| --- | --- | --- |" + " --- |" * len(t["keras_greedy"]["by_source_length"])]
        for key, label in (("keras_greedy", "Keras float, greedy"), ("keras_beam4", "Keras float, beam 4"),
                           ("edge_greedy", "LiteRT int8, greedy"), ("edge_beam4", "LiteRT int8, beam 4"),
                           ("baseline_word_for_word", "word-for-word baseline (Dice lexicon of the training split)"),
                           ("baseline_with_lexicon", "word-for-word baseline, with the dictionary's entries")):
            if key not in t:
                continue
            r = t[key]
            lines.append(f"| {label} | {r['bleu']:.2f} | {r['chrf']:.2f} | "
                         + " | ".join(f"{v['bleu']:.2f} ({v['pairs']})" for v in r["by_source_length"].values()) + " |")
        speed = t["speed"]
        lines += ["", f"Speed: {speed['tokens_per_second']:,.0f} target tokens per second with beam 4 on one thread "
                  f"({speed['sentences']} test sentences, {speed['target_tokens']} tokens in {speed['seconds']:.2f} s; "
                  f"the decoder steps {speed['decoder_rows']} hypotheses per call"
                  + (f"; timed {speed['timed']}" if speed.get("timed") else "") + ").", "",
                  "| source | reference | int8, beam 4 |", "| --- | --- | --- |"]
        lines += [f"| {x['source']} | {x['reference']} | {x['int8_beam4']} |" for x in t["samples"]]
        ood = t.get("out_of_domain")
        if ood and "error" in ood:
            lines += ["", f"## Another domain: not measured ({ood['error']})"]
        elif ood:
            lines += ["", "## Another domain (never trained on)", "",
                      f"{ood['source']}: {ood['pairs']} pairs ({ood['skipped_too_long']} too long skipped). "
                      f"int8 beam 4: BLEU {ood['bleu']:.2f}, chrF {ood['chrf']:.2f}; word-for-word baseline BLEU "
                      f"{ood['baseline_bleu']:.2f}.", "", "| source | reference | int8, beam 4 |", "| --- | --- | --- |"]
            lines += [f"| {x['source']} | {x['reference']} | {x['int8_beam4']} |" for x in ood["samples"]]
        return lines

    def train(self, preset, out, epochs=None, limit=None, distribution=None):
        from deepedge.apps.translation.recipes import train_preset

        _, report = train_preset(preset, out, epochs=epochs, limit=limit, distribution=distribution)
        return (f"Trained {preset}: validation BLEU {report['validation_metric']:.2f} (greedy, 300 pairs) in "
                f"{report['training_seconds'] / 60:.1f} min. Saved {out / 'model.keras'}")

    def export_summary(self, meta, out, quantization):
        metrics = meta["metrics"]
        return (f"Exported {out}/model.tflite: {meta['size_bytes'] / 1024:.1f} KiB, BLEU float "
                f"{metrics['keras_float']:.2f} vs {quantization} {metrics[f'litert_{quantization}']:.2f}, "
                f"median {meta['latency_us']['median']:.1f} us a decoder step")
