"""`deepedge demo`: the shipped image models, on device, over held-out Fashion-MNIST images.

It prints a table (float vs int8 accuracy, size, latency) and draws two pictures per model:
the feature maps of every layer for one image, as in Fig. 2 of the review, and a grid of
on-device predictions.
"""

import json
from pathlib import Path

import numpy as np

from deepedge.progress import map_in_chunks

IMAGE_MODELS = ("fashion_lenet5", "fashion_edgenet")


def run_image_demo(out, limit=None, console=None):
    """Evaluates each shipped image model with the LiteRT runtime and writes the pictures."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.data import load_image_dataset
    from deepedge.edge import load, measure_latency
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Image recognition on device (Fashion-MNIST test set)")
    table.add_column("model", no_wrap=True)
    for column in ("params", "float acc %", "int8 acc %", "KiB", "int8 us"):
        table.add_column(column, justify="right")
    rows = []
    for name in IMAGE_MODELS:
        folder = shipped_model_dir(name)
        runtime = load(folder)
        test = load_image_dataset(runtime.metadata.get("data", "fashion_mnist"), "test")
        if limit:
            test = test.take(limit)
        scores = map_in_chunks(runtime.predict, test.images, f"{name} on device")
        accuracy = 100.0 * float(np.mean(np.argmax(scores, -1) == test.labels))
        latency = measure_latency(runtime.interpreter, runs=1000)["median"]
        float_accuracy = (runtime.metadata.get("metrics") or {}).get("keras_float")
        table.add_row(name, f"{runtime.metadata.get('params', 0):,}",
                      f"{float_accuracy:.2f}" if float_accuracy is not None else "-",
                      f"{accuracy:.2f}", f"{runtime.tflite_path.stat().st_size / 1024:.1f}", f"{latency:.1f}")
        rows.append({"model": name, "float_accuracy": float_accuracy, "int8_accuracy": round(accuracy, 2),
                     "examples": len(test), "size_bytes": runtime.tflite_path.stat().st_size,
                     "latency_us": latency})
        pictures = [draw_prediction_grid(runtime, test, out / f"{name}_predictions.png", scores)]
        if (folder / "model.keras").exists():
            pictures.append(draw_feature_maps(folder / "model.keras", test.images[0], test.class_names,
                                              out / f"{name}_feature_maps.png"))
        for picture in pictures:
            console.print(f"wrote {picture}")
    console.print(table)
    (out / "demo_results.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_prediction_grid(runtime, dataset, path, scores, rows=4, cols=8):
    """A grid of test images with the on-device prediction; wrong ones in red."""
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.9))
    for i, ax in enumerate(axes.flat):
        predicted = int(np.argmax(scores[i]))
        ax.imshow(dataset.images[i, ..., 0], cmap="gray_r")
        ok = predicted == dataset.labels[i]
        ax.set_title(f"{runtime.class_names[predicted]}\n{scores[i, predicted]:.2f}", fontsize=8,
                     color="darkgreen" if ok else "red")
        ax.axis("off")
    fig.suptitle(f"{path.stem.replace('_predictions', '')}: int8 LiteRT predictions (red: wrong)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw_feature_maps(keras_path, image, class_names, path, max_maps=8):
    """Every layer's feature maps for one image, input at the top, class scores at the bottom."""
    from deepedge.apps import ImageClassifier
    from deepedge.backend import keras

    plt = _pyplot()
    classifier = ImageClassifier.load(keras_path)
    backbone = classifier.backbone
    layers = [layer for layer in backbone.layers[1:] if len(layer.output.shape) == 4]
    probe = keras.Model(backbone.input, [layer.output for layer in layers])
    scaled = image[None].astype(np.float32) * classifier.image_scale + classifier.image_offset
    maps = [keras.ops.convert_to_numpy(m)[0] for m in probe(scaled, training=False)]
    probabilities = classifier.predict(image[None], verbose=0)[0]
    fig, axes = plt.subplots(len(maps) + 2, max_maps, figsize=(max_maps * 1.2, (len(maps) + 2) * 1.3))
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image[..., 0], cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8)
    for row, (layer, fmap) in enumerate(zip(layers, maps), start=1):
        for c in range(min(max_maps, fmap.shape[-1])):
            axes[row, c].imshow(fmap[..., c], cmap="viridis")
        axes[row, 0].set_title(f"{layer.name} {fmap.shape[0]}x{fmap.shape[1]}x{fmap.shape[-1]}",
                               fontsize=7, loc="left")
    bar = axes[-1, 0]
    for ax in axes[-1]:
        ax.remove()
    bar = fig.add_subplot(len(maps) + 2, 1, len(maps) + 2)
    bar.barh(range(len(class_names)), probabilities, color="tab:blue")
    bar.set_yticks(range(len(class_names)), class_names, fontsize=6)
    bar.set_xlim(0, 1)
    bar.set_title("class probabilities", fontsize=8)
    fig.suptitle(f"{Path(keras_path).parent.name}: feature maps of every layer (cf. Fig. 2)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


LANGUAGE_MODELS = ("austen_lstm_word", "austen_nplm")
PROMPTS = ("It is a truth universally acknowledged", "She was", "\"My dear Emma,\" said he,")


def run_language_demo(out, limit=None, console=None, seed=0):
    """Shipped language models on device: perplexity vs a Kneser-Ney 5-gram, generation, word vectors."""
    import time

    from rich.console import Console
    from rich.table import Table

    from deepedge.apps.language_modelling.ngram import KneserNey
    from deepedge.data.text import load_austen
    from deepedge.edge import load
    from deepedge.presets import saved_models_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in LANGUAGE_MODELS if (saved_models_dir() / n / "model.json").exists()]
    if not names:
        from deepedge.errors import PresetNotFoundError

        raise PresetNotFoundError(f"No shipped language model in {saved_models_dir()}; train one with "
                                  "`deepedge train austen_lstm_word`.")
    train, test = load_austen("train"), load_austen("test")
    if limit:
        test = test.take(limit)
    table = Table(title=f"Language modelling on device (Austen test chapters, {len(test)} chapters)")
    table.add_column("model", no_wrap=True)
    for column in ("params", "float ppl", "int8 ppl (now)", "MiB", "us/step", "gen tokens/s"):
        table.add_column(column, justify="right")
    baseline_done = False
    samples = {}
    for name in names:
        runtime = load(saved_models_dir() / name)
        ids = runtime.tokenizer.encode_paragraphs(test.paragraphs)
        if not baseline_done:
            with console.status("Counting n-grams for the Kneser-Ney 5-gram baseline..."):
                kn = KneserNey(order=5).fit(runtime.tokenizer.encode_paragraphs(train.paragraphs),
                                            runtime.tokenizer.vocabulary_size)
                table.add_row("Kneser-Ney 5-gram (counts)", f"{sum(kn.num_ngrams.values()):,} n-grams",
                              f"{kn.perplexity(ids):.2f}", "-", "-", "-", "-")
            baseline_done = True
        with console.status(f"{name}: perplexity on device over {len(ids):,} tokens..."):
            ppl = runtime.perplexity(ids)
        started, steps = time.perf_counter(), runtime.steps_run
        samples[name] = [runtime.generate(p, max_tokens=60, temperature=0.8, top_k=40, seed=seed + i)
                         for i, p in enumerate(PROMPTS)]
        rate = (runtime.steps_run - steps) / (time.perf_counter() - started)
        metrics = runtime.metadata.get("metrics") or {}
        table.add_row(name, f"{runtime.metadata.get('params', 0):,}", f"{metrics.get('keras_float', float('nan')):.2f}",
                      f"{ppl:.2f}", f"{runtime.metadata['size_bytes'] / 2**20:.1f}",
                      f"{runtime.metadata['latency_us']['median']:.0f}", f"{rate:,.0f}")
    console.print(table)
    for name, texts in samples.items():
        console.print(f"\n[bold]{name}[/] (int8, on device, temperature 0.8, top-k 40):")
        for text in texts:
            console.print(f"  {text}", highlight=False)
    _word_vector_pictures(names[0], out, console)
    return table


def _word_vector_pictures(name, out, console):
    from deepedge.apps.language_modelling.vectors import DEFAULT_QUERIES, nearest_neighbours, tsne_map
    from deepedge.backend import keras
    import deepedge.apps  # noqa: F401
    from deepedge.presets import saved_models_dir

    model = keras.saving.load_model(saved_models_dir() / name / "model.keras", safe_mode=True)
    console.print(f"\nNearest neighbours in {name}'s learned word vectors (cosine):")
    for word, neighbours in nearest_neighbours(model, DEFAULT_QUERIES).items():
        console.print(f"  {word:>9}: " + ", ".join(f"{w} {s:.2f}" for w, s in neighbours), highlight=False)
    with console.status("t-SNE of the word vectors..."):
        tsne_map(model, out / f"{name}_word_vectors_tsne.png")
    console.print(f"Wrote {out / f'{name}_word_vectors_tsne.png'} (the review's Fig. 4, for Austen)")


SCENE_MODELS = ("scenes_labeller", "nuclei_labeller")


def segmentation_scores_with_progress(runtime, dataset, description):
    """Pixel accuracy, mean IoU and IoU per class of an on-device labeller, with a progress bar."""
    from deepedge.edge.dense import segmentation_scores
    from deepedge.progress import progress_bar

    confusion = 0
    with progress_bar() as progress:
        bar = progress.add_task(description, total=len(dataset))
        for i in range(len(dataset)):
            confusion = confusion + runtime.confusion((dataset.images[i:i + 1], dataset.masks[i:i + 1]))
            progress.advance(bar)
    return segmentation_scores(confusion, runtime.class_names), confusion


def run_scene_demo(out, limit=None, console=None):
    """The shipped scene labellers on device over held-out scenes and the held-out nuclei strip."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.data.scenes import load_segmentation_dataset
    from deepedge.edge import load, measure_latency
    from deepedge.edge.dense import metric_from_confusion
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Scene labelling on device (held-out test data)")
    table.add_column("model", no_wrap=True)
    for column in ("data", "metric", "float", "int8", "pixel acc %", "KiB", "int8 ms / tile"):
        table.add_column(column, justify="right")
    rows = []
    for name in SCENE_MODELS:
        folder = shipped_model_dir(name)
        runtime = load(folder)
        data = runtime.metadata.get("data", "scenes")
        test = load_segmentation_dataset(data, "test")
        if limit:
            test = test.take(limit)
        scores, confusion = segmentation_scores_with_progress(runtime, test, f"{name} on device")
        value = metric_from_confusion(confusion, runtime.metric_name)
        latency = measure_latency(runtime.interpreter, runs=200)["median"] / 1000
        float_value = (runtime.metadata.get("metrics") or {}).get("keras_float")
        table.add_row(name, f"{data}/test", runtime.metric_name.replace("_", " "),
                      f"{float_value:.2f}" if float_value is not None else "-", f"{value:.2f}",
                      f"{100 * scores['pixel_accuracy']:.2f}", f"{runtime.tflite_path.stat().st_size / 1024:.1f}",
                      f"{latency:.2f}")
        rows.append({"model": name, "data": data, "metric": runtime.metric_name, "float": float_value,
                     "int8": round(value, 2), "scores": scores, "images": len(test),
                     "size_bytes": runtime.tflite_path.stat().st_size, "latency_ms": latency})
        path = draw_label_maps(runtime, test, out / f"{name}_overlay.png")
        console.print(f"wrote {path}")
    console.print(table)
    for row in rows:
        iou = ", ".join(f"{k} {v:.2f}" for k, v in row["scores"]["iou"].items() if v is not None)
        console.print(f"{row['model']} IoU per class: {iou}")
    (out / "scene_demo_results.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def draw_label_maps(runtime, dataset, path, count=4):
    """Rows of (image, true labels, on-device labels, overlay) with a colour legend."""
    from deepedge.edge.dense import colorize, overlay

    plt = _pyplot()
    count = min(count, len(dataset))
    height, width = dataset.images.shape[1:3]
    fig, axes = plt.subplots(count, 4, figsize=(4 * 2.4 * max(1.0, width / height / 2), count * 2.5),
                             squeeze=False)
    for i in range(count):
        image = dataset.images[i]
        predicted = runtime.label(image)
        panels = [(image[..., 0], "image"), (colorize(dataset.masks[i], runtime.palette), "truth"),
                  (colorize(predicted, runtime.palette), "on device (int8)"),
                  (overlay(image, predicted, runtime.palette), "overlay")]
        for ax, (picture, title) in zip(axes[i], panels):
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=np.asarray(c) / 255.0) for c in runtime.palette]
    fig.legend(handles, runtime.class_names, loc="lower center", ncol=min(9, len(handles)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


SPEECH_MODELS = ("kws_dscnn",)


def print_detections(runtime, audio, console, hop_seconds=0.25):
    """Streams `audio` through a keyword spotter, printing each detection as it fires; returns
    `(detections, window_scores)`."""
    from deepedge.edge.keywords import detect_stream

    scores = []

    def windows():
        for s in runtime.window_scores(audio, hop_seconds):
            scores.append(s)
            yield s

    detections = []
    for t, word, p in detect_stream(windows(), runtime.class_names, runtime.threshold, hop_seconds):
        console.print(f"  {t:6.2f} s  [bold]{word}[/]  {p:.2f}", highlight=False)
        detections.append((t, word, p))
    return detections, np.array(scores)


def draw_keyword_stream(audio, window_scores, class_names, said, detections, path, hop_seconds=0.25, title=""):
    """The log-mel input over time, the keyword probabilities of each window, and what was said."""
    from deepedge.edge.audio import SAMPLE_RATE, log_mel_spectrogram

    plt = _pyplot()
    features = log_mel_spectrogram(audio)
    duration = len(audio) / SAMPLE_RATE
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, features.shape[1]))
    top.set_ylabel("mel band")
    top.set_title(title or "log-mel input")
    for start, stop, text in said:
        top.text((start + stop) / 2, features.shape[1] - 3, text, color="white", ha="center", fontsize=8)
    if len(window_scores):
        times = 1.0 + np.arange(len(window_scores)) * hop_seconds
        keywords = [i for i, n in enumerate(class_names) if not n.startswith("_")]
        shown = [i for i in keywords if window_scores[:, i].max() > 0.3]
        for i in shown:
            bottom.plot(times, window_scores[:, i], label=class_names[i])
        for i, name in enumerate(class_names):
            if name.startswith("_"):
                bottom.plot(times, window_scores[:, i], ":", color="grey" if name == "_silence_" else "black",
                            label=name.strip("_"), linewidth=1)
        bottom.legend(fontsize=7, ncol=6, loc="upper right")
    for t, word, _ in detections:
        bottom.axvline(t, color="red", linewidth=0.8)
        bottom.text(t, 1.02, word, color="red", ha="center", fontsize=8)
    bottom.set_ylim(0, 1.1)
    bottom.set_xlabel("seconds (a window's probabilities are plotted at its end)")
    bottom.set_ylabel("probability")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def run_speech_demo(out, limit=None, console=None, seed=0):
    """The shipped keyword spotter on device: held-out voices, real speech, and a live stream."""
    from rich.console import Console
    from rich.table import Table

    from deepedge.data.speech import KEYWORDS, compose_stream, load_alsa_speech, load_keywords
    from deepedge.edge import load, measure_latency
    from deepedge.presets import shipped_model_dir

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = Table(title="Keyword spotting on device (voices never heard in training)")
    table.add_column("model", no_wrap=True)
    for column in ("data", "float acc %", "int8 acc %", "false accepts %", "KiB", "int8 us / 1 s"):
        table.add_column(column, justify="right")
    rows = []
    for name in SPEECH_MODELS:
        runtime = load(shipped_model_dir(name))
        latency = measure_latency(runtime.interpreter, runs=300)["median"]
        size = runtime.tflite_path.stat().st_size
        recorded = (runtime.metadata.get("metrics") or {}).get("keyword_reports", {})
        for data_name, data in (("keywords/test", load_keywords("test")), ("alsa_speech (real)", load_alsa_speech())):
            if limit:
                data = data.take(limit)
            scores = map_in_chunks(runtime.predict, data.audio, f"{name} on {data_name}", chunk=100)
            from deepedge.edge.keywords import keyword_report

            report = keyword_report(scores, data.labels, runtime.class_names, runtime.threshold)
            float_report = recorded.get(data_name, {}).get("keras_float")
            table.add_row(name, data_name,
                          f"{float_report['accuracy_with_threshold']:.1f}" if float_report and not limit else "-",
                          f"{report['accuracy_with_threshold']:.1f}", f"{report['false_accepts_unknown']:.1f}",
                          f"{size / 1024:.1f}", f"{latency:.0f}")
            rows.append({"model": name, "data": data_name, "examples": len(data), "int8": report,
                         "size_bytes": size, "latency_us": latency})
        # A stream: held-out voices saying keywords and other words, detected as the audio arrives.
        test = load_keywords("test")
        rng = np.random.default_rng(seed)
        keyword_ids = [i for i, t in enumerate(test.utterances.texts) if t in KEYWORDS]
        other_ids = [i for i, label in enumerate(test.labels) if test.class_names[label] == "_unknown_"]
        chosen = list(rng.choice(keyword_ids, 6, replace=False)) + list(rng.choice(other_ids, 2, replace=False))
        rng.shuffle(chosen)
        audio, said = compose_stream(test.utterances, chosen, rng)
        console.print(f"\n[bold]{name}[/], streaming {len(audio) / 16000:.1f} s of held-out voices saying: "
                      + ", ".join(text for _, _, text in said))
        detections, scores = print_detections(runtime, audio, console)
        picture = draw_keyword_stream(audio, scores, runtime.class_names, said, detections,
                                      out / f"{name}_stream.png", title=f"{name}: held-out voices, streamed")
        console.print(f"wrote {picture}")
        real = load_alsa_speech()
        real_audio, real_said = compose_stream(real.utterances, range(len(real) - 1), rng, noise_db=-70)
        console.print(f"\n[bold]{name}[/], streaming a real speaker (alsa-utils test sounds): "
                      + ", ".join(text.split(" (")[0] for _, _, text in real_said))
        real_detections, real_scores = print_detections(runtime, real_audio, console)
        picture = draw_keyword_stream(real_audio, real_scores, runtime.class_names,
                                      [(a, b, t.split(" (")[0]) for a, b, t in real_said], real_detections,
                                      out / f"{name}_real_speech.png", title=f"{name}: a real speaker, streamed")
        console.print(f"wrote {picture}")
    console.print(table)
    rows += run_recognizer_demo(out, limit=limit, console=console)
    (out / "speech_demo_results.json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def run_recognizer_demo(out, limit=None, console=None, show=4):
    """The shipped recogniser on device: held-out sentences transcribed as they stream, CER, a picture."""
    import time

    from rich.console import Console

    from deepedge.data.speech import load_sentences
    from deepedge.edge import load
    from deepedge.edge.ctc import character_error_rate, word_error_rate
    from deepedge.presets import saved_models_dir

    console = console or Console()
    folder = saved_models_dir() / "asr_ctc"
    if not (folder / "model.json").exists():
        return []
    runtime = load(folder)
    test = load_sentences("test")
    test = test.take(limit or 100)
    console.print("\n[bold]asr_ctc[/], held-out voices reading held-out chapters, transcribed as the audio streams:")
    references, hypotheses, started, seconds = [], [], time.perf_counter(), 0.0
    for i in range(len(test)):
        audio = test.audio(i)
        seconds += len(audio) / 16000
        partial = list(runtime.transcribe_stream(audio))
        hypotheses.append(partial[-1][1])
        references.append(test.texts[i])
        if i < show:
            console.print(f"  said:  {test.texts[i]}", highlight=False)
            middle = partial[len(partial) // 2]
            console.print(f"  {middle[0]:.2f} s: {middle[1]}", highlight=False)
            console.print(f"  heard: {partial[-1][1]}", highlight=False)
    rtf = (time.perf_counter() - started) / seconds
    cer, wer = character_error_rate(references, hypotheses), word_error_rate(references, hypotheses)
    console.print(f"asr_ctc on device: CER {cer:.1f}%, WER {wer:.1f}% over {len(test)} test sentences "
                  f"(float Keras: {runtime.metadata['metrics']['keras_float']:.1f}% CER on all "
                  f"{runtime.metadata['metrics']['examples']}), real-time factor {rtf:.4f} on one thread")
    picture = draw_ctc_outputs(test.audio(0), runtime.logits(test.audio(0)), runtime.characters,
                               out / "asr_ctc_outputs.png", title="asr_ctc on device", said=test.texts[0])
    console.print(f"wrote {picture}")
    return [{"model": "asr_ctc", "data": "sentences/test", "examples": len(test), "cer": round(cer, 2),
             "wer": round(wer, 2), "real_time_factor": round(rtf, 4)}]


def draw_ctc_outputs(audio, logits, characters, path, title="", said=None):
    """The log-mel input and the CTC outputs over time: each step's most likely character and
    the probability of blank vs. any character."""
    from deepedge.edge.audio import SAMPLE_RATE, log_mel_spectrogram

    plt = _pyplot()
    features = log_mel_spectrogram(audio)
    duration = len(audio) / SAMPLE_RATE
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    step = duration / max(1, len(logits))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True)
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, duration, 0, features.shape[1]))
    top.set_ylabel("mel band")
    top.set_title(title + (f" -- said: {said}" if said else ""), fontsize=9)
    times = (np.arange(len(logits)) + 0.5) * step
    bottom.plot(times, probs[:, 0], color="lightgrey", label="blank")
    bottom.plot(times, 1 - probs[:, 0], color="tab:blue", label="a character")
    best = probs.argmax(-1)
    for t, c, p in zip(times, best, probs.max(-1)):
        if c != 0:
            bottom.text(t, min(1.0, p) + 0.02, characters[c - 1] if characters[c - 1] != " " else "_",
                        ha="center", fontsize=7)
    bottom.set_ylim(0, 1.15)
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("CTC probability")
    bottom.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
